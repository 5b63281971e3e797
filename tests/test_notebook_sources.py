"""Static checks of the committed chapters (no kernel): what a reader sees in the code boxes."""
from pathlib import Path

import nbformat
import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
# The rendered code box of the book's theme shows about 78 characters; longer lines are cut off.
CODE_WIDTH = 78


def test_the_book_has_its_chapters():
    assert len(NOTEBOOKS) >= 8, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_line_is_wider_than_the_code_box(path):
    notebook = nbformat.read(path, as_version=4)
    wide = [f"cell {i} ({len(line)} chars): {line[:60]}…"
            for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for line in cell.source.splitlines() if len(line) > CODE_WIDTH]
    assert not wide, f"{path.name}: lines wider than {CODE_WIDTH} characters:\n" + "\n".join(wide)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells with outputs or execution counts: {dirty}"
