"""Morphology of Gray-Scott patterns, measured rather than eyeballed, and the (F, k) atlas.

A pattern's *morphology* is read from the excursion set A = {v > t} of the autocatalyst v
(the bright phase of every figure in the book) and its complement B = {v ≤ t}, both on
the periodic domain, with :mod:`turing_helpers.metrics` doing the topology:

- N = number of connected components of A, H = number of components of B ("holes"),
  χ = Euler characteristic of A (:func:`~turing_helpers.metrics.euler_characteristic`).
  On the torus: N isolated spots give χ = N; stripes that wrap around give χ = 0; a
  labyrinth that percolates and encloses a few pockets gives χ < 0 with few components;
  N isolated holes in a v-rich sheet give χ = −H.
- Topology alone cannot tell a spot from a *worm* (a stripe broken into pieces): both
  are simply connected blobs with χ = 1 each — and Pearson's stripe classes θ, κ, μ do
  end as many separate worms, so χ ≈ N for them too. One shape number per component
  settles it: its elongation ε = area / (π r²), where r is the radius of the largest disk
  that fits inside it (the maximum of the periodic Euclidean distance transform, less
  half a pixel for the digitised boundary). ε ≈ 1 for a disk (4/π for a square, up to
  half a pixel of discretisation), and
  ε ≈ 4ℓ/(πw) for a worm of length ℓ and width w; a ring or a branched stripe is
  large.

Classification rule (:func:`classify_morphology`), thresholds and why
---------------------------------------------------------------------
``t`` is the *midrange* (min + max)/2 of each field
(:func:`turing_helpers.metrics.morphology_threshold`, the book's one threshold): it sits halfway between the two
phases whatever their areas, so v → −v exchanges spots and holes exactly (the field's
mean, the metrics' default, sits near the background level of a sparse spot pattern
and near the top of a holes pattern, and so is not symmetric). Then, in order:

1. ``"uniform"`` if the contrast max v − min v < ``MIN_CONTRAST`` = 0.05
   (:func:`turing_helpers.metrics.is_uniform`, the book's one rule). Developed
   patterns have contrast 0.27–0.54 (measured on Pearson's classes); a uniform state
   reached by the solver has contrast at the rounding level, and a pattern that is
   still decaying passes 0.05 only briefly.
2. A component is *compact* if ε ≤ ``MAX_ELONGATION`` = 2.5: a disk (1), a square
   (1.3–1.4), a spot that is dividing (≈ 2) are compact; a worm three times as long as
   it is wide (ε ≈ 3.8), a ring or a stripe are not. f_A (f_B) is the fraction of the
   area of A (B) that lies in compact components.
3. ``"spots"`` if f_A ≥ ``MAJORITY`` = 0.5 and χ ≥ N/2 (most of the bright phase is
   isolated, simply connected, compact blobs); ``"holes"`` if f_B ≥ 0.5 and −χ ≥ H/2
   (the same for the dark phase).
4. ``"stripes/labyrinth"`` if f_A < ``MINORITY`` = 0.25 and f_B < 0.25: both phases
   are extended (wrapping stripes, worms, labyrinths); χ then tells them apart
   (≈ 0 stripes, ≈ N worms, < 0 labyrinth) and is reported, not used.
5. ``"mixed"`` otherwise: a substantial share of spots (or holes) beside stripes.

The cut-offs sit in wide gaps of the measured distributions: on Pearson's classes
(256², 200,000 steps, ``benchmarks/atlas_gallery.py``) f_A ≥ 0.98 for the settled spot
classes η and λ, f_A = 0 for the stripe and worm classes γ, θ, κ, μ, and f_B ≥ 0.97 for
the hole classes δ, ι, π; only the classes that never settle (α, β, ε) land in between. :func:`morphology_index` condenses the rule
into one number, f_A − f_B ∈ [−1, 1]: +1 for spots, −1 for holes, ≈ 0 for stripes.

Shapes: every function takes v of shape (..., N, N) (a single field, a batch, or a
sweep's (nF, nk, N, N)) and returns arrays of the batch shape, like the metrics.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import metrics
from .metrics.fields import as_fields
from .gray_scott import GrayScott, linear_stability_map
from .presets import GREEK, PEARSON_CLASSES
from .sweep import SweepConfig

__all__ = [
    "LABELS", "MIN_CONTRAST", "MAX_ELONGATION", "MAJORITY", "MINORITY",
    "torus_labels", "component_shapes", "morphology_measures", "classify_morphology",
    "morphology_index", "morphology_table", "label_codes", "LABEL_COLORS",
    "ATLAS_F_RANGE", "ATLAS_K_RANGE", "atlas_config", "cell_edges",
    "draw_atlas", "draw_theory", "mark_classes",
]

# The labels, in the order of the morphology axis: bright blobs → dark blobs.
LABELS = ("uniform", "spots", "mixed", "stripes/labyrinth", "holes")
MIN_CONTRAST = metrics.UNIFORM_CONTRAST  # max v − min v below this: no pattern (the book's one rule)
MAX_ELONGATION = 2.5   # ε = area/(π r²) of a compact blob: disk 1, square 1.3-1.4, dividing spot ≈ 2
MAJORITY = 0.5         # area fraction in compact blobs for "spots" / "holes"
MINORITY = 0.25        # below this in both phases: "stripes/labyrinth"

# Colours for the labels in figures (a qualitative palette that reads on the magma fields).
LABEL_COLORS = {
    "uniform": "#d9d9d9", "spots": "#e6550d", "mixed": "#9e9ac8",
    "stripes/labyrinth": "#3182bd", "holes": "#31a354",
}



# -- one field ---------------------------------------------------------------------------
def torus_labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels 1..n of the 8-connected components of a 2-D mask on the torus (0: outside)."""
    return metrics.label_components(mask, periodic=True)


def _periodic_distance(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) from each pixel of ``mask`` to the nearest pixel outside,
    on the torus (exact for distances up to half the side)."""
    n = mask.shape[-1]
    pad = n // 2
    tiled = np.pad(mask, pad, mode="wrap")
    if tiled.all():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(tiled)[pad:pad + mask.shape[0], pad:pad + n]


def _component_euler(labels: np.ndarray, n: int) -> np.ndarray:
    """Euler characteristic of each component 1..n of a torus labelling, shape (n,).

    χ = V − E + F of the closed pixel squares, counted per component as in
    :func:`turing_helpers.metrics.euler_characteristic` (χ is additive over the
    components, which share no edge or corner): an edge belongs to the component of
    either pixel beside it, a vertex to the component of any of its four pixels.
    """
    right, down = np.roll(labels, 1, axis=-1), np.roll(labels, 1, axis=-2)
    corner = np.roll(right, 1, axis=-2)
    count = lambda a: np.bincount(a.ravel(), minlength=n + 1)[1:]  # noqa: E731
    faces = count(labels)
    edges = count(np.maximum(labels, right)) + count(np.maximum(labels, down))
    vertices = count(np.maximum(np.maximum(labels, right), np.maximum(down, corner)))
    return vertices - edges + faces


def component_shapes(mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area, elongation and Euler characteristic of each component of a 2-D mask.

    Components are 8-connected on the torus. Elongation ε = area / (π r²), with r the
    largest distance from a pixel of the component to the outside, less ½ pixel (the
    digitised boundary lies halfway between the last pixel in and the first pixel out):
    ε ≈ 1 for a disk; inf for a component that fills the whole domain. χ = 1 for a blob
    with no hole that does not wrap around the torus (a spot, a worm), 0 for a stripe
    that wraps around, negative for a sheet with holes. Returns three arrays of shape
    (components,): area in pixels (float), ε (float), χ (int).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    labels, n = torus_labels(mask)
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    index = np.arange(1, n + 1)
    area = ndimage.sum_labels(np.ones(mask.shape), labels, index)
    radius = ndimage.maximum(_periodic_distance(mask), labels, index) - 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        elongation = np.where(np.isfinite(radius), area / (np.pi * np.maximum(radius, 0.5) ** 2), np.inf)
    return area, elongation, _component_euler(labels, n).astype(np.int64)


def _compact_fraction(mask: np.ndarray) -> float:
    """Fraction of the mask's area in compact blobs (χ = 1 and ε ≤ MAX_ELONGATION); 0 if empty."""
    area, elongation, euler = component_shapes(mask)
    total = area.sum()
    compact = (euler == 1) & (elongation <= MAX_ELONGATION)
    return float(area[compact].sum() / total) if total > 0 else 0.0


# -- batches -------------------------------------------------------------------------------
def morphology_measures(v, dx) -> dict[str, np.ndarray]:
    """The numbers the classification is made of, for fields v of shape (..., N, N).

    Returns a dict of arrays of the batch shape ``v.shape[:-2]``:

    - ``contrast``: max v − min v; ``threshold``: t = (max v + min v)/2;
    - ``area_fraction``: share of the domain in A = {v > t};
    - ``components`` N, ``holes`` H (components of B = {v ≤ t}), ``euler`` χ of A
      (int; all on the torus, 8-connected, from :mod:`turing_helpers.metrics`);
    - ``compact_spots`` f_A, ``compact_holes`` f_B: area fractions of A and B in compact
      components (see the module docstring);
    - ``wavelength``: the dominant wavelength (length units, ``dx`` the grid spacing),
      :func:`turing_helpers.metrics.dominant_wavelength`; NaN for a uniform field.

    Uniform fields (contrast < ``MIN_CONTRAST``) get N = H = χ = 0 and f = 0.
    """
    field = as_fields(v, "v")
    batch = field.shape[:-2]
    flat = field.reshape((-1,) + field.shape[-2:])  # (B, N, N)
    high, low = flat.max(axis=(-2, -1)), flat.min(axis=(-2, -1))
    contrast = high - low
    threshold = np.atleast_1d(metrics.morphology_threshold(flat))
    patterned = ~np.atleast_1d(metrics.is_uniform(flat))
    # Uniform fields get a threshold above their maximum: A is empty, counts are 0.
    t = np.where(patterned, threshold, high + 1.0)
    out = {
        "contrast": contrast, "threshold": threshold,
        "area_fraction": np.mean(flat > t[:, None, None], axis=(-2, -1)),
        "components": np.atleast_1d(metrics.connected_components(flat, t)),
        "holes": np.where(patterned, np.atleast_1d(metrics.connected_components(-flat, -t)), 0),
        "euler": np.atleast_1d(metrics.euler_characteristic(flat, t)),
        "compact_spots": np.array([_compact_fraction(f > s) if p else 0.0
                                   for f, s, p in zip(flat, t, patterned)]),
        "compact_holes": np.array([_compact_fraction(f <= s) if p else 0.0
                                   for f, s, p in zip(flat, t, patterned)]),
        "wavelength": np.where(patterned, np.atleast_1d(metrics.dominant_wavelength(flat, dx)), np.nan),
    }
    return {name: value.reshape(batch) for name, value in out.items()}


def _label(m: dict, i) -> str:
    if m["contrast"][i] < MIN_CONTRAST:
        return "uniform"
    fa, fb = m["compact_spots"][i], m["compact_holes"][i]
    N, H, chi = m["components"][i], m["holes"][i], m["euler"][i]
    if fa >= MAJORITY and chi >= N / 2:
        return "spots"
    if fb >= MAJORITY and -chi >= H / 2:
        return "holes"
    if fa < MINORITY and fb < MINORITY:
        return "stripes/labyrinth"
    return "mixed"


def classify_morphology(v, dx, measures: dict | None = None) -> np.ndarray:
    """Morphology label of each field v (..., N, N): one of ``LABELS``; str array, batch shape.

    The rule and its thresholds are in the module docstring. ``measures``: the output of
    :func:`morphology_measures` for the same v, to avoid measuring twice.
    """
    m = morphology_measures(v, dx) if measures is None else measures
    batch = np.shape(m["contrast"])
    flat = {name: np.reshape(value, -1) for name, value in m.items()}
    labels = np.array([_label(flat, i) for i in range(flat["contrast"].size)], dtype=object)
    return labels.astype(str).reshape(batch)


def morphology_index(v, dx, measures: dict | None = None) -> np.ndarray:
    """f_A − f_B ∈ [−1, 1] for fields (..., N, N): +1 spots, ≈ 0 stripes/labyrinths, −1 holes.

    The one-number version of the classification (NaN for a uniform field): the share
    of the bright phase in compact blobs minus the share of the dark phase in compact
    blobs. The "spots" / "stripes/labyrinth" boundary of :func:`classify_morphology`
    lies between +0.25 and +0.5.
    """
    m = morphology_measures(v, dx) if measures is None else measures
    index = np.asarray(m["compact_spots"] - m["compact_holes"], dtype=float)
    return np.where(np.asarray(m["contrast"]) < MIN_CONTRAST, np.nan, index)[()]


def morphology_table(v, dx) -> dict[str, np.ndarray]:
    """All of :func:`morphology_measures` plus ``label`` and ``index``, each of the batch shape.

    For a sweep, ``morphology_table(sweep.v, sweep.config.dx)`` gives (nF, nk) arrays:
    components, χ, holes, dominant wavelength, ... and the label of every cell.
    """
    m = morphology_measures(v, dx)
    return m | {"label": classify_morphology(v, dx, m), "index": np.asarray(morphology_index(v, dx, m))}


def label_codes(labels) -> np.ndarray:
    """Integer code (index into ``LABELS``) of each label; same shape."""
    lookup = {name: i for i, name in enumerate(LABELS)}
    return np.vectorize(lookup.__getitem__, otypes=[int])(np.asarray(labels))


# -- the atlas of a sweep ----------------------------------------------------------------
# The window of the (F, k) plane the book maps, 1/time. It holds every pattern-forming
# class of Pearson (1993) (σ, at F = 0.110, lies just above it and decays from Pearson's
# start). It starts at k = 0.040 because below that, in the v-rich state at F ≳ 0.08,
# Pearson's dt = 1 on his grid is unstable at the grid scale — a checkerboard grows
# (the substrate is consumed at rate v² + F there, on top of its diffusive decay):
# ``stability_limit``, which includes the reaction, falls below 1 there and is ≥ 1.003
# everywhere in the window (smallest at its corner F = 0.102, k = 0.040).
ATLAS_F_RANGE = (0.006, 0.102)
ATLAS_K_RANGE = (0.040, 0.070)


def atlas_config(F_step: float = 0.008, k_step: float = 0.002, n: int = 64, steps: int = 10_000,
                 F_range=ATLAS_F_RANGE, k_range=ATLAS_K_RANGE, **kwargs) -> SweepConfig:
    """A :class:`~turing_helpers.sweep.SweepConfig` on a regular grid over the atlas window.

    F_step, k_step: grid spacing (1/time); the defaults give 13 × 16 cells. With
    F_step = 0.004 and k_step = 0.001 the grid holds the (F, k) of every Pearson class
    but ι and π. Values are rounded to 6 decimals, so a config rebuilt from the same
    arguments compares equal to the one stored in a saved sweep. Other keywords
    (dx, dt, seed, ...) go to SweepConfig; the defaults are Pearson's spacing and step
    with his 20-point square (``square`` = 20/n).
    """
    def grid(lo, hi, step):
        count = int(round((hi - lo) / step)) + 1
        return tuple(float(x) for x in np.round(lo + step * np.arange(count), 6))
    kwargs.setdefault("square", 20 / n)
    return SweepConfig(F=grid(*F_range, F_step), k=grid(*k_range, k_step), n=n, steps=steps, **kwargs)


def cell_edges(values) -> np.ndarray:
    """Edges of the cells centred on sorted, regularly spaced values (len + 1)."""
    values = np.asarray(values, float)
    step = np.diff(values).mean() if values.size > 1 else 1.0
    return np.concatenate([values - step / 2, [values[-1] + step / 2]])


def draw_atlas(ax, F, k, v, labels=None, *, vmin=0.0, vmax=0.5, cmap="magma", gap=0.08,
               frame_width=1.6):
    """Tile the (F, k) plane with thumbnails of v: k on the x axis, F on the y axis.

    F (nF,), k (nk,): the sweep's parameters; v: (nF, nk, N, N), e.g. ``sweep.v``.
    Each thumbnail fills its cell less a ``gap`` (fraction of the cell), on one shared
    colour scale [vmin, vmax] so uniform states read as such (black: (1, 0); bright:
    the v-rich state). With ``labels`` (nF, nk) from :func:`classify_morphology`, each
    patterned cell gets a frame in its label's colour (``LABEL_COLORS``). Returns the
    last image drawn (for a colour bar).
    """
    from matplotlib.patches import Rectangle

    F_edges, k_edges = cell_edges(F), cell_edges(k)
    dF, dk = np.diff(F_edges).mean(), np.diff(k_edges).mean()
    image = None
    for i in range(len(F)):
        for j in range(len(k)):
            x0, y0 = k_edges[j] + gap * dk / 2, F_edges[i] + gap * dF / 2
            w, h = dk * (1 - gap), dF * (1 - gap)
            image = ax.imshow(np.asarray(v[i, j], float), origin="lower", cmap=cmap, vmin=vmin,
                              vmax=vmax, extent=(x0, x0 + w, y0, y0 + h),
                              interpolation="antialiased", aspect="auto")
            if labels is not None and labels[i][j] != "uniform":
                ax.add_patch(Rectangle((x0, y0), w, h, fill=False, lw=frame_width,
                                       ec=LABEL_COLORS[labels[i][j]], zorder=3))
    ax.set_xlim(k_edges[0], k_edges[-1])
    ax.set_ylim(F_edges[0], F_edges[-1])
    ax.set_xlabel("kill rate $k$")
    ax.set_ylabel("feed rate $F$")
    return image


def draw_theory(ax, Du: float = 2e-5, Dv: float = 1e-5, resolution: int = 200, turing=True,
                color="white", legend=True):
    """Overlay chapter 1's linear theory on an (F, k) axes (k on x, F on y), within its limits.

    The saddle-node line k = √F/2 − F (non-trivial states exist to its left), the Hopf
    line of the v-rich state (``GrayScott.hopf_F``, below it the state oscillates), and
    the linear Turing region (``linear_stability_map`` code 3) as a filled area, found by
    scanning a strip 0.002 wide in k left of the saddle-node line (where it lies for the
    book's diffusivities; ``resolution`` rows of F).
    Lines are drawn with a dark outline so they read on any thumbnail.
    """
    from matplotlib import patheffects

    (k0, k1), (F0, F1) = ax.get_xlim(), ax.get_ylim()
    outline = [patheffects.withStroke(linewidth=3.2, foreground="black", alpha=0.8)]
    F = np.linspace(max(F0, 1e-6), F1, 4 * resolution)
    ax.plot(GrayScott.saddle_node_k(F), F, color=color, lw=1.6, path_effects=outline,
            label="saddle-node", zorder=5)
    k = np.linspace(k0, k1, 4 * resolution)
    ax.plot(k, GrayScott.hopf_F(k)[0], color=color, lw=1.4, ls=(0, (4, 2)), path_effects=outline,
            label="Hopf", zorder=5)
    if turing:
        # The region is a sliver less than 0.001 wide in k, just left of the saddle-node
        # line (for D_u/D_v = 2): scan that strip finely, row by row, and fill it.
        F = np.linspace(max(F0, 1e-6), F1, resolution)
        lo, hi = np.full(F.shape, np.nan), np.full(F.shape, np.nan)
        for i, f in enumerate(F):
            k_sn = float(GrayScott.saddle_node_k(f))
            ks = np.linspace(k_sn - 0.002, k_sn, 101)
            inside = ks[linear_stability_map(f, ks, Du, Dv) == 3]
            if inside.size:
                lo[i], hi[i] = inside.min(), inside.max()
        ax.fill_betweenx(F, lo, hi, color="#00e5ff", lw=1.2, ec="#00e5ff", zorder=4,
                         label="Turing region")
    ax.set_xlim(k0, k1)
    ax.set_ylim(F0, F1)
    if legend:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.85)


def mark_classes(ax, classes=None, fontsize=11, color="white", outline="black", **kwargs):
    """Write each Pearson class's Greek letter at its (k, F), outlined for contrast.

    classes: dict name -> (F, k) (default: all of ``PEARSON_CLASSES``), or a list of
    names; classes outside the axes' limits are skipped. Other keywords go to ``ax.text``.
    """
    from matplotlib import patheffects

    if classes is None:
        classes = PEARSON_CLASSES
    elif not isinstance(classes, dict):
        classes = {name: PEARSON_CLASSES[name] for name in classes}
    (k0, k1), (F0, F1) = ax.get_xlim(), ax.get_ylim()
    for name, (F, k) in classes.items():
        if k0 <= k <= k1 and F0 <= F <= F1:
            ax.text(k, F, GREEK.get(name, name), color=color, fontsize=fontsize, ha="center",
                    va="center", zorder=6, fontweight="bold",
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground=outline)], **kwargs)
