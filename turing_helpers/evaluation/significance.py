"""Two-sample differences with intervals and p-values, and corrections for reading many at once.

A table of 36 intervals read one by one will show a "significant" difference by chance; the
corrections here keep the chance of any false alarm in a family (Holm) or the expected share of
false alarms among those called (Benjamini–Hochberg) at α. Every function is plain numpy,
deterministic for a seed.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_count, check_in_range

__all__ = ["difference_test", "holm", "benjamini_hochberg"]


def _sample(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 finite values, got {arr.size}")
    return arr


def difference_test(candidate, reference, resamples: int = 2000, seed: int = 0,
                    level: float = 0.95) -> dict:
    """Difference of means of two independent samples, with a bootstrap interval and a p-value.

    candidate, reference: 1-D samples (any shape, flattened; non-finite values dropped, at least
    2 finite values each). Returns ``{"difference": mean(candidate) − mean(reference),
    "relative": that over |mean(reference)| (nan when it is 0), "interval": the percentile
    bootstrap interval of the difference at ``level`` (resampling each sample with
    replacement), "p": the two-sided permutation p-value of "no difference in mean" (labels
    shuffled ``resamples`` times; (1 + #|d*| ≥ |d|) / (1 + resamples), never 0), "n": (sizes)}``.
    """
    a, b = _sample(candidate, "candidate"), _sample(reference, "reference")
    resamples = check_count("resamples", resamples, 10)
    level = check_in_range("level", level, 0.0, 1.0, low_open=True)
    rng = np.random.default_rng(seed)
    difference = a.mean() - b.mean()
    boot = (rng.choice(a, (resamples, a.size)).mean(axis=1)
            - rng.choice(b, (resamples, b.size)).mean(axis=1))
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    pooled = np.concatenate([a, b])
    permuted = np.array([rng.permutation(pooled) for _ in range(resamples)])
    null = permuted[:, :a.size].mean(axis=1) - permuted[:, a.size:].mean(axis=1)
    # a tolerance so that ties with the observed difference count as "as extreme"
    extreme = np.sum(np.abs(null) >= abs(difference) - 1e-12 * max(1.0, abs(difference)))
    scale = abs(b.mean())
    return {"difference": float(difference), "relative": float(difference / scale) if scale > 0 else float("nan"),
            "interval": [float(low), float(high)], "p": float((1 + extreme) / (1 + resamples)),
            "n": [int(a.size), int(b.size)]}


def _pvalues(p) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"p must be a non-empty 1-D sequence of p-values, got shape {arr.shape}")
    if not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError("p must hold p-values in [0, 1] (no NaN)")
    return arr


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (m,), controlling the family-wise error rate.

    Sorted ascending, p₍ᵢ₎ is multiplied by (m − i + 1) and the running maximum taken; a test
    is rejected at family-wise level α when its adjusted p ≤ α. Never less strict than
    needed: uniformly more powerful than Bonferroni, valid under any dependence.
    """
    arr = _pvalues(p)
    m = arr.size
    order = np.argsort(arr)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * arr[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (m,), controlling the false discovery rate.

    Sorted ascending, p₍ᵢ₎ · m / i with the running minimum from the largest down; rejecting
    the tests with adjusted p ≤ q keeps the expected share of false discoveries ≤ q for
    independent or positively dependent tests.
    """
    arr = _pvalues(p)
    m = arr.size
    order = np.argsort(arr)
    scaled = arr[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out
