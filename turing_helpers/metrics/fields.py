"""The metrics' input layer and the book's one definition of "no pattern".

Every metric of :mod:`turing_helpers.metrics`, and every evaluation built on them, reads
its arrays through :func:`as_fields` (the same checks, the same error messages) and
returns through :func:`batch_result` (an array of the batch shape, a scalar for one
field); :func:`is_uniform` is the test that sets uniform fields apart everywhere.
"""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy

__all__ = ["UNIFORM_CONTRAST", "as_fields", "check_same_shape", "field_pair", "batch_result", "is_constant",
           "is_uniform"]

# The book's one definition of "no pattern": a field whose contrast max − min is below this
# is uniform. Developed Gray-Scott patterns have a v contrast of 0.27–0.54 (Pearson's
# classes, chapter 3) and 0.2–0.5 on The Well's classes; a state that decayed to a
# homogeneous one has contrast at the rounding level, and a decaying pattern passes 0.05
# only briefly.
UNIFORM_CONTRAST = 0.05
# A field whose standard deviation is below this fraction of its largest |value| is
# treated as constant (its spectrum is rounding noise): spectral metrics give NaN.
CONSTANT_RTOL = 1e-12


def as_fields(x, name: str, finite: bool = True, min_ndim: int = 2) -> np.ndarray:
    """``x`` (numpy, array-like or torch) as a float64 array of square fields (..., N, N), or a
    ValueError naming ``name``: complex or non-numeric values, fewer than ``min_ndim``
    dimensions, non-square or smaller than 2 × 2 spatial axes, non-finite values (unless
    ``finite`` is False, for predictions that may have diverged)."""
    arr = to_numpy(x)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got dtype {arr.dtype}")
    try:
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}") from None
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions (..., N, N), got shape {arr.shape}"
        )
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be square on its last two axes, got shape {arr.shape}")
    if arr.shape[-1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 on its last two axes, got {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains non-finite values (inf or NaN)")
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """ValueError naming both arrays unless they have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def batch_result(x):
    """The module's return rule: an array of the batch shape, 0-d unwrapped to a scalar."""
    return np.asarray(x)[()]


def is_constant(f: np.ndarray) -> np.ndarray:
    """Fields (..., N, N) that are constant up to rounding; boolean, batch shape."""
    scale = np.max(np.abs(f), axis=(-2, -1))
    return np.std(f, axis=(-2, -1)) <= CONSTANT_RTOL * scale


def field_pair(a, b):
    """Two field batches whose batch shapes broadcast → (fa, fb, broadcast batch shape)."""
    fa = as_fields(a, "a")
    fb = as_fields(b, "b")
    try:
        batch = np.broadcast_shapes(fa.shape[:-2], fb.shape[:-2])
    except ValueError:
        raise ValueError(
            f"a and b batch shapes do not broadcast: {fa.shape[:-2]} and {fb.shape[:-2]}"
        ) from None
    return fa, fb, batch


def is_uniform(field) -> np.ndarray:
    """Whether each field (..., N, N) is uniform: contrast max − min < ``UNIFORM_CONTRAST``.

    The book's one definition of "no pattern", used by the atlas, the DDPM's evaluation and
    the comparison of chapter 6. bool, shape batch (a numpy bool for a single field).
    """
    f = as_fields(field, "field")
    return batch_result(np.ptp(f, axis=(-2, -1)) < UNIFORM_CONTRAST)
