"""Argument checks shared by the package's public functions (ValueError naming the argument)."""
from __future__ import annotations

import math

import numpy as np


def check_positive(name: str, value) -> float:
    """A finite real number > 0, or ValueError naming ``name`` and the valid range."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


def check_count(name: str, value, minimum: int) -> int:
    """An integer ≥ ``minimum`` (bools refused), or ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_integer_in(name: str, value, low: int, high: int) -> int:
    """An integer in [low, high] (bools refused), or ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def check_in_range(name: str, value, low: float, high: float, low_open: bool = False) -> float:
    """A real number in [low, high] ((low, high] with ``low_open``), or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value > high or value < low or (low_open and value == low):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a real number in {interval}, got {value!r}")
    return float(value)
