"""Stage the book with the notebooks nbval executed, for a build that does not execute them.

    .venv/bin/python tools/stage_executed_book.py EXECUTED_DIR STAGE_DIR book/*.ipynb

``make test`` runs every notebook once, under nbval (against the non-editable install, with
no network: the reader's conditions), and ``tools/nbval_capture.py`` keeps the executed
copies in EXECUTED_DIR. This script copies the book's sources (``_config.yml``, ``_toc.yml``,
``book/``) into STAGE_DIR, puts the executed notebooks in place of the committed ones and
turns the build's own execution off, so the strict build checks the pages without running
the chapters a second time.

It refuses (exit status 1, with the reason) unless every committed notebook has an executed
copy whose cells have the committed sources, cell for cell: a notebook edited after nbval
ran must be executed again, never shown with outputs of an older version.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def stale_reason(committed: Path, executed: Path) -> str | None:
    if not executed.exists():
        return f"{executed} is missing (did nbval pass for {committed.name}?)"
    ours = nbformat.read(committed, as_version=4).cells
    theirs = nbformat.read(executed, as_version=4).cells
    if [(c.cell_type, c.source) for c in ours] != [(c.cell_type, c.source) for c in theirs]:
        return f"{executed} was executed from another version of {committed}"
    return None


def main(argv: list[str]) -> int:
    executed_dir, stage, notebooks = Path(argv[0]), Path(argv[1]), [Path(p) for p in argv[2:]]
    reasons = [r for nb in notebooks if (r := stale_reason(nb, executed_dir / nb.name))]
    if not notebooks or reasons:
        print("not staging the executed book:", *(reasons or ["no notebooks given"]), sep="\n  ")
        return 1
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(REPO / name, stage / name)
    shutil.copytree(REPO / "book", stage / "book", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for nb in notebooks:
        shutil.copy2(executed_dir / nb.name, stage / "book" / nb.name)
    config = (stage / "_config.yml").read_text()
    config, n = re.subn(r"^(\s*execute_notebooks:)\s*\S+", r'\1 "off"', config, count=1, flags=re.M)
    if n != 1:
        print("not staging the executed book: no execute_notebooks setting in _config.yml")
        return 1
    (stage / "_config.yml").write_text(config)
    print(f"staged {len(notebooks)} executed notebooks in {stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
