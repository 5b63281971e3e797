"""Named Gray-Scott parameter sets: Pearson's (1993) classes and The Well's six pairs.

Pearson's (F, k) values are as transcribed on Munafo's xmorphia pages (Pearson's paper
shows them only on a map); D_u = 2e-5, D_v = 1e-5 throughout, as in both sources.
ζ is the exception: the value this book used first, (0.022, 0.061),
decays to the uniform state from Pearson's square in our runs, at the edge of the region
where the square's spots survive. We use (0.026, 0.059), a ζ example of Munafo's
extended-classification page ("pearson-classes") as a reviewer of this book transcribed
it (the page was not re-read for this choice). From Pearson's square it grows spots that
keep dividing and dying and never settle
(``benchmarks/atlas_gallery.py``; chapter 3).
"""
from __future__ import annotations

from .gray_scott import GrayScott

__all__ = ["PEARSON_CLASSES", "WELL_PARAMETERS", "WELL_CLASSES", "WELL_DX", "GREEK", "preset"]

# name -> (F, k), 1/time.
PEARSON_CLASSES = {
    "alpha": (0.010, 0.047), "beta": (0.026, 0.051), "gamma": (0.022, 0.051),
    "delta": (0.030, 0.055), "epsilon": (0.018, 0.055), "zeta": (0.026, 0.059),
    "eta": (0.034, 0.063), "theta": (0.038, 0.061), "iota": (0.046, 0.0594),
    "kappa": (0.050, 0.063), "lambda": (0.026, 0.061), "mu": (0.046, 0.065),
    "nu": (0.054, 0.067), "xi": (0.014, 0.047), "pi": (0.062, 0.06093),
    "rho": (0.090, 0.059), "sigma": (0.110, 0.0523),
}

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
}

# The Well's gray_scott_reaction_diffusion (Ohana et al. 2024): name -> (F, k).
WELL_PARAMETERS = {
    "gliders": (0.014, 0.054), "bubbles": (0.098, 0.057), "maze": (0.029, 0.057),
    "worms": (0.058, 0.065), "spirals": (0.018, 0.051), "spots": (0.030, 0.062),
}
WELL_CLASSES = tuple(WELL_PARAMETERS)  # label i <-> WELL_CLASSES[i], in every model and dataset
WELL_DX = 2 / 128  # The Well's grid spacing, length units: 128 points on a periodic box of side 2


def preset(name: str, Du: float = 2e-5, Dv: float = 1e-5) -> GrayScott:
    """GrayScott for a named class: The Well's (``"spots"``) or Pearson's (``"kappa"``/``"κ"``)."""
    key = {greek: latin for latin, greek in GREEK.items()}.get(name, name)
    for table in (WELL_PARAMETERS, PEARSON_CLASSES):
        if key in table:
            F, k = table[key]
            return GrayScott(F, k, Du, Dv)
    names = sorted(WELL_PARAMETERS) + sorted(PEARSON_CLASSES)
    raise ValueError(f"unknown preset {name!r}; choose one of {names}")
