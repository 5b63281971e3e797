"""Statistics of sets of patterns, and the comparison of one set with a reference set.

Fields are the autocatalyst v, shape (..., N, N) or (B, N, N) for a set, on a periodic
grid of spacing ``dx`` (length units). Uniform fields (:func:`~turing_helpers.metrics.is_uniform`)
get NaN for every shape statistic and are counted apart by ``uniform_fraction``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import metrics
from ..metrics.fields import as_fields
from ..metrics.spectral import mode_power, rfft_modes

__all__ = ["STATISTICS", "SET_STATISTICS", "pattern_statistics", "set_wavelength", "compare_patterns"]

# The per-field statistics of pattern_statistics, in the order tables show them.
STATISTICS = ("dominant_wavelength", "spectral_entropy", "component_density", "euler_density", "v_std",
              "compression_complexity")
# The statistics of a set that compare_patterns compares: the set wavelength in place of the
# per-field one (on a small box the per-field peak jumps between shells), the other means.
SET_STATISTICS = ("set_wavelength",) + STATISTICS[1:]


def pattern_statistics(v, dx) -> dict[str, np.ndarray]:
    """Per-field statistics of fields v (..., N, N); a dict of arrays of the batch shape.

    - ``dominant_wavelength`` (length units), :func:`turing_helpers.metrics.dominant_wavelength`;
    - ``spectral_entropy`` (nats) of the radial spectrum;
    - ``component_density``, ``euler_density``: connected components and Euler
      characteristic of {v > midrange} on the torus, per unit area (1/length²);
    - ``v_std``: the spatial standard deviation of v (concentration units);
    - ``compression_complexity``: :func:`turing_helpers.metrics.compression_complexity`, 0–1;
    - ``uniform``: bool, :func:`turing_helpers.metrics.is_uniform`.

    The first four are NaN for a uniform field (it has no wavelength and its excursion set
    is rounding noise); ``v_std`` is kept (≈ 0 for it) and the complexity is 0.
    """
    f = as_fields(v, "v")
    batch = f.shape[:-2]
    flat = f.reshape((-1,) + f.shape[-2:])
    area = (f.shape[-1] * float(dx)) ** 2
    uniform = np.atleast_1d(metrics.is_uniform(flat))

    def masked(values):
        return np.where(uniform, np.nan, np.atleast_1d(values).astype(float))

    out = {
        "dominant_wavelength": masked(metrics.dominant_wavelength(flat, dx)),
        "spectral_entropy": masked(metrics.spectral_entropy(flat, dx)),
        "component_density": masked(metrics.connected_components(flat)) / area,
        "euler_density": masked(metrics.euler_characteristic(flat)) / area,
        "v_std": flat.std(axis=(-2, -1)),
        # 0 for a uniform field: what variation it has is rounding noise, which an 8-bit
        # quantisation at a level boundary would turn into random bits
        "compression_complexity": np.where(uniform, 0.0, np.atleast_1d(metrics.compression_complexity(flat))),
        "uniform": uniform,
    }
    return {name: value.reshape(batch) for name, value in out.items()}


@lru_cache(maxsize=16)
def _shell_units(n: int, dx: float) -> np.ndarray:
    """|q| of the rfft modes in units of the box's fundamental 2π/(n dx), (M,), once per grid."""
    return rfft_modes(n, dx)[0] / (2 * np.pi / (n * dx))


def _wavelength_from_power(power: np.ndarray, dx: float, n: int) -> float:
    """set_wavelength's peak finding on a mean power spectrum (M,) of an n × n grid, on the
    rfft half-plane of :func:`turing_helpers.metrics.spectral.rfft_modes`."""
    q, multiplicity, shell = rfft_modes(n, dx)  # cached: compare_patterns calls this in its bootstrap
    s = _shell_units(n, dx)
    weighted = multiplicity * power
    energy = np.bincount(shell, weighted)
    b = int(np.argmax(energy[1:])) + 1
    lo, mid, hi = energy[b - 1], energy[b], energy[b + 1] if b + 1 < len(energy) else 0.0
    curvature = lo - 2 * mid + hi
    # no parabola through shell 0: it holds only the (removed) mean, not a neighbour of the peak
    p = b + (0.5 * (lo - hi) / curvature if curvature < 0 and b > 1 else 0.0)
    w = np.clip(1 - np.abs(s - p) / 1.5, 0, None) * weighted
    return float(2 * np.pi * w.sum() / (w * q).sum())


def set_wavelength(v, dx) -> float:
    """Dominant wavelength of a *set* of fields v (B, n, n), from their mean power spectrum.

    The book's one definition of a set's wavelength. On a small box (48², the DDPM's) a single
    field holds few wavelengths and the allowed wavenumbers are coarse (shells of width
    Δq = 2π/(n dx)); when a class's wavelength falls between two shells, the per-field peak
    jumps between them from field to field. So: average the power over the set's non-uniform
    fields, find the peak shell b of the shell energies E_b, place the peak at p = b + δ by
    the parabola through E_{b−1}, E_b, E_{b+1} (continuous when two shells trade places), and
    return 2π/q* with q* the power-weighted mean |q| of the Fourier modes weighted by the
    triangle max(0, 1 − |shell − p|/1.5). A sinusoid with an integer number of periods gives
    its wavelength exactly. Length units; NaN if every field is uniform.
    """
    f = as_fields(v, "v", min_ndim=3)
    keep = ~np.atleast_1d(metrics.is_uniform(f))
    if not keep.any():
        return float("nan")
    return _wavelength_from_power(mode_power(f[keep]).mean(axis=0), float(dx), f.shape[-1])


def _set_means(stats: dict, power: np.ndarray, index: np.ndarray, dx: float, n: int) -> dict:
    """Means over the non-uniform fields among ``index`` of every statistic; the set wavelength."""
    uniform = stats["uniform"][index]
    alive = index[~uniform]
    out = {"uniform_fraction": float(uniform.mean())}
    for name in SET_STATISTICS:
        if name == "set_wavelength":
            out[name] = _wavelength_from_power(power[alive].mean(axis=0), dx, n) if alive.size else np.nan
        else:
            out[name] = float(np.mean(stats[name][alive])) if alive.size else np.nan
    return out


def compare_patterns(fields, reference, dx, seed: int = 0, resamples: int = 1000, paired: bool | None = None) -> dict:
    """A set of v fields (B, N, N) against a reference set (R, M, M); per statistic, the
    relative error of the set's mean and its bootstrap 95% interval.

    Returns {statistic: {"value", "reference", "error", "interval": (low, high), "alive":
    (non-uniform fields in the set, in the reference), "resamples": how many bootstrap
    resamples had a value}} for each of ``SET_STATISTICS`` and for ``uniform_fraction``:

    - ``value``, ``reference``: ``set_wavelength`` the set wavelength (:func:`set_wavelength`)
      of each set's non-uniform fields; every other statistic the mean of
      :func:`pattern_statistics` over them;
    - ``error`` = (value − reference)/|reference|, signed; for ``uniform_fraction`` the plain
      difference of the two fractions;
    - ``interval``: the 2.5 and 97.5 percentiles of the error over ``resamples`` bootstrap
      resamplings (fields drawn with replacement). An interval that holds 0 says the sets
      cannot be told apart at this sample size. A resample without a non-uniform field has no
      value and is left out, so check ``resamples`` (and ``alive``) when a set is mostly
      uniform; with no live field at all the error and interval are NaN.

    ``paired``: False resamples the two sets independently (two sets of independent draws);
    True draws the same indices for both, which needs sets of the same length whose members
    correspond (rollouts started from the reference's own states, in order); None (default)
    pairs only a set compared with itself (identical arrays), whose error is then exactly 0
    with a zero-width interval, and otherwise resamples independently. ``seed`` fixes the
    resampling. The grid sizes may differ for the densities, the wavelength and v's standard
    deviation (per unit area or per field); the spectral entropy and the compression
    complexity depend on the grid size, so compare those on equal grids. dx must be shared.
    """
    f = as_fields(fields, "fields", min_ndim=3)
    r = as_fields(reference, "reference", min_ndim=3)
    if f.ndim != 3 or r.ndim != 3:
        raise ValueError(f"fields and reference must be sets of v fields (B, N, N), got {f.shape} and {r.shape}")
    if paired is None:
        paired = f.shape == r.shape and np.array_equal(f, r)
    elif paired and len(f) != len(r):
        raise ValueError(f"paired=True needs sets of the same length, got {len(f)} and {len(r)}")
    dx = float(dx)
    stats_f, stats_r = pattern_statistics(f, dx), pattern_statistics(r, dx)
    power_f, power_r = mode_power(f), mode_power(r)
    names = ("uniform_fraction",) + SET_STATISTICS

    def errors(index_f, index_r):
        a = _set_means(stats_f, power_f, index_f, dx, f.shape[-1])
        b = _set_means(stats_r, power_r, index_r, dx, r.shape[-1])
        out = {}
        for name in names:
            if name == "uniform_fraction":
                out[name] = a[name] - b[name]
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[name] = (a[name] - b[name]) / abs(b[name]) if b[name] != 0 else np.nan
        return a, b, out

    value, ref, error = errors(np.arange(len(f)), np.arange(len(r)))
    rng = np.random.default_rng(seed)
    boot = {name: [] for name in names}
    for _ in range(int(resamples)):
        index_f = rng.integers(0, len(f), len(f))
        index_r = index_f if paired else rng.integers(0, len(r), len(r))
        _, _, e = errors(index_f, index_r)
        for name in names:
            boot[name].append(e[name])
    alive = (int((~stats_f["uniform"]).sum()), int((~stats_r["uniform"]).sum()))
    result = {}
    for name in names:
        samples = np.asarray(boot[name], float)
        samples = samples[np.isfinite(samples)]
        interval = (tuple(float(x) for x in np.percentile(samples, [2.5, 97.5])) if samples.size
                    else (float("nan"), float("nan")))
        result[name] = {"value": float(value[name]), "reference": float(ref[name]), "error": float(error[name]),
                        "interval": interval, "alive": alive, "resamples": int(samples.size)}
    return result
