"""Fit :class:`~turing_helpers.analogy.GrayScottCell`'s four parameters to trajectories.

The smallest "recurrent network" that learns Gray-Scott is Gray-Scott itself with unknown
(F, k, D_u, D_v): the planned chapter 7 fits them by gradient descent through multi-frame rollouts
of the cell (each frame ``steps_per_frame`` Euler steps), from a deliberately wrong start,
and compares the result with the ConvLSTM's 20,000 weights.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..analogy import GrayScottCell
from ..gray_scott import GrayScott

__all__ = ["fit_gray_scott_cell", "PARAMETERS"]

PARAMETERS = ("F", "k", "Du", "Dv")


def fit_gray_scott_cell(windows: np.ndarray, start: GrayScott, dx: float, dt: float = 1.0,
                        steps_per_frame: int = 10, iterations: int = 300, lr: float = 0.05,
                        batch: int = 8, seed: int = 0) -> dict:
    """Adam on the cell's log-parameters, loss the rollout's mean squared error.

    windows: (W, K + 1, 2, n, n) frames of one class (u, v), K ≥ 1 frames to predict from
    each window's first; start: the initial guess; dx, dt, steps_per_frame: the grid and
    step of the frames. Each iteration draws ``batch`` windows (seeded) and rolls the cell
    out K frames. Returns {"parameters": {name: value}, "history": [(iteration, loss,
    {name: value}), ...] every 10 iterations, "seconds": wall time}.
    """
    if windows.ndim != 5 or windows.shape[1] < 2 or windows.shape[2] != 2:
        raise ValueError(f"windows must have shape (W, K + 1, 2, n, n) with K >= 1, got {windows.shape}")
    data = torch.from_numpy(np.asarray(windows, dtype=np.float64))
    frames = data.shape[1] - 1
    cell = GrayScottCell(start, dx, dt)
    optimizer = torch.optim.Adam(cell.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    scale = data[:, 1:].var(dim=(-2, -1), keepdim=True).mean(dim=0) + 1e-12  # (K, 2, 1, 1) per frame, species
    history, began = [], time.perf_counter()
    for iteration in range(iterations + 1):
        pick = torch.randint(0, len(data), (min(batch, len(data)),), generator=generator)
        chunk = data[pick]
        u, v = cell.rollout(chunk[:, 0, 0], chunk[:, 0, 1], frames, steps_per_frame)  # (B, K, n, n) each
        prediction = torch.stack([u, v], dim=2)
        loss = (((prediction - chunk[:, 1:]) ** 2).mean(dim=(-2, -1), keepdim=True) / scale).mean()
        if iteration % 10 == 0 or iteration == iterations:
            history.append((iteration, float(loss.detach()), {k: float(v.detach())
                                                     for k, v in cell.parameters_dict().items()}))
        if iteration == iterations:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"parameters": history[-1][2], "history": history, "seconds": time.perf_counter() - began}
