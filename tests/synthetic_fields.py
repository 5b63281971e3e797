"""Synthetic fields with known morphology, shared by the metrics and atlas tests."""
import numpy as np


def disks(centres, radius, n=64):
    """1 inside the disks (periodic distance, so disks may be cut by the edges), else 0."""
    i = np.arange(n)
    out = np.zeros((n, n))
    for cy, cx in centres:
        dy, dx = np.abs(i[:, None] - cy), np.abs(i[None, :] - cx)
        dy, dx = np.minimum(dy, n - dy), np.minimum(dx, n - dx)
        out[dy**2 + dx**2 <= radius**2] = 1.0
    return out


def lattice(per_side=4, radius=5, offset=0, n=64):
    """per_side² disks on a square lattice; offset 0 puts disks on the corners and edges."""
    step = n // per_side
    return disks([(offset + step * a, offset + step * b) for a in range(per_side)
                  for b in range(per_side)], radius, n)
