"""Stability under time of any forecaster: its rollouts beside the solver's, scored two ways.

A *forecaster* is any callable ``forecast(context, frames)``: context, numpy (B, C, 2, N, N)
float32, the C frames it may read (the solver's own, one book frame of 10 time units apart);
it returns its next ``frames`` frames, numpy (B, frames, 2, N, N). The ConvLSTM, the
GrayScottCell of chapter 7, persistence or a future model are measured by the same code:

- :func:`rollout_skill`: the first ``horizon`` frames against the solver's continuation from
  the same context (:func:`~turing_helpers.evaluation.forecast_skill`), with persistence beside
  it and the correlation time's censoring counted;
- :func:`stability_under_time`: that, and the *climate* of the rollout's late frames against
  independent solver sets of the class (:func:`~turing_helpers.evaluation.climate.climate_test`),
  with the test's controls run on the same references: the solver's own continuation from the
  same starts (must pass), a frozen copy of it, another class's solver set and a uniform field.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from .._checks import check_count
from .climate import climate_statistics, climate_test
from .forecast import forecast_skill

__all__ = ["persistence", "rollout_skill", "censored_fraction", "stability_under_time", "climate_series"]


def persistence(context, frames: int) -> np.ndarray:
    """The no-skill forecaster: the last context frame repeated. (B, C, 2, N, N) → (B, frames, 2, N, N)."""
    context = np.asarray(context)
    return np.repeat(context[:, -1:], frames, axis=1)


def censored_fraction(skill: dict, threshold: str = "0.8") -> float:
    """Fraction of a forecast_skill block's windows whose correlation time reached the horizon."""
    per_window = np.asarray(skill["correlation_time"][threshold]["per_window"])
    return float(np.mean(per_window >= len(skill["horizon"]))) if per_window.size else float("nan")


def rollout_skill(forecast, truth, context: int, horizon: int, predicted=None) -> dict:
    """Forecast skill of ``forecast`` and of persistence over the first ``horizon`` frames.

    truth: the solver's frames (B, T, 2, N, N) with T ≥ context + horizon; the forecaster reads
    ``truth[:, :context]`` (or pass its rollout as ``predicted`` (B, ≥ horizon, 2, N, N)).
    Returns {"model": forecast_skill, "persistence": forecast_skill, "censored": {system:
    fraction of windows whose r ≥ 0.8 time reached the horizon}, "no_skill_horizon": {system:
    first horizon (frames) at which the median VRMSE reaches 1, or None}}.
    """
    truth = np.asarray(truth)
    context = check_count("context", context, 1)
    horizon = check_count("horizon", horizon, 1)
    if truth.ndim != 5 or truth.shape[1] < context + horizon:
        raise ValueError(f"truth must be (B, T, 2, N, N) with T >= context + horizon = {context + horizon}, "
                         f"got shape {truth.shape}")
    if predicted is None:
        predicted = forecast(truth[:, :context], horizon)
    target = truth[:, context:context + horizon]
    out = {"model": forecast_skill(np.asarray(predicted)[:, :horizon], target),
           "persistence": forecast_skill(persistence(truth[:, :context], horizon), target)}
    out["censored"] = {system: censored_fraction(out[system]) for system in ("model", "persistence")}
    out["no_skill_horizon"] = {}
    for system in ("model", "persistence"):
        median = np.asarray(out[system]["vrmse"]["median"]) if out[system]["windows"] else np.array([])
        reached = np.flatnonzero(median >= 1.0)
        out["no_skill_horizon"][system] = int(reached[0] + 1) if reached.size else None
    return out


def stability_under_time(forecast, truth, references, dx, *, context: int = 4, horizon: int = 100,
                         climate_from: int = 500, other_class=None, snapshot_every: int = 10,
                         alpha: float = 0.05, tests: int = 1, series_every: int | None = None) -> dict:
    """A forecaster's rollouts from solver states: skill early, climate late, with the controls.

    truth: the solver's trajectories (B, context + F, 2, N, N) from developed starts, frames one
    book frame apart; the forecaster reads the first ``context`` frames and predicts F more.
    references: a list of ≥ 2 independent solver sets of the class, each (R, F − climate_from
    + 1, 2, N, N): the frames climate_from..F after their own developed starts (the window the
    climate is taken over), or their :func:`~turing_helpers.evaluation.climate.climate_statistics`
    (computed once per class). other_class: such a set (or its statistics) of another class, a
    control that must fail.

    alpha, tests: the climate tests' family-wise error rate and family size (:func:`climate_test`).
    series_every: if given, also the course of the rollout and of the solver's continuation,
    every ``series_every``-th frame (:func:`climate_series`).

    Returns {"skill": :func:`rollout_skill`, "climate": :func:`climate_test` of the rollout's
    frames climate_from..F, "controls": {"solver": the solver's continuation from the same
    starts (independent of the references: must pass), "frozen": its first climate frame
    repeated, "uniform": the state (1, 0), "other_class": another class's set} each a
    climate_test, "frames": F, "climate_from": climate_from, "end": the rollout's last
    frame (B, 2, N, N)} and, with ``series_every``, "series": {"frames": the frame numbers,
    "model" and "solver": :func:`climate_series`}. The solver control's window is its frames
    climate_from..F after the last context frame, ``context`` − 1 frames later than the references' window after
    their starts (3 frames of 10 time units for the ConvLSTM's context of 4).
    """
    truth = np.asarray(truth)
    context = check_count("context", context, 1)
    frames = truth.shape[1] - context
    if not 0 <= climate_from < frames - 3:
        raise ValueError(f"climate_from must be in [0, F - 4] = [0, {frames - 4}], got {climate_from!r}")
    predicted = np.asarray(forecast(truth[:, :context], frames))
    if predicted.shape != truth[:, context:].shape:
        raise ValueError(f"forecast must return {truth[:, context:].shape}, got {predicted.shape}")
    reference_stats = [r if isinstance(r, dict) else climate_statistics(r, dx, snapshot_every) for r in references]

    def test(candidate):
        return climate_test(candidate, reference_stats, dx, alpha=alpha, tests=tests, snapshot_every=snapshot_every)

    # frame f of the rollout (f = 1..F) is predicted[:, f - 1]; the climate window is f = climate_from..F
    window = slice(climate_from - 1 if climate_from else 0, frames)
    solver_window = truth[:, context:][:, window]
    controls = {"solver": test(solver_window),
                "frozen": test(np.repeat(solver_window[:, :1], solver_window.shape[1], axis=1)),
                "uniform": test(np.broadcast_to(np.array([1.0, 0.0], np.float32)[:, None, None],
                                                solver_window.shape).copy())}
    if other_class is not None:
        controls["other_class"] = test(other_class)
    out = {"skill": rollout_skill(forecast, truth, context, min(horizon, frames), predicted=predicted),
           "climate": test(predicted[:, window]), "controls": controls, "frames": frames,
           "climate_from": climate_from, "end": predicted[:, -1]}
    if series_every is not None:
        every = check_count("series_every", series_every, 1)
        # frame f = every, 2 every, ... is index f - 1 of the rollout and of the solver's continuation
        index = np.arange(every, frames + 1, every) - 1
        out["series"] = {"frames": (index + 1).tolist(), "model": climate_series(predicted[:, index]),
                         "solver": climate_series(truth[:, context:][:, index])}
    return out


def climate_series(trajectories) -> dict:
    """The course of a set of rollouts: per frame of trajectories (B, T, 2, N, N), the mean over
    trajectories of v's standard deviation (concentration units) and the fraction of uniform
    fields (:func:`~turing_helpers.metrics.is_uniform`): {"v_std": (T,), "uniform_fraction": (T,)}."""
    v = np.asarray(trajectories, np.float64)[:, :, 1]
    return {"v_std": v.std(axis=(2, 3)).mean(axis=0), "uniform_fraction": metrics.is_uniform(v).mean(axis=0)}
