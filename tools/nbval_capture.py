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
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat

_results: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        notebook = report.nodeid.split("::")[0]
        entry = _results.setdefault(notebook, {"failed": False})
        if report.outcome != "passed":
            entry["failed"] = True


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("NBVAL_EXECUTED_DIR")
    if not target:
        return
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
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
