"""Chapter 6's first protocol, and what of it is still in use.

- :func:`learned_gains` (run by :func:`run` for ``benchmarks/compare.py``): the ConvLSTM's
  linear response around (1, 0) against the exact exp(10 λ(q)); the gain of one DDPM reverse
  step per wavenumber across noise levels; where each class's ring emerges in the sampling
  chain, with the PDE residual along it;
- :func:`measure_cost`: time and memory per generated frame and per developed pattern;
- :func:`stability_under_time`, :func:`rollout_climate` and :func:`climate_verdict`: 1000-frame
  ConvLSTM rollouts beside the solver, classed by the first protocol's hand-set tolerances
  (:data:`CLIMATE_RULE`). Chapter 4's evaluation (``benchmarks/convlstm_eval.py``) still uses
  them; chapter 6's verdicts are the solver-calibrated
  :func:`turing_helpers.evaluation.climate_test` and the protocols of ``benchmarks/compare.py``.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import metrics
from ..data import developed_patterns
from ..presets import WELL_CLASSES, WELL_DX, preset
from ..solver import simulate
from .forecast import forecast_skill
from .patterns import pattern_statistics, set_wavelength
from .response import linear_response, spectral_gain

__all__ = ["ComparisonConfig", "run", "stability_under_time", "learned_gains", "measure_cost", "CLIMATE_RULE",
           "rollout_climate", "climate_verdict"]

# How a 1000-frame rollout was classed by the first protocol (hand-set tolerances on three snapshot
# statistics, 8 starts per class). Chapters 6 and 7 now use the solver-calibrated climate test
# (turing_helpers.evaluation.climate.climate_test); chapter 4's evaluation still quotes this rule.
CLIMATE_RULE = {"faded": "uniform in at least half the frames, or v std below half the solver's",
                "on the attractor": "v std within 25%, wavelength within 10%, component density within 25%",
                "drifted": "neither: a pattern, but with other statistics"}


@dataclass(frozen=True)
class ComparisonConfig:
    """Sizes and seeds of the first protocol: the gains' developed states (``start_seed``), and
    the rollouts of :func:`stability_under_time` (stored in the results files)."""

    size: int = 48                 # the DDPM's periodic box: 48 dx = 0.75 length units
    dx: float = WELL_DX            # The Well's spacing
    start_seed: int = 31           # developed solver states the experiments start from (fresh)
    reference_per_class: int = 12  # solver fields per class in each comparison set
    starts_per_class: int = 8      # of those, how many start the 1000-frame rollouts
    frames: int = 1000             # long rollouts, frames of 10 time units
    climate_from: int = 500        # the climate is averaged over frames climate_from..frames
    record_every: int = 10         # frames between recorded statistics of the long rollouts
    horizon: int = 100             # forecast windows: the first `horizon` frames of each rollout
    ddim_steps: int = 100          # the DDPM's sampling steps (chapter 5's protocol)
    gain_levels: tuple = (20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 980)
    gain_fields: int = 8
    chain_samples: int = 4         # samples per class whose sampling chain is recorded
    classes: tuple = WELL_CLASSES


CONTEXT = 4  # frames the ConvLSTM reads before its first prediction
FINITE_AMPLITUDE = 1e-2  # the ConvLSTM's finite-amplitude response around (1, 0)


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
    alpha_bar = ddpm.alphas_cumprod.double().numpy()
    out["ddpm_sigma"] = np.sqrt(1 - alpha_bar[list(config.gain_levels)])
    generator = torch.Generator().manual_seed(7)
    for c, name in enumerate(_progress(config.classes, progress, "gains")):
        fields = references[name][:config.gain_fields]
        x0 = ddpm.normalize(torch.from_numpy(fields))
        labels = ddpm.labels(name, len(fields))
        guidance = ddpm.sampling_defaults(name)["guidance"]
        gains = []
        for t in config.gain_levels:
            x_t = ddpm.q_sample(x0, torch.full((len(fields),), t, dtype=torch.long),
                                torch.randn(x0.shape, generator=generator))
            x_prev, _ = ddpm.ddim_step(x_t, t, t - 10, labels, guidance, 0.0)
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

    n, dx = config.size, config.dx
    q_star = 2 * np.pi / set_wavelength(reference[:, 1].astype(np.float64), dx)
    ring = int(round(q_star / (2 * np.pi / (n * dx))))
    defaults = ddpm.sampling_defaults(name)
    generator = torch.Generator().manual_seed(seed)
    labels = ddpm.labels(name, config.chain_samples)
    x = torch.randn((config.chain_samples, 2, n, n), generator=generator)
    times = ddpm.sampling_times(config.ddim_steps)
    alpha_bar = ddpm.alphas_cumprod.double().numpy()
    sigma, ratio, residual = [], [], []
    gs = preset(name)

    def record(t, x):
        physical = ddpm.unnormalize(x).double().numpy()
        _, power = metrics.radial_spectrum(physical[:, 1], dx)
        power = power.mean(axis=0)
        sigma.append(float(np.sqrt(1 - alpha_bar[t])))
        ratio.append(float(power[ring] / power[1:].mean()))
        residual.append(float(np.mean(metrics.pde_residual(gs, physical[:, 0], physical[:, 1], dx))))

    record(times[0], x)
    for t, x in ddpm.reverse_chain(x, times, labels, "ddim", defaults["guidance"], defaults["eta"], generator):
        if t >= 0:
            record(t, x)
    sigma, ratio = np.array(sigma), np.array(ratio)
    emerged = np.flatnonzero(ratio >= 2.0)
    final = ddpm.unnormalize(x.clamp(-1, 1)).double().numpy()
    return {"sigma": sigma, "ring_ratio": ratio, "pde_residual": np.array(residual), "ring_shell": ring,
            "emergence_sigma": float(sigma[emerged[0]]) if emerged.size else float("nan"),
            "final_residual": float(np.mean(metrics.pde_residual(gs, final[:, 0], final[:, 1], dx)))}


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
    """The DDPM's per-step gains and sampling chains and the ConvLSTM's gains at (1, 0)
    (:func:`learned_gains`) on developed states of ``config.start_seed``; the shipped models
    unless given. (The other experiments of chapter 6 are ``benchmarks/compare.py``'s protocols.)"""
    import torch

    from ..models import load_pretrained

    torch.set_flush_denormal(True)
    convlstm = load_pretrained("convlstm") if convlstm is None else convlstm
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    fields, labels, kept = developed_patterns(config.size, config.reference_per_class, config.start_seed,
                                              classes=config.classes)
    reference = {name: fields[labels == WELL_CLASSES.index(name)] for name in config.classes}
    start = time.perf_counter()
    gains = learned_gains(convlstm, ddpm, reference, config, progress=progress)
    return {"config": asdict(config), "kept": {"start": kept}, "gains": gains,
            "seconds": {"gains": time.perf_counter() - start}}


def plain_config(config: ComparisonConfig) -> dict:
    """The config as the results file stores it (tuples as lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(config).items()}
