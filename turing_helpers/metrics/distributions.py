"""The distribution of a field's values: the distance between two fields' pixel histograms."""
from __future__ import annotations

import numpy as np
from scipy import stats

from .fields import batch_result, field_pair

__all__ = ["pixel_histogram_distance"]


def pixel_histogram_distance(a, b, bins=None):
    """1-Wasserstein distance between the value distributions of two fields.

    The pixel values of each field, taken as a sample (position ignored), compared with
    W₁ = ∫ |F_a(x) − F_b(x)| dx, in field units. 0 for any rearrangement of the same
    values; a constant offset c gives |c|. a: (..., Na, Na), b: (..., Nb, Nb) — the
    grid sizes may differ (e.g. a generated 32² patch against a 128² solver field), the
    batch shapes broadcast. bins: None (default) for the exact W₁ of the samples
    (``scipy.stats.wasserstein_distance``; a sort when Na = Nb), or an int to compare
    histograms with that many bins on the pair's common range (faster, coarser).
    Returns float, the broadcast batch shape.
    """
    fa, fb, batch = field_pair(a, b)
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, (int, np.integer))
                             or bins < 1):
        raise ValueError(f"bins must be a positive integer or None, got {bins!r}")
    xa = np.broadcast_to(fa.reshape(fa.shape[:-2] + (-1,)), batch + (fa.shape[-1] ** 2,))
    xb = np.broadcast_to(fb.reshape(fb.shape[:-2] + (-1,)), batch + (fb.shape[-1] ** 2,))
    xa = xa.reshape(-1, xa.shape[-1])
    xb = xb.reshape(-1, xb.shape[-1])
    if bins is None and xa.shape[-1] == xb.shape[-1]:
        # equal sample sizes: W1 is the mean gap between the sorted samples
        d = np.mean(np.abs(np.sort(xa, axis=-1) - np.sort(xb, axis=-1)), axis=-1)
    elif bins is None:
        d = np.array([stats.wasserstein_distance(x, y) for x, y in zip(xa, xb)])
    else:
        d = np.empty(xa.shape[0])
        for i, (x, y) in enumerate(zip(xa, xb)):
            lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
            if hi <= lo:
                d[i] = 0.0
                continue
            edges = np.linspace(lo, hi, int(bins) + 1)
            cx = np.cumsum(np.histogram(x, edges)[0]) / x.size
            cy = np.cumsum(np.histogram(y, edges)[0]) / y.size
            d[i] = np.sum(np.abs(cx - cy)[:-1]) * (edges[1] - edges[0])
    return batch_result(d.reshape(batch))
