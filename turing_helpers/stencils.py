"""Periodic finite-difference Laplacians and their Fourier symbols.

Every function works on the last two axes of an array of shape (..., N, N), so a
single field and a batch of fields go through the same code. The grid is periodic
with spacing ``dx`` in both directions (physical length units).

The symbols are what turns the continuous linear theory into the theory of the
discretised equations: a Fourier mode exp(i(qx x + qy y)) is an eigenfunction of each
stencil, with eigenvalue ``laplacian_symbol(qx, qy, dx, stencil)`` instead of the
continuum's -(qx² + qy²).
"""
from __future__ import annotations

import numpy as np

from .backend import namespace

STENCILS = ("5-point", "9-point")


def check_stencil(stencil: str) -> str:
    if stencil not in STENCILS:
        raise ValueError(f"stencil must be one of {STENCILS}, got {stencil!r}")
    return stencil


def laplacian(field, dx: float, stencil: str = "5-point"):
    """Periodic discrete Laplacian ∇²f of ``field`` (shape (..., N, N)), units 1/length².

    ``"5-point"``: (f[i±1, j] + f[i, j±1] − 4 f) / dx², second-order accurate.
    ``"9-point"``: the isotropic stencil [[1, 4, 1], [4, −20, 4], [1, 4, 1]] / (6 dx²),
    also second order, whose leading error term is isotropic (∝ ∇⁴f), so spots stay
    round on the grid (Patra & Karttunen 2006).

    Works on numpy arrays and torch tensors alike (the torch backend reuses it).
    """
    check_stencil(stencil)
    roll = _roller(field)
    north, south = roll(field, 1, -2), roll(field, -1, -2)
    west, east = roll(field, 1, -1), roll(field, -1, -1)
    if stencil == "5-point":
        return (north + south + west + east - 4.0 * field) / dx**2
    corners = roll(north, 1, -1) + roll(north, -1, -1) + roll(south, 1, -1) + roll(south, -1, -1)
    return (4.0 * (north + south + west + east) + corners - 20.0 * field) / (6.0 * dx**2)


def _roller(field):
    # np.roll and torch.roll take (array, shift, axis) positionally, so one stencil
    # serves both libraries.
    return namespace(field).roll


def laplacian_symbol(qx, qy, dx: float, stencil: str = "5-point"):
    """Eigenvalue of the discrete Laplacian for the Fourier mode exp(i(qx x + qy y)).

    qx, qy: wavenumbers in radians per length unit (arrays broadcast together).
    Returns an array of non-positive reals, units 1/length²; → −(qx² + qy²) as dx → 0.
    """
    check_stencil(stencil)
    cx, cy = np.cos(np.asarray(qx) * dx), np.cos(np.asarray(qy) * dx)
    if stencil == "5-point":
        return (2.0 * cx + 2.0 * cy - 4.0) / dx**2
    return (8.0 * cx + 8.0 * cy + 4.0 * cx * cy - 20.0) / (6.0 * dx**2)


def spectral_radius(dx: float, stencil: str = "5-point") -> float:
    """Largest |eigenvalue| of the discrete Laplacian (the checkerboard mode), 1/length²."""
    return float(-laplacian_symbol(np.pi / dx, np.pi / dx, dx, stencil))


def wavenumbers(n: int, dx: float):
    """Angular wavenumbers of an n-point periodic grid, numpy FFT order, shape (n,)."""
    return 2.0 * np.pi * np.fft.fftfreq(n, d=dx)
