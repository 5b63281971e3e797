"""numpy or torch: which library an array belongs to, and a numpy copy of it.

The solver, the stencils and the measurements take numpy arrays and torch tensors alike.
They ask here rather than ``isinstance(x, torch.Tensor)``, so that a numpy user never
imports torch.
"""
from __future__ import annotations

import numpy as np

__all__ = ["is_torch", "to_numpy", "namespace"]


def is_torch(x) -> bool:
    """Whether ``x`` is a torch tensor (decided without importing torch)."""
    return type(x).__module__.startswith("torch")


def to_numpy(x) -> np.ndarray:
    """``x`` as a numpy array: a tensor detached and moved to the CPU, anything else through
    ``np.asarray`` (no copy where none is needed)."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def namespace(x):
    """The library whose functions apply to ``x``: the ``torch`` module for a tensor, else
    ``numpy`` (for the functions both share by name and positional arguments: roll, stack,
    isfinite, ...)."""
    if is_torch(x):
        import torch

        return torch
    return np
