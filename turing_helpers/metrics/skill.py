"""Forecast skill of predicted fields against true ones: VRMSE (The Well's), Pearson
correlation and the correlation time of a rollout. The prediction may hold inf or NaN (a
diverged rollout is a result to report, not a usage error)."""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .fields import CONSTANT_RTOL, as_fields, batch_result, check_same_shape

__all__ = ["vrmse", "pearson_correlation", "correlation_time", "decorrelation_frame"]

# The Well's VRMSE adds this to the variance of the target (the_well/benchmark/metrics).
_WELL_EPS = 1e-7


def vrmse(pred, true, eps=_WELL_EPS):
    """Variance-scaled RMSE, The Well's VRMSE: sqrt(mean((pred − true)²) / (var(true) + eps)).

    Means and the variance are over the two spatial axes (var with ddof = 0, so
    predicting each field's spatial mean scores 1 up to the eps = 1e-7 guard; The Well
    uses torch's unbiased std², which differs by the factor √(1 − 1/N²), < 4e-5 at
    N = 128). 0 for a perfect prediction. pred, true: (..., N, N), same shape; returns
    float, shape batch, dimensionless. ``pred`` may hold inf/NaN (a diverged rollout):
    the score is then inf/NaN rather than an error; ``true`` must be finite.
    """
    t = as_fields(true, "true")
    p = as_fields(pred, "pred", finite=False)
    check_same_shape(p, t, "pred", "true")
    eps = float(eps)
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        mse = np.mean((p - t) ** 2, axis=(-2, -1))
    var = np.var(t, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return batch_result(np.sqrt(mse / (var + eps)))


def pearson_correlation(pred, true):
    """Pearson correlation over the two spatial axes; float in [−1, 1], shape batch.

    NaN where either field is constant, or ``pred`` is not finite (allowed, as in
    :func:`vrmse`).
    """
    t = as_fields(true, "true")
    p = as_fields(pred, "pred", finite=False)
    check_same_shape(p, t, "pred", "true")
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        dp = p - p.mean(axis=(-2, -1), keepdims=True)
        dt = t - t.mean(axis=(-2, -1), keepdims=True)
        cov = np.mean(dp * dt, axis=(-2, -1))
        sp = np.sqrt(np.mean(dp * dp, axis=(-2, -1)))
        st = np.sqrt(np.mean(dt * dt, axis=(-2, -1)))
        r = cov / (sp * st)
        r = np.where((sp > CONSTANT_RTOL * np.max(np.abs(p), axis=(-2, -1)))
                     & (st > CONSTANT_RTOL * np.max(np.abs(t), axis=(-2, -1))), r, np.nan)
    return batch_result(np.clip(r, -1.0, 1.0))


def correlation_time(pred, true, threshold=0.8):
    """Frames a rollout stays correlated with the truth (PDE-Refiner's correlation time).

    pred, true: (..., T, N, N), time on the third-from-last axis, same shape. For each
    trajectory the Pearson correlation of every frame is taken over the spatial axes
    (:func:`pearson_correlation`); the result is the number of leading frames before it
    first drops below ``threshold`` — the index of the first frame with r < threshold,
    or T if it never does. int, shape ``pred.shape[:-3]`` (batch of trajectories).
    A frame whose correlation is undefined (constant field, or non-finite ``pred`` from a
    diverged rollout) counts as decorrelated.

    Per trajectory, unlike Lippe et al. (2023), who average the correlation over the
    batch first; their number for a batch of B trajectories (axis 0) is::

        r = pearson_correlation(pred, true).mean(axis=0)       # (T,)
        below = ~(r >= threshold); t = below.argmax() if below.any() else len(r)
    """
    t = as_fields(true, "true", min_ndim=3)
    p = as_fields(pred, "pred", finite=False, min_ndim=3)
    check_same_shape(p, t, "pred", "true")
    threshold = float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [-1, 1], got {threshold!r}")
    return decorrelation_frame(pearson_correlation(p, t), threshold)


def decorrelation_frame(r, threshold=0.8):
    """The one definition of correlation time, from correlations r (..., T) over time.

    The number of leading frames before r first drops below ``threshold`` (T if it never
    does); NaN — a constant (collapsed) prediction, or a diverged one — counts as below, so
    a collapsed rollout is decorrelated, never dropped. int, shape ``r.shape[:-1]``.
    :func:`correlation_time` is this applied to :func:`pearson_correlation` of each frame.
    """
    r = np.asarray(to_numpy(r), dtype=np.float64)
    if r.ndim < 1:
        raise ValueError(f"r must have a time axis (..., T), got shape {r.shape}")
    threshold = float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [-1, 1], got {threshold!r}")
    below = ~(r >= threshold)  # NaN counts as below
    frames = np.where(below.any(axis=-1), below.argmax(axis=-1), r.shape[-1])
    return batch_result(frames.astype(np.int64))
