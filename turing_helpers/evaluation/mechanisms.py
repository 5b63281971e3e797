"""Measuring the analogy's mechanisms (chapter 7): gates against chemistry, drift against scale.

Two questions about the trained models, asked in the terms of the gated update
x' = a ⊙ x + b + σ ξ (:mod:`turing_helpers.analogy`):

- Do the ConvLSTM's gates track the chemistry? :func:`teacher_forced_gates` records its
  input and forget gates while it reads true frames, :func:`gray_scott_fields` gives the
  fields they are set against on the same frames (the activator v, the substrate u, and
  Gray-Scott's own forget factor a_u and input b_v), and :func:`gate_chemistry` correlates
  them per hidden channel, frame by frame, beside a baseline that keeps each field's spatial
  structure but breaks the alignment (:func:`shifted_correlation`).
- Does the DDPM's learned drift act like a Turing band — reinforcing the class's own ring
  of wavenumbers and opposing the others? :func:`drift_feedback` splits one reverse step into
  its amplification a, drift b and noise σξ and measures, per wavenumber shell, how much of
  the current state each part carries forward.
"""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..analogy import DDPMReverse, GrayScottEuler
from ..gray_scott import GrayScott

__all__ = ["field_correlation", "shifted_correlation", "shift_correlation_maps", "teacher_forced_gates",
           "gray_scott_fields", "gate_chemistry", "drift_feedback"]


def field_correlation(a, b) -> np.ndarray:
    """Pearson correlation over the grid of each pair of fields.

    a, b: arrays of one shape (..., H, W). Returns (...) correlations in [−1, 1]; NaN where
    either field is constant (no correlation is defined there; the callers count those apart).
    The package's one definition, :func:`turing_helpers.metrics.pearson_correlation`.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must have one shape (..., H, W), got {a.shape} and {b.shape}")
    return np.asarray(metrics.pearson_correlation(a, b))


def shifted_correlation(a, b, seed: int = 0) -> np.ndarray:
    """:func:`field_correlation` of a with b circularly shifted by a random offset per field.

    The null baseline for spatially smooth fields: a pixel shuffle would give ≈ 0 by
    construction, while two unrelated smooth fields on a periodic box are correlated by
    chance about as much as their few independent blobs allow. Each field's offset is drawn
    (seeded) with both components between a quarter and three quarters of the box, so it
    moves the field well away from its own alignment. Use the spread of the baseline (e.g. a
    quantile of |r|), not its mean: fields dominated by box-scale modes anticorrelate at
    half-box shifts. Shapes as in :func:`field_correlation`.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must have one shape (..., H, W), got {a.shape} and {b.shape}")
    H, W = a.shape[-2:]
    flat = b.reshape((-1, H, W))
    rng = np.random.default_rng(seed)
    dy = rng.integers(H // 4, max(H // 4 + 1, 3 * H // 4 + 1), len(flat))
    dx = rng.integers(W // 4, max(W // 4 + 1, 3 * W // 4 + 1), len(flat))  # the range of _far_shifts
    shifted = np.stack([np.roll(f, (y, x), axis=(-2, -1)) for f, y, x in zip(flat, dy, dx)])
    return field_correlation(a, shifted.reshape(b.shape))


def shift_correlation_maps(a, b) -> np.ndarray:
    """:func:`field_correlation` of each field a with b circularly shifted by every offset.

    a, b: arrays of one shape (..., H, W). Returns (..., H, W): entry [..., dy, dx] is the
    correlation of a with ``np.roll(b, (dy, dx), axis=(-2, -1))`` (entry [..., 0, 0] is the
    aligned correlation), all offsets at once by FFT; NaN where either field is constant.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must have one shape (..., H, W), got {a.shape} and {b.shape}")

    def unit(f):
        centred = f - f.mean(axis=(-2, -1), keepdims=True)
        norm = np.sqrt((centred ** 2).sum(axis=(-2, -1), keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, centred / np.where(norm > 0, norm, 1.0), np.nan)

    za, zb = unit(a), unit(b)
    maps = np.fft.ifft2(np.fft.fft2(za) * np.conj(np.fft.fft2(zb))).real
    return np.clip(maps, -1.0, 1.0)


def _far_shifts(H: int, W: int) -> tuple[np.ndarray, np.ndarray]:
    """The offsets of :func:`shifted_correlation`'s baseline: both components between a quarter
    and three quarters of the box."""
    dy = np.arange(H // 4, max(H // 4 + 1, 3 * H // 4 + 1))
    dx = np.arange(W // 4, max(W // 4 + 1, 3 * W // 4 + 1))
    return np.repeat(dy, dx.size), np.tile(dx, dy.size)


def teacher_forced_gates(convlstm, frames) -> dict[str, np.ndarray]:
    """The ConvLSTM's gates while it reads true frames, one step per frame.

    frames: (B, T, 2, n, n) physical (u, v). The model reads all T frames as context (its
    own predictions are never fed back), so gate entry t is that of the step reading frame
    t, an estimate of frame t + 1. Returns numpy float32 arrays (B, T, C, n, n) for the
    input gate ``i``, forget gate ``f``, candidate ``g`` and cell state ``c`` (after the step).
    """
    import torch

    with torch.no_grad():
        _, gates = convlstm.rollout(torch.as_tensor(np.asarray(frames, np.float32)), 1, return_gates=True)
    return {name: gates[name].numpy() for name in ("i", "f", "g", "c")}


def gray_scott_fields(model: GrayScott, frames, dx: float, dt: float = 1.0) -> dict[str, np.ndarray]:
    """The chemistry the gates are set against, on frames (..., 2, n, n) of (u, v).

    Returns (..., n, n) float64 arrays: ``u``, ``v``; ``a_u`` = 1 − dt (F + v²), the Euler
    step's forget factor of u (the ``"reaction"`` split of :class:`GrayScottEuler`);
    ``b_v`` = dt (D_v ∇²v + u v²), the step's input to v (autocatalysis and diffusion); and
    ``decay_u`` = F + v², u's decay rate (1/time), to set against a gate's −ln f / Δ.
    """
    x = np.asarray(frames, np.float64)
    a, b, _ = GrayScottEuler(model, dx, dt).gates(x)
    return {"u": x[..., 0, :, :], "v": x[..., 1, :, :], "a_u": a[..., 0, :, :], "b_v": b[..., 1, :, :],
            "decay_u": model.F + x[..., 1, :, :] ** 2}


def gate_chemistry(gates: dict, chemistry: dict, seed: int = 0, quantiles=(0.1, 0.9)) -> dict:
    """Per gate channel and chemistry field: spatial correlations frame by frame.

    gates: {gate name: (N, C, n, n)} (frames flattened onto N); chemistry: {field name:
    (N, n, n)} on the same frames. For each gate, channel and field returns a dict with
    ``r`` (C, N) the per-frame correlations, ``median`` (C,) and the ``low``/``high``
    quantiles (C,) over frames (frames where either field is constant are left out and
    counted in ``undefined``), and the baseline from :func:`shifted_correlation`:
    ``baseline_median`` (C,) and ``baseline_abs_high`` (C,), the upper quantile of |r| of
    the shifted pairs — an |median| below it is indistinguishable from chance alignment.

    And a test per channel: ``p`` (C,), the two-sided shift-permutation p-value of the
    median. On a periodic box with translation-invariant dynamics the aligned pair is, with
    no alignment between gate and field, one draw among the pairs misaligned by a fixed
    offset; so the median over frames at offset 0 is ranked among the medians at every far
    offset (:func:`shifted_correlation`'s range, ``offsets`` of them), one offset for all
    frames at once, which keeps the frames' dependence in the null: p = (1 + #{offsets with
    |median| ≥ the aligned |median|}) / (1 + offsets). The smallest possible p is
    1/(1 + offsets); read many channels together with a correction
    (:func:`~turing_helpers.evaluation.benjamini_hochberg`).
    """
    out = {}
    for gate, values in gates.items():
        values = np.asarray(values)
        if values.ndim != 4:
            raise ValueError(f"gates[{gate!r}] must have shape (N, C, n, n), got {values.shape}")
        out[gate] = {}
        for c_name, field in chemistry.items():
            field = np.asarray(field)
            if field.shape != values.shape[:1] + values.shape[2:]:
                raise ValueError(f"chemistry[{c_name!r}] must have shape {values.shape[:1] + values.shape[2:]}, "
                                 f"got {field.shape}")
            C = values.shape[1]
            r = np.stack([field_correlation(values[:, ch], field) for ch in range(C)])       # (C, N)
            null = np.stack([shifted_correlation(values[:, ch], field, seed + ch) for ch in range(C)])
            median = np.nanmedian(r, axis=1)
            dy, dx = _far_shifts(*field.shape[-2:])
            shifted_medians = np.stack([
                np.nanmedian(shift_correlation_maps(values[:, ch], field)[:, dy, dx], axis=0) for ch in range(C)])
            exceed = (np.abs(shifted_medians) >= np.abs(median)[:, None]).sum(axis=1)
            out[gate][c_name] = {
                "r": r, "median": median, "low": np.nanquantile(r, quantiles[0], axis=1),
                "high": np.nanquantile(r, quantiles[1], axis=1), "undefined": np.isnan(r).sum(axis=1),
                "baseline_median": np.nanmedian(null, axis=1),
                "baseline_abs_high": np.nanquantile(np.abs(null), quantiles[1], axis=1),
                "p": (1 + exceed) / (1 + dy.size), "offsets": int(dy.size)}
    return out


def drift_feedback(ddpm, x0, label, t: int, guidance: float = 1.0, seed: int = 0, dx: float = 1.0) -> dict:
    """One ancestral reverse step t → t − 1 from clean fields x0 noised to level t, per scale.

    x0: (B, 2, n, n) physical fields of one class; label: its name or index. The state
    x_t = √ᾱ_t x̂0 + √(1 − ᾱ_t) ε (seeded) is split by :class:`DDPMReverse` (``"eps"``
    split) into a x_t + b + σ ξ. For the v channel, in network units, per wavenumber shell q
    (rad/length for grid spacing dx) returns:

    - ``q`` (nbins,); ``a`` the amplification (a scalar ≥ 1); ``sigma`` the noise size;
    - ``drift_gain`` (nbins,): ⟨Re b̂ x̂_t*⟩ / ⟨|x̂_t|²⟩, the share of the state the drift
      adds back (> 0 reinforces that scale, < 0 opposes it); ``a + drift_gain`` is the
      deterministic step's gain on the state, shell by shell (1: kept, > 1: amplified);
    - ``clean_gain`` (nbins,): the same for the part of x_t that is the clean pattern,
      ⟨Re (a x_t + b)^ (√ᾱ x̂0)^*⟩ / ⟨|(√ᾱ x̂0)^|²⟩ (does the step keep the pattern's own
      scales?), and ``noise_gain`` the same for the noise part √(1 − ᾱ) ε;
    - ``power`` (nbins,): the radial power of x_t, of the clean part and of the noise part;
    - the references a denoiser is measured against, fixed by the schedule and the data:
      ``pure_noise_gain`` = √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t), the ideal step's gain on a shell
      that holds only noise (the posterior mean's coefficient of x_t), ``pure_signal_gain``
      = 1/√α_t, its gain on a shell that holds only signal, and ``wiener_gain`` (nbins,),
      the gain of the optimal *linear* denoiser for Gaussian data with the clean fields'
      spectrum: pure_noise + (pure_signal − pure_noise) · SNR/(1 + SNR), with SNR(q) the
      clean part's power over the noise's, (1 − ᾱ_t)/N² per mode. A measured gain above the
      Wiener curve keeps that scale more than any linear filter of the spectrum would.
    """
    import torch

    x0 = torch.as_tensor(np.asarray(x0, np.float32))
    if x0.ndim != 4 or x0.shape[1] != 2:
        raise ValueError(f"x0 must have shape (B, 2, n, n), got {tuple(x0.shape)}")
    labels = ddpm.labels(label, len(x0))
    generator = torch.Generator().manual_seed(seed)
    clean = ddpm.normalize(x0)
    abar = ddpm.alphas_cumprod[t]
    noise = torch.randn(clean.shape, generator=generator)
    signal_part, noise_part = abar.sqrt() * clean, (1 - abar).sqrt() * noise
    x_t = signal_part + noise_part
    step = DDPMReverse(ddpm, t, labels, method="ancestral", guidance=guidance)
    a, b, sigma = step.gates(x_t)
    a = float(a)
    kept = a * x_t + b                                                   # the deterministic step
    v = lambda z: z[:, 1].double().numpy()                               # noqa: E731
    q, p_state = metrics.radial_spectrum(v(x_t), dx)
    _, p_signal = metrics.radial_spectrum(v(signal_part), dx)
    _, p_noise = metrics.radial_spectrum(v(noise_part), dx)

    def share(part, onto, power):
        _, cross = metrics.radial_cross_spectrum(v(part), v(onto), dx)
        total = power.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, cross.mean(axis=0) / np.where(total > 0, total, 1.0), np.nan)

    n = x0.shape[-1]
    pure_noise = float(ddpm.posterior_mean_coef2[t])
    pure_signal = float(1.0 / (1.0 - ddpm.betas[t]).sqrt())
    snr = p_signal.mean(axis=0) / (float(1 - abar) / n**2)
    wiener = pure_noise + (pure_signal - pure_noise) * snr / (1.0 + snr)
    return {"q": q, "a": a, "sigma": float(sigma), "t": int(t),
            "pure_noise_gain": pure_noise, "pure_signal_gain": pure_signal, "wiener_gain": wiener,
            "drift_gain": share(b, x_t, p_state), "clean_gain": share(kept, signal_part, p_signal),
            "noise_gain": share(kept, noise_part, p_noise),
            "power": {"state": p_state.mean(axis=0), "signal": p_signal.mean(axis=0),
                      "noise": p_noise.mean(axis=0)}}
