"""Scratch copies of the book's notebooks with the expected outputs nbval compares.

    .venv/bin/python tools/nbval_notebooks.py OUT_DIR book/*.ipynb   # prints the copies' paths

The committed notebooks carry no outputs. Each copy gets, in its cells tagged
``nbval-check-output``, the outputs recorded in ``tests/nbval_expected/<notebook>.json``
(by ``tools/store_checked_outputs.py``), so ``pytest --nbval-lax`` really compares them.
A tagged cell without a recorded output, or a record for a cell that no longer exists,
is an error: the check must not silently compare nothing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

from store_checked_outputs import TAG, expected_path


def prepare(notebook_path: Path, out_dir: Path) -> Path:
    notebook = nbformat.read(notebook_path, as_version=4)
    record = expected_path(notebook_path)
    expected = json.loads(record.read_text()) if record.exists() else {}
    tagged = {c.id for c in notebook.cells if c.cell_type == "code" and TAG in c.metadata.get("tags", [])}
    if tagged != set(expected):
        raise SystemExit(f"{notebook_path}: cells tagged {TAG} {sorted(tagged)} do not match the records in "
                         f"{record} {sorted(expected)}; run tools/store_checked_outputs.py {notebook_path}")
    for count, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        if cell.id in expected:
            cell.outputs = [nbformat.from_dict(o) for o in expected[cell.id]]
            cell.execution_count = count + 1  # nbval compares only cells that have been run
        elif cell.outputs:
            raise SystemExit(f"{notebook_path}: commit notebooks without outputs (cell {cell.id})")
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_path = out_dir / notebook_path.name
    nbformat.write(notebook, copy_path)
    return copy_path


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for name in sys.argv[2:]:
        print(prepare(Path(name), out))
