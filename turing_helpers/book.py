"""What every chapter does first: the figures' style, the seeds and threads, and glue.

    import turing_helpers as th
    from turing_helpers.book import glue

    rng = th.book.setup(threads=2)   # style, seeds; torch's threads where a chapter uses torch
    glue("n_classes", 6, display=False)   # a number the text quotes, computed by this cell

Outside the book's build (Colab, Binder, a plain Jupyter) myst-nb may be missing: then
:func:`glue` does nothing and the cells run unchanged.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_count
from .plotting import STYLE

__all__ = ["setup", "glue"]


def setup(seed: int = 0, threads: int | None = None, flush_denormal: bool = False) -> np.random.Generator:
    """Prepare a chapter: matplotlib's style (:data:`turing_helpers.plotting.STYLE`), torch's seed
    and, if ``threads`` is given, its thread count (torch is imported only then or when it is
    already loaded); ``flush_denormal`` flushes denormal floats to zero, which speeds up rollouts
    that fade through them about threefold. Returns numpy's generator seeded with ``seed``."""
    import sys

    import matplotlib.pyplot as plt

    seed = check_count("seed", seed, 0)
    plt.rcParams.update(STYLE)
    if threads is not None or flush_denormal or "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(check_count("threads", threads, 1))
        if flush_denormal:
            torch.set_flush_denormal(True)
    return np.random.default_rng(seed)


def glue(name: str, value, display: bool = True) -> None:
    """Keep ``value`` under ``name`` for the text ({glue:text}`name`): myst-nb's ``glue`` in the
    book's build, nothing where myst-nb is not installed."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)
