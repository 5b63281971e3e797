"""Chapter 6's measurements: the solver, the ConvLSTM and the DDPM compared in stability and
complexity; writes ``turing_helpers/results/compare.json`` (package data the chapter reads).

    python benchmarks/compare.py                  # everything: the parts below, about 75 min on 2 CPU cores
    python benchmarks/compare.py --climate-only   # stability under time (ClimateProtocol), ~32 min
    python benchmarks/compare.py --cell-only      # chapter 7's fitted GrayScottCell through the same test, ~7 min
    python benchmarks/compare.py --jacobian-only  # leading Jacobian eigenvalues at developed states, ~21 min
    python benchmarks/compare.py --handover-only  # the models' fields handed to the solver; residuals; complexity, ~5 min
    python benchmarks/compare.py --perturbation-only  # perturbed states: the pattern, a pattern or lost, ~9 min
    python benchmarks/compare.py --response-only  # gains at every homogeneous steady state, ~1 min
    python benchmarks/compare.py --gains-only     # the gains at (1, 0) and the DDPM's chains (GainsProtocol), ~5 min
    python benchmarks/compare.py --costs-only     # re-measure only the costs (on a quiet machine), ~2 min
    python benchmarks/compare.py --convlstm-only  # after retraining the ConvLSTM: redo every part that involves it
    python benchmarks/compare.py --summary-only   # rewrite the summary table from the results

Every verdict here is a test that could have failed: the statistic, the threshold (from the
solver's own spread) and the controls are fixed in code (the ``*Protocol`` dataclasses) before
a model's output is read, and the seeds are recorded as test seeds apart from the development
seeds. The measures come from :mod:`turing_helpers.evaluation` and take any forecaster:

- :class:`ClimateProtocol`: stability under time (``stability_under_time``, ``climate_test``);
- :class:`JacobianProtocol`: leading eigenvalues of one frame's Jacobian at developed states;
- :class:`HandoverProtocol`: the models' fields handed to the solver; their PDE residuals and
  compression complexity (Holm-corrected);
- :class:`PerturbationProtocol`: zero-mean noise or an erased square, then "the pattern",
  "a pattern" or "lost" (``evaluation.recovery``);
- :class:`LinearResponseProtocol`: the gain at every homogeneous steady state.

- :class:`GainsProtocol`: the per-wavenumber gains of the ConvLSTM's frame map and of one
  DDPM reverse step, and the DDPM's sampling chains (:func:`learned_gains`, base seed 31).

The summary table's wording is :func:`summary`. The costs are ``benchmarks/costs.py``'s,
measured side by side in one run, each system in a fresh process so that its peak memory is
its own, with the machine and threads recorded beside them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from costs import SIZE as COST_SIZE
from costs import costs_side_by_side

from turing_helpers.checkpoints import SHIPPED_DIR, machine_description, training_stages
from turing_helpers.data import WELL_CLASSES, developed_patterns
from turing_helpers.evaluation.climate import climate_statistics
from turing_helpers.evaluation.patterns import set_wavelength
from turing_helpers.evaluation.recovery import zero_mean_noise
from turing_helpers.evaluation.response import linear_response, spectral_gain
from turing_helpers.evaluation.stability import stability_under_time
from turing_helpers.evaluation.significance import difference_test, holm
from turing_helpers.io import plain, write_json
from turing_helpers import metrics
from turing_helpers.metrics import compression_complexity, is_uniform, pde_residual
from turing_helpers.presets import WELL_DX, preset
from turing_helpers.results import path as result_path
from turing_helpers.solver import simulate

RESULTS = result_path("compare")
DX = WELL_DX
CONTEXT = 4   # frames the ConvLSTM reads before its first prediction


@dataclass(frozen=True)
class ClimateProtocol:
    """Stability under time, chapter 6's first verdict: sizes, seeds and windows (stored in the file).

    Every start and every reference is a developed solver state (10,000 steps from random
    patches, runs that decayed to uniform dropped) of base seeds that no training run, tuning
    step or earlier experiment read. The ConvLSTM continues each start for ``frames`` frames;
    its climate is taken over frames ``climate_from``..``frames`` and tested against two
    independent solver sets of the class (``climate_test``), whose spread sets every threshold.
    """

    sizes: tuple = (48, 64)             # periodic boxes (grid points per side): verdicts must hold on both
    starts_per_class: int = 32          # independent trajectories the ConvLSTM starts from, per class
    generated_per_class: int = 40       # made per class and seed; the first alive starts_per_class are used
    test_seed: int = 80                 # the starts
    reference_seeds: tuple = (81, 82)   # the two independent solver sets
    development_seeds: tuple = (85, 86, 87, 901, 902, 903)  # read while the test and this script were written
    frames: int = 1000                  # 10,000 time units
    climate_from: int = 500
    horizon: int = 100                  # skill windows: the first 100 frames
    snapshot_every: int = 10            # snapshot statistics on every 10th frame of the window
    alpha: float = 0.05                 # family-wise over the table: Bonferroni over classes x sizes x statistics
    classes: tuple = WELL_CLASSES


def developed_starts(n, seed, keep, generated, classes):
    """{class: the first ``keep`` of ``generated`` developed fields (2, n, n) of a base seed that
    are still patterns}, and how many of each class were."""
    fields, labels, _ = developed_patterns(n, generated, seed, classes=classes)
    out = {name: fields[labels == WELL_CLASSES.index(name)][:keep] for name in classes}
    return out, {name: int(np.sum(labels == WELL_CLASSES.index(name))) for name in classes}


def solver_frames(name, fields, frames, keep=slice(None), chunk=8):
    """The solver's frames 0..frames (every 10 steps) from fields (B, 2, n, n), frames ``keep``
    kept: float32 (B, K, 2, n, n), made ``chunk`` trajectories at a time to bound memory."""
    parts = []
    for i in range(0, len(fields), chunk):
        f = fields[i:i + chunk].astype(np.float64)
        u, v = simulate(preset(name), f[:, 0], f[:, 1], steps=10 * frames, dt=1.0, dx=DX, backend="numba",
                        save_every=10)
        parts.append(np.stack([u[:, keep], v[:, keep]], axis=2).astype(np.float32))
    return np.concatenate(parts)


def convlstm_forecaster(model, chunk=16):
    """forecast(context (B, C, 2, n, n), frames) → (B, frames, 2, n, n) of a ConvLSTM, in chunks."""
    def forecast(context, frames):
        out = []
        for i in range(0, len(context), chunk):
            with torch.no_grad():
                out.append(model.rollout(torch.from_numpy(np.ascontiguousarray(context[i:i + chunk])), frames).numpy())
        return np.concatenate(out)
    return forecast


def climate_experiment(protocol: ClimateProtocol = ClimateProtocol(), convlstm=None, progress=True) -> dict:
    """The ConvLSTM's rollouts from developed states at each box size, scored per class by
    ``stability_under_time`` against two independent solver sets, with its controls."""
    return climate_experiments(protocol, convlstm, systems=("convlstm",), progress=progress)["climate"]


def cell_climate_experiment(protocol: ClimateProtocol = ClimateProtocol(), progress=True) -> dict:
    """Chapter 7's GrayScottCell, fitted per class (``results/analogy_fit.json``), put through the
    same stability-under-time test as the ConvLSTM: same starts, references, thresholds, controls."""
    return climate_experiments(protocol, systems=("cell",), progress=progress)["cell_climate"]


def climate_experiments(protocol: ClimateProtocol = ClimateProtocol(), convlstm=None,
                        systems=("convlstm", "cell"), progress=True) -> dict:
    """The climate test of each forecaster in ``systems`` on one set of starts and references:
    {"climate": the ConvLSTM's, "cell_climate": the fitted GrayScottCell's (with its parameters)}."""
    from turing_helpers.gray_scott import GrayScott
    from turing_helpers.models import load_pretrained
    from turing_helpers.results import load

    torch.set_flush_denormal(True)  # fading rollouts pass through denormal floats, ~3x slower
    forecasters = {}
    if "convlstm" in systems:
        model = load_pretrained("convlstm") if convlstm is None else convlstm
        forecasters["climate"] = lambda name: convlstm_forecaster(model)
    if "cell" in systems:
        fitted = load("analogy_fit")["classes"]  # read once, not once per class
        fit = {name: fitted[name]["fitted"] for name in protocol.classes}
        forecasters["cell_climate"] = lambda name: gray_scott_forecaster(GrayScott(**fit[name]))
    out = climate_runs(protocol, forecasters, progress)
    if "cell_climate" in out:
        out["cell_climate"]["fitted"] = fit
    return out


def ratio_line(climate: dict) -> str:
    """A climate test's statistics as ratios candidate / solver, ``*`` where one fails its threshold."""
    cells = []
    for key, s in climate["statistics"].items():
        ratio = s["candidate"] / s["reference"] if s["reference"] else float("nan")
        cells.append(f"{key[:10]} {ratio:5.2f}{' ' if s['passed'] else '*'}")
    return " ".join(cells)


def gray_scott_forecaster(model, chunk=8):
    """forecast(context (B, C, 2, n, n), frames) → (B, frames, 2, n, n): explicit Euler (numba) of
    a GrayScott model from the last context frame, one frame every 10 steps of dt = 1 — the
    fitted GrayScottCell of chapter 7 (the cell *is* this Euler step; the tests check that the
    two agree to round-off)."""
    def forecast(context, frames):
        last = np.ascontiguousarray(context[:, -1])
        out = []
        for i in range(0, len(last), chunk):
            f = last[i:i + chunk].astype(np.float64)
            u, v = simulate(model, f[:, 0], f[:, 1], steps=10 * frames, dt=1.0, dx=DX, backend="numba",
                            save_every=10)
            out.append(np.stack([u[:, 1:], v[:, 1:]], axis=2).astype(np.float32))
        return np.concatenate(out)
    return forecast


def climate_runs(protocol: ClimateProtocol, forecasters: dict, progress, series_every=None) -> dict:
    """``stability_under_time`` of each ``forecasters[key](class name)`` per size and class, with
    its controls, all on the same starts and reference statistics: {key: result} (with each
    rollout's course every ``series_every`` frames, if given)."""
    window = slice(protocol.climate_from, protocol.frames + 1)
    out = {key: {"protocol": plain(asdict(protocol)), "sizes": {}} for key in forecasters}
    for n in protocol.sizes:
        started = time.perf_counter()
        draw = (protocol.starts_per_class, protocol.generated_per_class, protocol.classes)
        starts, alive = developed_starts(n, protocol.test_seed, *draw)
        references, reference_alive = {}, []
        for seed in protocol.reference_seeds:
            fields, counts = developed_starts(n, seed, *draw)
            reference_alive.append(counts)
            for name in protocol.classes:
                frames = solver_frames(name, fields[name], protocol.frames, keep=window)
                references.setdefault(name, []).append(climate_statistics(frames, DX, protocol.snapshot_every))
        per_class = {key: {} for key in forecasters}
        for c, name in enumerate(protocol.classes):
            truth = solver_frames(name, starts[name], CONTEXT - 1 + protocol.frames)
            other = protocol.classes[(c + 1) % len(protocol.classes)]
            for key, forecaster in forecasters.items():
                result = stability_under_time(forecaster(name), truth, references[name], DX, context=CONTEXT,
                                              horizon=protocol.horizon, climate_from=protocol.climate_from,
                                              other_class=references[other][0],
                                              snapshot_every=protocol.snapshot_every, alpha=protocol.alpha,
                                              tests=len(protocol.classes) * len(protocol.sizes),
                                              series_every=series_every)
                result["other_class"] = other
                del result["end"]
                per_class[key][name] = plain(result)
                if progress:
                    controls = ", ".join(f"{k} {test['verdict']}" for k, test in result["controls"].items())
                    print(f"  {key} {n}² {name}: {result['climate']['verdict']} (controls: {controls})", flush=True)
        for key in forecasters:
            out[key]["sizes"][str(n)] = {"classes": per_class[key],
                                         "alive": {"starts": alive, "references": reference_alive},
                                         "seconds": time.perf_counter() - started}
    return out


@dataclass(frozen=True)
class GainsProtocol:
    """The per-wavenumber gains of chapter 6's first protocol (stored as the results file's
    "config"): the ConvLSTM's one-frame map at (1, 0), one DDPM reverse step per noise level on
    developed fields of ``start_seed``, and the DDPM's sampling chains."""

    size: int = 48                 # the DDPM's periodic box: 48 dx = 0.75 length units
    start_seed: int = 31           # developed solver states the gains are measured at (fresh)
    reference_per_class: int = 12  # solver fields made per class (the first gain_fields are used)
    ddim_steps: int = 100          # the DDPM's sampling steps (chapter 5's protocol)
    gain_levels: tuple = (20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 980)
    gain_fields: int = 8
    chain_samples: int = 4         # samples per class whose sampling chain is recorded
    classes: tuple = WELL_CLASSES


FINITE_AMPLITUDE = 1e-2  # the ConvLSTM's finite-amplitude response around (1, 0)


def _progress(iterable, show, desc):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, unit="class")


def gains_experiment(protocol: GainsProtocol = GainsProtocol(), convlstm=None, ddpm=None, progress=True) -> dict:
    """:func:`learned_gains` of the shipped models (unless given) on developed states of
    ``protocol.start_seed``: {"config", "kept", "gains", "seconds"}."""
    from turing_helpers.models import load_pretrained

    torch.set_flush_denormal(True)
    convlstm = load_pretrained("convlstm") if convlstm is None else convlstm
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    fields, labels, kept = developed_patterns(protocol.size, protocol.reference_per_class, protocol.start_seed,
                                              classes=protocol.classes)
    reference = {name: fields[labels == WELL_CLASSES.index(name)] for name in protocol.classes}
    start = time.perf_counter()
    gains = learned_gains(convlstm, ddpm, reference, protocol, progress=progress)
    return {"config": asdict(protocol), "kept": {"start": kept}, "gains": gains,
            "seconds": {"gains": time.perf_counter() - start}}


def _convlstm_map(convlstm):
    """The ConvLSTM's one-frame map x (B, 2, n, n) → next frame, in float64, the state held
    for its context frames (a steady input: the map whose linearisation is compared)."""
    import copy

    model64 = copy.deepcopy(convlstm).double()

    def step(x):
        context = torch.from_numpy(np.repeat(np.asarray(x, np.float64)[:, None], CONTEXT, axis=1))
        with torch.no_grad():
            return model64.rollout(context, 1)[:, 0].numpy()
    return step


def learned_gains(convlstm, ddpm, references: dict, protocol: GainsProtocol, progress=False) -> dict:
    """Gain against wavenumber for the three systems.

    - ``exact``: per class, exp(10 λ(q)) at (1, 0) (both branches) for the modes of the box;
      ``euler``: the same measured on the explicit-Euler frame map that made the training data;
    - ``convlstm``: the eigenvalues of its one-frame map's linear response at (1, 0)
      (``evaluation.linear_response``, amplitude 1e-6 in float64) — one network for all classes;
      ``convlstm_finite`` the same at amplitude ``FINITE_AMPLITUDE`` (1e-2), above the
      model's clip-absorbed drift at (1, 0);
    - ``ddpm``: per class and noise level t, the v-power gain of one reverse DDIM step
      t → t − 10 (about the spacing of the 100-step schedule, 999/99) on developed fields noised to t
      (``evaluation.spectral_gain``, network units), with σ_t = √(1 − ᾱ_t);
    - ``chain``: per class, along the 100-step sampling chain of ``chain_samples`` samples,
      the noise level, the ratio of the power at the class's ring (its reference wavenumber)
      to the mean power over all shells, the level where that ratio first exceeds 2 (the
      ring has emerged), and the PDE residual of the (unclipped) physical fields.
    """
    n, dx = protocol.size, DX
    modes = np.arange(0, n // 2 + 1)
    q_modes = 2 * np.pi * modes / (n * dx)
    out = {"q_modes": q_modes, "exact": {}, "ddpm": {}, "chain": {}}
    for name in protocol.classes:
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
    out["ddpm_sigma"] = np.sqrt(1 - alpha_bar[list(protocol.gain_levels)])
    generator = torch.Generator().manual_seed(7)
    for c, name in enumerate(_progress(protocol.classes, progress, "gains")):
        fields = references[name][:protocol.gain_fields]
        x0 = ddpm.normalize(torch.from_numpy(fields))
        labels = ddpm.labels(name, len(fields))
        guidance = ddpm.sampling_defaults(name)["guidance"]
        gains = []
        for t in protocol.gain_levels:
            x_t = ddpm.q_sample(x0, torch.full((len(fields),), t, dtype=torch.long),
                                torch.randn(x0.shape, generator=generator))
            x_prev, _ = ddpm.ddim_step(x_t, t, t - 10, labels, guidance, 0.0)
            q, gain = spectral_gain(x_t[:, 1].numpy(), x_prev[:, 1].numpy(), dx)
            gains.append(gain)
        out["ddpm"][name] = np.array(gains)                           # (levels, shells)
        out["q_shells"] = q
        out["chain"][name] = _sampling_chain(ddpm, name, references[name], protocol, seed=3000 + c)
    out["gain_levels"] = np.asarray(protocol.gain_levels)
    # the map the ConvLSTM was trained on: explicit Euler, 5-point Laplacian, 10 steps of dt = 1
    out["euler"] = {name: linear_response(_euler_map(name, dx), (1.0, 0.0), n, dx, modes).real
                    for name in protocol.classes}
    return out


def _euler_map(name, dx):
    def step(x):
        u, v = simulate(preset(name), x[:, 0], x[:, 1], steps=10, dt=1.0, dx=dx)
        return np.stack([u, v], axis=1)
    return step


def _sampling_chain(ddpm, name, reference, protocol: GainsProtocol, seed: int) -> dict:
    """Spectra and PDE residual along a 100-step DDIM chain (the class's sampling defaults)."""
    n, dx = protocol.size, DX
    q_star = 2 * np.pi / set_wavelength(reference[:, 1].astype(np.float64), dx)
    ring = int(round(q_star / (2 * np.pi / (n * dx))))
    defaults = ddpm.sampling_defaults(name)
    generator = torch.Generator().manual_seed(seed)
    labels = ddpm.labels(name, protocol.chain_samples)
    x = torch.randn((protocol.chain_samples, 2, n, n), generator=generator)
    times = ddpm.sampling_times(protocol.ddim_steps)
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


def costs(threads: int) -> dict:
    """``benchmarks/costs.py``'s side-by-side measurement, with the models' sizes and training records."""
    out = costs_side_by_side(threads)
    out["solver"] |= {"parameters": 4, "training_seconds": 0.0}
    for system, record in training_records().items():
        out[system] |= record
    # measured side by side in this one run: the machine and threads belong beside the numbers
    return out | {"machine": machine_description(), "threads": threads, "size": COST_SIZE}


def training_records() -> dict:
    """Parameters and training time of the shipped models from their checkpoint records; a
    fine-tuned model's time is the sum over its stages (each record keeps its parent's)."""
    out = {}
    for system in ("convlstm", "ddpm"):
        record = json.loads((SHIPPED_DIR / f"{system}.json").read_text())
        stages = training_stages(record)
        parameters = record.get("parameters")
        if parameters is None:  # the first ConvLSTM's record keeps it under its config
            from turing_helpers.models import load_pretrained

            parameters = sum(p.numel() for p in load_pretrained(system).parameters())
        out[system] = {"parameters": parameters,
                       "training_seconds": sum(stage["training_seconds"] for stage in stages),
                       "training_stages": len(stages), "training_machine": record["machine"].get("processor")}
    return out


@dataclass(frozen=True)
class HandoverProtocol:
    """Each model's fields handed to the solver: do they move like developed solver states?

    A developed solver state, advanced by the solver, moves as fast as the class's dynamics
    move; a state off the attractor (a perturbed one, a sample that is no steady pattern)
    first relaxes, and moves faster. So the test is ``climate_test`` on the solver's first
    ``frames`` frames (1000 steps) from each handed-over field, against the same frames from two
    independent solver sets' developed states, with the same thresholds; its controls are the
    solver's own developed states (must pass), those states perturbed by zero-mean noise (the
    mean restored after clipping to [0, 1]: must fail) and a uniform field (must fade).

    The same fields are scored twice more. Their PDE residual in absolute units
    (``field_residuals``), beside the solver's developed states and the size of the reaction
    term. Their compression complexity, raw and contrast-normalised (``field_complexity``):
    the difference from the references' per class, tested by permutation with Holm's correction
    over the whole table; controls: the solver's own states (must not differ) and the same
    states with v's contrast halved (the raw measure must see it, the normalised one must not).
    """

    size: int = 48                      # the DDPM's training box
    fields_per_class: int = 16          # DDPM samples and ConvLSTM end states per class
    frames: int = 100                   # 1000 solver steps after the hand-over
    sample_seed: int = 700              # DDPM sampling seeds 700 + class index (fresh)
    ddim_steps: int = 100
    convlstm_frames: int = 1000         # the ConvLSTM's end states: 1000 frames from the test starts
    noise: float = 0.1                  # amplitude of the perturbed control
    noise_seed: int = 710
    test_seed: int = 80                 # starts (solver control, ConvLSTM) and references: as ClimateProtocol
    reference_seeds: tuple = (81, 82)
    generated_per_class: int = 40
    snapshot_every: int = 10
    alpha: float = 0.05                 # Bonferroni over classes x candidates x statistics; Holm for complexity
    resamples: int = 4000               # bootstrap and permutation draws of the complexity tests
    classes: tuple = WELL_CLASSES


def handover_experiment(protocol: HandoverProtocol = HandoverProtocol(), convlstm=None, ddpm=None,
                        progress=True) -> dict:
    """DDPM samples and ConvLSTM end states advanced by the solver, tested against its own states."""
    from turing_helpers.evaluation.climate import climate_test
    from turing_helpers.models import load_pretrained

    torch.set_flush_denormal(True)
    convlstm = load_pretrained("convlstm") if convlstm is None else convlstm
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    forecast = convlstm_forecaster(convlstm)
    per = protocol.fields_per_class
    draw = (per, protocol.generated_per_class, protocol.classes)
    starts, _ = developed_starts(protocol.size, protocol.test_seed, *draw)
    reference_fields = [developed_starts(protocol.size, seed, *draw)[0] for seed in protocol.reference_seeds]
    tests = len(protocol.classes) * 2  # two candidates per class
    out = {"protocol": plain(asdict(protocol)), "classes": {}}
    for c, name in enumerate(protocol.classes):
        started = time.perf_counter()
        references = [climate_statistics(solver_frames(name, f[name], protocol.frames), DX, protocol.snapshot_every)
                      for f in reference_fields]

        def test(fields):
            frames = solver_frames(name, fields, protocol.frames)
            return climate_test(frames, references, DX, alpha=protocol.alpha, tests=tests,
                                snapshot_every=protocol.snapshot_every)

        samples = ddpm.sample(per, name, size=protocol.size, steps=protocol.ddim_steps,
                              seed=protocol.sample_seed + c)
        context = solver_frames(name, starts[name], CONTEXT - 1)
        ends = forecast(context, protocol.convlstm_frames)[:, -1]
        uniform = np.zeros_like(starts[name])
        uniform[:, 0] = 1.0
        handed = {"ddpm": samples, "convlstm": ends, "solver": starts[name]}
        references_fields = np.concatenate([f[name] for f in reference_fields])
        entry = {"ddpm": test(samples), "convlstm": test(ends),
                 "controls": {"solver": test(starts[name]),
                              "perturbed": test(zero_mean_noise(starts[name], protocol.noise,
                                                                protocol.noise_seed + c)),
                              "uniform": test(uniform)},
                 "residual": field_residuals(name, handed | {"references": references_fields}),
                 "complexity": field_complexity(handed | {"halved contrast": halved_contrast(starts[name])},
                                                references_fields, protocol.resamples, seed=protocol.noise_seed + c),
                 "seconds": time.perf_counter() - started}
        out["classes"][name] = plain(entry)
        if progress:
            verdicts = {key: entry[key]["verdict"] for key in ("ddpm", "convlstm")} | {
                key: t["verdict"] for key, t in entry["controls"].items()}
            print(f"  hand-over {name}: {verdicts}", flush=True)
    holm_complexity(out["classes"], protocol.alpha)
    return out


def field_residuals(name, sets: dict) -> dict:
    """The PDE residual of each set of fields, in absolute units (concentration per time unit).

    sets: {system: fields (B, 2, n, n)}. Per system the per-field RMS of ∂(u, v)/∂t
    (``metrics.pde_residual``, 5-point stencil) and the fraction of uniform fields; beside
    them the scale the residual is small against: the RMS of the reaction term u v² over the
    solver's reference fields (the size of the terms that cancel in a steady state).
    """
    model = preset(name)
    out = {system: {"per_field": np.atleast_1d(pde_residual(model, f[:, 0], f[:, 1], DX)).tolist(),
                    "uniform": float(np.mean(is_uniform(f[:, 1])))} for system, f in sets.items()}
    u, v = sets["references"][:, 0].astype(np.float64), sets["references"][:, 1].astype(np.float64)
    out["scale"] = float(np.sqrt(np.mean((u * v * v) ** 2)))
    return out


def halved_contrast(fields):
    """fields (B, 2, n, n) with v's contrast about its mean halved: a control with the same shapes."""
    out = fields.astype(np.float32, copy=True)
    mean = out[:, 1].mean(axis=(-2, -1), keepdims=True)
    out[:, 1] = mean + 0.5 * (out[:, 1] - mean)
    return out


# compression complexity of v: on the fixed physical range (contrast counts) and on each
# field's own range at 16 levels (contrast taken out; at 256 levels a 48² pattern barely compresses)
COMPLEXITY_MEASURES = {"raw": {"value_range": (0.0, 1.0), "levels": 256},
                       "contrast-normalised": {"value_range": "field", "levels": 16}}


def field_complexity(sets: dict, references, resamples: int, seed: int) -> dict:
    """Per candidate set and complexity measure, the difference from the solver's reference fields.

    sets: {system: fields (B, 2, n, n)}; references: (R, 2, n, n) independent solver fields.
    Uniform fields (no pattern) are counted apart and left out of the means. Each entry is
    ``difference_test``'s result (difference of means, bootstrap interval, permutation p) with
    the candidate's and the references' means; the family's Holm correction is added by
    :func:`holm_complexity`.
    """
    keep = ~np.atleast_1d(is_uniform(references[:, 1]))
    out = {}
    for system, fields in sets.items():
        alive = ~np.atleast_1d(is_uniform(fields[:, 1]))
        out[system] = {"uniform": float(np.mean(~alive))}
        for measure, options in COMPLEXITY_MEASURES.items():
            a = compression_complexity(fields[alive, 1], **options)
            b = compression_complexity(references[keep, 1], **options)
            out[system][measure] = difference_test(a, b, resamples=resamples, seed=seed) | {
                "candidate": float(np.mean(a)), "reference": float(np.mean(b))}
    return out


def holm_complexity(classes: dict, alpha: float) -> None:
    """Holm's correction over every (class, candidate, measure) complexity test, in place:
    each test gains "p_holm" and "differs" (p_holm ≤ alpha)."""
    tests = [entry["complexity"][system][measure] for entry in classes.values()
             for system in entry["complexity"] for measure in COMPLEXITY_MEASURES]
    for test, adjusted in zip(tests, holm([t["p"] for t in tests])):
        test["p_holm"], test["differs"] = float(adjusted), bool(adjusted <= alpha)


@dataclass(frozen=True)
class PerturbationProtocol:
    """Perturb developed states, let each system act, and ask what it restored.

    Per class, ``fields_per_class`` developed test states x₃ (the fourth solver frame from
    ClimateProtocol's starts, so the three frames before it are the solver's own), perturbed by
    zero-mean noise of each amplitude (``zero_mean_noise``: clipped to [0, 1] with the mean
    restored, so the perturbation is no shift of the mean) or by an erased central square set
    to (1, 0). Then each system acts:

    - the solver advances the perturbed state ``relax_frames`` frames;
    - the ConvLSTM reads the solver's own four frames x₀..x₃, each with the same perturbation,
      and rolls out as many frames;
    - the DDPM noises the perturbed state to level ``ddpm_t_start`` and denoises it (SDEdit).

    Each result is scored against what the system would have produced without the
    perturbation — the solver's continuation of x₃ for the solver and the ConvLSTM, x₃ itself
    for the DDPM — by ``classify_recovery``: "the pattern" (pattern identity above what
    independent patterns of the class reach by chance), "a pattern" (only the statistics
    restored) or "lost". Thresholds from the solver alone: pairs of independent developed
    fields of the class (the reference seeds), their 95 % quantiles. Controls: the perturbed
    fields untreated, an independent solver field of the class (must be "a pattern", rarely
    "the pattern") and a uniform field (must be "lost").
    """

    size: int = 48
    fields_per_class: int = 16
    amplitudes: tuple = (0.0, 0.05, 0.1, 0.2, 0.4)   # std of the zero-mean noise on u and v
    patch: int = 16                                   # side of the erased square (grid points)
    relax_frames: int = 100                           # 1000 time units
    ddpm_t_start: int = 300
    quantile: float = 0.95
    noise_seed: int = 720
    ddpm_seed: int = 730
    test_seed: int = 80
    reference_seeds: tuple = (81, 82)
    generated_per_class: int = 40
    classes: tuple = WELL_CLASSES


def _perturbed(frames, kind, amplitude, seed, patch):
    """The same perturbation applied to every frame of (B, K, 2, n, n): zero-mean noise of one
    draw (the seed repeats) or the erased central square."""
    if kind == "noise":
        return np.stack([zero_mean_noise(frames[:, k], amplitude, seed) for k in range(frames.shape[1])], axis=1)
    out = frames.copy()
    lo = (frames.shape[-1] - patch) // 2
    out[..., 0, lo:lo + patch, lo:lo + patch] = 1.0
    out[..., 1, lo:lo + patch, lo:lo + patch] = 0.0
    return out


def perturbation_experiment(protocol: PerturbationProtocol = PerturbationProtocol(), convlstm=None, ddpm=None,
                            progress=True) -> dict:
    """Per class and perturbation, each system's outcomes: the pattern, a pattern, or lost."""
    from turing_helpers.evaluation.recovery import classify_recovery, recovery_thresholds
    from turing_helpers.models import load_pretrained

    torch.set_flush_denormal(True)
    forecast = convlstm_forecaster(load_pretrained("convlstm") if convlstm is None else convlstm)
    ddpm = load_pretrained("ddpm") if ddpm is None else ddpm
    draw = (protocol.fields_per_class, protocol.generated_per_class, protocol.classes)
    starts, _ = developed_starts(protocol.size, protocol.test_seed, *draw)
    references = [developed_starts(protocol.size, seed, *draw)[0] for seed in protocol.reference_seeds]
    kinds = [("noise", float(a)) for a in protocol.amplitudes] + [("patch", float(protocol.patch))]
    out = {"protocol": plain(asdict(protocol)), "classes": {}}
    for c, name in enumerate(protocol.classes):
        started = time.perf_counter()
        thresholds = recovery_thresholds(references[0][name], references[1][name], DX, protocol.quantile)
        frames = solver_frames(name, starts[name], CONTEXT - 1 + protocol.relax_frames)
        context, clean, future = frames[:, :CONTEXT], frames[:, CONTEXT - 1], frames[:, -1]
        uniform = np.zeros_like(clean)
        uniform[:, 0] = 1.0
        entry = {"thresholds": thresholds,
                 "controls": {"independent": classify_recovery(references[1][name], clean, thresholds, DX),
                              "uniform": classify_recovery(uniform, clean, thresholds, DX)},
                 "perturbations": []}
        for kind, amplitude in kinds:
            shaken = _perturbed(context, kind, amplitude, protocol.noise_seed + c, protocol.patch)
            state = shaken[:, -1]
            acted = {"untreated": (state, clean),
                     "solver": (solver_frames(name, state, protocol.relax_frames)[:, -1], future),
                     "convlstm": (forecast(shaken, protocol.relax_frames)[:, -1], future),
                     "ddpm": (ddpm.denoise_from(state, name, protocol.ddpm_t_start, seed=protocol.ddpm_seed + c),
                              clean)}
            size = np.sqrt(np.mean((state[:, 1] - clean[:, 1]) ** 2, axis=(-2, -1)))
            entry["perturbations"].append({
                "kind": kind, "amplitude": amplitude, "rms_v": float(np.mean(size)),
                "mean_shift_v": float(np.mean(state[:, 1] - clean[:, 1])),
                "systems": {system: classify_recovery(result, target, thresholds, DX)
                            for system, (result, target) in acted.items()}})
        entry["seconds"] = time.perf_counter() - started
        out["classes"][name] = plain(entry)
        if progress:
            for row in entry["perturbations"]:
                shares = {s: f"{r['fractions']['the pattern']:.2f}/{r['fractions']['a pattern']:.2f}"
                          for s, r in row["systems"].items()}
                print(f"  perturbation {name} {row['kind']} {row['amplitude']}: {shares}", flush=True)
    return out


@dataclass(frozen=True)
class LinearResponseProtocol:
    """Gain against wavenumber at every homogeneous steady state of each class.

    At a homogeneous state (u*, v*) the one-frame map of any system multiplies a Fourier
    mode by a 2×2 matrix G(q) (``linear_response``); its eigenvalues are the map's gain. Per
    class and state (``GrayScott.steady_states``: (1, 0) for all, two more for bubbles), the
    gains of: the exact flow over one frame, exp(10 λ(q)); the explicit-Euler frame map that made
    the ConvLSTM's data; ETDRK4 (the same equations, another integrator); the ConvLSTM (float64,
    its context held at the state) at the perturbation amplitudes ``amplitudes``. Rule, fixed
    before the ConvLSTM was measured, on the resolved modes (m ≤ n/4, q Δx ≤ π/2, where the two
    integrators agree): a map's gain is *the solver's filter* at a state when the RMS over those
    modes and both branches of its gains' difference from Euler's is at most ``tolerance_factor`` × that of
    ETDRK4 (the solver's own spread: another integrator of the same equations) plus ``floor``;
    *not the solver's filter* otherwise. Controls that must fail: the Euler map with both
    diffusivities multiplied by ``diffusion_control``, and the identity (a frozen field, gain 1).
    """

    size: int = 48
    modes: tuple = tuple(range(25))
    amplitudes: tuple = (1e-6, 1e-2)
    tolerance_factor: float = 2.0
    floor: float = 0.01
    diffusion_control: float = 2.0
    classes: tuple = WELL_CLASSES


def linear_response_experiment(protocol: LinearResponseProtocol = LinearResponseProtocol(), convlstm=None,
                               progress=True) -> dict:
    """Per class and homogeneous state: exact, Euler, ETDRK4, diffusion-doubled and ConvLSTM gains."""
    import copy
    import dataclasses

    from turing_helpers.evaluation import linear_response
    from turing_helpers.models import load_pretrained

    model = copy.deepcopy(load_pretrained("convlstm") if convlstm is None else convlstm).double()
    n, modes = protocol.size, np.asarray(protocol.modes)
    q = 2 * np.pi * modes / (n * DX)

    def frame_map(gray_scott, method="euler"):
        def step(x):
            u, v = simulate(gray_scott, x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX, method=method)
            return np.stack([u, v], axis=1)
        return step

    def convlstm_step(x):
        context = torch.from_numpy(np.repeat(np.asarray(x, np.float64)[:, None], CONTEXT, axis=1))
        with torch.no_grad():
            return model.rollout(context, 1)[:, 0].numpy()

    out = {"protocol": plain(asdict(protocol)), "q": q.tolist(), "classes": {}}
    for name in protocol.classes:
        gs = preset(name)
        doubled = dataclasses.replace(gs, Du=protocol.diffusion_control * gs.Du, Dv=protocol.diffusion_control * gs.Dv)
        states = []
        for state in gs.steady_states():
            def gain(step, amplitude=1e-6):
                return linear_response(step, state, n, DX, modes, amplitude=amplitude)

            euler = gain(frame_map(gs))
            entry = {"state": list(state), "growth_rate": float(np.max(gs.dispersion(q, state).real)),
                     "exact": np.exp(10 * gs.dispersion(q, state)), "euler": euler,
                     "etdrk4": gain(frame_map(gs, "etdrk4")), "diffusion_doubled": gain(frame_map(doubled)),
                     "convlstm": {str(a): gain(convlstm_step, a) for a in protocol.amplitudes}}
            resolved = modes <= n // 4

            def distance(g):
                """RMS over the resolved modes and both branches of the gain's difference from Euler's,
                the branches paired the closer way (a complex pair's order is arbitrary)."""
                g, e = g[resolved], euler[resolved]
                straight = np.abs(g[:, 0] - e[:, 0]) ** 2 + np.abs(g[:, 1] - e[:, 1]) ** 2
                crossed = np.abs(g[:, 0] - e[:, 1]) ** 2 + np.abs(g[:, 1] - e[:, 0]) ** 2
                return float(np.sqrt(np.mean(np.minimum(straight, crossed) / 2)))

            tolerance = protocol.tolerance_factor * distance(entry["etdrk4"]) + protocol.floor

            def verdict(g):
                return "the solver's filter" if distance(g) <= tolerance else "not the solver's filter"

            entry |= {"tolerance": tolerance,
                      "distance": {"etdrk4": distance(entry["etdrk4"]),
                                   "diffusion_doubled": distance(entry["diffusion_doubled"]),
                                   "identity": distance(np.ones_like(euler)),
                                   **{f"convlstm {a}": distance(g) for a, g in entry["convlstm"].items()}},
                      "verdicts": {"etdrk4": verdict(entry["etdrk4"]),
                                   "diffusion_doubled": verdict(entry["diffusion_doubled"]),
                                   "identity": verdict(np.ones_like(euler)),
                                   **{f"convlstm {a}": verdict(g) for a, g in entry["convlstm"].items()}}}
            states.append(entry)
            if progress:
                print(f"  linear response {name} at ({state[0]:.3f}, {state[1]:.3f}): {entry['verdicts']}",
                      flush=True)
        out["classes"][name] = [{key: ({"real": np.real(value).tolist(), "imag": np.imag(value).tolist()}
                                       if isinstance(value, np.ndarray) else
                                       {a: {"real": np.real(g).tolist(), "imag": np.imag(g).tolist()}
                                        for a, g in value.items()} if key == "convlstm" else value)
                                 for key, value in entry.items()} for entry in states]
    return plain(out)


@dataclass(frozen=True)
class JacobianProtocol:
    """The referee's first question about stability: do perturbations of a state grow?

    At developed states of each class (the test starts of ClimateProtocol), the k leading
    eigenvalues μ of the Jacobian of one frame (``jacobian_spectrum``): for the solver, of
    its frame map (10 explicit Euler steps, the map that made the ConvLSTM's training data);
    for the ConvLSTM, of its whole-state map (frames, increment and hidden channels,
    ``ConvLSTM.state_step``) after it read four solver frames x_0..x_3 of the state (its
    state then holds its prediction x_4 and x_3; the solver's map is taken at x_3). Verdict, fixed
    before any model was measured: a class's learned map is *less stable than the solver*
    when its spectral radius exceeds the solver's at every one of the states (paired: the
    solver's radius varies from state to state by more than 10 % in the moving classes);
    *as stable* otherwise. Controls: the same equations integrated by ETDRK4 (another
    integrator, 10 steps of dt = 1: must come out as stable) and the Euler frame map with every
    perturbation amplified by ``amplified`` (x* + a (S(x) − S(x*)): must come out less stable).
    """

    size: int = 48
    states_per_class: int = 3
    k: int = 6
    amplified: float = 1.1
    test_seed: int = 80
    generated_per_class: int = 40
    classes: tuple = WELL_CLASSES


def jacobian_experiment(protocol: JacobianProtocol = JacobianProtocol(), convlstm=None, progress=True) -> dict:
    """Leading Jacobian eigenvalues of the solver's and the ConvLSTM's one-frame maps, per class."""
    import copy

    from turing_helpers.evaluation import jacobian_spectrum
    from turing_helpers.models import load_pretrained

    model = copy.deepcopy(load_pretrained("convlstm") if convlstm is None else convlstm).double()
    starts, _ = developed_starts(protocol.size, protocol.test_seed, protocol.states_per_class,
                           protocol.generated_per_class, protocol.classes)
    out = {"protocol": plain(asdict(protocol)), "classes": {}}
    for name in protocol.classes:
        def solver_step(x, method="euler"):
            u, v = simulate(preset(name), x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX, method=method,
                            **({"backend": "numba"} if method == "euler" else {}))
            return np.stack([u, v], axis=1)

        def etdrk4_step(x):
            return solver_step(x, "etdrk4")

        def amplified_step(x, base):
            """x* + a (S(x) − S(x*)): the Euler map with every perturbation grown by the factor a."""
            return base[None] + protocol.amplified * (solver_step(x) - base[None])

        context = solver_frames(name, starts[name], CONTEXT - 1).astype(np.float64)   # (B, 4, 2, n, n)
        with torch.no_grad():
            whole = model.rollout_state(torch.from_numpy(context)).numpy()               # (B, 36, n, n)
        entry = {"solver": [], "convlstm": [], "etdrk4": [], "amplified": []}
        for b, state in enumerate(context[:, -1]):
            base = solver_step(state[None])[0]
            entry["solver"].append(jacobian_spectrum(solver_step, state, k=protocol.k, seed=b))
            entry["etdrk4"].append(jacobian_spectrum(etdrk4_step, state, k=protocol.k, seed=b))
            entry["amplified"].append(jacobian_spectrum(lambda x: amplified_step(x, base), state, k=protocol.k,
                                                        seed=b))
            entry["convlstm"].append(jacobian_spectrum(model.state_step, whole[b], k=protocol.k, seed=b,
                                                       autograd=True))
        radius = {system: [float(np.abs(mu).max()) for mu in values] for system, values in entry.items()}

        def verdict(system):
            larger = all(r > r0 for r, r0 in zip(radius[system], radius["solver"]))
            return "less stable than the solver" if larger else "as stable as the solver"

        out["classes"][name] = {
            "eigenvalues": {system: {"real": np.real(values).tolist(), "imag": np.imag(values).tolist()}
                            for system, values in entry.items()},
            "spectral_radius": radius, "verdict": verdict("convlstm"),
            "controls": {system: verdict(system) for system in ("etdrk4", "amplified")}}
        if progress:
            print(f"  jacobian {name}: solver {np.round(radius['solver'], 3)}, "
                  f"ConvLSTM {np.round(radius['convlstm'], 3)}: {verdict('convlstm')}; "
                  f"controls {out['classes'][name]['controls']}", flush=True)
    return out


def climate_rows(climate: dict) -> list[dict]:
    """The summary table's rows on stability under time, from :func:`climate_experiment`'s result."""
    sizes = list(climate["sizes"])
    classes = climate["protocol"]["classes"]
    horizon = climate["protocol"]["horizon"]
    boxes = " / ".join(f"{n}²" for n in sizes)

    def tests(n, kind):
        entries = climate["sizes"][n]["classes"]
        return [entries[c]["climate"] if kind == "model" else entries[c]["controls"][kind] for c in classes]

    def count(kind, verdict="on the attractor"):
        return " / ".join(f"{sum(t['verdict'] == verdict for t in tests(n, kind))}/{len(classes)}" for n in sizes)

    def times(n, name, system):
        skill = climate["sizes"][n]["classes"][name]["skill"][system]
        return np.asarray(skill["correlation_time"]["0.8"]["per_window"])

    # moving classes: persistence decorrelates within the horizon (median below it)
    moving = [c for c in classes if np.median(times(sizes[0], c, "persistence")) < horizon]
    cells = []
    for n in sizes:
        cells.append(", ".join(f"{c} {np.median(times(n, c, 'model')):.0f} vs "
                               f"{np.median(times(n, c, 'persistence')):.0f}" for c in moving) + f" ({n}²)")
    censored = all(np.all(times(n, c, system) >= horizon) for n in sizes for c in classes if c not in moving
                   for system in ("model", "persistence"))
    longer = np.mean([np.mean(times(n, c, "model") > times(n, c, "persistence")) for n in sizes for c in moving])
    return [
        {"measurement": f"classes on the attractor over {climate['protocol']['frames']} frames (climate test, "
                        f"thresholds from two independent solver sets; {boxes})",
         "solver": f"{count('solver')} (its own third set)", "convlstm": count("model"), "ddpm": "no dynamics"},
        {"measurement": f"controls called 'drifted' / 'drifted' / 'faded': a frozen copy, another class's solver "
                        f"set, a uniform field ({boxes})",
         "solver": "; ".join(f"{label} {count(kind, verdict)}" for label, kind, verdict in (
             ("frozen", "frozen", "drifted"), ("other class", "other_class", "drifted"),
             ("uniform", "uniform", "faded"))),
         "convlstm": "—", "ddpm": "—"},
        {"measurement": f"frames with r ≥ 0.8 in the moving classes, median over windows, ConvLSTM vs persistence "
                        f"(other classes: {'both censored at ' + str(horizon) + ' in every window' if censored else 'see chapter'})",
         "solver": "reference",
         "convlstm": "; ".join(cells) + f"; ConvLSTM longer in {longer:.0%} of these windows",
         "ddpm": "no dynamics"},
    ]


def handover_rows(handover: dict) -> list[dict]:
    """The summary table's rows on the models' fields handed to the solver."""
    entries = handover["classes"]
    classes = list(entries)

    def count(system, verdict="on the attractor", control=False):
        tests = [entries[c]["controls" if control else system] for c in classes]
        tests = [t[system] for t in tests] if control else tests
        return f"{sum(t['verdict'] == verdict for t in tests)}/{len(classes)}"

    def ratios(system, control=False):
        tests = [entries[c]["controls"][system] if control else entries[c][system] for c in classes]
        r = [t["statistics"]["motion"]["candidate"] / t["statistics"]["motion"]["reference"] for t in tests]
        return f"{min(r):.2g}–{max(r):.2g}×"

    # the solver's developed states of the resting classes move by 1e-7 to 1e-4 per frame:
    # ratios to them are large for any field that is not (nearly) a fixed point
    reference = [entries[c]["ddpm"]["statistics"]["motion"]["reference"] for c in classes]

    steps = 10 * handover["protocol"]["frames"]
    return [{"measurement": f"classes whose fields, handed to the solver, move like its developed states over "
                            f"{steps} steps (climate test; {handover['protocol']['size']}²)",
             "solver": f"{count('solver', control=True)} own states; perturbed "
                       f"{count('perturbed', control=True)}",
             "convlstm": f"{count('convlstm')} (end states)", "ddpm": f"{count('ddpm')} (samples)"},
            {"measurement": f"how fast they move in those {steps} steps (mean |Δv| per frame), relative to the "
                            f"solver's developed states, which move {min(reference):.1g}–{max(reference):.1g} "
                            "per frame (range over classes)",
             "solver": ratios("solver", control=True) + " (own states)", "convlstm": ratios("convlstm"),
             "ddpm": ratios("ddpm")}]


def jacobian_rows(jacobian: dict) -> list[dict]:
    """The summary table's row on the leading Jacobian eigenvalues at developed states."""
    entries = jacobian["classes"]

    def radii(system):
        values = [r for e in entries.values() for r in e["spectral_radius"][system]]
        return f"{min(values):.2f}–{max(values):.2f}"

    less = sum(e["verdict"] == "less stable than the solver" for e in entries.values())
    return [{"measurement": f"spectral radius of one frame's Jacobian at developed states "
                            f"({jacobian['protocol']['size']}², range over states); classes less stable "
                            "than the solver at every state",
             "solver": radii("solver") + " (Euler frame map)",
             "convlstm": f"{radii('convlstm')} (whole state); {less}/{len(entries)}", "ddpm": "—"}]


def cell_rows(cell: dict) -> list[dict]:
    """The summary table's row on chapter 7's fitted GrayScottCell under the same climate test."""
    sizes = list(cell["sizes"])
    counts = " / ".join(f"{sum(e['climate']['verdict'] == 'on the attractor' for e in cell['sizes'][n]['classes'].values())}"
                        f"/{len(cell['sizes'][n]['classes'])}" for n in sizes)
    return [{"measurement": "the same climate test for chapter 7's GrayScottCell (the Euler step with 4 fitted "
                            f"parameters; {' / '.join(n + '²' for n in sizes)})",
             "solver": f"GrayScottCell {counts}", "convlstm": "—", "ddpm": "—"}]


def recovery_rows(recovery: dict) -> list[dict]:
    """The summary table's rows on perturbations: outcome shares pooled over classes."""
    entries = recovery["classes"]

    def shares(kind, amplitude, system):
        rows = [r for e in entries.values() for r in e["perturbations"]
                if r["kind"] == kind and r["amplitude"] == amplitude]
        outcome = [o for r in rows for o in r["systems"][system]["outcome"]]
        return " · ".join(f"{np.mean(np.array(outcome) == o):.0%}" for o in ("the pattern", "a pattern", "lost"))

    out = []
    largest = max(recovery["protocol"]["amplitudes"])
    for kind, amplitude, label in (("noise", 0.1, "zero-mean noise of amplitude 0.1"),
                                   ("noise", largest, f"zero-mean noise of amplitude {largest:g}"),
                                   ("patch", float(recovery["protocol"]["patch"]), "an erased square")):
        out.append({"measurement": f"after {label}: the pattern · a pattern · lost, share of fields pooled over "
                                   f"classes (untreated: {shares(kind, amplitude, 'untreated')}; thresholds from "
                                   "independent solver fields)",
                    **{system: shares(kind, amplitude, system) for system in ("solver", "convlstm", "ddpm")}})
    return out


def response_rows(response: dict) -> list[dict]:
    """The summary table's row on the linear response at homogeneous states."""
    states = [s for entry in response["classes"].values() for s in entry]

    def count(key, verdict="the solver's filter"):
        return f"{sum(s['verdicts'][key] == verdict for s in states)}/{len(states)}"

    amplitudes = response["protocol"]["amplitudes"]
    return [{"measurement": "homogeneous states (all classes) where the one-frame gain is the solver's filter "
                            "(RMS difference from Euler's ≤ 2 × ETDRK4's, resolved modes)",
             "solver": f"ETDRK4 {count('etdrk4')}; doubled diffusion {count('diffusion_doubled')}; identity "
                       f"{count('identity')}",
             "convlstm": "; ".join(f"{count(f'convlstm {a}')} (amplitude {a:g})" for a in amplitudes),
             "ddpm": "no dynamics (gain per noise level: chapter text)"}]


def residual_rows(handover: dict) -> list[dict]:
    """The summary table's row on the PDE residual of each system's fields, absolute units."""
    entries = handover["classes"]

    def span(system):
        medians = [np.median(e["residual"][system]["per_field"]) for e in entries.values()]
        return f"{min(medians):.1e}–{max(medians):.1e}"

    scale = [e["residual"]["scale"] for e in entries.values()]
    return [{"measurement": "PDE residual, RMS of ∂(u, v)/∂t per time unit, median over fields, range over classes "
                            f"(scale: RMS of the reaction term u v², {min(scale):.1e}–{max(scale):.1e})",
             "solver": span("references") + " (developed states)", "convlstm": span("convlstm") + " (end states)",
             "ddpm": span("ddpm") + " (samples)"}]


def complexity_rows(handover: dict) -> list[dict]:
    """The summary table's rows on compression complexity, raw and contrast-normalised."""
    entries = handover["classes"]
    tests = sum(len(e["complexity"]) for e in entries.values()) * len(COMPLEXITY_MEASURES)
    out = []
    for measure in COMPLEXITY_MEASURES:
        def cell(system):
            results = [e["complexity"][system][measure] for e in entries.values()]
            relative = [r["relative"] for r in results]
            return (f"{sum(r['differs'] for r in results)}/{len(results)} differ "
                    f"({min(relative):+.0%} to {max(relative):+.0%})")

        out.append({"measurement": f"compression complexity of v, {measure}: classes that differ from the solver "
                                   f"(Holm over {tests} tests, α = {handover['protocol']['alpha']:g}); relative "
                                   "difference, range over classes",
                    "solver": f"own states {cell('solver')}; halved contrast {cell('halved contrast')}",
                    "convlstm": cell("convlstm") + " (end states)", "ddpm": cell("ddpm") + " (samples)"})
    return out


def cost_rows(costs: dict) -> list[dict]:
    """The summary table's cost rows, labelled with the machine and threads they were measured on."""
    where = f"{costs['size']}², {costs['threads']} threads, {costs['machine']['processor']}" if "machine" in costs \
        else "48²"
    rows = []
    for key, label, fmt in (("seconds_per_pattern", f"CPU seconds per developed pattern ({where}, one run)", "{:.2f}"),
                            ("sequential_steps", "sequential steps per pattern", "{:.0f}"),
                            ("mib_per_pattern", "working memory per pattern (MiB, 64 at once)", "{:.2f}"),
                            ("parameters", "parameters", "{:,.0f}")):
        rows.append({"measurement": label, **{system: fmt.format(costs[system][key]) for system in
                                               ("solver", "convlstm", "ddpm")}})
    return rows


def summary(result: dict) -> list[dict]:
    """Chapter 6's summary table, one block of rows per experiment, each read from its own result."""
    rows = []
    for key, make in (("climate", climate_rows), ("cell_climate", cell_rows), ("jacobian", jacobian_rows),
                      ("handover", handover_rows),
                      ("recovery", recovery_rows), ("response", response_rows)):
        if key in result:
            rows += make(result[key])
    if "handover" in result and "residual" in next(iter(result["handover"]["classes"].values())):
        rows += residual_rows(result["handover"]) + complexity_rows(result["handover"])
    if "costs" in result:
        rows += cost_rows(result["costs"])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--costs-only", action="store_true", help="re-measure the costs and update --out")
    parser.add_argument("--summary-only", action="store_true",
                        help="rewrite only the summary table of --out from its results")
    parser.add_argument("--jacobian-only", action="store_true",
                        help="redo only the Jacobian spectra (JacobianProtocol) and update --out")
    parser.add_argument("--handover-only", action="store_true",
                        help="redo only the hand-over experiment (HandoverProtocol) and update --out")
    parser.add_argument("--perturbation-only", action="store_true",
                        help="redo only the perturbation experiment (PerturbationProtocol) and update --out")
    parser.add_argument("--response-only", action="store_true",
                        help="redo only the linear response at homogeneous states (LinearResponseProtocol)")
    parser.add_argument("--gains-only", action="store_true",
                        help="redo only the gains and sampling chains (GainsProtocol) and update --out")
    parser.add_argument("--cell-only", action="store_true",
                        help="put chapter 7's fitted GrayScottCell through the climate test (ClimateProtocol)")
    parser.add_argument("--climate-only", action="store_true",
                        help="redo only the stability-under-time experiment (ClimateProtocol) and update --out")
    parser.add_argument("--convlstm-only", action="store_true",
                        help="after retraining the ConvLSTM: redo every experiment that involves it (all but "
                             "the DDPM's gains and the GrayScottCell's climate) and update --out")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.summary_only:
        result = json.loads(args.out.read_text())
        result["summary"] = summary(result)
        write_json(args.out, result)
        return
    command = " ".join(["python benchmarks/compare.py", *(sys.argv[1:] if argv is None else argv)])
    experiments = {"climate": (args.climate_only, climate_experiment),
                   "jacobian": (args.jacobian_only, jacobian_experiment),
                   "handover": (args.handover_only, handover_experiment),
                   "recovery": (args.perturbation_only, perturbation_experiment),
                   "response": (args.response_only, linear_response_experiment),
                   "cell_climate": (args.cell_only, cell_climate_experiment)}
    chosen = [key for key, (wanted, _) in experiments.items() if wanted]
    if args.convlstm_only:
        chosen = ["climate", "jacobian", "handover", "recovery", "response"]
    full = not (chosen or args.costs_only or args.gains_only)
    begun = time.perf_counter()
    if full:
        result = plain(gains_experiment())
        result |= {"command": command, "machine": machine_description()}
        chosen = list(experiments)
    else:
        result = json.loads(args.out.read_text())
    if args.gains_only:
        # the top-level command and machine are the gains' (the other parts carry their own)
        result |= plain(gains_experiment()) | {"command": command, "machine": machine_description()}
    if {"climate", "cell_climate"} <= set(chosen):
        # both forecasters on one set of starts and references (which take a third of the time)
        start = time.perf_counter()
        both = climate_experiments()
        for key, part in both.items():
            result[key] = part | {"command": command, "machine": machine_description(),
                                  "seconds": time.perf_counter() - start, "shared_with": sorted(set(both) - {key})}
        chosen = [key for key in chosen if key not in both]
    for key in chosen:
        start = time.perf_counter()
        result[key] = experiments[key][1]()
        # each part records the command and machine that made it
        result[key] |= {"command": command, "machine": machine_description(),
                        "seconds": time.perf_counter() - start}
    if full or args.costs_only:
        result["costs"] = costs(args.threads)
        result["costs_command"] = command
    else:
        # the costs stay those measured side by side on a quiet machine; the training
        # records may have changed (a retrained model)
        for system, record in training_records().items():
            result["costs"][system] |= record
    if full:
        result["seconds"]["total"] = time.perf_counter() - begun
    result["summary"] = summary(result)
    write_json(args.out, result)
    for row in result["summary"]:
        print(f"{row['measurement'][:70]:70s} | {row['solver']:>18s} | {row['convlstm']:>18s} | {row['ddpm']:>18s}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
