"""Store the expected outputs of the cells tagged NBVAL_CHECK_OUTPUT, and nothing else.

Notebooks are committed without outputs (the book build executes them), except the few
cells whose printed text is deterministic and marked NBVAL_CHECK_OUTPUT (nbval's cell
tag ``nbval-check-output``; this script also converts a literal ``NBVAL_CHECK_OUTPUT``
tag, which nbval would silently ignore): nbval
(``make nbval``) compares a fresh run against what those cells hold, so they must hold
the expected text. Run this after changing such a cell:

    .venv/bin/python tools/store_checked_outputs.py book/theory.ipynb [...]

It executes each notebook in a scratch copy, then writes back the outputs of the
tagged cells (with an execution count, which nbval needs) and clears every other output.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TAG = "nbval-check-output"  # nbval's metadata spelling of the NBVAL_CHECK_OUTPUT marker


def store(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    executed = copy.deepcopy(notebook)
    NotebookClient(executed, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    stored = 0
    for cell, run in zip(notebook.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if "NBVAL_CHECK_OUTPUT" in tags:
            cell.metadata["tags"] = tags = [TAG if t == "NBVAL_CHECK_OUTPUT" else t for t in tags]
        if TAG in tags:
            if not any(o.output_type == "stream" and o.name == "stdout" for o in run.outputs):
                raise SystemExit(f"{path}: a {TAG} cell prints nothing to compare:\n{cell.source[:200]}")
            cell.outputs, cell.execution_count = run.outputs, run.execution_count
            stored += 1
        else:
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)
    return stored


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: stored the outputs of {store(Path(name))} {TAG} cells")
