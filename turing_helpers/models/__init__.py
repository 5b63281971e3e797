"""Neural models of the book: a convolutional LSTM (chapter 4) and a DDPM (chapter 5).

Models know nothing of notebooks or training loops. ``load_pretrained(name)`` returns
a shipped model, trained by ``python -m turing_helpers.train NAME``.
"""
from __future__ import annotations

import importlib

from ..checkpoints import SHIPPED_DIR

__all__ = ["load_pretrained", "PRETRAINED"]

# name -> module providing ``from_checkpoint(payload)``
PRETRAINED = {"convlstm": "turing_helpers.models.convlstm", "ddpm": "turing_helpers.models.ddpm"}


def load_pretrained(name: str, device="cpu"):
    """The shipped model ``name`` ("convlstm" or "ddpm"), in eval mode, on ``device``
    (a torch device or its name, e.g. "cuda"; the DDPM then samples whole batches there)."""
    from ..checkpoints import load_checkpoint

    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained model {name!r}; choose one of {sorted(PRETRAINED)}")
    path = SHIPPED_DIR / f"{name}.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; train it with `python -m turing_helpers.train {name}`")
    module = importlib.import_module(PRETRAINED[name])
    return module.from_checkpoint(load_checkpoint(path, kind=name)).to(device)
