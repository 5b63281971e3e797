"""Gates by function: the ConvLSTM with a gate clamped, and how saturated its gates run.

A correlation between a gate and a chemical field says the gate *reads* the field; whether
the model *needs* the gate's variation is asked by clamping it. :func:`clamped_gates` runs the
model with any of its gates replaced (by a constant, a per-channel value, or any function of
the gate), so a rollout with the forget gate held at its mean, or at 1, can be scored like any
other forecaster. :func:`gate_saturation` says in which regime the trained cell runs: gates
pinned near 0 or 1 and cell states beyond tanh's linear range (the switching, "discrete"
regime the proposal names), or gates in between and small cell states (a smooth,
Euler-like update).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..backend import to_numpy

__all__ = ["clamped_gates", "gate_saturation", "GATES", "SATURATED", "LINEAR_TANH"]

GATES = ("i", "f", "o", "g")

# A sigmoid gate within this distance of 0 or 1 counts as saturated (switched).
SATURATED = 0.05
# tanh(c) stays within 5 % of c for |c| below this (tanh(0.4) / 0.4 = 0.95): the linear range.
LINEAR_TANH = 0.4


@contextmanager
def clamped_gates(model, **clamps):
    """Run ``model`` (a :class:`~turing_helpers.models.convlstm.ConvLSTM`) with gates replaced.

    clamps: for any of ``i``, ``f``, ``o``, ``g``, the value the gate takes instead of its own:
    a float (every channel and position), a sequence or tensor of one value per hidden channel
    (C,), or a function gate (B, C, H, W) → its replacement (for instance one that replays
    recorded gates). Inside the ``with`` block every step of the model uses them; on leaving,
    the trained cell is restored, also after an error. Raises ValueError for an unknown gate
    name or a per-channel value of the wrong length.
    """
    import torch

    cell = model.cell
    unknown = set(clamps) - set(GATES)
    if unknown:
        raise ValueError(f"clamps must name gates among {GATES}, got {sorted(unknown)}")
    replacements = {}
    for name, value in clamps.items():
        if callable(value):
            replacements[name] = value
            continue
        values = torch.as_tensor(value, dtype=torch.float64)
        if values.ndim == 1 and values.numel() != cell.hidden:
            raise ValueError(f"a per-channel clamp of gate {name!r} needs {cell.hidden} values, got {values.numel()}")
        if values.ndim > 1:
            raise ValueError(f"clamp of gate {name!r} must be a float, (C,) values or a function, got shape "
                             f"{tuple(values.shape)}")
        shape = (1, -1, 1, 1) if values.ndim == 1 else ()

        def constant(gate, values=values, shape=shape):
            return values.to(gate.dtype).to(gate.device).reshape(shape).expand_as(gate)
        replacements[name] = constant

    def hook(*gates):
        return tuple(replacements[name](gate) if name in replacements else gate for name, gate in zip(GATES, gates))

    previous, cell.gate_hook = cell.gate_hook, hook
    try:
        yield model
    finally:
        cell.gate_hook = previous


def gate_saturation(gates: dict) -> dict:
    """How saturated the recorded gates and how large the cell states are.

    gates: the dict of :meth:`ConvLSTM.rollout` with ``return_gates=True`` (arrays or
    tensors, each (B, T, C, H, W)). Returns, for the sigmoid gates i, f, o, the fraction of
    activations within :data:`SATURATED` of 0 or of 1 ("low", "high") and their sum
    ("saturated"); for the candidate g (tanh), the fraction with |g| > 1 − SATURATED; for the
    cell state c, the fraction with |c| < :data:`LINEAR_TANH` ("linear": where tanh(c) ≈ c).
    """
    def values(name):
        x = gates[name]
        x = to_numpy(x)
        return x.astype(np.float64)

    out = {}
    for name in ("i", "f", "o"):
        x = values(name)
        low, high = float(np.mean(x < SATURATED)), float(np.mean(x > 1 - SATURATED))
        out[name] = {"low": low, "high": high, "saturated": low + high}
    out["g"] = {"saturated": float(np.mean(np.abs(values("g")) > 1 - SATURATED))}
    out["c"] = {"linear": float(np.mean(np.abs(values("c")) < LINEAR_TANH))}
    return out
