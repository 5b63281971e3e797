"""Spectra of fields: radial power spectra, the dominant wavenumber, spectral entropy, the
distance between spectral shapes, and phase-randomised surrogates (the same spectrum,
Gaussian statistics). Wavenumbers q in radians per length unit, power in (field units)².
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import sparse

from .._checks import check_positive
from .fields import as_fields, batch_result, check_same_shape, field_pair, is_constant

__all__ = ["radial_spectrum", "radial_cross_spectrum", "dominant_wavelength", "spectral_entropy",
           "spectrum_distance", "phase_randomized", "rfft_modes", "shell_geometry", "mode_power"]

# Floor added to the normalised spectrum before the log in spectrum_distance.
_LOG_FLOOR = 1e-12


@lru_cache(maxsize=32)
def rfft_modes(n: int, dx: float):
    """The Fourier modes of an n × n periodic grid of spacing dx on the rfft2 half-plane, the
    one mode geometry of the package (spectra, set wavelengths, the trainer's spectrum loss).

    Returns (q, multiplicity, shell), each (M,) with M = n (n//2 + 1), modes in the order of
    ``np.fft.rfft2(f).ravel()``: |q| in rad/length; how many modes of the full FFT the mode
    stands for (2, or 1 for the self-conjugate columns kx = 0 and, n even, the Nyquist
    column), so that Σ multiplicity · power over the half-plane is the full plane's sum; and
    its shell, the nearest integer multiple of the box's fundamental 2π/(n dx). Read-only.
    """
    qy = 2.0 * np.pi * np.fft.fftfreq(n, d=dx)  # rows, rad/length
    qx = 2.0 * np.pi * np.fft.rfftfreq(n, d=dx)  # columns (non-negative half)
    q = np.sqrt(qy[:, None] ** 2 + qx[None, :] ** 2).ravel()  # (M,)
    multiplicity = np.full((n, qx.size), 2.0)
    multiplicity[:, 0] = 1.0
    if n % 2 == 0:
        multiplicity[:, -1] = 1.0  # the Nyquist column is its own conjugate
    multiplicity = multiplicity.ravel()
    shell = np.floor(q / (2.0 * np.pi / (n * dx)) + 0.5).astype(np.int64)
    for arr in (q, multiplicity, shell):
        arr.flags.writeable = False
    return q, multiplicity, shell


@lru_cache(maxsize=32)
def shell_geometry(n: int, dx: float, nbins: int | None):
    """Binning of the rfft2 modes of an n × n grid (:func:`rfft_modes`) into wavenumber shells.

    Returns (q_centres (nbins,), counts (nbins,), S, Sq): S is a sparse (M, nbins)
    matrix with S[m, b] = multiplicity of rfft mode m if it lies in shell b, and Sq the
    same weighted by the mode's |q|. With ``nbins`` None the shells are those of
    :func:`rfft_modes` (width the fundamental 2π/(n dx)); otherwise ``nbins`` shells of
    equal width up to the corner of the spectrum.
    """
    qmag, mult, shell = rfft_modes(n, dx)
    q_top = float(qmag.max())
    if nbins is None:
        width = 2.0 * np.pi / (n * dx)  # the fundamental wavenumber of the box
        nbins = int(shell.max()) + 1
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


def mode_power(f: np.ndarray) -> np.ndarray:
    """|FFT|² / N⁴ of the mean-removed fields f (..., N, N) on the rfft half-plane, flattened
    (B, M) in the order of :func:`rfft_modes` (field units²; mode (0, 0) is exactly 0)."""
    n = f.shape[-1]
    X = np.fft.rfft2(f)  # (..., n, n//2+1)
    X[..., 0, 0] = 0.0  # remove the mean exactly
    P = (X.real**2 + X.imag**2) / float(n) ** 4
    return P.reshape(-1, P.shape[-2] * P.shape[-1])


def _shells(f: np.ndarray, dx: float, nbins: int | None, with_q: bool = False):
    """Shell-summed power (B, nbins) (and shell-summed power × |q| if with_q)."""
    q, counts, S, Sq = shell_geometry(f.shape[-1], dx, nbins)
    P = mode_power(f)  # (B, M)
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
    f = as_fields(field, "field")
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
    fa, fb = as_fields(a, "a"), as_fields(b, "b")
    check_same_shape(fa, fb, "a", "b")
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    n = fa.shape[-1]
    q, counts, S, _ = shell_geometry(n, dx, nbins)
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
    f = as_fields(field, "field")
    dx = check_positive("dx", dx)
    _, _, shell, shell_q = _shells(f, dx, None, with_q=True)
    peak = np.argmax(shell, axis=-1)  # (B,)
    bins = np.arange(shell.shape[-1])
    window = np.abs(bins[None, :] - peak[:, None]) <= 1  # (B, nbins)
    num = np.sum(np.where(window, shell_q, 0.0), axis=-1)
    den = np.sum(np.where(window, shell, 0.0), axis=-1)
    constant = is_constant(f).reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        wavelength = np.where(constant | (den <= 0), np.nan, 2.0 * np.pi * den / num)
    return batch_result(wavelength.reshape(f.shape[:-2]))


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
    f = as_fields(field, "field")
    dx = check_positive("dx", dx)
    nbins = _check_nbins(nbins)
    q, power = radial_spectrum(f, dx, nbins)
    power = power.reshape(-1, q.size)
    total = power.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = power / total
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    H = terms.sum(axis=-1)
    H = np.where(is_constant(f).reshape(-1), np.nan, H)
    return batch_result(H.reshape(f.shape[:-2]))


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
    fa, fb, batch = field_pair(a, b)
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
    nan = is_constant(fa) | is_constant(fb)
    d = np.where(nan, np.nan, d)
    return batch_result(np.broadcast_to(d, batch))


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
    f = as_fields(field, "field")
    n = f.shape[-1]
    rng = np.random.default_rng(seed)
    noise = np.fft.rfft2(rng.standard_normal(f.shape))
    magnitude = np.abs(noise)
    phase = np.where(magnitude > 0, noise / np.where(magnitude > 0, magnitude, 1.0), 1.0)
    phase[..., 0, 0] = 1.0
    return np.fft.irfft2(np.fft.rfft2(f) * phase, s=(n, n))
