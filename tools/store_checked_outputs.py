"""Record the expected outputs of the cells marked NBVAL_CHECK_OUTPUT, outside the notebooks.

Notebooks are committed without outputs (the book build executes them). The few cells
whose printed text is deterministic carry nbval's tag ``nbval-check-output`` (the
metadata spelling of NBVAL_CHECK_OUTPUT; a literal ``NBVAL_CHECK_OUTPUT`` tag, which
nbval would silently ignore, is converted). Their expected outputs live in
``tests/nbval_expected/<notebook>.json``, keyed by cell id; ``tools/nbval_notebooks.py``
puts them back into scratch copies that nbval runs (``make nbval``). After changing such
a cell, record its new output:

    .venv/bin/python tools/store_checked_outputs.py book/theory.ipynb [...]   # or: make check-outputs

It executes each notebook in a scratch copy, writes the tagged cells' outputs to the
expectation file, and clears every output in the notebook itself.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TAG = "nbval-check-output"  # nbval's metadata spelling of the NBVAL_CHECK_OUTPUT marker
EXPECTED_DIR = Path(__file__).resolve().parents[1] / "tests" / "nbval_expected"


def expected_path(notebook: Path) -> Path:
    return EXPECTED_DIR / f"{notebook.stem}.json"


def store(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "NBVAL_CHECK_OUTPUT" in tags:
            cell.metadata["tags"] = [TAG if t == "NBVAL_CHECK_OUTPUT" else t for t in tags]
    executed = copy.deepcopy(notebook)
    NotebookClient(executed, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    expected = {}
    for cell, run in zip(notebook.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        if TAG in cell.metadata.get("tags", []):
            if not any(o.output_type == "stream" and o.name == "stdout" for o in run.outputs):
                raise SystemExit(f"{path}: a {TAG} cell prints nothing to compare:\n{cell.source[:200]}")
            expected[cell.id] = run.outputs
        cell.outputs, cell.execution_count = [], None
    EXPECTED_DIR.mkdir(parents=True, exist_ok=True)
    expected_path(path).write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    nbformat.write(notebook, path)
    return len(expected)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: recorded the outputs of {store(Path(name))} {TAG} cells")
