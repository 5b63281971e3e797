"""After a perturbation: has a system restored *the* pattern, *a* pattern of its class, or neither?

Two scores tell these apart. The **statistics distance** compares a field's pattern statistics
with the original's: a system that regenerates any pattern of the class scores well on it. The
**pattern identity** is the correlation with the original after the best periodic shift: only
the same pattern, wherever it has moved to, scores high. Both thresholds come from the solver
alone, from pairs of *independent* developed fields of the class (:func:`recovery_thresholds`):
a field is "the pattern" when its identity exceeds what independent patterns of the class
reach (their upper quantile), and "a pattern" when it is not, but its statistics distance is
within what independent patterns differ by.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..metrics.fields import as_fields, batch_result, check_same_shape, is_constant
from .._checks import check_in_range
from .patterns import pattern_statistics

__all__ = ["zero_mean_noise", "pattern_identity", "statistics_distance", "recovery_thresholds", "classify_recovery",
           "OUTCOMES"]

OUTCOMES = ("the pattern", "a pattern", "lost")

# statistics that the distance compares, each as min(1, |s − s₀| / |s₀|)
_DISTANCE_STATISTICS = ("v_std", "component_density", "dominant_wavelength")


def zero_mean_noise(fields, amplitude, seed, rounds: int = 20) -> np.ndarray:
    """fields + Gaussian noise of std ``amplitude``, kept in [0, 1] with each channel's mean restored.

    fields: (..., N, N) concentrations in [0, 1] (u and v, say (B, 2, N, N)); amplitude ≥ 0;
    seed: int or ``numpy.random.Generator`` (one seed gives one draw, so the same noise can be
    added to several frames). Clipping alone is no zero-mean perturbation: it shifts v up where
    v ≈ 0 and u down where u ≈ 1. So each field's mean shift is undone and the result clipped
    again, ``rounds`` times; the means then agree to a small fraction of the shift. float32,
    the shape of ``fields``.
    """
    f = as_fields(fields, "fields")
    if not (np.isfinite(amplitude) and amplitude >= 0):
        raise ValueError(f"amplitude must be a finite number >= 0, got {amplitude!r}")
    rng = np.random.default_rng(seed)
    target = f.mean(axis=(-2, -1), keepdims=True)
    noisy = np.clip(f + amplitude * rng.standard_normal(f.shape), 0, 1)
    for _ in range(int(rounds)):
        noisy = np.clip(noisy + target - noisy.mean(axis=(-2, -1), keepdims=True), 0, 1)
    return noisy.astype(np.float32)


def pattern_identity(field, original) -> np.ndarray:
    """The largest Pearson correlation of ``field`` with ``original`` over all periodic shifts.

    field, original: (..., N, N), same shape (numpy or torch; v, say). The cross-correlation
    of the standardised fields is taken with FFTs, so every one of the N² shifts is tried:
    a pattern that has only moved scores 1, an independent pattern of the same class scores
    what chance alignment of its stripes or spots gives (well below 1, above 0), and a
    constant field 0 (it holds no pattern to recognise). Float, shape batch.
    """
    a = as_fields(field, "field")
    b = as_fields(original, "original")
    check_same_shape(a, b, "field", "original")
    a = a - a.mean(axis=(-2, -1), keepdims=True)
    b = b - b.mean(axis=(-2, -1), keepdims=True)
    norms = np.sqrt(np.sum(a * a, axis=(-2, -1)) * np.sum(b * b, axis=(-2, -1)))
    cross = np.fft.irfft2(np.fft.rfft2(a) * np.conj(np.fft.rfft2(b)), s=a.shape[-2:])
    best = cross.reshape(cross.shape[:-2] + (-1,)).max(axis=-1)
    constant = is_constant(a) | is_constant(b) | (norms == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return batch_result(np.where(constant, 0.0, best / np.where(constant, 1.0, norms)))


def statistics_distance(fields, originals, dx) -> np.ndarray:
    """Per field, how far v's pattern statistics are from the original's, in [0, 1].

    The mean over v's standard deviation, component density and dominant wavelength
    (:func:`~turing_helpers.evaluation.pattern_statistics`) of min(1, |s − s₀| / |s₀|); 1 for a
    uniform field (the pattern is lost). fields, originals: (B, 2, N, N) physical (u, v);
    dx: grid spacing. Returns (B,).
    """
    f = as_fields(fields, "fields", min_ndim=4)
    f0 = as_fields(originals, "originals", min_ndim=4)
    check_same_shape(f, f0, "fields", "originals")
    s, s0 = pattern_statistics(f[:, 1], dx), pattern_statistics(f0[:, 1], dx)
    parts = []
    for name in _DISTANCE_STATISTICS:
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.minimum(1.0, np.abs(s[name] - s0[name]) / np.abs(s0[name]))
        parts.append(np.where(s["uniform"] | ~np.isfinite(d), 1.0, d))
    return np.mean(parts, axis=0)


def recovery_thresholds(fields_a, fields_b, dx, quantile: float = 0.95) -> dict:
    """Thresholds from two independent solver sets of one class: what chance gives.

    fields_a, fields_b: (A, 2, N, N) and (B, 2, N, N) developed solver fields of the same
    class from independent seeds. Over all A·B pairs, the ``quantile`` of their pattern
    identity (of v) is the identity floor — above it a field is more like its original than
    independent patterns of the class ever are by chance — and the ``quantile`` of their
    statistics distance the distance ceiling (independent patterns of the class differ by
    less than this). Returns {"identity": floor, "distance": ceiling, "quantile", "pairs"}.
    """
    a = as_fields(fields_a, "fields_a", min_ndim=4)
    b = as_fields(fields_b, "fields_b", min_ndim=4)
    quantile = check_in_range("quantile", quantile, 0.0, 1.0, low_open=True)
    left = np.repeat(a, len(b), axis=0)
    right = np.tile(b, (len(a), 1, 1, 1))
    identity = pattern_identity(left[:, 1], right[:, 1])
    distance = statistics_distance(left, right, dx)
    return {"identity": float(np.quantile(identity, quantile)), "distance": float(np.quantile(distance, quantile)),
            "quantile": quantile, "pairs": int(len(left))}


def classify_recovery(fields, originals, thresholds: dict, dx) -> dict:
    """Each field's outcome against its original: "the pattern", "a pattern" or "lost".

    fields, originals: (B, 2, N, N); thresholds: from :func:`recovery_thresholds`. "the
    pattern": identity above the floor; "a pattern": not that, but a non-uniform field within
    the distance ceiling; "lost": neither. Returns per-field "identity", "distance" and
    "outcome" lists and the fraction of each outcome.
    """
    identity = np.atleast_1d(pattern_identity(np.asarray(fields)[:, 1], np.asarray(originals)[:, 1]))
    distance = statistics_distance(fields, originals, dx)
    uniform = np.atleast_1d(metrics.is_uniform(np.asarray(fields)[:, 1]))
    outcome = np.where(identity > thresholds["identity"], OUTCOMES[0],
                       np.where(~uniform & (distance <= thresholds["distance"]), OUTCOMES[1], OUTCOMES[2]))
    return {"identity": identity.tolist(), "distance": distance.tolist(), "outcome": outcome.tolist(),
            "fractions": {o: float(np.mean(outcome == o)) for o in OUTCOMES}}
