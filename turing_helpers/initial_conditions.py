"""Initial fields (u, v) on an n × n periodic grid, each reproducible from a seed.

Every function returns float64 arrays of shape (n, n), or (batch, n, n) when
``batch`` is given (each member drawn independently from the one seed). Positions and
widths are fractions of the domain side, so the same call serves any grid spacing.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_in_range

__all__ = ["pearson_square", "gaussian_bumps", "random_fourier"]


def _check(n, batch):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an integer >= 3, got {n!r}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1):
        raise ValueError(f"batch must be None or an integer >= 1, got {batch!r}")
    return (n, n) if batch is None else (batch, n, n)


def pearson_square(n: int = 256, square: float = 20 / 256, noise: float = 0.01, seed: int = 0,
                   batch: int | None = None):
    """Pearson's (1993) start: (u, v) = (1, 0) with a central square at (1/2, 1/4).

    square: side of the central square as a fraction of the domain (Pearson: 20 of 256
    grid points). noise: amplitude of the uniform noise added everywhere to break the
    square's symmetry (Pearson: ±1%); values are clipped to [0, 1].
    """
    shape = _check(n, batch)
    square = check_in_range("square (a fraction of the side)", square, 0.0, 1.0, low_open=True)
    noise = check_in_range("noise", noise, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    u, v = np.ones(shape), np.zeros(shape)
    half = max(1, int(round(square * n / 2)))
    centre = slice(n // 2 - half, n // 2 + half)
    u[..., centre, centre], v[..., centre, centre] = 0.5, 0.25
    u += noise * rng.uniform(-1, 1, shape)
    v += noise * rng.uniform(-1, 1, shape)
    return np.clip(u, 0, 1), np.clip(v, 0, 1)


def gaussian_bumps(n: int = 128, n_bumps: int | tuple[int, int] = (3, 8), width: float = 0.04,
                   seed: int = 0, batch: int | None = None):
    """Periodic Gaussian bumps of autocatalyst: v = Σ exp(−d²/2w²) (clipped to 1), u = 1 − v.

    n_bumps: a count, or an inclusive (low, high) range drawn per member. width: bump
    standard deviation as a fraction of the side. Distances d use the nearest periodic
    image, so bumps wrap across the edges.
    """
    shape = _check(n, batch)
    width = check_in_range("width (a fraction of the side)", width, 0.0, 0.5, low_open=True)
    counts = (n_bumps,) if np.isscalar(n_bumps) else tuple(n_bumps)
    if len(counts) not in (1, 2) or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1
                                        for c in counts) or counts[0] > counts[-1]:
        raise ValueError(f"n_bumps must be an integer >= 1 or a (low, high) pair of them, got {n_bumps!r}")
    rng = np.random.default_rng(seed)
    x = np.arange(n) / n
    members = 1 if batch is None else batch
    v = np.zeros((members, n, n))
    for b in range(members):
        count = n_bumps if np.isscalar(n_bumps) else rng.integers(n_bumps[0], n_bumps[1] + 1)
        for cy, cx in rng.uniform(0, 1, (int(count), 2)):
            dy = (x - cy + 0.5) % 1.0 - 0.5
            dx = (x - cx + 0.5) % 1.0 - 0.5
            v[b] += np.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2 * width**2))
    v = np.clip(v, 0, 1).reshape(shape)
    return 1.0 - v, v


def random_fourier(n: int = 128, max_mode: int = 8, amplitude: float = 0.5, sharpness: float = 4.0,
                   seed: int = 0, batch: int | None = None):
    """A random periodic field φ from Fourier modes |m| ≤ max_mode, sharpened into patches.

    Mode amplitudes are complex standard normal (random phases); the real part is
    rescaled to [0, 1] per member and raised to the power ``sharpness``, so most of the
    domain sits near the trivial state and a few patches reach φ ≈ 1 — seeds that every
    Well class can grow from (a smooth φ, sharpness 1, lets most classes decay to
    (1, 0)). Returns u = 1 − amplitude φ, v = amplitude φ.
    """
    shape = _check(n, batch)
    if isinstance(max_mode, bool) or not isinstance(max_mode, (int, np.integer)) or not 1 <= max_mode <= n // 2:
        raise ValueError(f"max_mode must be an integer in [1, n // 2 = {n // 2}], got {max_mode!r}")
    amplitude = check_in_range("amplitude", amplitude, 0.0, 1.0, low_open=True)
    sharpness = check_in_range("sharpness", sharpness, 0.0, 64.0, low_open=True)
    rng = np.random.default_rng(seed)
    members = 1 if batch is None else batch
    m = np.fft.fftfreq(n, d=1.0 / n)
    keep = (np.abs(m)[:, None] <= max_mode) & (np.abs(m)[None, :] <= max_mode)
    coefficients = (rng.standard_normal((members, n, n)) + 1j * rng.standard_normal((members, n, n))) * keep
    phi = np.fft.ifft2(coefficients).real
    lo, hi = phi.min(axis=(-2, -1), keepdims=True), phi.max(axis=(-2, -1), keepdims=True)
    phi = (((phi - lo) / (hi - lo)) ** sharpness).reshape(shape)
    return 1.0 - amplitude * phi, amplitude * phi
