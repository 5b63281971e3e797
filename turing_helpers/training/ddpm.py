"""Train the class-conditional DDPM on developed Gray-Scott patterns (chapter 5).

Data protocol: developed patterns from :func:`turing_helpers.data.patterns` for The Well's
six classes at The Well's spacing dx = 2/128, generated directly on a small *periodic*
grid (48², 0.75 length units, several wavelengths) so the periodic U-Net sees periodic
inputs (a crop of a larger periodic field would not be periodic). Base seed 0 at 10,000
steps for every class, plus base seed 1 at 12,000 steps for the classes that keep moving
(gliders, worms, spirals) — more states of their never-settling dynamics. Fields that
decayed to the uniform state (std of v < 1e-3; a few gliders and spirals seeds on this
small box) are dropped: the model learns *developed* patterns. Every batch is augmented
with the exact symmetries of the periodic problem: random periodic shifts, flips and
90° rotations. A stratified 10% of the fields is held out for the validation loss.

Usage::

    python -m turing_helpers.train ddpm --minutes 45            # a model from scratch
    python -m turing_helpers.train ddpm --minutes 1 --out /tmp/ddpm.pt --eval-samples 0
    python -m turing_helpers.train ddpm --resume --minutes 90   # continue from --out to 90 min in all
    python -m turing_helpers.train ddpm --resume --minutes 0 --tune-sampling   # only choose the sampler

The shipped checkpoint was trained in phases, each recorded in its ``history``: 52 min
at batch 16 and a constant learning rate 1e-3 on one thread (the first half with the ε
target, then v), then ``--resume --minutes 160 --lr 1e-3 --lr-final 5e-5 --batch 32
--ema-decay 0.999 --threads 2`` (a cosine decay over 108 more minutes), and finally
``--resume --minutes 0 --tune-sampling`` (48 min on two cores: 5 candidates × 64 samples ×
100 DDIM steps per class).

After training, :func:`tune_sampling` may choose each class's sampling defaults
(guidance weight, DDIM η) on validation patterns (base seed 5). The quality of the final
EMA model is then measured per class (:func:`quality_table`) on fresh solver patterns
(base seed 9, never used in training or tuning) and stored in the checkpoint.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import SHIPPED_DIR, load_checkpoint, machine_description, save_checkpoint
from ..data import WELL_CLASSES, PatternConfig, patterns, split_by_trajectory
from ..models.ddpm import CHECKPOINT_KIND, DDPM, EMA, DiffusionConfig
from ..models.unet import UNetConfig

MOVING = ("gliders", "worms", "spirals")
ALIVE_STD = 1e-3  # a field whose v varies less than this has decayed to the uniform state
EVAL_SEED = 9     # base seed of the fresh evaluation patterns (training uses 0 and 1)
TUNING_SEED = 5   # base seed of the validation patterns that choose the sampling defaults
# (guidance w, DDIM η) tried per class by tune_sampling; w = 1, η = 0 is plain conditional DDIM
SAMPLING_CANDIDATES = ((1.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0))
# DDIM steps of the tuning and of every quality measurement. With η = 1 (fresh noise in each
# step, which the worms and bubbles need) 25 steps are too coarse: on the validation patterns
# the component-density error of worms falls from 14% at 25 steps to 5% at 100, of bubbles
# from 18% to 6%.
SAMPLING_STEPS = 100


@dataclass(frozen=True)
class DataConfig:
    """Which solver patterns the model is trained on (saved in the checkpoint)."""

    size: int = 48              # periodic grid side; 48 dx = 0.75 length units, 3–8 wavelengths
    per_class: int = 192        # seeds per class at 10,000 steps (45 s of solver time on 1 core)
    extra_per_class: int = 96   # extra seeds for the moving classes, at 12,000 steps
    steps: int = 10_000
    extra_steps: int = 12_000
    seed: int = 0
    extra_seed: int = 1
    validation: float = 0.1


def _uniform(v: np.ndarray) -> np.ndarray:
    """Which fields v (B, n, n) have decayed to the uniform state; bool (B,)."""
    return v.std(axis=(-2, -1)) <= ALIVE_STD


def _alive(fields: np.ndarray) -> np.ndarray:
    return ~_uniform(fields[:, 1])


def load_patterns(n: int, per_class: int, seed: int, steps: int = 10_000, classes=WELL_CLASSES,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """Developed patterns (N, 2, n, n) float32 with labels indexing ``WELL_CLASSES``.

    Uniform (decayed) fields are dropped; also returns the fraction kept.
    """
    d = patterns(PatternConfig(n=n, steps=steps, per_class=per_class, seed=seed, classes=tuple(classes)),
                 progress=progress)
    labels = np.array([WELL_CLASSES.index(classes[i]) for i in d["labels"]])
    alive = _alive(d["fields"])
    return d["fields"][alive], labels[alive], float(alive.mean())


def build_dataset(config: DataConfig, progress: bool = False):
    """The training and validation fields and labels, and a summary of the protocol."""
    f0, l0, kept0 = load_patterns(config.size, config.per_class, config.seed, config.steps, progress=progress)
    f1, l1, kept1 = load_patterns(config.size, config.extra_per_class, config.extra_seed, config.extra_steps,
                                  MOVING, progress=progress)
    fields, labels = np.concatenate([f0, f1]), np.concatenate([l0, l1])
    train, val = split_by_trajectory(labels, (1 - config.validation, config.validation), seed=0)
    summary = asdict(config) | {"fraction_kept": [kept0, kept1], "train_fields": len(train),
                                "validation_fields": len(val), "dx": 2 / 128, "alive_std": ALIVE_STD,
                                "per_class_train": np.bincount(labels[train], minlength=6).tolist()}
    return (fields[train], labels[train]), (fields[val], labels[val]), summary


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random periodic shift, flip and 90° rotation of each field: exact symmetries. x (B, C, n, n)."""
    B, _, n, _ = x.shape
    r = torch.randint(0, n, (B, 2), generator=generator)
    k = torch.randint(0, 4, (B,), generator=generator)
    flip = torch.randint(0, 2, (B,), generator=generator)
    out = []
    for i in range(B):
        y = torch.roll(x[i], (int(r[i, 0]), int(r[i, 1])), dims=(-2, -1))  # (C, n, n)
        y = torch.rot90(y, int(k[i]), dims=(-2, -1))
        out.append(torch.flip(y, dims=(-1,)) if flip[i] else y)
    return torch.stack(out)  # (B, C, n, n)


# -- evaluation ------------------------------------------------------------------------------
def set_wavelength(v: np.ndarray, dx: float) -> float:
    """Dominant wavelength of a *set* of fields v (B, n, n), from their mean power spectrum.

    On a 48² box a single field holds few wavelengths and the allowed wavenumbers are
    coarse (shells of width Δq = 2π/(n dx)); when a class's wavelength falls between two
    shells, the peak of :func:`turing_helpers.metrics.dominant_wavelength` jumps between
    them from field to field. So: average the power over the set, find the peak shell b
    of the shell energies E_b, place the peak at p = b + δ by the parabola through
    E_{b−1}, E_b, E_{b+1} (continuous when two shells trade places), and return 2π/q*
    with q* the power-weighted mean |q| of the Fourier modes, weighted by the triangle
    max(0, 1 − |shell − p|/1.5). A sinusoid with an integer number of periods gives its
    wavelength exactly. Length units.
    """
    n = v.shape[-1]
    power = np.mean(np.abs(np.fft.fft2(v - v.mean(axis=(-2, -1), keepdims=True))) ** 2, axis=0)  # (n, n)
    q1 = 2 * np.pi * np.fft.fftfreq(n, d=dx)
    q = np.sqrt(q1[:, None] ** 2 + q1[None, :] ** 2)  # (n, n), rad / length
    s = q / (2 * np.pi / (n * dx))  # |q| in shells
    energy = np.bincount(np.floor(s + 0.5).astype(int).ravel(), power.ravel())
    b = int(np.argmax(energy[1:])) + 1
    lo, mid, hi = energy[b - 1], energy[b], energy[b + 1] if b + 1 < len(energy) else 0.0
    curvature = lo - 2 * mid + hi
    p = b + (0.5 * (lo - hi) / curvature if curvature < 0 else 0.0)
    w = np.clip(1 - np.abs(s - p) / 1.5, 0, None) * power
    return float(2 * np.pi * w.sum() / (w * q).sum())


def _morphology(v: np.ndarray, dx: float) -> dict:
    """Per-field numbers of v (B, n, n): component and Euler densities (per length²).

    NaN for a uniform field (std of v below ``ALIVE_STD``): the excursion set {v > mean v}
    of a flat field is the pattern of its rounding noise — one such field holds hundreds of
    one-pixel "holes" and would swamp the mean of a set. Such fields are counted by the
    ``alive`` fraction instead, as the solver's own uniform fields are (and are dropped
    from the reference sets by :func:`load_patterns`).
    """
    from .. import metrics

    area = (v.shape[-1] * dx) ** 2
    flat = _uniform(v)
    return {"components": np.where(flat, np.nan, np.asarray(metrics.connected_components(v)) / area),
            "euler": np.where(flat, np.nan, np.asarray(metrics.euler_characteristic(v)) / area)}


def compare(fields: np.ndarray, reference: np.ndarray, name: str, dx: float = 2 / 128, relax: bool = True) -> dict:
    """Metrics of a set of fields (B, 2, n, n) against solver reference fields (R, 2, n, n).

    Returns means over the set: the fraction ``alive`` of fields that are not uniform,
    dominant wavelength of v (of the set's mean spectrum, :func:`set_wavelength`) and its
    relative error, radial spectrum distance and pixel-histogram (W₁) distance of v averaged
    over all (field, reference) pairs, component and Euler-characteristic densities of
    {v > mean v} per length² over the non-uniform fields (:func:`_morphology`) and their
    relative errors, the PDE residual and how much 1,000 steps of the true solver move the
    fields (VRMSE of v; NaN with ``relax=False``). NaN-safe (a uniform field has no
    wavelength).
    """
    from .. import metrics, preset, simulate

    v, ref_v = fields[:, 1].astype(np.float64), reference[:, 1].astype(np.float64)
    m, r = _morphology(v, dx), _morphology(ref_v, dx)
    model = preset(name)
    out = {"n": len(fields), "alive": float(_alive(fields).mean())}
    out["wavelength"], reference_wavelength = set_wavelength(v, dx), set_wavelength(ref_v, dx)
    out["wavelength_error"] = abs(out["wavelength"] - reference_wavelength) / reference_wavelength
    for key in m:
        out[key] = float(np.nanmean(m[key]))
        ref = float(np.nanmean(r[key]))
        out[f"{key}_error"] = abs(out[key] - ref) / max(abs(ref), 1e-12)
    out["spectrum_distance"] = float(np.nanmean(metrics.spectrum_distance(v[:, None], ref_v[None], dx)))
    out["histogram_distance"] = float(np.mean(metrics.pixel_histogram_distance(v[:, None], ref_v[None])))
    out["pde_residual"] = float(np.mean(metrics.pde_residual(model, fields[:, 0], v, dx)))
    out["solver_drift"] = float("nan")
    if relax:  # 1,000 solver steps per field; tune_sampling, which scores only morphology, skips them
        _, relaxed_v = simulate(model, fields[:, 0].astype(np.float64), v, steps=1000, dt=1.0, dx=dx, backend="numba")
        out["solver_drift"] = float(np.nanmean(metrics.vrmse(relaxed_v, v)))
    return out


def quality_table(model: DDPM, samples_per_class: int = 16, reference_per_class: int = 32,
                  steps: int = SAMPLING_STEPS,
                  size: int | None = None, seed: int = 0, reference_seed: int = EVAL_SEED,
                  classes=WELL_CLASSES, progress: bool = False) -> dict:
    """Per class: model samples, fresh solver patterns and phase-randomised surrogates, scored
    against another set of fresh solver patterns with :func:`compare`.

    The fresh solver patterns (base seed ``reference_seed``, never used in training) are
    split in two halves: half A is the reference, half B is scored as "solver" (the
    seed-to-seed noise floor) and phase-randomised (u and v with the same phases) as
    "surrogate", which has B's power spectrum exactly. Model samples use DDIM with
    ``steps`` steps. Returns {class: {"model": ..., "solver": ..., "surrogate": ...},
    "_protocol": ...}.
    """
    from .. import metrics

    size = model.config.size if size is None else size
    fields, labels, kept = load_patterns(size, 2 * reference_per_class, reference_seed)
    table = {"_protocol": {"size": size, "samples_per_class": samples_per_class, "ddim_steps": steps,
                           "sample_seed": seed, "reference_seed": reference_seed, "reference_kept": kept,
                           "reference_per_class": reference_per_class}}
    iterator = classes
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(classes, desc="quality", unit="class")
    for name in iterator:
        c = WELL_CLASSES.index(name)
        own = fields[labels == c]
        half = len(own) // 2
        ref, other = own[:half], own[half:]
        surrogate = np.stack([metrics.phase_randomized(other[:, 0], seed=c),
                              metrics.phase_randomized(other[:, 1], seed=c)], axis=1)  # same phases for u, v
        samples = model.sample(samples_per_class, c, size=size, steps=steps, seed=seed + c)
        table[name] = {"model": compare(samples, ref, name), "solver": compare(other, ref, name),
                       "surrogate": compare(surrogate, ref, name)}
    return table


def sampling_score(m: dict) -> float:
    """How far a set of samples is from the solver's, in units of the chapter's targets:
    wavelength error / 3% + component-density error / 15% + Euler-density error / 15%
    + fraction of uniform samples / 5% (the morphology means skip uniform fields, so a
    sampler must not win by leaving its hard cases blank)."""
    return (m["wavelength_error"] / 0.03 + m["components_error"] / 0.15 + m["euler_error"] / 0.15
            + (1 - m["alive"]) / 0.05)


def tune_sampling(model: DDPM, samples_per_class: int = 64, reference_per_class: int = 128,
                  steps: int = SAMPLING_STEPS,
                  candidates=SAMPLING_CANDIDATES, seed: int = 1000, reference_seed: int = TUNING_SEED,
                  classes=WELL_CLASSES, progress: bool = False) -> tuple[dict, dict]:
    """Choose each class's sampling defaults (guidance w, DDIM η) on validation patterns.

    For every class and every (w, η) in ``candidates``, DDIM samples (``steps`` steps) are
    scored against ``reference_per_class`` fresh solver patterns of base seed
    ``reference_seed`` — neither the training seeds nor the evaluation seeds of
    :func:`quality_table` and the tests — by :func:`sampling_score`; the lowest score wins,
    ties going to the earlier (simpler) candidate. Returns ``(sampling, scores)``:
    {class: {"guidance": w, "eta": η}} for :meth:`DDPM.set_sampling`, and
    {class: [[w, η, score, wavelength error, component error, Euler error, alive fraction], ...]}.
    """
    fields, labels, _ = load_patterns(model.config.size, reference_per_class, reference_seed, classes=classes)
    sampling, scores = {}, {}
    iterator = classes
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(classes, desc="tuning sampling", unit="class")
    for name in iterator:
        reference = fields[labels == WELL_CLASSES.index(name)]
        rows = []
        for w, eta in candidates:
            samples = model.sample(samples_per_class, name, steps=steps, seed=seed, guidance=w, eta=eta)
            m = compare(samples, reference, name, relax=False)
            rows.append([w, eta, sampling_score(m), m["wavelength_error"], m["components_error"], m["euler_error"],
                         m["alive"]])
        best = min(range(len(rows)), key=lambda i: (rows[i][2], i))
        sampling[name] = {"guidance": rows[best][0], "eta": rows[best][1]}
        scores[name] = rows
    return sampling, scores


def format_table(table: dict) -> str:
    """A plain-text per-class table of the main numbers (model / solver / surrogate); "alive"
    is the fraction of fields that are not uniform, the only ones the morphology columns count."""
    rows = [f"{'class':8s} {'source':9s} {'alive':>5s} {'λ*':>7s} {'Δλ':>6s} {'spec':>6s} {'W1(v)':>7s} "
            f"{'comp/L²':>8s} {'Δcomp':>6s} {'χ/L²':>7s} {'Δχ':>6s} {'resid':>8s} {'drift':>6s}"]
    for name, entry in table.items():
        if name.startswith("_"):
            continue
        for source, m in entry.items():
            rows.append(f"{name:8s} {source:9s} {m['alive']:5.0%} {m['wavelength']:7.4f} {m['wavelength_error']:6.1%} "
                        f"{m['spectrum_distance']:6.3f} {m['histogram_distance']:7.4f} {m['components']:8.2f} "
                        f"{m['components_error']:6.1%} {m['euler']:7.2f} {m['euler_error']:6.1%} "
                        f"{m['pde_residual']:8.2e} {m['solver_drift']:6.3f}")
    return "\n".join(rows)


# -- the training loop ------------------------------------------------------------------------
def add_arguments(parser):
    parser.add_argument("--minutes", type=float, default=45.0, help="wall-clock training budget (default 45)")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many optimiser steps")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate after warm-up")
    parser.add_argument("--lr-final", type=float, default=None,
                        help="cosine-decay the learning rate to this value by the end of --minutes "
                             "(default: constant)")
    parser.add_argument("--batch", type=int, default=16, help="fields per batch")
    parser.add_argument("--seed", type=int, default=0, help="torch seed (initialisation, batches, noise)")
    parser.add_argument("--ema-decay", type=float, default=0.995, help="EMA decay of the weights")
    parser.add_argument("--objective", choices=("eps", "v"), default=None,
                        help="network target (default: v for a new model; on --resume, switch the target)")
    parser.add_argument("--base", type=int, default=32, help="U-Net channels at full resolution")
    parser.add_argument("--log-every", type=int, default=100, help="steps between log entries")
    parser.add_argument("--save-every", type=float, default=5.0, help="minutes between checkpoints")
    parser.add_argument("--eval-samples", type=int, default=64,
                        help="samples per class for the final quality table (0: skip)")
    parser.add_argument("--eval-reference", type=int, default=64,
                        help="fresh solver patterns per class in each half of the final quality table")
    parser.add_argument("--per-class", type=int, default=DataConfig.per_class, help="solver seeds per class")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--tune-sampling", action="store_true",
                        help="after training, choose each class's guidance weight and DDIM eta on "
                             "validation patterns (tune_sampling); with --resume and a spent --minutes "
                             "budget, only tune and evaluate")
    parser.add_argument("--tune-samples", type=int, default=64, help="samples per class and candidate for tuning")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint at --out")
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR / "ddpm.pt", help="checkpoint path")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def learning_rate_schedule(run_step: int, progress: float, lr: float, lr_final: float | None = None,
                           warmup: int = 200) -> float:
    """Learning rate at step ``run_step`` of a run (0-based) that has used the fraction
    ``progress`` of its time budget: a linear warm-up over the first ``warmup`` steps (each
    run restarts Adam's moments at zero, so a resumed run warms up again), then constant
    ``lr``, or a cosine decay from ``lr`` to ``lr_final`` as ``progress`` goes from 0 to 1."""
    rate = lr * min(1.0, (run_step + 1) / warmup)
    if lr_final is None:
        return rate
    progress = min(max(progress, 0.0), 1.0)
    return min(rate, lr_final + (lr - lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))


def _validation_loss(model: DDPM, x: torch.Tensor, y: torch.Tensor) -> float:
    """L_simple on the held-out fields with fixed t and noise (so epochs are comparable)."""
    g = torch.Generator().manual_seed(1234)
    t = torch.randint(0, model.config.timesteps, (len(x),), generator=g)
    noise = torch.randn(x.shape, generator=g)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        losses = [model.p_losses(x[i:i + 64], y[i:i + 64], t[i:i + 64], noise[i:i + 64]).item() * len(x[i:i + 64])
                  for i in range(0, len(x), 64)]
    model.train(was_training)
    return sum(losses) / len(x)


def run(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data_config = replace(DataConfig(), per_class=args.per_class)
    (train_x, train_y), (val_x, val_y), data_summary = build_dataset(data_config, progress=not args.quiet)
    config = DiffusionConfig(size=data_config.size, unet=UNetConfig(base=args.base), objective=args.objective or "v")
    model = DDPM(config)
    ema = EMA(model, args.ema_decay)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    step, elapsed, log, history = 0, 0.0, [], []
    resumed, before, sampling, sampling_scores, tuned = None, None, {}, {}, False
    if args.resume:
        payload = load_checkpoint(args.out, CHECKPOINT_KIND)
        config = DiffusionConfig.from_dict(payload["config"])
        history = list(payload.get("history", []))
        if args.objective and args.objective != config.objective:
            # same network, new target: the weights are a warm start (recorded in the history)
            history.append({"step": payload["step"], "objective": {"from": config.objective, "to": args.objective}})
            config = replace(config, objective=args.objective)
        model = DDPM(config)
        # a final (shipped) checkpoint keeps only the EMA weights; training resumes from them
        model.load_state_dict(payload["model"] if "model" in payload else payload["ema"]["model"])
        ema = EMA(model, args.ema_decay)
        ema.load_state_dict(payload["ema"])
        ema.decay = args.ema_decay  # the command line, not the checkpoint, sets this run's decay
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
        if "optimizer" in payload:  # a final checkpoint has none: Adam restarts its moments
            optimizer.load_state_dict(payload["optimizer"])
        step, elapsed, log = payload["step"], payload["training_seconds"], list(payload["log"])
        # each resumed phase that trains is recorded, so the checkpoint tells its whole recipe
        before = payload.get("hyperparameters", {})  # the previous run's settings
        resumed = {"step": step, "resumed": {"seconds": round(elapsed, 1), "lr": args.lr,
                                             "lr_final": args.lr_final, "batch": args.batch,
                                             "ema_decay": args.ema_decay, "threads": args.threads,
                                             "minutes": args.minutes,
                                             "adam_restarted": "optimizer" not in payload,
                                             "raw_weights_from_ema": "model" not in payload},
                   "before": before}
        # sampling defaults chosen for these weights stay valid only if they do not change
        sampling, sampling_scores = payload.get("sampling", {}), payload.get("sampling_tuning", {})
    x = model.normalize(torch.from_numpy(train_x))  # (N, 2, n, n) in [−1, 1]
    y = torch.from_numpy(train_y).long()
    vx = model.normalize(torch.from_numpy(val_x))
    vy = torch.from_numpy(val_y).long()
    generator = torch.Generator().manual_seed(args.seed + step)
    parameters = sum(p.numel() for p in model.parameters())
    budget = args.minutes * 60
    warmup = 200
    first_step, first_elapsed = step, elapsed  # of this run: warm-up and decay are relative to them

    def learning_rate() -> float:
        progress = (elapsed - first_elapsed) / max(budget - first_elapsed, 1e-9)
        return learning_rate_schedule(step - first_step, progress, args.lr, args.lr_final, warmup)

    def save(metrics=None, final=False):
        trained = step > first_step
        # sampling defaults belong to the weights they were chosen for
        current = (sampling, sampling_scores) if tuned or not trained else ({}, {})
        hyperparameters = {"lr": args.lr, "lr_final": args.lr_final, "batch": args.batch,
                           "ema_decay": args.ema_decay, "warmup": warmup, "threads": args.threads}
        plain = {"step": step, "config": config.to_dict(), "seed": args.seed, "data": data_summary,
                 "training_seconds": elapsed, "machine": machine_description(), "parameters": parameters,
                 "hyperparameters": hyperparameters if trained or before is None else before,
                 "log": log, "history": history + ([resumed] if resumed and trained else []),
                 "sampling": current[0], "sampling_tuning": current[1], "metrics": metrics or {}}
        # plain data only (e.g. torch.__version__ is a str subclass that weights_only loading refuses)
        plain = json.loads(json.dumps(plain, default=str))
        state = {"ema": ema.state_dict(), **plain}
        if not final:  # the raw weights and the optimizer's moments triple the file; the shipped
            # (final) file keeps only the EMA weights, which sample better and from which
            # --resume restarts
            state |= {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
        save_checkpoint(args.out, kind=CHECKPOINT_KIND, state=state)

    from tqdm.auto import tqdm

    bar = tqdm(total=round(budget), unit="s", desc=f"ddpm ({parameters / 1e6:.2f} M params)",
               disable=args.quiet, initial=min(round(elapsed), round(budget)))
    model.train()
    start, last_save, running = time.time() - elapsed, time.time(), []
    while elapsed < budget and (args.steps is None or step < args.steps):
        index = torch.randint(0, len(x), (args.batch,), generator=generator)
        batch = augment(x[index], generator)  # (B, 2, n, n)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate()
        loss = model.p_losses(batch, y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        ema.update(model)
        step += 1
        running.append(loss.item())
        now = time.time()
        elapsed = now - start
        bar.update(max(0, min(round(elapsed), round(budget)) - bar.n))
        if step % args.log_every == 0:
            entry = {"step": step, "seconds": round(elapsed, 1), "train_loss": float(np.mean(running)),
                     "val_loss": _validation_loss(ema.model, vx, vy), "lr": learning_rate()}
            log.append(entry)
            running = []
            bar.set_postfix(loss=f"{entry['train_loss']:.4f}", val=f"{entry['val_loss']:.4f}")
        if now - last_save > args.save_every * 60:
            save()
            last_save = now
    bar.close()
    if running:
        log.append({"step": step, "seconds": round(elapsed, 1), "train_loss": float(np.mean(running)),
                    "val_loss": _validation_loss(ema.model, vx, vy)})
    ema.model.eval()
    if step > first_step:
        sampling, sampling_scores = {}, {}  # new weights: earlier choices no longer apply
    if args.tune_sampling:
        tuning_start = time.time()
        sampling, scores = tune_sampling(ema.model, samples_per_class=args.tune_samples,
                                         candidates=SAMPLING_CANDIDATES, progress=not args.quiet)
        sampling_scores = {"scores": scores, "columns": ["guidance", "eta", "score", "wavelength_error",
                                                          "components_error", "euler_error", "alive"],
                           "reference_seed": TUNING_SEED, "steps": SAMPLING_STEPS,
                           "samples_per_class": args.tune_samples, "seconds": time.time() - tuning_start}
        tuned = True
        print("sampling defaults per class:", sampling)
    ema.model.set_sampling(sampling)
    metrics = {}
    if args.eval_samples > 0:
        evaluation_start = time.time()
        table = quality_table(ema.model, samples_per_class=args.eval_samples, reference_per_class=args.eval_reference,
                              progress=not args.quiet)
        metrics = {"quality": table, "evaluation_seconds": time.time() - evaluation_start}
        print(format_table(table))
    save(metrics, final=True)
    print(f"saved {args.out} after {step} steps, {elapsed / 60:.1f} min of training")
    return args.out
