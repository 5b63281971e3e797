"""The ConvLSTM trainer's losses, on torch frames (B, K, 2, n, n) of (u, v).

- :func:`vrmse_loss`: pixel error, The Well's VRMSE with a variance floor;
- :func:`spectrum_loss`: phase-blind error of the amplitude spectrum (per wavenumber shell,
  :func:`shell_matrix`) and the mean — 0 for a shifted copy of the truth, about 1 for a
  faded forecast;
- :func:`histogram_loss`: distance between the value distributions;
- :func:`motion_loss`: the spectrum loss of the frame-to-frame differences (how fast, and
  at which scales, the pattern changes).
"""
from __future__ import annotations

import numpy as np
import torch

from ..metrics.spectral import rfft_modes

__all__ = ["VARIANCE_FLOOR", "MOTION_FLOOR", "vrmse_loss", "shell_matrix", "amplitude_spectrum", "spectrum_loss",
           "histogram_loss", "motion_loss"]

VARIANCE_FLOOR = 1e-4   # default --floor: added to var(true) in the training loss, so that nearly
#                         uniform fields (var → 0) weigh more, but finitely (The Well's VRMSE uses 1e-7)
MOTION_FLOOR = 1e-7      # default --motion-floor: nearly static classes (bubbles, spots) move ~1e-7 per pixel


def vrmse_loss(pred, true, floor: float = VARIANCE_FLOOR, squared: bool = False):
    """The Well's VRMSE, sqrt(mean((ŷ − y)²) / (var(y) + floor)), averaged over batch, time
    and channel (or the mean of its square)."""
    mse = ((pred - true) ** 2).mean(dim=(-2, -1))                 # (B, K, 2)
    ratio = mse / (true.var(dim=(-2, -1), unbiased=False) + floor)
    return ratio.mean() if squared else torch.sqrt(ratio + 1e-12).mean()


def shell_matrix(n: int) -> torch.Tensor:
    """(n·(n//2+1), n//2+1) matrix that sums an rfft2 power array (flattened) into integer
    wavenumber shells |k| = 0, 1, …, n/2 (corners beyond n/2 go to the last shell), with the
    weight 2 of the half-spectrum's mirrored columns, so the shells sum to Σ x² (norm "ortho").
    The modes are :func:`turing_helpers.metrics.spectral.rfft_modes`'s."""
    _, weight, shell = rfft_modes(n, 1.0)
    matrix = np.zeros((shell.size, n // 2 + 1))
    matrix[np.arange(shell.size), np.minimum(shell, n // 2)] = weight
    return torch.tensor(matrix, dtype=torch.float32)


def amplitude_spectrum(x: torch.Tensor, shells: torch.Tensor) -> torch.Tensor:
    """sqrt of the power in each wavenumber shell of x − mean(x): (..., n, n) → (..., n/2 + 1)."""
    f = torch.fft.rfft2(x - x.mean(dim=(-2, -1), keepdim=True), norm="ortho")
    power = (f.real ** 2 + f.imag ** 2).flatten(-2) @ shells
    return torch.sqrt(power + 1e-12)


def spectrum_loss(pred, true, shells: torch.Tensor, floor: float = VARIANCE_FLOOR):
    """Phase-blind error of frames (B, K, 2, n, n): Σ_k (|ŷ|_k − |y|_k)² / (Σ_k |y|_k² + n² floor)
    over shells k, plus (mean ŷ − mean y)² / (var y + floor), averaged over batch, time and
    channel. 0 for a shifted copy of the truth, about 1 for a faded (uniform) forecast."""
    n2 = true.shape[-1] * true.shape[-2]
    a_pred, a_true = amplitude_spectrum(pred, shells), amplitude_spectrum(true, shells)
    shape_error = ((a_pred - a_true) ** 2).sum(-1) / ((a_true ** 2).sum(-1) + n2 * floor)
    mean_error = (pred.mean(dim=(-2, -1)) - true.mean(dim=(-2, -1))) ** 2 / (
        true.var(dim=(-2, -1), unbiased=False) + floor)
    return (shape_error + mean_error).mean()


def histogram_loss(pred, true, floor: float = VARIANCE_FLOOR):
    """Distance between the value distributions of frames (B, K, 2, n, n): the mean squared
    difference of their sorted pixel values (the squared 1-D Wasserstein-2 distance) over
    var y + floor, averaged over batch, time and channel. Blind to where the values are, so
    0 for any rearrangement of the truth; it sees what the spectrum cannot, e.g. how much of
    the box a pattern covers (a maze about half, spots a few per cent) and how high it peaks."""
    sorted_pred = pred.flatten(-2).sort(dim=-1).values
    sorted_true = true.flatten(-2).sort(dim=-1).values
    distance = ((sorted_pred - sorted_true) ** 2).mean(-1)
    return (distance / (true.var(dim=(-2, -1), unbiased=False) + floor)).mean()


def motion_loss(pred, true, shells: torch.Tensor, floor: float = MOTION_FLOOR):
    """Phase-blind error of how frames (B, K ≥ 2, 2, n, n) *change*: ``spectrum_loss`` of the
    frame-to-frame differences, with a floor at the scale of the slowest classes' motion.
    0 when the forecast changes as the truth does (up to a shift), 1 for a frozen forecast,
    and large for one that moves where the truth stands still — the climate statistic
    ``motion`` that the static spectrum and histogram losses cannot see."""
    return spectrum_loss(pred.diff(dim=1), true.diff(dim=1), shells, floor)
