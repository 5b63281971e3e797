"""How intricate a pattern is: its compressed length, normalised between a constant field
and white noise (Adamatzky's "generative complexity")."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .fields import as_fields, batch_result

__all__ = ["compression_complexity"]


@lru_cache(maxsize=16)
def _compressed_extremes(size: int, levels: int = 256) -> tuple[int, int]:
    """zlib sizes (bytes) of ``size`` constant bytes and of ``size`` random bytes of ``levels`` values."""
    import zlib

    random = np.random.default_rng(0).integers(0, levels, size, dtype=np.uint8).tobytes()
    return len(zlib.compress(bytes(size), 9)), len(zlib.compress(random, 9))


def compression_complexity(field, value_range=(0.0, 1.0), levels: int = 256):
    """Pattern complexity from lossless compression; float, shape batch, ≈ 0 to ≈ 1.

    Each field (..., N, N) is quantised to ``levels`` values (default 256, 8 bits) on the
    fixed ``value_range`` (default [0, 1], the physical range of u and v; values outside are
    clipped), read row by row and compressed with zlib (DEFLATE: LZ77, a Lempel-Ziv coder,
    then Huffman coding) at level 9, as in Adamatzky's "generative complexity" of Gray-Scott
    (arXiv 1610.09097). Normalisation: C = (L − L₀) / (L₁ − L₀), with L the compressed length,
    L₀ that of N² constant bytes and L₁ that of N² independent uniformly random values of the
    same ``levels``. So a uniform field scores 0, white noise spread over the whole range ≈ 1
    (it cannot be compressed), and a pattern in between: smooth, repetitive structure
    compresses well. On the fixed range a field's rounding noise is not blown up to full
    contrast, but a pattern of low contrast scores lower than the same shape at high
    contrast: complexity and contrast are mixed.

    ``value_range="field"`` quantises each field on its own [min, max] instead, which takes
    contrast out (a constant field still scores 0); use it with few ``levels`` (say 16):
    at 256 levels a full-contrast pattern of a small box barely compresses at all.
    """
    import zlib

    f = as_fields(field, "field")
    levels = int(levels)
    if not 2 <= levels <= 256:
        raise ValueError(f"levels must be an integer in [2, 256] (values of one byte), got {levels!r}")
    if isinstance(value_range, str):
        if value_range != "field":
            raise ValueError(f"value_range must be (low, high) or 'field', got {value_range!r}")
        lo = f.min(axis=(-2, -1), keepdims=True)
        span = f.max(axis=(-2, -1), keepdims=True) - lo
        scaled = np.where(span > 0, (f - lo) / np.where(span > 0, span, 1.0), 0.0)
    else:
        lo, hi = (float(x) for x in value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"value_range must be two finite numbers (low, high) with high > low, or 'field', "
                             f"got {value_range!r}")
        scaled = (f - lo) / (hi - lo)
    quantised = np.clip(np.round(scaled * (levels - 1)), 0, levels - 1).astype(np.uint8)
    flat = quantised.reshape((-1,) + f.shape[-2:])
    size = f.shape[-1] * f.shape[-2]
    zero, random = _compressed_extremes(size, levels)
    lengths = np.array([len(zlib.compress(np.ascontiguousarray(x).tobytes(), 9)) for x in flat], float)
    return batch_result(((lengths - zero) / (random - zero)).reshape(f.shape[:-2]))
