"""One evaluation layer: how every system of the book is measured (chapters 3–7).

The solver, the ConvLSTM and the DDPM are scored through the same functions, with one
definition of each quantity:

- *no pattern*: :func:`turing_helpers.metrics.is_uniform` (contrast max − min < 0.05);
  uniform fields are counted apart, never averaged in;
- *the two phases* of a pattern: the excursion set {v > t} at the midrange
  t = (max + min)/2 (:func:`turing_helpers.metrics.morphology_threshold`);
- *the dominant wavelength of a set*: the peak of the set's mean power spectrum
  (:func:`set_wavelength`);
- *correlation time*: frames until the correlation with the truth first drops below a
  threshold, a collapsed (constant) prediction counting as decorrelated
  (:func:`turing_helpers.metrics.correlation_time`).

Modules: :mod:`.patterns` (statistics of sets of patterns and their comparison),
:mod:`.forecast` (skill of rollouts), :mod:`.climate` (is a long rollout on the solver's
attractor: thresholds from the solver's own spread), :mod:`.stability` (any forecaster's
rollouts scored early and late, with the climate test's controls), :mod:`.response` (linear response of any one-frame
map), :mod:`.jacobian` (the leading Jacobian eigenvalues of a one-frame map at any state),
:mod:`.kernel` (the real-space response kernel of any map of fields, read as diffusion),
:mod:`.ablation` (the ConvLSTM with a gate clamped; how saturated its gates run),
:mod:`.recovery` (after a perturbation: the pattern, a pattern of its class, or lost),
:mod:`.significance` (differences with intervals and p-values; Holm and Benjamini–Hochberg),
:mod:`.ddpm` (the DDPM's per-class quality table and sampler tuning) and :mod:`.mechanisms`
(chapter 7: the ConvLSTM's gates against the chemistry, the DDPM's drift per scale).
Chapter 6's experiments, their protocols and their wording are ``benchmarks/compare.py``'s.
"""
from __future__ import annotations

from ..metrics import compression_complexity
from .climate import climate_test
from .forecast import forecast_scores, forecast_skill
from .jacobian import jacobian_spectrum
from .kernel import kernel_diffusion, kernel_locality, response_kernel
from .recovery import pattern_identity
from .patterns import SET_STATISTICS, STATISTICS, compare_patterns, pattern_statistics, set_wavelength
from .response import linear_response, spectral_gain
from .significance import benjamini_hochberg, difference_test, holm

__all__ = ["pattern_statistics", "compression_complexity", "compare_patterns", "set_wavelength",
           "forecast_skill", "forecast_scores", "linear_response", "spectral_gain", "jacobian_spectrum",
           "climate_test", "response_kernel", "kernel_diffusion", "kernel_locality", "pattern_identity",
           "difference_test", "holm", "benjamini_hochberg", "STATISTICS",
           "SET_STATISTICS"]
