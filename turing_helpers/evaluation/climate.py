"""Is a long rollout on the solver's attractor? A test whose thresholds come from the solver.

"Stable" for a learned simulator means more than bounded: a rollout that fades to a uniform
field is bounded and wrong, and one that keeps a pattern with another wavelength, or that
stops moving where the true dynamics move, is on another attractor. The test compares the
long-run statistics ("climate") of a set of candidate trajectories with those of independent
solver sets of the same class, and sets every threshold from the spread *among the solver's
own trajectories and sets*, before any candidate is read:

- per trajectory, each statistic of :data:`CLIMATE_STATISTICS` (snapshot statistics averaged
  over its frames; time statistics from its frame sequence);
- the reference value is the mean over all reference trajectories; the spread σ is the larger
  of the pooled within-set standard deviation of the trajectories and the one implied by the
  scatter of the reference sets' means (√n̄ · std of the set means), so that sets which differ
  more than their trajectories suggest widen the threshold instead of being ignored;
- a statistic passes when |candidate mean − reference| ≤ z σ √(1/B + 1/R) (B candidate and R
  reference trajectories), with z the two-sided normal quantile at α/(m · tests): a Bonferroni
  correction over the m statistics and the number of tests read together (a table's classes
  and box sizes), so that independent solver sets pass all of them with probability ≥ 1 − α.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .. import metrics
from ..metrics.fields import as_fields
from .._checks import check_count, check_in_range, check_positive
from .patterns import pattern_statistics, set_wavelength

__all__ = ["CLIMATE_STATISTICS", "VERDICTS", "CLIMATE_RULE", "PHYSICAL_RANGE", "climate_statistics",
           "climate_test"]

# Per-trajectory statistics, in the order tables show them. Snapshot statistics: the per-frame
# values of pattern_statistics averaged over the trajectory's non-uniform frames (v_std over all
# frames) and set_wavelength over its non-uniform frames; time statistics: motion and
# autocorrelation time. (The complexity of fields rescaled to their own range saturates at 1 on
# small boxes, where every solver field scores the same: a statistic with no spread, left out.)
CLIMATE_STATISTICS = ("v_std", "set_wavelength", "component_density", "euler_density", "spectral_entropy",
                      "compression_complexity", "motion", "autocorrelation_time")

VERDICTS = ("on the attractor", "drifted", "faded", "blew up")

# Values of u and v outside this range, widened by half its width on each side, or non-finite
# ones, mean the rollout left the physics (the solver's fields stay inside [0, 1]).
PHYSICAL_RANGE = (0.0, 1.0)
_RANGE_MARGIN = 0.5

# Autocorrelation time: lags until the mean correlation of v(t) with v(t + lag) drops below this.
_DECORRELATED = 0.5
_LAG_STARTS = 50

CLIMATE_RULE = {
    "blew up": "a non-finite value, or u or v outside [-0.5, 1.5] (the physical range [0, 1] widened by half)",
    "faded": "at least half of the candidate's frames uniform (metrics.is_uniform), while fewer than half "
             "of the references' are",
    "drifted": "a pattern, but some statistic differs from the solver's by more than z sigma sqrt(1/B + 1/R) "
               "(sigma: the solver's trajectory-to-trajectory and set-to-set spread; Bonferroni over the "
               "statistics and the tests read together)",
    "on the attractor": "every statistic within its threshold",
}


def _frames(x, name: str) -> np.ndarray:
    """Trajectories (B, T, 2, N, N) as float64, checked (non-finite values allowed: they blow up)."""
    arr = as_fields(x, name, finite=False, min_ndim=5)
    if arr.ndim != 5 or arr.shape[2] != 2:
        raise ValueError(f"{name} must be trajectories (B, T, 2, N, N) of (u, v), got shape {arr.shape}")
    if arr.shape[1] < 4:
        raise ValueError(f"{name} must hold at least 4 frames per trajectory (T >= 4), got T = {arr.shape[1]}")
    return arr


def _autocorrelation_time(v: np.ndarray) -> tuple[float, bool]:
    """Lag (frames) at which the mean over t of corr(v(t), v(t + lag)) first drops below 1/2,
    for one trajectory v (T, N, N); censored at T // 2 + 1 (returned with True) if it never does.

    The mean runs over about :data:`_LAG_STARTS` start frames t evenly spread over the
    trajectory (every frame when T is small): the statistic changes little, the cost a lot.
    """
    T = v.shape[0]
    flat = v.reshape(T, -1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(norm > 0, centred / np.where(norm > 0, norm, 1.0), np.nan)  # a constant frame: NaN
    max_lag = T // 2
    stride = max(1, T // _LAG_STARTS)
    for lag in range(1, max_lag + 1):
        starts = np.arange(0, T - lag, stride)
        r = np.einsum("ij,ij->i", z[starts], z[starts + lag])
        mean = np.nanmean(r) if np.isfinite(r).any() else np.nan
        if not mean >= _DECORRELATED:  # NaN (only constant frames) counts as decorrelated
            return float(lag), False
    return float(max_lag + 1), True


def climate_statistics(trajectories, dx, snapshot_every: int = 1) -> dict:
    """Per-trajectory climate statistics of trajectories (B, T, 2, N, N), frames evenly spaced.

    Returns {statistic: (B,) float array} for each of :data:`CLIMATE_STATISTICS`, and
    ``uniform_fraction`` (B,), ``censored`` (B,) bool (the autocorrelation time hit its cap
    T // 2 + 1), ``frames`` T, ``n`` N, ``blew_up`` (B,) bool. Units: ``v_std`` and
    ``motion`` (the mean |v(t + 1) − v(t)| per frame interval) in concentration units;
    ``set_wavelength`` in length units (:func:`set_wavelength` of the trajectory's frames);
    the densities per length²; the entropy in nats; the complexity 0–1;
    ``autocorrelation_time`` in frame intervals. Snapshot statistics use every
    ``snapshot_every``-th frame (they change slowly; the time statistics use all frames).
    Shape statistics are NaN for a trajectory whose frames are all uniform.
    """
    return _statistics(trajectories, dx, snapshot_every, "trajectories")


def _statistics(trajectories, dx, snapshot_every: int, name: str) -> dict:
    """climate_statistics, with errors naming the argument ``name``."""
    x = _frames(trajectories, name)
    check_positive("dx", dx)
    every = check_count("snapshot_every", snapshot_every, 1)
    B, T = x.shape[:2]
    low, high = PHYSICAL_RANGE
    margin = _RANGE_MARGIN * (high - low)
    blew_up = ~np.isfinite(x).all(axis=(1, 2, 3, 4)) | (x < low - margin).any(axis=(1, 2, 3, 4)) \
        | (x > high + margin).any(axis=(1, 2, 3, 4))
    out = {statistic: np.full(B, np.nan) for statistic in CLIMATE_STATISTICS}
    out |= {"uniform_fraction": np.full(B, np.nan), "censored": np.zeros(B, bool), "blew_up": blew_up,
            "frames": int(T), "n": int(x.shape[-1])}
    for b in np.flatnonzero(~blew_up):
        v = x[b, :, 1]                                              # (T, N, N)
        snapshots = v[::every]
        stats = pattern_statistics(snapshots, dx)                   # each (T',)
        alive = ~stats["uniform"]
        out["uniform_fraction"][b] = float(np.mean(metrics.is_uniform(v)))
        out["v_std"][b] = float(np.mean(stats["v_std"]))
        out["motion"][b] = float(np.mean(np.abs(np.diff(v, axis=0))))
        out["autocorrelation_time"][b], out["censored"][b] = _autocorrelation_time(v)
        if not alive.any():
            continue
        live = snapshots[alive]
        out["set_wavelength"][b] = set_wavelength(live, dx)
        for statistic in ("component_density", "euler_density", "spectral_entropy", "compression_complexity"):
            out[statistic][b] = float(np.mean(stats[statistic][alive]))
    return out


def _spread(values: list[np.ndarray]) -> tuple[float, float, list[float], int]:
    """(mean over all, σ, per-set means, how many finite values) of one statistic over reference
    sets of per-trajectory values."""
    finite = [v[np.isfinite(v)] for v in values]
    pooled = np.concatenate(finite)
    means = [float(np.mean(v)) if v.size else float("nan") for v in finite]
    dof = sum(max(v.size - 1, 0) for v in finite)
    within = np.sqrt(sum(((v - v.mean()) ** 2).sum() for v in finite if v.size) / dof) if dof else 0.0
    sizes = [v.size for v in finite if v.size]
    set_means = [m for m in means if np.isfinite(m)]
    between = np.sqrt(np.mean(sizes) * np.var(set_means, ddof=1)) if len(set_means) >= 2 else 0.0
    mean = float(np.mean(pooled)) if pooled.size else float("nan")
    return mean, float(max(within, between)), means, int(pooled.size)


def climate_test(candidate, references, dx, *, alpha: float = 0.05, tests: int = 1, snapshot_every: int = 1) -> dict:
    """Whether candidate trajectories keep the solver's climate: thresholds from the solver alone.

    candidate: trajectories (B, T, 2, N, N) of (u, v), frames one book frame apart (or any
    fixed spacing, the same as the references'), or their :func:`climate_statistics`.
    references: a list of at least two independent solver sets of the same class, each
    (R_i, T, 2, N, N) with the candidate's frame spacing, window length T and grid spacing
    ``dx`` (length units), or the output of :func:`climate_statistics` for one. Time statistics depend on the frame spacing and the
    complexities and entropy on the grid size: give references on the candidate's grid.
    alpha: the family-wise error rate; tests: how many climate tests are read together (a
    table's classes × box sizes): z is the normal quantile at 1 − α/(2 m · tests), Bonferroni
    over the tests and their m statistics, so that with probability ≥ 1 − α no independent
    solver set of the whole table is called "drifted".

    Returns a dict with

    - ``verdict``: one of :data:`VERDICTS`, by :data:`CLIMATE_RULE` in the order "blew up",
      "faded", "drifted", "on the attractor";
    - ``statistics``: per statistic of :data:`CLIMATE_STATISTICS`, {"candidate": mean over the
      candidate's trajectories, "reference": mean over all reference trajectories,
      "references": each set's mean, "sigma": the solver's spread (module docstring),
      "threshold": z σ √(1/B + 1/R), "difference": candidate − reference, "passed": bool};
    - ``uniform_fraction`` ({"candidate", "references"}), ``censored`` (the fraction of
      trajectories whose autocorrelation time hit its cap, for the candidate and the pooled
      references), ``trajectories`` ({"candidate": B, "references": [R_i]}), ``alpha``, ``z``.

    A difference that is exactly zero passes even when the threshold is zero (a statistic
    every solver trajectory shares, such as a censored autocorrelation time of a pattern at
    rest: then it fails only a candidate that decorrelates within the window). z is the
    normal quantile, not Student's t for σ estimated from R − 1 degrees of freedom (at
    R = 64 about 5 % smaller), and σ comes from the references alone: the error rate
    holds asymptotically, and only the means are compared (a candidate with the solver's
    mean but a broader spread passes). Counted apart from the statistics: a candidate that blew up or faded is not
    compared further (its statistics are still returned, NaN where undefined).
    """
    alpha = check_in_range("alpha", alpha, 0.0, 0.5, low_open=True)
    tests = check_count("tests", tests, 1)
    if isinstance(references, np.ndarray) or not isinstance(references, (list, tuple)) or len(references) < 2:
        raise ValueError("references must be a list of at least 2 independent solver sets "
                         "(arrays (R, T, 2, N, N) or climate_statistics dicts)")
    ref_stats = [r if isinstance(r, dict) else _statistics(r, dx, snapshot_every, f"references[{i}]")
                 for i, r in enumerate(references)]
    cand = candidate if isinstance(candidate, dict) else _statistics(candidate, dx, snapshot_every, "candidate")
    for i, r in enumerate(ref_stats):
        if (r["n"], r["frames"]) != (cand["n"], cand["frames"]):
            raise ValueError(f"references[{i}] has grid {r['n']} and {r['frames']} frames, the candidate grid "
                             f"{cand['n']} and {cand['frames']} frames: compare on the same grid and window")
        if r["blew_up"].any():
            raise ValueError(f"references[{i}] holds non-finite or unphysical values: it is not a solver set")
    m = len(CLIMATE_STATISTICS)
    z = NormalDist().inv_cdf(1 - alpha / (2 * m * tests))
    B = len(cand["blew_up"])
    ref_uniform = float(np.mean(np.concatenate([r["uniform_fraction"] for r in ref_stats])))
    cand_uniform = float(np.nanmean(cand["uniform_fraction"])) if np.isfinite(cand["uniform_fraction"]).any() \
        else float("nan")
    statistics = {}
    for name in CLIMATE_STATISTICS:
        reference, sigma, means, finite = _spread([r[name] for r in ref_stats])
        values = cand[name][np.isfinite(cand[name])]
        value = float(np.mean(values)) if values.size else float("nan")
        threshold = z * sigma * np.sqrt(1 / max(values.size, 1) + 1 / max(finite, 1))
        difference = value - reference
        statistics[name] = {"candidate": value, "reference": reference, "references": means, "sigma": sigma,
                            "threshold": float(threshold), "difference": float(difference),
                            "passed": bool(abs(difference) <= threshold)}
    if cand["blew_up"].any():
        verdict = "blew up"
    elif cand_uniform >= 0.5 > ref_uniform:
        verdict = "faded"
    elif all(s["passed"] for s in statistics.values()):
        verdict = "on the attractor"
    else:
        verdict = "drifted"
    return {"verdict": verdict, "statistics": statistics,
            "uniform_fraction": {"candidate": cand_uniform, "references": ref_uniform},
            "censored": {"candidate": float(np.mean(cand["censored"])),
                         "references": float(np.mean(np.concatenate([r["censored"] for r in ref_stats])))},
            "trajectories": {"candidate": int(B), "references": [len(r["blew_up"]) for r in ref_stats]},
            "alpha": alpha, "tests": tests, "z": float(z)}
