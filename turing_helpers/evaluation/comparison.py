"""Chapter 6's experiments: the solver, the ConvLSTM and the DDPM on the same measurements.

Every experiment starts from *developed* solver states of fresh seeds (never used in training,
tuning or the tests) on The Well's spacing dx = 2/128, on the DDPM's 48² periodic box, and is
measured through the shared layer (:mod:`turing_helpers.evaluation`):

- :func:`stability_under_time`: 1000-frame rollouts of the ConvLSTM beside the solver from the
  same states (forecast skill over the first frames; the "climate" of the last 500 frames);
- :func:`ddpm_settling`: DDPM samples handed to the true solver — how far and how long they
  move before they settle, against the solver's own developed states treated the same way;
- :func:`perturbation_recovery`: developed patterns perturbed (noise of several amplitudes, an
  erased patch) and then acted on by each system — evolve, roll out, noise-and-denoise;
- :func:`learned_gains`: the ConvLSTM's linear response around (1, 0) against the exact
  exp(10 λ(q)); the gain of one DDPM reverse step per wavenumber across noise levels; where
  each class's ring emerges in the sampling chain, with the PDE residual along it;
- :func:`pattern_complexity`: the pattern statistics of each system's fields against the
  solver's, with bootstrap intervals, and the phase-randomised surrogate beside them;
- :func:`measure_cost`: time and memory per generated frame and per developed pattern.

:func:`run` performs them all for a :class:`ComparisonConfig` (``benchmarks/compare.py`` with
the default config; the tests with a small one) and :func:`summary_table` condenses the result.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import metrics
from ..data import WELL_CLASSES, developed_patterns
from ..presets import preset
from ..solver import simulate
from .forecast import forecast_skill
from .patterns import STATISTICS, compare_patterns, pattern_statistics, set_wavelength
from .response import linear_response, spectral_gain

__all__ = ["ComparisonConfig", "run", "summary_table", "stability_under_time", "ddpm_settling",
           "perturbation_recovery", "learned_gains", "pattern_complexity", "measure_cost", "CLIMATE_RULE",
           "recovery_distance", "rollout_climate", "climate_verdict", "rerun_convlstm"]

# How a 1000-frame rollout was classed by the first protocol (hand-set tolerances on three snapshot
# statistics, 8 starts per class). Chapter 6 now uses the solver-calibrated climate test
# (turing_helpers.evaluation.climate.climate_test); chapter 7 still quotes this rule's verdicts.
CLIMATE_RULE = {"faded": "uniform in at least half the frames, or v std below half the solver's",
                "on the attractor": "v std within 25%, wavelength within 10%, component density within 25%",
                "drifted": "neither: a pattern, but with other statistics"}


@dataclass(frozen=True)
class ComparisonConfig:
    """Sizes and seeds of chapter 6's experiments (stored in the results file)."""

    size: int = 48                 # the DDPM's periodic box: 48 dx = 0.75 length units
    dx: float = 2 / 128            # The Well's spacing
    start_seed: int = 31           # developed solver states the experiments start from (fresh)
    other_seed: int = 33           # a second solver set: the seed-to-seed noise floor
    reference_per_class: int = 12  # solver fields per class in each comparison set
    starts_per_class: int = 8      # of those, how many start the 1000-frame rollouts
    frames: int = 1000             # long rollouts, frames of 10 time units
    climate_from: int = 500        # the climate is averaged over frames climate_from..frames
    record_every: int = 10         # frames between recorded statistics of the long rollouts
    horizon: int = 100             # forecast windows: the first `horizon` frames of each rollout
    samples_per_class: int = 12    # DDPM samples per class
    ddim_steps: int = 100          # the DDPM's sampling steps (chapter 5's protocol)
    sample_seed: int = 600
    settle_steps: int = 10_000     # solver steps applied to the DDPM samples
    settle_every: int = 100
    perturb_per_class: int = 4
    noise_amplitudes: tuple = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)
    patch: int = 16                # side of the erased square (set to the state (1, 0))
    relax_frames: int = 100        # frames the solver and the ConvLSTM act on a perturbed field
    ddpm_t_start: int = 300        # noise level of the DDPM's relaxation (of T = 1000)
    gain_levels: tuple = (20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 980)
    gain_fields: int = 8
    chain_samples: int = 4         # samples per class whose sampling chain is recorded
    bootstrap: int = 1000
    classes: tuple = WELL_CLASSES


CONTEXT = 4  # frames the ConvLSTM reads before its first prediction
FINITE_AMPLITUDE = 1e-2  # the ConvLSTM's finite-amplitude response around (1, 0)
SETTLED_RATE = 0.005     # VRMSE of v per record (settle_every solver steps) below which a field is at rest


def _progress(iterable, show, desc):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, unit="class")


def _solver_frames(name, fields, frames, dx):
    """Solver frames every 10 steps from fields (B, 2, n, n): (B, frames + 1, 2, n, n) float32."""
    u, v = simulate(preset(name), fields[:, 0].astype(np.float64), fields[:, 1].astype(np.float64),
                    steps=10 * frames, dt=1.0, dx=dx, backend="numba", save_every=10)
    return np.stack([u, v], axis=2).astype(np.float32)


def _relative(value, reference):
    """(value − reference)/|reference|; NaN where the reference is 0 or NaN."""
    if not np.isfinite(reference) or reference == 0:
        return float("nan")
    return (value - reference) / abs(reference)


def climate_verdict(model: dict, solver: dict) -> str:
    """"faded", "on the attractor" or "drifted": a rollout's climate against the solver's (:data:`CLIMATE_RULE`)."""
    if model["uniform_fraction"] >= 0.5 or model["v_std"] < 0.5 * solver["v_std"]:
        return "faded"
    close = (abs(_relative(model["v_std"], solver["v_std"])) <= 0.25
             and abs(_relative(model["dominant_wavelength"], solver["dominant_wavelength"])) <= 0.10
             and abs(_relative(model["component_density"], solver["component_density"])) <= 0.25)
    return "on the attractor" if close else "drifted"


def _climate(stats: dict, v: np.ndarray, dx: float) -> dict:
    """Time-and-trajectory means of pattern statistics (each (B, K)) of fields v (B, K, n, n).

    ``v_std`` and the uniform fraction over all frames (a faded frame counts, with its tiny
    std: that is the fading the climate test looks for); the component density and the
    complexity over the non-uniform frames; the wavelength is the set wavelength of the
    non-uniform frames (:func:`set_wavelength`), NaN if all are uniform.
    """
    out = {"uniform_fraction": float(np.mean(stats["uniform"])), "v_std": float(np.mean(stats["v_std"])),
           "dominant_wavelength": set_wavelength(v.reshape((-1,) + v.shape[-2:]), dx)}
    for name in ("component_density", "compression_complexity"):
        values = np.where(stats["uniform"], np.nan, stats[name])
        out[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    return out


def rollout_climate(v, dx: float) -> dict:
    """The climate of frames v (B, K, n, n) of rollouts: the time-and-trajectory means of
    :func:`stability_under_time` (v std, uniform fraction, set wavelength, component density,
    compression complexity), for any system's rollout."""
    v = np.asarray(v, np.float64)
    return _climate(pattern_statistics(v, dx), v, dx)


def stability_under_time(convlstm, starts: dict, config: ComparisonConfig, progress=False) -> dict:
    """ConvLSTM rollouts of ``config.frames`` frames beside the solver, per class.

    starts: {class: developed fields (B, 2, n, n)}. The solver runs CONTEXT − 1 + frames frames
    from each state; the ConvLSTM reads its first CONTEXT frames and predicts the rest. Returns
    per class: the forecast skill of the first ``horizon`` frames (and persistence's), the
    climate of frames ``climate_from``..``frames`` of both and its verdict (:data:`CLIMATE_RULE`),
    and series every ``record_every`` frames (class means of v std, PDE residual, uniform
    fraction); also the end states of both.
    """
    import torch

    out = {"frames": config.frames, "record": list(range(0, config.frames + 1, config.record_every))}
    skill_scores, skill_persistence, labels = [], [], []
    for name in _progress(config.classes, progress, "rollouts"):
        fields = starts[name]
        truth = _solver_frames(name, fields, config.frames + CONTEXT - 1, config.dx)  # (B, F, 2, n, n)
        with torch.no_grad():
            pred = convlstm.rollout(torch.from_numpy(truth[:, :CONTEXT]), config.frames).numpy()  # (B, frames, ...)
        # prediction k is frame CONTEXT + k of the truth; "frame f" below counts from the last context frame
        true_after = truth[:, CONTEXT:]                                            # (B, frames, 2, n, n)
        H = config.horizon
        skill_scores.append((pred[:, :H].copy(), true_after[:, :H].copy()))
        skill_persistence.append(np.repeat(truth[:, CONTEXT - 1:CONTEXT], H, axis=1))
        labels += [config.classes.index(name)] * len(fields)
        record = [f - 1 for f in out["record"][1:]]  # frames 10, 20, ... → index f − 1
        model_frames, solver_frames = pred[:, record], true_after[:, record]       # (B, K, 2, n, n)
        gs = preset(name)
        entry = {"series": {}}
        for system, frames_ in (("convlstm", model_frames), ("solver", solver_frames)):
            stats = pattern_statistics(frames_[:, :, 1], config.dx)                 # each (B, K)
            residual = np.asarray(metrics.pde_residual(gs, frames_[:, :, 0], frames_[:, :, 1], config.dx))
            climate_mask = np.asarray(out["record"][1:]) >= config.climate_from
            entry[system] = _climate({key: value[:, climate_mask] for key, value in stats.items()},
                                     frames_[:, climate_mask, 1].astype(np.float64), config.dx)
            entry["series"][system] = {"v_std": stats["v_std"].mean(axis=0), "pde_residual": residual.mean(axis=0),
                                       "uniform_fraction": stats["uniform"].mean(axis=0)}
        entry["verdict"] = climate_verdict(entry["convlstm"], entry["solver"])
        entry["end"] = {"convlstm": pred[:, -1], "solver": true_after[:, -1]}
        out[name] = entry
    pred = np.concatenate([p for p, _ in skill_scores])
    true = np.concatenate([t for _, t in skill_scores])
    out["skill"] = {"convlstm": forecast_skill(pred, true, labels=labels, classes=config.classes),
                    "persistence": forecast_skill(np.concatenate(skill_persistence), true, labels=labels,
                                                  classes=config.classes)}
    return out


def _set_distance(v: np.ndarray, reference_stats: dict, reference_wavelength: float, dx: float) -> float:
    """Mean relative distance of a set's v std, component density and set wavelength to a reference's."""
    s = pattern_statistics(v, dx)
    alive = ~s["uniform"]
    if not alive.any():
        return 1.0
    parts = [abs(_relative(float(np.mean(s["v_std"])), reference_stats["v_std"])),
             abs(_relative(float(np.mean(s["component_density"][alive])), reference_stats["component_density"])),
             abs(_relative(set_wavelength(v, dx), reference_wavelength))]
    return float(np.mean(parts))


def ddpm_settling(samples: dict, references: dict, config: ComparisonConfig, progress=False) -> dict:
    """DDPM samples advanced by the true solver, beside the solver's own developed states.

    samples, references: {class: fields (B, 2, n, n)}. Both are advanced ``settle_steps``
    solver steps, recorded every ``settle_every``. Per class and recorded time: the VRMSE of v
    against its own start ("how far it moves"), of v against the previous record ("how fast it
    still moves"), and the set distance of the statistics to the references' starting
    statistics. ``settle_time``: the time from which on the samples never again move faster
    than 1.5× the solver's own developed states do (median over the run) plus
    ``SETTLED_RATE`` (so a class whose solver states stand still can settle); NaN if they
    still move faster at the end of the run.
    """
    times = np.arange(0, config.settle_steps + 1, config.settle_every)
    out = {"time": times}
    for name in _progress(config.classes, progress, "settling"):
        gs = preset(name)
        ref_v0 = references[name][:, 1].astype(np.float64)
        ref_stats = pattern_statistics(ref_v0, config.dx)
        ref_means = {"v_std": float(np.mean(ref_stats["v_std"])),
                     "component_density": float(np.nanmean(ref_stats["component_density"]))}
        ref_wavelength = set_wavelength(ref_v0, config.dx)
        entry = {}
        for system, fields in (("ddpm", samples[name]), ("solver", references[name])):
            _, v = simulate(gs, fields[:, 0].astype(np.float64), fields[:, 1].astype(np.float64),
                            steps=config.settle_steps, dt=1.0, dx=config.dx, backend="numba",
                            save_every=config.settle_every)                              # (B, K, n, n)
            moved = np.asarray(metrics.vrmse(v, np.broadcast_to(v[:, :1], v.shape)))   # (B, K)
            step = np.asarray(metrics.vrmse(v[:, 1:], v[:, :-1]))                      # (B, K − 1)
            entry[system] = {"moved": np.median(moved, axis=0), "rate": np.median(step, axis=0),
                             "distance": np.array([_set_distance(v[:, k], ref_means, ref_wavelength, config.dx)
                                                   for k in range(v.shape[1])]),
                             "uniform_end": float(np.mean(metrics.is_uniform(v[:, -1])))}
        floor = float(np.median(entry["solver"]["rate"]))
        moving = entry["ddpm"]["rate"] > 1.5 * floor + SETTLED_RATE  # (K − 1,)
        # settled from the first record after which it never moves faster again
        if moving[-1]:
            entry["settle_time"] = float("nan")
        else:
            last = np.flatnonzero(moving)
            entry["settle_time"] = float(times[1:][last[-1] + 1]) if last.size else float(times[1])
        entry["solver_rate"] = floor
        out[name] = entry
    return out


def recovery_distance(fields: np.ndarray, originals: np.ndarray, dx: float) -> np.ndarray:
    """Per field, how far v's pattern is from the original's: the mean over v std, component
    density and dominant wavelength of min(1, |s − s₀| / |s₀|); 1 for a uniform result (the
    pattern is lost). fields, originals: (B, 2, n, n) → (B,)."""
    s, s0 = pattern_statistics(fields[:, 1], dx), pattern_statistics(originals[:, 1], dx)
    parts = []
    for name in ("v_std", "component_density", "dominant_wavelength"):
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.minimum(1.0, np.abs(s[name] - s0[name]) / np.abs(s0[name]))
        parts.append(np.where(s["uniform"] | ~np.isfinite(d), 1.0, d))
    return np.mean(parts, axis=0)


def _perturbations(fields: np.ndarray, config: ComparisonConfig, seed: int):
    """[(kind, amplitude, perturbed fields (B, 2, n, n)), ...]: noise of each amplitude, the patch."""
    rng = np.random.default_rng(seed)
    out = []
    for a in config.noise_amplitudes:
        out.append(("noise", float(a), np.clip(fields + a * rng.standard_normal(fields.shape), 0, 1).astype(np.float32)))
    erased = fields.copy()
    n, p = fields.shape[-1], config.patch
    lo = (n - p) // 2
    erased[:, 0, lo:lo + p, lo:lo + p], erased[:, 1, lo:lo + p, lo:lo + p] = 1.0, 0.0
    out.append(("patch", float(p), erased))
    return out


def perturbation_recovery(convlstm, ddpm, starts: dict, config: ComparisonConfig, progress=False) -> dict:
    """Perturb developed patterns, let each system act, measure how far the pattern recovers.

    Per class, for the first ``perturb_per_class`` states, each perturbation of
    :func:`_perturbations` (additive Gaussian noise of each amplitude on u and v, clipped to
    [0, 1]; an erased central square set to (1, 0)); then: ``none`` (the perturbed field),
    ``solver`` (``relax_frames`` frames of the true dynamics), ``convlstm`` (a rollout of as
    many frames from the perturbed state held for its 4 context frames), ``ddpm`` (noised to
    ``ddpm_t_start`` and denoised, :meth:`~turing_helpers.models.ddpm.DDPM.denoise_from`).
    Returns rows {class, kind, amplitude, size (RMS change of v), system: recovery distance
    per field (:func:`recovery_distance`)}. At amplitude 0 the distance is each system's own
    drift from an unperturbed pattern.
    """
    import torch

    rows = []
    for c, name in enumerate(_progress(config.classes, progress, "perturbations")):
        originals = starts[name][:config.perturb_per_class]
        for kind, amplitude, perturbed in _perturbations(originals, config, seed=1000 + c):
            acted = {"none": perturbed}
            frames = _solver_frames(name, perturbed, config.relax_frames, config.dx)
            acted["solver"] = frames[:, -1]
            context = torch.from_numpy(np.repeat(perturbed[:, None], CONTEXT, axis=1))
            with torch.no_grad():
                acted["convlstm"] = convlstm.rollout(context, config.relax_frames)[:, -1].numpy()
            acted["ddpm"] = ddpm.denoise_from(perturbed, name, config.ddpm_t_start, seed=2000 + c)
            size = np.sqrt(np.mean((perturbed[:, 1] - originals[:, 1]) ** 2, axis=(-2, -1)))
            rows.append({"class": name, "kind": kind, "amplitude": amplitude, "size": size,
                         **{system: recovery_distance(f, originals, config.dx) for system, f in acted.items()}})
    return {"rows": rows, "t_start": config.ddpm_t_start, "relax_frames": config.relax_frames}


def _convlstm_map(convlstm):
    """The ConvLSTM's one-frame map x (B, 2, n, n) → next frame, in float64, the state held
    for its context frames (a steady input: the map whose linearisation is compared)."""
    import copy

    import torch

    model64 = copy.deepcopy(convlstm).double()

    def step(x):
        context = torch.from_numpy(np.repeat(np.asarray(x, np.float64)[:, None], CONTEXT, axis=1))
        with torch.no_grad():
            return model64.rollout(context, 1)[:, 0].numpy()
    return step


def learned_gains(convlstm, ddpm, references: dict, config: ComparisonConfig, progress=False) -> dict:
    """Gain against wavenumber for the three systems.

    - ``exact``: per class, exp(10 λ(q)) at (1, 0) (both branches) for the modes of the box;
      ``euler``: the same measured on the explicit-Euler frame map that made the training data;
    - ``convlstm``: the eigenvalues of its one-frame map's linear response at (1, 0)
      (:func:`linear_response`, amplitude 1e-6 in float64) — one network for all classes;
      ``convlstm_finite`` the same at amplitude ``FINITE_AMPLITUDE`` (1e-2), above the
      model's clip-absorbed drift at (1, 0);
    - ``ddpm``: per class and noise level t, the v-power gain of one reverse DDIM step
      t → t − 10 (about the spacing of the 100-step schedule, 999/99) on developed fields noised to t
      (:func:`spectral_gain`, network units), with σ_t = √(1 − ᾱ_t);
    - ``chain``: per class, along the 100-step sampling chain of ``chain_samples`` samples,
      the noise level, the ratio of the power at the class's ring (its reference wavenumber)
      to the mean power over all shells, the level where that ratio first exceeds 2 (the
      ring has emerged), and the PDE residual of the (unclipped) physical fields.
    """
    import torch

    n, dx = config.size, config.dx
    modes = np.arange(0, n // 2 + 1)
    q_modes = 2 * np.pi * modes / (n * dx)
    out = {"q_modes": q_modes, "exact": {}, "ddpm": {}, "chain": {}}
    for name in config.classes:
        out["exact"][name] = np.exp(10 * preset(name).dispersion(q_modes, (1.0, 0.0))).real
    step = _convlstm_map(convlstm)
    response = linear_response(step, (1.0, 0.0), n, dx, modes)  # complex (modes, 2)
    out["convlstm"], out["convlstm_imag"] = response.real, response.imag
    # (1, 0) sits on the corner of the model's clip [0, 1]²: perturbations smaller than its
    # unclipped drift there are absorbed, so the finite-amplitude response is measured too
    finite = linear_response(step, (1.0, 0.0), n, dx, modes, amplitude=FINITE_AMPLITUDE)
    out["convlstm_finite"], out["convlstm_finite_imag"] = finite.real, finite.imag
    out["finite_amplitude"] = FINITE_AMPLITUDE
    T = ddpm.config.timesteps
    alpha_bar = ddpm.alphas_cumprod.double().numpy()
    out["ddpm_sigma"] = np.sqrt(1 - alpha_bar[list(config.gain_levels)])
    generator = torch.Generator().manual_seed(7)
    for c, name in enumerate(_progress(config.classes, progress, "gains")):
        fields = references[name][:config.gain_fields]
        x0 = ddpm.normalize(torch.from_numpy(fields))
        labels = ddpm._labels(name, len(fields))
        sampling = ddpm.sampling.get(name, {})
        gains = []
        for t in config.gain_levels:
            x_t = ddpm.q_sample(x0, torch.full((len(fields),), t, dtype=torch.long),
                                torch.randn(x0.shape, generator=generator))
            x_prev, _ = ddpm.ddim_step(x_t, t, t - 10, labels, sampling.get("guidance", 1.0), 0.0)
            q, gain = spectral_gain(x_t[:, 1].numpy(), x_prev[:, 1].numpy(), dx)
            gains.append(gain)
        out["ddpm"][name] = np.array(gains)                           # (levels, shells)
        out["q_shells"] = q
        out["chain"][name] = _sampling_chain(ddpm, name, references[name], config, seed=3000 + c)
    out["gain_levels"] = np.asarray(config.gain_levels)
    # the map the ConvLSTM was trained on: explicit Euler, 5-point Laplacian, 10 steps of dt = 1
    out["euler"] = {name: linear_response(_euler_map(name, dx), (1.0, 0.0), n, dx, modes).real
                    for name in config.classes}
    return out


def _euler_map(name, dx):
    def step(x):
        u, v = simulate(preset(name), x[:, 0], x[:, 1], steps=10, dt=1.0, dx=dx)
        return np.stack([u, v], axis=1)
    return step


def _sampling_chain(ddpm, name, reference, config: ComparisonConfig, seed: int) -> dict:
    """Spectra and PDE residual along a 100-step DDIM chain (the class's sampling defaults)."""
    import torch

    n, dx, T = config.size, config.dx, ddpm.config.timesteps
    q_star = 2 * np.pi / set_wavelength(reference[:, 1].astype(np.float64), dx)
    ring = int(round(q_star / (2 * np.pi / (n * dx))))
    sampling = ddpm.sampling.get(name, {})
    guidance, eta = sampling.get("guidance", 1.0), sampling.get("eta", 0.0)
    generator = torch.Generator().manual_seed(seed)
    labels = ddpm._labels(name, config.chain_samples)
    x = torch.randn((config.chain_samples, 2, n, n), generator=generator)
    times = np.unique(np.linspace(0, T - 1, config.ddim_steps).round().astype(int))[::-1].tolist()
    alpha_bar = ddpm.alphas_cumprod.double().numpy()
    sigma, ratio, residual = [], [], []
    gs = preset(name)
    for i, t in enumerate(times):
        physical = ddpm.unnormalize(x).double().numpy()
        _, power = metrics.radial_spectrum(physical[:, 1], dx)
        power = power.mean(axis=0)
        sigma.append(float(np.sqrt(1 - alpha_bar[t])))
        ratio.append(float(power[ring] / power[1:].mean()))
        residual.append(float(np.mean(metrics.pde_residual(gs, physical[:, 0], physical[:, 1], dx))))
        x, _ = ddpm.ddim_step(x, t, times[i + 1] if i + 1 < len(times) else -1, labels, guidance, eta, generator)
    sigma, ratio = np.array(sigma), np.array(ratio)
    emerged = np.flatnonzero(ratio >= 2.0)
    final = ddpm.unnormalize(x.clamp(-1, 1)).double().numpy()
    return {"sigma": sigma, "ring_ratio": ratio, "pde_residual": np.array(residual), "ring_shell": ring,
            "emergence_sigma": float(sigma[emerged[0]]) if emerged.size else float("nan"),
            "final_residual": float(np.mean(metrics.pde_residual(gs, final[:, 0], final[:, 1], dx)))}


def pattern_complexity(sets: dict, reference: dict, config: ComparisonConfig) -> dict:
    """Per class and system: :func:`compare_patterns` of the system's v fields against the
    reference solver set, and the means of :func:`pattern_statistics`.

    sets: {system: {class: fields (B, 2, n, n)}}; reference: {class: fields}.
    """
    out = {}
    for name in config.classes:
        ref_v = reference[name][:, 1].astype(np.float64)
        entry = {"reference": _means(pattern_statistics(ref_v, config.dx))}
        for system, fields in sets.items():
            v = fields[name][:, 1].astype(np.float64)
            entry[system] = {"comparison": compare_patterns(v, ref_v, config.dx, seed=0, resamples=config.bootstrap),
                             "means": _means(pattern_statistics(v, config.dx))}
        out[name] = entry
    return out


def _means(stats: dict) -> dict:
    """Means and standard deviations of pattern statistics: v std and the complexity over all
    fields (a uniform field counts with its ≈ 0), the shape statistics over the non-uniform ones."""
    alive = ~stats["uniform"]
    out = {"uniform_fraction": float(np.mean(stats["uniform"])), "n": int(stats["uniform"].size)}
    for name in STATISTICS:
        values = stats[name] if name in ("v_std", "compression_complexity") else stats[name][alive]
        out[name] = float(np.mean(values)) if values.size else float("nan")
        out[f"{name}_std"] = float(np.std(values)) if values.size else float("nan")
    return out


def measure_cost(system: str, config: ComparisonConfig = ComparisonConfig(), batch: int = 8,
                 frames: int = 100, memory_batch: int = 64) -> dict:
    """Time and memory of one system generating patterns on the config's grid.

    - ``solver``: ``frames`` × 10 Euler steps (numba) for the per-frame time; a developed
      pattern costs 10,000 steps (1000 frames), the time every dataset of the book uses;
    - ``convlstm``: a rollout of ``frames`` frames; a developed pattern: 1000 frames from four
      solver frames of the start;
    - ``ddpm``: one 100-step DDIM sample per pattern (the class maze: w = 1, one network call a
      step); a "frame" is one sampling step.

    Times are for a batch of ``batch`` patterns, after a warm-up. Memory: the peak resident
    set (Linux ``VmHWM``, reset before) while ``memory_batch`` patterns are made at once, less
    the resident set before, divided by ``memory_batch`` — the working memory a pattern needs
    (states, activations), not the interpreter and libraries; and ``process_mib``, the
    process's resident set at the end. Run each system in a fresh process
    (``benchmarks/compare.py`` does) for numbers of its own. Returns seconds per frame and per
    developed pattern (per field), sequential steps per pattern, ``mib_per_pattern`` and
    ``process_mib``.
    """
    import torch

    from ..initial_conditions import random_fourier

    torch.set_flush_denormal(True)
    n = config.size

    if system == "solver":
        def make(b, frames_):
            starts = [random_fourier(n, max_mode=max(1, round(8 * n / 128)), seed=s) for s in range(b)]
            u0, v0 = np.stack([s[0] for s in starts]), np.stack([s[1] for s in starts])
            simulate(preset("maze"), u0, v0, steps=10 * frames_, dt=1.0, dx=config.dx, backend="numba")
        steps, per_pattern_frames = 10_000, 1000
    elif system == "convlstm":
        from ..models import load_pretrained

        model = load_pretrained("convlstm")

        def make(b, frames_):
            context = torch.rand(b, CONTEXT, 2, n, n) * torch.tensor([1.0, 0.4]).view(1, 1, 2, 1, 1)
            with torch.no_grad():
                model.rollout(context, frames_)
        steps, per_pattern_frames = 1000, 1000
    elif system == "ddpm":
        from ..models import load_pretrained

        model = load_pretrained("ddpm")

        def make(b, frames_):
            model.sample(b, "maze", size=n, steps=frames_, seed=0, guidance=1.0, eta=0.0)
        steps, per_pattern_frames = config.ddim_steps, config.ddim_steps
    else:
        raise ValueError(f"system must be 'solver', 'convlstm' or 'ddpm', got {system!r}")
    make(1, 2)  # warm-up: compilation, first allocations
    before = _memory_mib("VmRSS")
    _reset_peak_memory()
    make(memory_batch, 2)
    memory = (_memory_mib("VmHWM") - before) / memory_batch
    start = time.perf_counter()
    make(batch, frames)
    per_frame = (time.perf_counter() - start) / frames / batch
    return {"seconds_per_frame": per_frame, "seconds_per_pattern": per_frame * per_pattern_frames,
            "sequential_steps": steps, "frames_per_pattern": per_pattern_frames, "mib_per_pattern": memory,
            "process_mib": _memory_mib("VmRSS"), "batch": batch, "memory_batch": memory_batch}


def _memory_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), MiB: VmRSS (resident
    now) or VmHWM (peak resident since the last reset); NaN where /proc is unavailable.
    (``resource.getrusage``'s ru_maxrss is no use here: a child process inherits its parent's.)"""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return float("nan")


def _reset_peak_memory() -> None:
    """Reset VmHWM to the current resident size (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def run(config: ComparisonConfig = ComparisonConfig(), convlstm=None, ddpm=None, progress=False) -> dict:
    """All of chapter 6's experiments but the costs; the shipped models unless given."""
    import torch

    from ..models import load_pretrained

    torch.set_flush_denormal(True)  # fading rollouts pass through denormal floats, ~3x slower
    convlstm = load_pretrained("convlstm") if convlstm is None else convlstm
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    started = time.perf_counter()
    fields, labels, kept = developed_patterns(config.size, config.reference_per_class, config.start_seed,
                                              classes=config.classes)
    other, other_labels, other_kept = developed_patterns(config.size, config.reference_per_class,
                                                         config.other_seed, classes=config.classes)
    reference = {name: fields[labels == WELL_CLASSES.index(name)] for name in config.classes}
    second = {name: other[other_labels == WELL_CLASSES.index(name)] for name in config.classes}
    starts = {name: f[:config.starts_per_class] for name, f in reference.items()}
    seconds = {}

    def timed(key, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, config, **kwargs)
        seconds[key] = time.perf_counter() - start
        return result

    samples = {name: ddpm.sample(config.samples_per_class, name, size=config.size, steps=config.ddim_steps,
                                 seed=config.sample_seed + c) for c, name in enumerate(config.classes)}
    seconds["samples"] = time.perf_counter() - started
    stability = timed("stability", stability_under_time, convlstm, starts, progress=progress)
    settling = timed("settling", ddpm_settling, samples, reference, progress=progress)
    perturbation = timed("perturbation", perturbation_recovery, convlstm, ddpm, starts, progress=progress)
    gains = timed("gains", learned_gains, convlstm, ddpm, reference, progress=progress)
    surrogate = {name: np.stack([metrics.phase_randomized(f[:, 0], seed=c), metrics.phase_randomized(f[:, 1], seed=c)],
                                axis=1) for c, (name, f) in enumerate(second.items())}
    convlstm_end = {name: stability[name]["end"]["convlstm"] for name in config.classes}
    solver_end = {name: stability[name]["end"]["solver"] for name in config.classes}
    complexity = timed("complexity", pattern_complexity,
                       {"solver": second, "solver_1000_frames": solver_end, "convlstm": convlstm_end,
                        "ddpm": samples, "surrogate": surrogate}, reference)
    for name in config.classes:
        del stability[name]["end"]
    return {"config": asdict(config), "kept": {"start": kept, "other": other_kept},
            "stability": stability, "settling": settling, "perturbation": perturbation, "gains": gains,
            "complexity": complexity, "seconds": seconds, "samples_uniform": {
                name: float(np.mean(metrics.is_uniform(s[:, 1]))) for name, s in samples.items()}}


def rerun_convlstm(previous: dict, config: ComparisonConfig = ComparisonConfig(), convlstm=None, ddpm=None,
                   progress=False) -> dict:
    """:func:`run`'s result ``previous`` with every experiment that involves the ConvLSTM done
    again (after the ConvLSTM was retrained): the rollouts, the perturbations, the gains and the
    complexity rows of the ConvLSTM and of the solver's 1000-frame states. The DDPM's samples
    and their settling (the slow part, which does not involve the ConvLSTM) are kept. The
    DDPM's rows of the perturbation and gain experiments are recomputed with them, from the
    same seeds, so they come out as before."""
    import torch

    from ..models import load_pretrained

    if previous.get("config") != plain_config(config):
        raise ValueError("previous results were made with another ComparisonConfig; run the full comparison")
    torch.set_flush_denormal(True)
    convlstm = load_pretrained("convlstm") if convlstm is None else convlstm
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    fields, labels, _ = developed_patterns(config.size, config.reference_per_class, config.start_seed,
                                           classes=config.classes)
    reference = {name: fields[labels == WELL_CLASSES.index(name)] for name in config.classes}
    starts = {name: f[:config.starts_per_class] for name, f in reference.items()}
    out = dict(previous)
    # what the model before the rerun did, kept for the record (chapter 4 quotes it)
    out["convlstm_before_rerun"] = previous.get("convlstm_before_rerun") or {
        "command": previous.get("command"),
        "verdicts": {name: previous["stability"][name]["verdict"] for name in config.classes},
        "climate": {name: previous["stability"][name]["convlstm"] for name in config.classes}}
    seconds = dict(previous.get("seconds", {}))
    for key, function, args in (("stability", stability_under_time, (convlstm, starts)),
                                ("perturbation", perturbation_recovery, (convlstm, ddpm, starts)),
                                ("gains", learned_gains, (convlstm, ddpm, reference))):
        start = time.perf_counter()
        out[key] = function(*args, config, progress=progress)
        seconds[key] = time.perf_counter() - start
    start = time.perf_counter()
    sets = {system: {name: out["stability"][name]["end"][end] for name in config.classes}
            for system, end in (("convlstm", "convlstm"), ("solver_1000_frames", "solver"))}
    fresh = pattern_complexity(sets, reference, config)
    out["complexity"] = {name: dict(previous["complexity"][name]) | fresh[name] for name in config.classes}
    seconds["complexity_convlstm_rows"] = time.perf_counter() - start
    for name in config.classes:
        del out["stability"][name]["end"]
    out["seconds"] = seconds
    return out


def plain_config(config: ComparisonConfig) -> dict:
    """The config as the results file stores it (tuples as lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(config).items()}


def _iqr(values) -> str:
    values = np.asarray(values, float)
    return f"{np.median(values):.0f} [{np.percentile(values, 25):.0f}, {np.percentile(values, 75):.0f}]"


def summary_table(results: dict, costs: dict | None = None) -> list[dict]:
    """Rows {measurement, solver, convlstm, ddpm} of chapter 6's summary table, as strings.

    results: the output of :func:`run` (or the results file); costs: {system: the output of
    :func:`measure_cost`}, optional. Spreads: median [quartiles] over windows or fields, mean
    ± standard deviation over the six classes, or the range over classes, as each row says.
    """
    config = results["config"]
    classes = config["classes"]
    stability, settling = results["stability"], results["settling"]
    perturbation, complexity = results["perturbation"]["rows"], results["complexity"]
    skill = stability["skill"]["convlstm"]
    rows = []
    ct = skill["correlation_time"]["0.8"]["per_window"] if skill["windows"] else []
    rows.append({"measurement": f"frames with r ≥ 0.8 vs the solver, median [quartiles] over {len(ct)} windows",
                 "solver": "reference", "convlstm": _iqr(ct) if len(ct) else "no developed window",
                 "ddpm": "no dynamics"})
    verdicts = [stability[name]["verdict"] for name in classes]
    rows.append({"measurement": "classes whose 1000-frame rollout stays on the attractor / fades / drifts",
                 "solver": "reference",
                 "convlstm": " / ".join(str(verdicts.count(v)) for v in ("on the attractor", "faded", "drifted")),
                 "ddpm": "no dynamics"})
    uniform_end = [stability[name]["convlstm"]["uniform_fraction"] for name in classes]
    solver_uniform = [stability[name]["solver"]["uniform_fraction"] for name in classes]
    rows.append({"measurement": "uniform fraction of the last 500 frames (DDPM: of its samples), mean over classes",
                 "solver": f"{np.mean(solver_uniform):.0%}", "convlstm": f"{np.mean(uniform_end):.0%}",
                 "ddpm": f"{np.mean(list(results['samples_uniform'].values())):.0%}"})
    settle = [settling[name]["settle_time"] for name in classes]
    k = min(int(np.searchsorted(settling["time"], 1000)), len(settling["time"]) - 1)  # after 1000 steps
    step = settling["time"][k]
    moved = [float(settling[name]["ddpm"]["moved"][k]) for name in classes]
    solver_moved = [float(settling[name]["solver"]["moved"][k]) for name in classes]
    rows.append({"measurement": f"VRMSE of v moved by {step:.0f} solver steps, median over fields, range over classes",
                 "solver": f"{np.nanmin(solver_moved):.2f}–{np.nanmax(solver_moved):.2f}", "convlstm": "—",
                 "ddpm": f"{np.nanmin(moved):.2f}–{np.nanmax(moved):.2f}"})
    rows.append({"measurement": "solver steps from which on DDPM samples move like solver states, range over classes",
                 "solver": "0 (reference)", "convlstm": "—",
                 "ddpm": (f"{np.nanmin(settle):.0f}–{np.nanmax(settle):.0f}" if np.isfinite(settle).any() else "never")
                 + (f" ({int(np.sum(~np.isfinite(settle)))} never)" if not np.isfinite(settle).all() else "")})
    largest = max(r["amplitude"] for r in perturbation if r["kind"] == "noise")
    for kind, amplitude, label in (("noise", largest, f"noise of amplitude {largest:g}"),
                                   ("patch", None, "an erased square")):
        chosen = [r for r in perturbation if r["kind"] == kind and (amplitude is None or r["amplitude"] == amplitude)]
        cells = {}
        for system in ("none", "solver", "convlstm", "ddpm"):
            d = np.concatenate([np.atleast_1d(r[system]) for r in chosen])
            cells[system] = f"{np.mean(d):.2f} ± {np.std(d):.2f}"
        rows.append({"measurement": f"distance to the unperturbed pattern after {label} (untreated: {cells['none']}), "
                                    "mean ± std over fields",
                     "solver": cells["solver"], "convlstm": cells["convlstm"], "ddpm": cells["ddpm"]})
    for statistic, label in (("compression_complexity", "compression complexity"),
                             ("component_density", "component density error"),
                             ("dominant_wavelength", "wavelength error")):
        cells = {}
        for system, key in (("solver", "solver"), ("convlstm", "convlstm"), ("ddpm", "ddpm")):
            if statistic == "compression_complexity":
                values = [complexity[name][key]["means"][statistic] for name in classes]
                cells[system] = f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"
            else:
                values = np.array([abs(complexity[name][key]["comparison"][statistic]["error"]) for name in classes])
                lost = int(np.sum(~np.isfinite(values)))  # a class whose fields are all uniform has no value
                cells[system] = (f"{np.nanmedian(values):.1%} (max {np.nanmax(values):.0%})" if lost < len(values)
                                 else "no pattern") + (f"; {lost} classes no pattern" if lost else "")
        spread = "mean ± std over classes" if statistic == "compression_complexity" else \
            "|error| against solver fields, median (max) over classes"
        rows.append({"measurement": f"{label}, {spread}", **cells})
    if costs:
        for key, label, fmt in (("seconds_per_pattern", "CPU seconds per developed pattern (48², 2 cores)", "{:.2f}"),
                                ("sequential_steps", "sequential steps per pattern", "{:.0f}"),
                                ("mib_per_pattern", "working memory per pattern (MiB, 64 at once)", "{:.2f}"),
                                ("parameters", "parameters", "{:,.0f}")):
            rows.append({"measurement": label, **{system: fmt.format(costs[system][key]) for system in
                                                   ("solver", "convlstm", "ddpm")}})
    return rows
