"""Linear response of a learned (or exact) map, mode by mode.

Two tools, both for the "is it the Turing mechanism?" questions of chapters 6 and 7:

- :func:`linear_response`: the 2×2 amplification matrix of one Fourier mode for any
  one-frame map of (u, v), around a homogeneous state, measured by finite differences. For
  the exact solver over 10 time units it is exp(10 (J − q² D)), whose eigenvalues are
  exp(10 λ(q)) with λ from :meth:`turing_helpers.GrayScott.dispersion`.
- :func:`spectral_gain`: the ratio of output to input radial power, per wavenumber, of any
  map applied to developed (not homogeneous) fields — the denoiser's "which scales does one
  step amplify".
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from .._checks import check_positive

__all__ = ["linear_response", "spectral_gain"]


def _mode_coefficient(x: np.ndarray, m: int) -> np.ndarray:
    """Fourier coefficient of wavevector (0, m) (m periods along the last axis) of x (..., n, n)."""
    n = x.shape[-1]
    return np.fft.rfft(x, axis=-1)[..., m].mean(axis=-1) / n  # (...,)


def linear_response(step, state, n, dx, modes, amplitude=1e-6, return_matrix=False):
    """Eigenvalues of the 2×2 amplification matrix G(q) of Fourier modes, for any map ``step``.

    step: a function taking and returning numpy arrays (B, 2, n, n) (channels u, v): one frame
    of the system (for the solver, 10 steps of dt = 1; for the ConvLSTM, its next-frame
    prediction). state: the homogeneous state (u*, v*) to linearise about; n: grid side; dx:
    grid spacing (length), which only sets q; modes: integer wavenumbers m (0 ≤ m ≤ n/2): the
    mode with m periods along the x axis, q = 2π m / (n dx).

    For each mode and each channel c the state is perturbed by s_c a (1 + cos(2π m j / n)) in
    channel c alone, s_c = −1 where the state is ≥ 1/2 (u* = 1) and +1 otherwise, so the
    perturbed state stays inside [0, 1] where a model clips to the physical range (the
    constant part only adds mode 0, which linearity keeps apart). G[c', c] = (mode-m
    coefficient of the change of channel c') / (mode-m coefficient of the perturbation of c),
    measured at amplitudes a and 2a and extrapolated (2 G(a) − G(2a)), which removes the
    error of order a. One call of ``step`` on a batch of 4 len(modes) + 1 states.

    Returns complex (len(modes), 2): the eigenvalues of each G, largest real part first (the
    order of :meth:`~turing_helpers.GrayScott.dispersion`); with ``return_matrix=True`` also
    the matrices, complex (len(modes), 2, 2), G[:, out, in].
    """
    modes = np.atleast_1d(np.asarray(modes))
    if modes.ndim != 1 or not np.issubdtype(modes.dtype, np.integer) or (modes < 0).any() or (modes > n // 2).any():
        raise ValueError(f"modes must be integers in [0, n/2] = [0, {n // 2}], got {modes.tolist()}")
    state = np.asarray(state, dtype=np.float64)
    if state.shape != (2,) or not np.isfinite(state).all():
        raise ValueError(f"state must be a finite pair (u*, v*), got {state!r}")
    amplitude = float(amplitude)
    if not amplitude > 0:
        raise ValueError(f"amplitude must be > 0, got {amplitude!r}")
    check_positive("dx", dx)
    sign = np.where(state >= 0.5, -1.0, 1.0)
    base = np.broadcast_to(state[:, None, None], (2, n, n))
    j = np.arange(n)
    batch, meta = [base], []
    for i, m in enumerate(modes):
        profile = np.broadcast_to(1.0 + np.cos(2 * np.pi * m * j / n), (n, n))  # varies along x
        for c in range(2):
            for scale in (1.0, 2.0):
                x = base.copy()
                x[c] = x[c] + sign[c] * scale * amplitude * profile
                batch.append(x)
                meta.append((i, c, scale))
    inputs = np.stack(batch)  # (1 + 4 M, 2, n, n)
    outputs = np.asarray(step(inputs), dtype=np.float64)
    if outputs.shape != inputs.shape:
        raise ValueError(f"step must return an array of its input's shape {inputs.shape}, got {outputs.shape}")
    change = outputs[1:] - outputs[:1]
    G = {1.0: np.zeros((len(modes), 2, 2), complex), 2.0: np.zeros((len(modes), 2, 2), complex)}
    for (i, c, scale), d, x in zip(meta, change, inputs[1:]):
        m = int(modes[i])
        pushed = _mode_coefficient(x[c] - base[c], m)
        G[scale][i, :, c] = _mode_coefficient(d, m) / pushed
    matrix = 2 * G[1.0] - G[2.0]
    eig = np.linalg.eigvals(matrix)
    eig = np.take_along_axis(eig, np.argsort(-eig.real, axis=1), axis=1)
    return (eig, matrix) if return_matrix else eig


def spectral_gain(before, after, dx, nbins=None):
    """Per-wavenumber power gain of a map: mean radial power of ``after`` / of ``before``.

    before, after: (B, N, N) fields (one channel), the inputs of a map and its outputs;
    the radial spectra (:func:`turing_helpers.metrics.radial_spectrum`) are averaged over the
    set first, so the gain is that of the set's power. Returns (q (nbins,), gain (nbins,)):
    gain > 1 where the map amplifies that scale, < 1 where it damps it; NaN where the input
    has no power (shell 0, the mean, always).
    """
    q, pb = metrics.radial_spectrum(before, dx, nbins)
    _, pa = metrics.radial_spectrum(after, dx, nbins)
    pb, pa = pb.reshape(-1, q.size).mean(axis=0), pa.reshape(-1, q.size).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(pb > 0, pa / np.where(pb > 0, pb, 1.0), np.nan)
    return q, gain
