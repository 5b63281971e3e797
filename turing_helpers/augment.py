"""Data augmentation by the exact symmetries of the periodic Gray-Scott problem (torch).

The equations on a periodic square commute with periodic shifts, the 90° rotations and the
reflections of the grid (u and v are scalar fields), so each transformed pattern is another
valid pattern of the same class: free training data.
"""
from __future__ import annotations

import torch

__all__ = ["augment"]


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random periodic shift, 90° rotation and flip of each field; x (B, C, n, n) → same shape.

    generator: a CPU torch.Generator (the choices are drawn on the CPU, so a seed gives the
    same augmentation whatever device x is on).
    """
    B, _, n, _ = x.shape
    r = torch.randint(0, n, (B, 2), generator=generator)
    k = torch.randint(0, 4, (B,), generator=generator)
    flip = torch.randint(0, 2, (B,), generator=generator)
    out = []
    for i in range(B):
        y = torch.roll(x[i], (int(r[i, 0]), int(r[i, 1])), dims=(-2, -1))  # (C, n, n)
        y = torch.rot90(y, int(k[i]), dims=(-2, -1))
        out.append(torch.flip(y, dims=(-1,)) if flip[i] else y)
    return torch.stack(out)  # (B, C, n, n)
