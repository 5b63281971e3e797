"""Pattern metrics shared by every chapter: spectra, morphology, forecast skill, physics.

Conventions (the same for every function here)
----------------------------------------------
Shapes
    A *field* is an array of shape ``(..., N, N)``: a single square field ``(N, N)``
    or any batch of them (``(B, N, N)``, ``(B, T, N, N)``, ...). The grid is periodic
    with spacing ``dx`` (length units) on the last two axes. Metrics reduce **only**
    those two spatial axes; every leading axis is a batch axis and is kept.

Return values
    A metric returns a ``numpy`` array of the batch shape ``field.shape[:-2]``, float64
    (int64 for counts: components, Euler characteristic, correlation time). For a
    single field the batch shape is ``()`` and the 0-d result is unwrapped to a numpy
    scalar (``numpy.float64``, which *is* a Python ``float``, or ``numpy.int64``).
    So ``np.shape(metric(x)) == x.shape[:-2]`` always holds, and ``float(m)`` /
    ``int(m)`` works for a single field. Exceptions, named in their docstrings:
    ``radial_spectrum`` returns the pair ``(q, power)``; ``phase_randomized`` returns
    fields; ``pde_residual(..., per_species=True)`` appends an axis of length 2.

Inputs
    numpy arrays, anything ``np.asarray`` accepts, or torch tensors (converted with
    ``.detach().cpu()``). Values are converted to float64. Bad input raises
    ``ValueError`` naming the argument: fewer than 2 dimensions, non-square or
    smaller than 2 × 2 spatial axes, complex or non-finite values, ``dx <= 0``,
    mismatched shapes. (One deliberate exception: the *prediction* given to
    ``vrmse``, ``pearson_correlation`` and ``correlation_time`` may hold inf/NaN, since
    a diverged rollout is a result to report, not a usage error; see those functions.)

Uniform fields (one rule for every metric)
    A constant field has no pattern, and a metric whose quantity does not exist for it
    returns **NaN, never an error and never a made-up number**: ``dominant_wavelength``,
    ``spectral_entropy`` and ``spectrum_distance`` (no spectrum to normalise) and
    ``pearson_correlation`` (no variance). Metrics whose value is defined stay defined:
    ``connected_components`` and ``euler_characteristic`` count 0, ``radial_spectrum``
    is zero, ``compression_complexity`` is 0, ``vrmse``, ``pde_residual`` and
    ``pixel_histogram_distance`` are ordinary numbers. A NaN is thus a statement ("no
    pattern here"), so averages must count uniform fields apart (``is_uniform``) rather
    than drop NaNs silently; ``turing_helpers.evaluation`` does that everywhere.

Units
    ``dx`` and wavelengths in length units; wavenumbers q in radians per length unit
    (a wave of wavelength λ has q = 2π/λ); power in (field units)²; the PDE residual
    in field units per time unit.

Baselines (design notes): a persistence forecast for ``vrmse`` / ``correlation_time``;
``phase_randomized`` surrogates for generated patterns — they match the power spectrum
exactly, so only the morphology metrics (components, Euler characteristic, pixel
histogram) can tell them from the real pattern.

Modules: :mod:`.fields` (the input layer and :func:`is_uniform`), :mod:`.spectral`,
:mod:`.morphology`, :mod:`.complexity`, :mod:`.skill`, :mod:`.physics`,
:mod:`.distributions`; everything public is importable from here.
"""
from __future__ import annotations

from .complexity import compression_complexity
from .distributions import pixel_histogram_distance
from .fields import UNIFORM_CONTRAST, is_uniform
from .morphology import connected_components, euler_characteristic, label_components, morphology_threshold
from .physics import pde_residual
from .skill import correlation_time, decorrelation_frame, pearson_correlation, vrmse
from .spectral import (dominant_wavelength, phase_randomized, radial_cross_spectrum, radial_spectrum,
                       spectral_entropy, spectrum_distance)

__all__ = [
    "UNIFORM_CONTRAST",
    "is_uniform",
    "morphology_threshold",
    "compression_complexity",
    "radial_spectrum",
    "radial_cross_spectrum",
    "dominant_wavelength",
    "spectral_entropy",
    "euler_characteristic",
    "connected_components",
    "label_components",
    "vrmse",
    "pearson_correlation",
    "correlation_time",
    "decorrelation_frame",
    "pde_residual",
    "phase_randomized",
    "pixel_histogram_distance",
    "spectrum_distance",
]
