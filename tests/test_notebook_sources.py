"""Static checks of the committed chapters (no kernel): what a reader sees in the code boxes."""
import re
from pathlib import Path

import nbformat
import pytest
import yaml

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


def _code_lines(path):
    """(cell index, line number, line) of every line of the notebook's code cells."""
    notebook = nbformat.read(path, as_version=4)
    return [(i, j, line) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for j, line in enumerate(cell.source.splitlines())]


# What a formatter leaves when it wraps a line at any cost: a comment hung after a closing
# bracket that begins its line (`)  # why`), and brackets spread over three lines around a
# single token (`.gates(x)[` / `0` / `][0]`). Nobody writes these by hand; students copy them.
CLOSING_BRACKET_THEN_COMMENT = re.compile(r"^\s*[)\]}].*#")
LONE_TOKEN = re.compile(r"^\s*(\w+|\"[^\"]*\"|'[^']*')\s*$")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_has_no_formatter_artefacts(path):
    lines = _code_lines(path)
    found = []
    for k, (i, j, line) in enumerate(lines):
        if CLOSING_BRACKET_THEN_COMMENT.match(line):
            found.append(f"cell {i}, line {j + 1}: comment after a closing bracket: {line.strip()}")
        previous = lines[k - 1][2].rstrip() if k and lines[k - 1][0] == i else ""
        following = lines[k + 1][2].lstrip() if k + 1 < len(lines) and lines[k + 1][0] == i else ""
        if LONE_TOKEN.match(line) and previous.endswith(("(", "[", "{")) and following[:1] in (")", "]", "}"):
            found.append(f"cell {i}, line {j + 1}: a lone token between brackets: "
                         f"{previous.strip()} {line.strip()} {following.strip()}")
    assert not found, f"{path.name}:\n" + "\n".join(found)


# The package's private names (a leading underscore) are no API: chapters and scripts use
# only what the package documents.
PRIVATE_NAME = re.compile(r"\b(?:th|turing_helpers)(?:\.[a-z]\w*)*\._[a-z]\w*|"
                          r"from turing_helpers[.\w]* import [^#\n]*\b_[a-z]\w*|import turing_helpers\._")


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((BOOK.parent / "benchmarks").glob("*.py")),
                         ids=lambda p: p.name)
def test_no_private_names_of_the_package(path):
    text = "\n".join(line for _, _, line in _code_lines(path)) if path.suffix == ".ipynb" else path.read_text()
    found = PRIVATE_NAME.findall(text)
    assert not found, f"{path.name} uses private names of the package: {found}"


# Pages of the book that are not chapters: no goals, no summary, no exercises.
NOT_CHAPTERS = {"bibliography", "notation", "instructor"}


def chapters() -> list[Path]:
    toc = yaml.safe_load((BOOK.parent / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    return [BOOK.parent / f"{f}.ipynb" for f in files if Path(f).name not in NOT_CHAPTERS]


def test_every_chapter_is_in_the_table_of_contents():
    assert {p.name for p in chapters()} == {p.name for p in NOTEBOOKS} - {f"{n}.ipynb" for n in NOT_CHAPTERS}


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_every_chapter_opens_with_goals_prerequisites_and_run_time_and_ends_with_a_summary(path):
    """For the reader and the seminar teacher: what the chapter teaches, what it needs, how
    long it runs (before the first section), and a summary before the exercises."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    text = "\n".join(cells)
    opening = text.split("\n## ", 1)[0]
    for label in ("**Learning goals.**", "**Prerequisites.**", "**Run time.**"):
        assert label in opening, f"{path.name}: no {label} before the first section"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    summary = [h for h in headings if "summary" in h.lower() or "what we learned" in h.lower()]
    assert summary, f"{path.name}: no summary section (a heading with 'Summary' or 'What we learned')"
    assert "## Exercises" in headings, f"{path.name}: no exercises"
    assert headings.index(summary[-1]) < headings.index("## Exercises"), f"{path.name}: summary after the exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_with_code_run_in_the_build(path):
    """A solution that shows code must run it: code goes in code cells between
    ``solution-start`` and ``solution-end``, not as text in a ``{solution}`` block,
    where the build would show it without running it."""
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    static = re.findall(r"```\{solution\}\s*(\S+)(.*?)\n```", text, flags=re.S)
    with_code = [label for label, body in static
                 if re.search(r"(^|\n)(    \S|```)", body)]
    assert not with_code, f"{path.name}: solutions with code that does not run: {with_code}"
