"""Result files the chapters read, shipped with the package (so Binder and Colab have them).

Each was written by a command of this repository, named in the file's ``"command"`` entry;
:func:`load` is the one way a chapter finds them, wherever the package is installed.
"""
from __future__ import annotations

import json
from pathlib import Path

__all__ = ["RESULTS_DIR", "load", "path"]

RESULTS_DIR = Path(__file__).parent


def path(name: str) -> Path:
    """The path of result ``name``: ``"compare"`` for ``compare.json``, or a file name with
    its suffix (``"atlas_map.npz"``)."""
    return RESULTS_DIR / (name if Path(name).suffix else f"{name}.json")


def load(name: str) -> dict:
    """The result ``name`` as a dict; FileNotFoundError naming the command that writes it."""
    file = path(name)
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing: run the benchmarks/ script that writes it")
    return json.loads(file.read_text())
