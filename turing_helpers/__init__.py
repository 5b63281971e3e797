"""turing_helpers: the package behind the book "Turing patterns three ways".

Layers, bottom up (each knows nothing of the ones above it):

- :mod:`~turing_helpers.gray_scott` — the model and its linear theory (numpy);
- :mod:`~turing_helpers.stencils`, :mod:`~turing_helpers.solver` — discretisation and
  time stepping (numpy / numba / torch backends);
- :mod:`~turing_helpers.initial_conditions`, :mod:`~turing_helpers.presets` — the
  starting fields and the named parameter sets of Pearson (1993) and The Well;
- :mod:`~turing_helpers.metrics` — measurements of single patterns, shared by every chapter;
- :mod:`~turing_helpers.evaluation` — the one evaluation layer: sets of patterns compared,
  forecast skill, climate, linear response, response kernels, significance;
- :mod:`~turing_helpers.plotting` — figures and animations for the book;
  :mod:`~turing_helpers.book` — what every chapter does first (style, seeds, glue).
"""
__version__ = "0.1.0"

from .gray_scott import GrayScott, linear_stability_map, LINEAR_CLASSES  # noqa: E402
from .solver import SimulationDiverged, simulate, stability_limit  # noqa: E402
from .initial_conditions import gaussian_bumps, pearson_square, random_fourier  # noqa: E402
from .presets import PEARSON_CLASSES, WELL_PARAMETERS, preset  # noqa: E402

# Submodules load on first use (``th.metrics``, ``th.models``, ...), so that importing the
# package stays cheap and torch is imported only by the chapters that need it.
_SUBMODULES = {"atlas", "augment", "book", "checkpoints", "data", "evaluation", "io", "metrics", "models",
               "plotting", "results", "stencils", "sweep", "validation"}


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "GrayScott", "linear_stability_map", "LINEAR_CLASSES",
    "simulate", "stability_limit", "SimulationDiverged",
    "pearson_square", "gaussian_bumps", "random_fourier",
    "PEARSON_CLASSES", "WELL_PARAMETERS", "preset",
]
