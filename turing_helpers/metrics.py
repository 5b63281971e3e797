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
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import ndimage, sparse, stats
from scipy.sparse.csgraph import connected_components as _graph_components

from ._checks import check_positive
from .stencils import check_stencil

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
    "vrmse",
    "pearson_correlation",
    "correlation_time",
    "decorrelation_frame",
    "pde_residual",
    "phase_randomized",
    "pixel_histogram_distance",
    "spectrum_distance",
]

# The book's one definition of "no pattern": a field whose contrast max − min is below this
# is uniform. Developed Gray-Scott patterns have a v contrast of 0.27–0.54 (Pearson's
# classes, chapter 3) and 0.2–0.5 on The Well's classes; a state that decayed to a
# homogeneous one has contrast at the rounding level, and a decaying pattern passes 0.05
# only briefly.
UNIFORM_CONTRAST = 0.05
# A field whose standard deviation is below this fraction of its largest |value| is
# treated as constant (its spectrum is rounding noise): spectral metrics give NaN.
_CONSTANT_RTOL = 1e-12
# The Well's VRMSE adds this to the variance of the target (the_well/benchmark/metrics).
_WELL_EPS = 1e-7
# Floor added to the normalised spectrum before the log in spectrum_distance.
_LOG_FLOOR = 1e-12


# -- input handling ------------------------------------------------------------------
def _to_numpy(x):
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu()
    return np.asarray(x)


def _as_fields(x, name: str, finite: bool = True, min_ndim: int = 2) -> np.ndarray:
    """``x`` as a float64 array of square fields (..., N, N), validated."""
    arr = _to_numpy(x)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got dtype {arr.dtype}")
    try:
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}") from None
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions (..., N, N), got shape {arr.shape}"
        )
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be square on its last two axes, got shape {arr.shape}")
    if arr.shape[-1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 on its last two axes, got {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains non-finite values (inf or NaN)")
    return arr


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def _out(x):
    """The module's return rule: an array of the batch shape, 0-d unwrapped to a scalar."""
    return np.asarray(x)[()]


def _is_constant(f: np.ndarray) -> np.ndarray:
    """Fields (..., N, N) that are constant up to rounding; boolean, batch shape."""
    scale = np.max(np.abs(f), axis=(-2, -1))
    return np.std(f, axis=(-2, -1)) <= _CONSTANT_RTOL * scale


def is_uniform(field) -> np.ndarray:
    """Whether each field (..., N, N) is uniform: contrast max − min < ``UNIFORM_CONTRAST``.

    The book's one definition of "no pattern", used by the atlas, the DDPM's evaluation and
    the comparison of chapter 6. bool, shape batch (a numpy bool for a single field).
    """
    f = _as_fields(field, "field")
    return _out(np.ptp(f, axis=(-2, -1)) < UNIFORM_CONTRAST)


def morphology_threshold(field) -> np.ndarray:
    """The level t that splits each field into its two phases: the midrange (max + min)/2.

    Halfway between the bright and the dark phase whatever their areas, so v → −v exchanges
    spots and holes exactly (the mean would sit near the background of sparse spots and near
    the top of a holes pattern). The default threshold of every morphology metric. float,
    shape batch.
    """
    f = _as_fields(field, "field")
    return _out((f.max(axis=(-2, -1)) + f.min(axis=(-2, -1))) / 2)


# -- complexity ----------------------------------------------------------------------
@lru_cache(maxsize=16)
def _compressed_extremes(size: int, levels: int = 256) -> tuple[int, int]:
    """zlib sizes (bytes) of ``size`` constant bytes and of ``size`` random bytes of ``levels`` values."""
    import zlib

    random = np.random.default_rng(0).integers(0, levels, size, dtype=np.uint8).tobytes()
    return len(zlib.compress(bytes(size), 9)), len(zlib.compress(random, 9))


def compression_complexity(field, value_range=(0.0, 1.0), levels: int = 256):
    """Pattern complexity from lossless compression; float, shape batch, ≈ 0 to ≈ 1.

    Each field (..., N, N) is quantised to ``levels`` values (default 256, 8 bits) on the
    fixed ``value_range`` (default [0, 1], the physical range of u and v; values outside are
    clipped), read row by row and compressed with zlib (DEFLATE: LZ77, a Lempel-Ziv coder,
    then Huffman coding) at level 9, as in Adamatzky's "generative complexity" of Gray-Scott
    (arXiv 1610.09097). Normalisation: C = (L − L₀) / (L₁ − L₀), with L the compressed length,
    L₀ that of N² constant bytes and L₁ that of N² independent uniformly random values of the
    same ``levels``. So a uniform field scores 0, white noise spread over the whole range ≈ 1
    (it cannot be compressed), and a pattern in between: smooth, repetitive structure
    compresses well. On the fixed range a field's rounding noise is not blown up to full
    contrast, but a pattern of low contrast scores lower than the same shape at high
    contrast: complexity and contrast are mixed.

    ``value_range="field"`` quantises each field on its own [min, max] instead, which takes
    contrast out (a constant field still scores 0); use it with few ``levels`` (say 16):
    at 256 levels a full-contrast pattern of a small box barely compresses at all.
    """
    import zlib

    f = _as_fields(field, "field")
    levels = int(levels)
    if not 2 <= levels <= 256:
        raise ValueError(f"levels must be an integer in [2, 256] (values of one byte), got {levels!r}")
    if isinstance(value_range, str):
        if value_range != "field":
            raise ValueError(f"value_range must be (low, high) or 'field', got {value_range!r}")
        lo = f.min(axis=(-2, -1), keepdims=True)
        span = f.max(axis=(-2, -1), keepdims=True) - lo
        scaled = np.where(span > 0, (f - lo) / np.where(span > 0, span, 1.0), 0.0)
    else:
        lo, hi = (float(x) for x in value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"value_range must be two finite numbers (low, high) with high > low, or 'field', "
                             f"got {value_range!r}")
        scaled = (f - lo) / (hi - lo)
    quantised = np.clip(np.round(scaled * (levels - 1)), 0, levels - 1).astype(np.uint8)
    flat = quantised.reshape((-1,) + f.shape[-2:])
    size = f.shape[-1] * f.shape[-2]
    zero, random = _compressed_extremes(size, levels)
    lengths = np.array([len(zlib.compress(np.ascontiguousarray(x).tobytes(), 9)) for x in flat], float)
    return _out(((lengths - zero) / (random - zero)).reshape(f.shape[:-2]))


# -- spectra -------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _radial_geometry(n: int, dx: float, nbins: int | None):
    """Binning of the rfft2 modes of an n × n grid into wavenumber shells.

    Returns (q_centres (nbins,), counts (nbins,), S, Sq): S is a sparse (M, nbins)
    matrix with S[m, b] = multiplicity of rfft mode m if it lies in shell b (each rfft
    column but the self-conjugate ones stands for two modes of the full FFT), and Sq
    the same weighted by the mode's |q|. M = n * (n // 2 + 1).
    """
    qy = 2.0 * np.pi * np.fft.fftfreq(n, d=dx)  # rows, rad/length
    qx = 2.0 * np.pi * np.fft.rfftfreq(n, d=dx)  # columns (non-negative half)
    qmag = np.sqrt(qy[:, None] ** 2 + qx[None, :] ** 2).ravel()  # (M,)
    mult = np.full((n, qx.size), 2.0)
    mult[:, 0] = 1.0
    if n % 2 == 0:
        mult[:, -1] = 1.0  # the Nyquist column is its own conjugate
    mult = mult.ravel()
    dq = 2.0 * np.pi / (n * dx)  # the fundamental wavenumber of the box
    q_top = float(qmag.max())
    if nbins is None:
        width = dq
        nbins = int(math.floor(q_top / dq + 0.5)) + 1
    else:
        width = q_top / (nbins - 0.5)
    shell = np.clip(np.floor(qmag / width + 0.5).astype(np.int64), 0, nbins - 1)
    rows = np.arange(qmag.size)
    S = sparse.csr_matrix((mult, (rows, shell)), shape=(qmag.size, nbins))
    Sq = sparse.csr_matrix((mult * qmag, (rows, shell)), shape=(qmag.size, nbins))
    counts = np.bincount(shell, weights=mult, minlength=nbins)
    q = np.arange(nbins) * width
    for arr in (q, counts):
        arr.flags.writeable = False
    return q, counts, S, Sq


def _mode_power(f: np.ndarray) -> np.ndarray:
    """|FFT|² / N⁴ of the mean-removed fields on the rfft half-plane, flattened (B, M)."""
    n = f.shape[-1]
    X = np.fft.rfft2(f)  # (..., n, n//2+1)
    X[..., 0, 0] = 0.0  # remove the mean exactly
    P = (X.real**2 + X.imag**2) / float(n) ** 4
    return P.reshape(-1, P.shape[-2] * P.shape[-1])


def _shells(f: np.ndarray, dx: float, nbins: int | None, with_q: bool = False):
    """Shell-summed power (B, nbins) (and shell-summed power × |q| if with_q)."""
    q, counts, S, Sq = _radial_geometry(f.shape[-1], dx, nbins)
    P = _mode_power(f)  # (B, M)
    shell = np.asarray((S.T @ P.T).T)  # (B, nbins)
    if not with_q:
        return q, counts, shell
    return q, counts, shell, np.asarray((Sq.T @ P.T).T)


def _check_nbins(nbins):
    if nbins is None:
        return None
    if isinstance(nbins, bool) or not isinstance(nbins, (int, np.integer)) or nbins < 1:
        raise ValueError(f"nbins must be a positive integer or None, got {nbins!r}")
    return int(nbins)


def radial_spectrum(field, dx, nbins=None):
    """Radially averaged power spectrum P(q) of the mean-removed field.

    field: (..., N, N); dx: grid spacing (length). Returns ``(q, power)``:

    - ``q``, shape (nbins,): shell centres, radians per length. Shell b holds the
      Fourier modes with (b − ½) w ≤ |q| < (b + ½) w. By default w = 2π/(N dx), the
      box's fundamental wavenumber, so the centres are the harmonics b · 2π/(N dx) and a
      wave with an integer number of periods lands in the shell centred on its |q|;
      nbins then covers every mode, up to √2 π/dx (shells past the Nyquist wavenumber
      π/dx hold only the corners of the Fourier square, so fewer modes). With ``nbins``
      given, w = q_max / (nbins − ½) so the same shells still cover every mode.
    - ``power``, shape (..., nbins), (field units)²: the *mean* power per Fourier mode
      in each shell, |f̂(q)|² / N⁴ with f̂ = numpy's unnormalised ``fft2``.

    Normalisation (Parseval): Σ_b power[b] · count[b] = variance of the field (over the
    grid, ddof = 0), where count[b] is the number of modes in shell b. The counts are
    not returned; ``power * count`` is the variance per shell. With the default shells,
    shell 0 holds only the mean (q = 0), whose power is 0 by construction (with a coarser
    ``nbins`` it also holds the lowest modes). Empty shells (possible for unusual
    ``nbins`` choices) have power 0.
    """
    f = _as_fields(field, "field")
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    q, counts, shell = _shells(f, dx, nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        power = np.where(counts > 0, shell / np.where(counts > 0, counts, 1.0), 0.0)
    return np.array(q), power.reshape(f.shape[:-2] + (q.size,))


def radial_cross_spectrum(a, b, dx, nbins=None):
    """Radially averaged cross spectrum Re(â b̂*) of two mean-removed fields.

    a, b: fields of one shape (..., N, N); dx, nbins as in :func:`radial_spectrum`. Returns
    ``(q, cross)`` with cross (..., nbins) the mean of Re(â(q) b̂(q)*) / N⁴ over the Fourier
    modes of each shell, in (units of a) × (units of b): ``radial_cross_spectrum(f, f)``
    is ``radial_spectrum(f)``, and cross / power(b) is the shell's least-squares coefficient
    of a on b — how much of b each scale of a carries (positive: in phase, reinforcing b;
    negative: opposing it).
    """
    fa, fb = _as_fields(a, "a"), _as_fields(b, "b")
    _check_same_shape(fa, fb, "a", "b")
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    n = fa.shape[-1]
    q, counts, S, _ = _radial_geometry(n, dx, nbins)
    A, B = np.fft.rfft2(fa), np.fft.rfft2(fb)
    A[..., 0, 0] = 0.0
    B[..., 0, 0] = 0.0
    cross = (A.real * B.real + A.imag * B.imag) / float(n) ** 4
    shell = np.asarray((S.T @ cross.reshape(-1, cross.shape[-2] * cross.shape[-1]).T).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, shell / np.where(counts > 0, counts, 1.0), 0.0)
    return np.array(q), mean.reshape(fa.shape[:-2] + (q.size,))


def dominant_wavelength(field, dx):
    """Dominant wavelength λ* = 2π / q* of each field, length units; shape batch.

    q* is found in two steps: the shell with the largest variance (power × mode count,
    i.e. the peak of the shell-summed spectrum E(q) = Σ_{|q'|∈shell} |f̂(q')|²/N⁴), then
    the power-weighted mean |q| of the individual Fourier modes in that shell and its two
    neighbours (sub-shell refinement). A sinusoid with an integer number of periods in
    the box, in any orientation, gives its wavelength up to rounding. NaN for a field
    that is constant (to rounding): it has no wavelength.
    """
    f = _as_fields(field, "field")
    dx = check_positive("dx", dx)
    _, _, shell, shell_q = _shells(f, dx, None, with_q=True)
    peak = np.argmax(shell, axis=-1)  # (B,)
    bins = np.arange(shell.shape[-1])
    window = np.abs(bins[None, :] - peak[:, None]) <= 1  # (B, nbins)
    num = np.sum(np.where(window, shell_q, 0.0), axis=-1)
    den = np.sum(np.where(window, shell, 0.0), axis=-1)
    constant = _is_constant(f).reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        wavelength = np.where(constant | (den <= 0), np.nan, 2.0 * np.pi * den / num)
    return _out(wavelength.reshape(f.shape[:-2]))


def spectral_entropy(field, dx, nbins=None):
    """Shannon entropy H = −Σ_b p_b ln p_b (nats) of the normalised radial spectrum.

    p_b = power[b] / Σ power, with ``power`` from :func:`radial_spectrum` (mean power
    per mode in shell b; same ``nbins``). H = 0 when all the variance sits in one shell
    (a single-wavelength pattern: stripes; a spot lattice with its weaker harmonics
    gives a small H); with the default shells the upper bound ln(nbins − 1) (shell 0
    holds only the mean and is always 0) is reached by a flat spectrum, the expectation
    for white noise.
    ``dx`` only sets the units of q and does not change H. Shape batch; NaN for a
    constant field.
    """
    f = _as_fields(field, "field")
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    q, power = radial_spectrum(f, dx, nbins)
    power = power.reshape(-1, q.size)
    total = power.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = power / total
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    H = terms.sum(axis=-1)
    H = np.where(_is_constant(f).reshape(-1), np.nan, H)
    return _out(H.reshape(f.shape[:-2]))


def _field_pair(a, b):
    """Two field batches whose batch shapes broadcast → (fa, fb, broadcast batch shape)."""
    fa = _as_fields(a, "a")
    fb = _as_fields(b, "b")
    try:
        batch = np.broadcast_shapes(fa.shape[:-2], fb.shape[:-2])
    except ValueError:
        raise ValueError(
            f"a and b batch shapes do not broadcast: {fa.shape[:-2]} and {fb.shape[:-2]}"
        ) from None
    return fa, fb, batch


def spectrum_distance(a, b, dx, nbins=None):
    """Distance between the *shapes* of two radial spectra: mean |ln p_a − ln p_b|, nats.

    p = power / Σ power is the normalised radial spectrum of :func:`radial_spectrum`
    (so the overall variance does not count: compare amplitudes with
    :func:`pixel_histogram_distance`), shells 1 … nbins−1 for the default shells (shell 0
    is then the mean alone; with ``nbins`` given, all shells), with a
    floor of 1e-12 added before the log so empty or rounding-level shells stay finite.
    0 for identical spectra — in particular for a field and its
    :func:`phase_randomized` surrogate. a and b: (..., N, N) with the same N (and the
    same ``dx``); their batch shapes broadcast. Returns the broadcast batch shape; NaN
    where either field is constant.
    """
    fa, fb, batch = _field_pair(a, b)
    if fa.shape[-1] != fb.shape[-1]:
        raise ValueError(
            f"a and b must have the same grid size N to share wavenumber shells, "
            f"got {fa.shape[-2:]} and {fb.shape[-2:]}"
        )
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    _, pa = radial_spectrum(fa, dx, nbins)
    _, pb = radial_spectrum(fb, dx, nbins)
    start = 1 if nbins is None else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        la = np.log(pa / pa.sum(axis=-1, keepdims=True) + _LOG_FLOOR)[..., start:]
        lb = np.log(pb / pb.sum(axis=-1, keepdims=True) + _LOG_FLOOR)[..., start:]
    d = np.mean(np.abs(la - lb), axis=-1)
    nan = _is_constant(fa) | _is_constant(fb)
    d = np.where(nan, np.nan, d)
    return _out(np.broadcast_to(d, batch))


# -- morphology ----------------------------------------------------------------------
def _binarise(field, threshold):
    """The excursion set {field > threshold}, boolean (..., N, N)."""
    f = _as_fields(field, "field")
    batch = f.shape[:-2]
    if threshold is None:
        thr = np.asarray(morphology_threshold(f))
    else:
        thr = _to_numpy(threshold)
        if np.iscomplexobj(thr):
            raise ValueError("threshold must be real")
        thr = thr.astype(np.float64)
        if not np.isfinite(thr).all():
            raise ValueError("threshold must be finite")
        try:
            thr = np.broadcast_to(thr, batch)
        except ValueError:
            raise ValueError(
                f"threshold must be a scalar or broadcast to the batch shape {batch}, "
                f"got shape {thr.shape}"
            ) from None
    return f > thr[..., None, None]


def euler_characteristic(field, threshold=None, periodic=True):
    """Euler characteristic χ of the excursion set {field > threshold}; int, shape batch.

    Each pixel of the set is a closed unit square, so pixels touching at a corner are
    joined (the 8-connectivity of :func:`connected_components`), and χ = V − E + F
    counts the vertices, edges and faces of the union. With ``periodic=True`` (default)
    the squares live on the torus of the periodic domain. χ = (number of components) −
    (number of independent loops) + (enclosed cavities), so on the torus:

    - N disjoint disks (also disks cut by the domain edges): χ = N;
    - stripes that wrap around the torus (in any lattice direction): χ = 0;
    - the complement of N disjoint disks (N holes): χ = −N (the torus itself has χ = 0);
    - a labyrinth that percolates both ways: typically χ < 0.

    With ``periodic=False`` the field is treated as a patch of the plane (a disk cut
    by the edge becomes two pieces). threshold: None for each field's midrange
    (:func:`morphology_threshold`, the default of every morphology metric: symmetric
    between the phases, and a field with any contrast has both phases non-empty), or a
    scalar or array broadcasting to the batch shape. A constant field gives the empty
    set: χ = 0.
    """
    f = _binarise(field, threshold)
    if not periodic:
        pad = [(0, 0)] * (f.ndim - 2) + [(0, 1), (0, 1)]
        f = np.pad(f, pad)  # an empty row and column: the torus formula no longer wraps
    faces = f.sum(axis=(-2, -1))
    # an edge is in the set if either pixel beside it is; a vertex if any of its four
    edges = (f | np.roll(f, 1, axis=-2)).sum(axis=(-2, -1)) + (f | np.roll(f, 1, axis=-1)).sum(
        axis=(-2, -1)
    )
    g = f | np.roll(f, 1, axis=-1)
    vertices = (g | np.roll(g, 1, axis=-2)).sum(axis=(-2, -1))
    return _out((vertices - edges + faces).astype(np.int64))


_EIGHT = np.ones((3, 3), dtype=bool)


def label_components(mask: np.ndarray, periodic: bool = True) -> tuple[np.ndarray, int]:
    """Labels 1..n of the 8-connected components of a 2-D boolean mask (0: outside).

    With ``periodic=True`` the planar labels of ``scipy.ndimage.label`` are merged across
    opposite edges and corners, so the labels are those of the mask on the torus.
    Returns (labels of the mask's shape, n).
    """
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if not periodic or n == 0:
        return labels, int(n)
    a, b = [], []
    for shift in (-1, 0, 1):
        a += [labels[0, :], labels[:, 0]]
        b += [np.roll(labels[-1, :], shift), np.roll(labels[:, -1], shift)]
    a, b = np.concatenate(a), np.concatenate(b)
    keep = (a > 0) & (b > 0)
    graph = sparse.coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n + 1, n + 1))
    _, merged = _graph_components(graph, directed=False)  # merged[0] is the background's
    order = np.unique(merged[1:], return_inverse=True)[1] + 1  # renumber 1..m
    lookup = np.concatenate([[0], order])
    return lookup[labels], int(order.max())


def connected_components(field, threshold=None, periodic=True):
    """Number of connected components of {field > threshold}; int, shape batch.

    8-connectivity (pixels touching at a corner are joined), consistent with the
    closed-square convention of :func:`euler_characteristic`. With ``periodic=True``
    (default) components are counted on the torus: a spot cut by the domain edge is one
    spot, and a stripe wrapping around the domain is one component (labels from
    ``scipy.ndimage.label`` merged across opposite edges with a union-find). threshold:
    None for each field's midrange (:func:`morphology_threshold`), or a scalar / array
    broadcasting to the batch shape.
    """
    f = _binarise(field, threshold)
    flat = f.reshape(-1, f.shape[-2], f.shape[-1])
    counts = np.array([label_components(m, periodic)[1] for m in flat], dtype=np.int64)
    return _out(counts.reshape(f.shape[:-2]))


# -- forecast skill ------------------------------------------------------------------
def vrmse(pred, true, eps=_WELL_EPS):
    """Variance-scaled RMSE, The Well's VRMSE: sqrt(mean((pred − true)²) / (var(true) + eps)).

    Means and the variance are over the two spatial axes (var with ddof = 0, so
    predicting each field's spatial mean scores 1 up to the eps = 1e-7 guard; The Well
    uses torch's unbiased std², which differs by the factor √(1 − 1/N²), < 4e-5 at
    N = 128). 0 for a perfect prediction. pred, true: (..., N, N), same shape; returns
    float, shape batch, dimensionless. ``pred`` may hold inf/NaN (a diverged rollout):
    the score is then inf/NaN rather than an error; ``true`` must be finite.
    """
    t = _as_fields(true, "true")
    p = _as_fields(pred, "pred", finite=False)
    _check_same_shape(p, t, "pred", "true")
    eps = float(eps)
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        mse = np.mean((p - t) ** 2, axis=(-2, -1))
    var = np.var(t, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(np.sqrt(mse / (var + eps)))


def pearson_correlation(pred, true):
    """Pearson correlation over the two spatial axes; float in [−1, 1], shape batch.

    NaN where either field is constant, or ``pred`` is not finite (allowed, as in
    :func:`vrmse`).
    """
    t = _as_fields(true, "true")
    p = _as_fields(pred, "pred", finite=False)
    _check_same_shape(p, t, "pred", "true")
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        dp = p - p.mean(axis=(-2, -1), keepdims=True)
        dt = t - t.mean(axis=(-2, -1), keepdims=True)
        cov = np.mean(dp * dt, axis=(-2, -1))
        sp = np.sqrt(np.mean(dp * dp, axis=(-2, -1)))
        st = np.sqrt(np.mean(dt * dt, axis=(-2, -1)))
        r = cov / (sp * st)
        r = np.where((sp > _CONSTANT_RTOL * np.max(np.abs(p), axis=(-2, -1)))
                     & (st > _CONSTANT_RTOL * np.max(np.abs(t), axis=(-2, -1))), r, np.nan)
    return _out(np.clip(r, -1.0, 1.0))


def correlation_time(pred, true, threshold=0.8):
    """Frames a rollout stays correlated with the truth (PDE-Refiner's correlation time).

    pred, true: (..., T, N, N), time on the third-from-last axis, same shape. For each
    trajectory the Pearson correlation of every frame is taken over the spatial axes
    (:func:`pearson_correlation`); the result is the number of leading frames before it
    first drops below ``threshold`` — the index of the first frame with r < threshold,
    or T if it never does. int, shape ``pred.shape[:-3]`` (batch of trajectories).
    A frame whose correlation is undefined (constant field, or non-finite ``pred`` from a
    diverged rollout) counts as decorrelated.

    Per trajectory, unlike Lippe et al. (2023), who average the correlation over the
    batch first; their number for a batch of B trajectories (axis 0) is::

        r = pearson_correlation(pred, true).mean(axis=0)       # (T,)
        below = ~(r >= threshold); t = below.argmax() if below.any() else len(r)
    """
    t = _as_fields(true, "true", min_ndim=3)
    p = _as_fields(pred, "pred", finite=False, min_ndim=3)
    _check_same_shape(p, t, "pred", "true")
    threshold = float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [-1, 1], got {threshold!r}")
    return decorrelation_frame(pearson_correlation(p, t), threshold)


def decorrelation_frame(r, threshold=0.8):
    """The one definition of correlation time, from correlations r (..., T) over time.

    The number of leading frames before r first drops below ``threshold`` (T if it never
    does); NaN — a constant (collapsed) prediction, or a diverged one — counts as below, so
    a collapsed rollout is decorrelated, never dropped. int, shape ``r.shape[:-1]``.
    :func:`correlation_time` is this applied to :func:`pearson_correlation` of each frame.
    """
    r = np.asarray(_to_numpy(r), dtype=np.float64)
    if r.ndim < 1:
        raise ValueError(f"r must have a time axis (..., T), got shape {r.shape}")
    threshold = float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [-1, 1], got {threshold!r}")
    below = ~(r >= threshold)  # NaN counts as below
    frames = np.where(below.any(axis=-1), below.argmax(axis=-1), r.shape[-1])
    return _out(frames.astype(np.int64))


# -- physics -------------------------------------------------------------------------
def pde_residual(model, u, v, dx, stencil="5-point", per_species=False):
    """How far (u, v) is from a steady Gray-Scott state: the RMS of ∂(u, v)/∂t.

    r_u = D_u ∇²u + f_u(u, v),  r_v = D_v ∇²v + f_v(u, v)  (the right-hand sides; zero
    for any steady state), with the periodic discrete Laplacian ``stencil`` of
    :mod:`turing_helpers.stencils` and ``model`` a :class:`~turing_helpers.gray_scott.GrayScott`.
    u, v: (..., N, N), same shape; dx in length units. Returns, in 1/time
    (concentration per time unit):

    - default: sqrt(mean over the grid of r_u² + r_v²) — the RMS length of the vector
      (r_u, r_v), float, shape batch (the module's return rule);
    - ``per_species=True``: (RMS r_u, RMS r_v), shape (..., 2); the default is
      sqrt(RMS r_u² + RMS r_v²).

    0 (to rounding) for each homogeneous steady state of the model.
    """
    for attribute in ("rhs", "Du", "Dv"):
        if not hasattr(model, attribute):
            raise ValueError(f"model must be a GrayScott instance (no .{attribute}), got {model!r}")
    uu = _as_fields(u, "u")
    vv = _as_fields(v, "v")
    _check_same_shape(uu, vv, "u", "v")
    dx = check_positive("dx", dx)
    check_stencil(stencil)
    ru, rv = model.rhs(uu, vv, dx, stencil)
    rms = np.stack(
        [np.sqrt(np.mean(ru**2, axis=(-2, -1))), np.sqrt(np.mean(rv**2, axis=(-2, -1)))], axis=-1
    )  # (..., 2)
    if per_species:
        return rms
    return _out(np.sqrt(np.sum(rms**2, axis=-1)))


# -- baselines and distributions -----------------------------------------------------
def phase_randomized(field, seed):
    """Phase-randomised surrogate: same |FFT| and mean, random Fourier phases.

    field: (..., N, N). Each Fourier coefficient f̂(q), q ≠ 0, is multiplied by
    e^{iφ(q)} with φ(−q) = −φ(q) (the phases of the FFT of real white noise, so the
    product stays Hermitian-symmetric and the result real); the mean (q = 0) is kept.
    Hence |f̂| — the power spectrum, every spectral metric, the variance — is preserved
    to rounding, while morphology (components, χ, the pixel histogram, which tends to a
    Gaussian) is not. Batch members get independent phases. seed: int, None or a
    ``numpy.random.Generator``. Returns float64 fields of the input's shape (numpy, even
    for torch input).
    """
    f = _as_fields(field, "field")
    n = f.shape[-1]
    rng = np.random.default_rng(seed)
    noise = np.fft.rfft2(rng.standard_normal(f.shape))
    magnitude = np.abs(noise)
    phase = np.where(magnitude > 0, noise / np.where(magnitude > 0, magnitude, 1.0), 1.0)
    phase[..., 0, 0] = 1.0
    return np.fft.irfft2(np.fft.rfft2(f) * phase, s=(n, n))


def pixel_histogram_distance(a, b, bins=None):
    """1-Wasserstein distance between the value distributions of two fields.

    The pixel values of each field, taken as a sample (position ignored), compared with
    W₁ = ∫ |F_a(x) − F_b(x)| dx, in field units. 0 for any rearrangement of the same
    values; a constant offset c gives |c|. a: (..., Na, Na), b: (..., Nb, Nb) — the
    grid sizes may differ (e.g. a generated 32² patch against a 128² solver field), the
    batch shapes broadcast. bins: None (default) for the exact W₁ of the samples
    (``scipy.stats.wasserstein_distance``; a sort when Na = Nb), or an int to compare
    histograms with that many bins on the pair's common range (faster, coarser).
    Returns float, the broadcast batch shape.
    """
    fa, fb, batch = _field_pair(a, b)
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, (int, np.integer))
                             or bins < 1):
        raise ValueError(f"bins must be a positive integer or None, got {bins!r}")
    xa = np.broadcast_to(fa.reshape(fa.shape[:-2] + (-1,)), batch + (fa.shape[-1] ** 2,))
    xb = np.broadcast_to(fb.reshape(fb.shape[:-2] + (-1,)), batch + (fb.shape[-1] ** 2,))
    xa = xa.reshape(-1, xa.shape[-1])
    xb = xb.reshape(-1, xb.shape[-1])
    if bins is None and xa.shape[-1] == xb.shape[-1]:
        # equal sample sizes: W1 is the mean gap between the sorted samples
        d = np.mean(np.abs(np.sort(xa, axis=-1) - np.sort(xb, axis=-1)), axis=-1)
    elif bins is None:
        d = np.array([stats.wasserstein_distance(x, y) for x, y in zip(xa, xb)])
    else:
        d = np.empty(xa.shape[0])
        for i, (x, y) in enumerate(zip(xa, xb)):
            lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
            if hi <= lo:
                d[i] = 0.0
                continue
            edges = np.linspace(lo, hi, int(bins) + 1)
            cx = np.cumsum(np.histogram(x, edges)[0]) / x.size
            cy = np.cumsum(np.histogram(y, edges)[0]) / y.size
            d[i] = np.sum(np.abs(cx - cy)[:-1]) * (edges[1] - edges[0])
    return _out(d.reshape(batch))
