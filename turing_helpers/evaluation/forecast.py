"""Skill of forecasts: VRMSE and correlation against the horizon, correlation time.

A forecast is a set of W windows, each H predicted frames of C channels: arrays
(W, H, C, N, N) (or (W, H, N, N) for one channel), beside the true frames of the same shape.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..metrics.fields import as_fields, check_same_shape

__all__ = ["forecast_skill", "forecast_scores", "THRESHOLDS"]

THRESHOLDS = (0.8, 0.9, 0.95)


def _summary(score, mse, var, r, thresholds) -> dict:
    """score, mse, var, r: (w, H) per window and horizon (channel-averaged)."""
    if score.shape[0] == 0:
        return {"windows": 0}
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.sqrt(mse.sum(axis=0) / var.sum(axis=0))
    times = {str(t): metrics.decorrelation_frame(r, t) for t in thresholds}
    decorrelated = np.where(np.isfinite(r), r, 0.0)  # a collapsed prediction is decorrelated: r = 0
    return {
        "windows": int(score.shape[0]),
        "vrmse": {"mean": score.mean(axis=0), "median": np.median(score, axis=0), "pooled": pooled},
        "correlation": {"mean": decorrelated.mean(axis=0), "median": np.median(decorrelated, axis=0)},
        "correlation_time": {t: {"per_window": np.atleast_1d(v), "mean": float(np.mean(v)),
                                 "median": float(np.median(v))} for t, v in times.items()},
    }


def forecast_scores(pred, true) -> dict[str, np.ndarray]:
    """The per-window, per-horizon numbers :func:`forecast_skill` summarises.

    pred, true: (W, H, C, N, N) or (W, H, N, N). Returns arrays of shape (W, H): ``vrmse``
    (channel mean), ``mse`` and ``var`` (channel sums, for the pooled VRMSE), ``r`` (channel
    mean Pearson correlation; NaN if any channel's is undefined) and ``uniform_target``
    (every channel of the true frame uniform). Concatenate the dicts of several batches along
    axis 0 to score forecasts too large to hold at once.
    """
    t = as_fields(true, "true", min_ndim=4)
    p = as_fields(pred, "pred", finite=False, min_ndim=4)
    check_same_shape(p, t, "pred", "true")
    if t.ndim == 4:
        t, p = t[:, :, None], p[:, :, None]
    if t.ndim != 5:
        raise ValueError(f"pred and true must be (W, H, C, N, N) or (W, H, N, N), got {t.shape}")
    with np.errstate(invalid="ignore", over="ignore"):
        mse = np.mean((p - t) ** 2, axis=(-2, -1))                   # (W, H, C)
    return {"vrmse": np.asarray(metrics.vrmse(p, t)).mean(axis=-1),  # (W, H)
            "mse": mse.sum(axis=-1), "var": np.var(t, axis=(-2, -1)).sum(axis=-1),
            "r": np.asarray(metrics.pearson_correlation(p, t)).mean(axis=-1),
            "uniform_target": np.asarray(metrics.is_uniform(t)).all(axis=-1)}


def forecast_skill(pred, true, labels=None, classes=None, thresholds=THRESHOLDS, scores=None) -> dict:
    """Scores of forecasts ``pred`` against ``true``, both (W, H, C, N, N) or (W, H, N, N).

    Per window w, horizon h and channel c: MSE and variance of the true frame over the grid,
    VRMSE = sqrt(MSE/(var + 1e-7)) (:func:`turing_helpers.metrics.vrmse`) and the Pearson
    correlation; VRMSE and correlation are averaged over the channels (The Well's reduction).
    Windows whose target is uniform in some frame (every channel uniform,
    :func:`turing_helpers.metrics.is_uniform`) would dominate the VRMSE means (var ≈ 0): they
    are scored apart, under ``"uniform_target"``, and left out of the main numbers.

    Returns a dict with ``horizon`` (1..H) and, for the developed windows:

    - ``windows``: how many;
    - ``vrmse``: ``mean``, ``median`` over windows and ``pooled`` = sqrt(Σ MSE / Σ var) over
      windows and channels, each (H,);
    - ``correlation``: ``mean`` and ``median`` over windows, (H,); a constant (collapsed) or
      non-finite prediction counts as r = 0;
    - ``correlation_time``: per threshold, ``per_window`` (W,) frames before the
      channel-averaged correlation first drops below it
      (:func:`turing_helpers.metrics.decorrelation_frame`, a collapse counting as
      decorrelated), with their ``mean`` and ``median``;

    then ``uniform_target`` (the same block for the windows set apart) and, when ``labels``
    (W,) are given, ``per_class``: {class: the same dict}, with class names from ``classes``
    (a sequence indexed by label) or the labels themselves. ``pred`` may hold inf/NaN (a
    diverged rollout scores inf and decorrelates). Pass ``scores`` (from
    :func:`forecast_scores`, e.g. accumulated batch by batch) instead of pred and true
    (then None) to summarise without holding every forecast in memory.
    """
    if scores is None:
        scores = forecast_scores(pred, true)
    W, H = scores["vrmse"].shape
    uniform_window = scores["uniform_target"].any(axis=-1)  # (W,)

    def block(mask):
        return _summary(scores["vrmse"][mask], scores["mse"][mask], scores["var"][mask], scores["r"][mask],
                        thresholds)

    result = {"horizon": np.arange(1, H + 1), **block(~uniform_window),
              "uniform_target": block(uniform_window)}
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (W,):
            raise ValueError(f"labels must have shape ({W},) (one per window), got {labels.shape}")
        result["per_class"] = {}
        for label in np.unique(labels):
            name = classes[int(label)] if classes is not None else label.item()
            mask = labels == label
            result["per_class"][name] = {**block(mask & ~uniform_window),
                                         "uniform_target": block(mask & uniform_window)}
    return result
