"""pytest plugin: keep what nbval executed, so the book build need not execute it again.

    cp tools/nbval_capture.py _build/nbval/conftest.py    # (the Makefile does this)
    NBVAL_EXECUTED_DIR=_build/executed pytest --nbval-lax ... *.ipynb

nbval runs every code cell of a notebook in one kernel and keeps the cell's outputs on the
test item (``test_outputs``). At the end of a session in which *every* cell of a notebook
passed, this plugin writes that notebook, with those outputs, to ``$NBVAL_EXECUTED_DIR``
(atomically: a temporary file, then a rename); a notebook with a failed, skipped or
unrun cell is not written, so the book build never shows a half-executed chapter. The
outputs are the kernel's own messages (streams, display data with their metadata, so
myst-nb's glued values survive), in nbformat's schema; the expected outputs that
``tools/nbval_notebooks.py`` put in the scratch copies for comparison are replaced.

It also sums each notebook's cell times (the kernel start included) and prints them at the
end, and writes them to ``run_times.json`` there: the measured run time of every chapter
on the machine that ran the tests, beside the "Run time" each chapter states.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

_results: dict[str, dict] = {}
_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    notebook = report.nodeid.split("::")[0]
    _seconds[notebook] = _seconds.get(notebook, 0.0) + report.duration
    if report.when == "call" or report.outcome != "passed":
        entry = _results.setdefault(notebook, {"failed": False})
        if report.outcome != "passed":
            entry["failed"] = True


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_sep("-", "run time of each notebook (s)")
    for notebook, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{notebook:28s} {seconds:7.1f}")


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("NBVAL_EXECUTED_DIR")
    if not target:
        return
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    times = out / "run_times.json.tmp"
    times.write_text(json.dumps({Path(k).name: round(v, 1) for k, v in sorted(_seconds.items())},
                                indent=1) + "\n")
    os.replace(times, out / "run_times.json")
    by_notebook: dict[str, list] = {}
    for item in session.items:
        if hasattr(item, "test_outputs") and hasattr(item, "cell"):
            by_notebook.setdefault(item.nodeid.split("::")[0], []).append(item)
    for notebook, items in by_notebook.items():
        if _results.get(notebook, {"failed": True})["failed"] or any(i.test_outputs is None for i in items):
            continue
        nb = items[0].parent.nb
        count = 0
        for item in items:
            count += 1
            item.cell.outputs = [nbformat.from_dict(dict(o)) for o in item.test_outputs]
            for output in item.cell.outputs:
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = count
            item.cell.execution_count = count
        path = out / Path(notebook).name
        temporary = path.with_suffix(".ipynb.tmp")
        nbformat.write(nb, temporary)
        os.replace(temporary, path)
