"""Checks of the trainers' command-line options: each bad value is a ValueError that names
the option and its valid range, raised before any data are generated."""
from __future__ import annotations

import math

from .._checks import check_count


def at_least(option: str, value, minimum, integer: bool = True, allow_none: bool = False):
    """``value`` ≥ ``minimum`` (an integer unless ``integer=False``; None if ``allow_none``)."""
    if value is None and allow_none:
        return
    if integer:
        check_count(option, value, minimum)
    elif not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ValueError(f"{option} must be a number >= {minimum:g}, got {value!r}")


def positive(option: str, value, allow_none: bool = False):
    """A finite number > 0 (None if ``allow_none``)."""
    if value is None and allow_none:
        return
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{option} must be a number > 0, got {value!r}")


def torch_device(option: str, value: str):
    """A torch device name that exists here (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, TypeError):
        raise ValueError(f"{option} must be a torch device such as cpu or cuda, got {value!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{option} {value}: torch sees no CUDA device on this machine")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{option} {value}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{option} {value}: torch sees no MPS (Apple GPU) device on this machine")
