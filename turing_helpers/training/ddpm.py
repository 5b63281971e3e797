"""Train the class-conditional DDPM on developed Gray-Scott patterns (chapter 5).

Data protocol: developed patterns from :func:`turing_helpers.data.patterns` for The Well's
six classes at The Well's spacing dx = 2/128, generated directly on a small *periodic*
grid (48², 0.75 length units, several wavelengths) so the periodic U-Net sees periodic
inputs (a crop of a larger periodic field would not be periodic). Base seed 0 at 10,000
steps for every class, plus base seed 1 at 12,000 steps for the classes that keep moving
(gliders, worms, spirals) — more states of their never-settling dynamics. Fields that
decayed to a uniform state (contrast of v below 0.05; a few gliders and spirals seeds on this
small box; :func:`turing_helpers.metrics.is_uniform`) are dropped: the model learns
*developed* patterns. Every batch is augmented with the exact symmetries of the periodic
problem: random periodic shifts, flips and 90° rotations. A stratified 10% of the fields is held out for the validation loss.

Usage::

    python -m turing_helpers.train ddpm --minutes 45            # a model from scratch
    python -m turing_helpers.train ddpm --minutes 1 --out /tmp/ddpm.pt --eval-samples 0
    python -m turing_helpers.train ddpm --resume --minutes 90   # continue from --out to 90 min in all
    python -m turing_helpers.tune_sampling                     # then choose the sampler per class

The shipped checkpoint was trained in phases, each recorded in its ``history``: 52 min
at batch 16 and a constant learning rate 1e-3 on one thread (the first half with the ε
target, then v), then ``--resume --minutes 160 --lr 1e-3 --lr-final 5e-5 --batch 32
--ema-decay 0.999 --threads 2`` (a cosine decay over 108 more minutes), and finally the
choice of the sampler (48 min on two cores: 5 candidates × 64 samples × 100 DDIM steps per
class), a trainer option then and now its own command, :mod:`turing_helpers.tune_sampling`.

This module only loops, logs and checkpoints. The quality of the final EMA model is measured
per class by :func:`turing_helpers.evaluation.ddpm.quality_table` on fresh solver patterns
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

from ..augment import augment
from ..checkpoints import SHIPPED_DIR, load_checkpoint, machine_description, save_checkpoint
from ..data import developed_patterns, split_by_trajectory
from ..presets import WELL_DX
from ..metrics import UNIFORM_CONTRAST
from ..models.ddpm import CHECKPOINT_KIND, DDPM, EMA, DiffusionConfig
from ..models.unet import UNetConfig

MOVING = ("gliders", "worms", "spirals")


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


def build_dataset(config: DataConfig, progress: bool = False):
    """The training and validation fields and labels, and a summary of the protocol."""
    f0, l0, kept0 = developed_patterns(config.size, config.per_class, config.seed, config.steps, progress=progress)
    f1, l1, kept1 = developed_patterns(config.size, config.extra_per_class, config.extra_seed, config.extra_steps,
                                       MOVING, progress=progress)
    fields, labels = np.concatenate([f0, f1]), np.concatenate([l0, l1])
    train, val = split_by_trajectory(labels, (1 - config.validation, config.validation), seed=0)
    summary = asdict(config) | {"fraction_kept": [kept0, kept1], "train_fields": len(train),
                                "validation_fields": len(val), "dx": WELL_DX, "uniform_contrast": UNIFORM_CONTRAST,
                                "per_class_train": np.bincount(labels[train], minlength=6).tolist()}
    return (fields[train], labels[train]), (fields[val], labels[val]), summary


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
    parser.add_argument("--device", type=str, default="cpu",
                        help="torch device for training and the final evaluation (default cpu; e.g. cuda)")
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
    t = torch.randint(0, model.config.timesteps, (len(x),), generator=g).to(x.device)
    noise = torch.randn(x.shape, generator=g).to(x.device)  # drawn on the CPU: the same on every device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        losses = [model.p_losses(x[i:i + 64], y[i:i + 64], t[i:i + 64], noise[i:i + 64]).item() * len(x[i:i + 64])
                  for i in range(0, len(x), 64)]
    model.train(was_training)
    return sum(losses) / len(x)


@dataclass
class _Run:
    """Everything a run carries between steps and into its checkpoint."""

    config: DiffusionConfig
    model: DDPM
    ema: EMA
    optimizer: torch.optim.Optimizer
    step: int = 0
    elapsed: float = 0.0
    log: list = None
    history: list = None
    resumed: dict | None = None    # the phase this run adds to the history, when it resumes
    before: dict | None = None     # the previous run's hyperparameters
    sampling: tuple = ({}, {})     # (defaults, tuning record) chosen for these weights


def _start(args) -> _Run:
    """A new model, or the one at ``args.out`` with its log, history and sampling choice."""
    config = DiffusionConfig(size=DataConfig.size, unet=UNetConfig(base=args.base), objective=args.objective or "v")
    if not args.resume:
        model = DDPM(config).to(args.device)
        return _Run(config, model, EMA(model, args.ema_decay),
                    torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0), log=[], history=[])
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
    model.to(args.device)
    ema = EMA(model, args.ema_decay)
    ema.load_state_dict(payload["ema"])
    ema.decay = args.ema_decay  # the command line, not the checkpoint, sets this run's decay
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    if "optimizer" in payload:  # a final checkpoint has none: Adam restarts its moments
        optimizer.load_state_dict(payload["optimizer"])
    resumed = {"step": payload["step"], "resumed": {
        "seconds": round(payload["training_seconds"], 1), "lr": args.lr, "lr_final": args.lr_final,
        "batch": args.batch, "ema_decay": args.ema_decay, "threads": args.threads, "minutes": args.minutes,
        "adam_restarted": "optimizer" not in payload, "raw_weights_from_ema": "model" not in payload},
        "before": payload.get("hyperparameters", {})}
    return _Run(config, model, ema, optimizer, payload["step"], payload["training_seconds"], list(payload["log"]),
                history, resumed, payload.get("hyperparameters", {}),
                (payload.get("sampling", {}), payload.get("sampling_tuning", {})))


def _save(args, run: _Run, first_step: int, data_summary: dict, metrics=None, final=False):
    trained = run.step > first_step
    hyperparameters = {"lr": args.lr, "lr_final": args.lr_final, "batch": args.batch,
                       "ema_decay": args.ema_decay, "warmup": 200, "threads": args.threads}
    sampling, tuning = run.sampling if not trained else ({}, {})  # defaults belong to the weights they were chosen for
    plain = {"step": run.step, "config": run.config.to_dict(), "seed": args.seed, "data": data_summary,
             "training_seconds": run.elapsed, "machine": machine_description(),
             "parameters": sum(p.numel() for p in run.model.parameters()),
             "hyperparameters": hyperparameters if trained or run.before is None else run.before,
             "log": run.log, "history": run.history + ([run.resumed] if run.resumed and trained else []),
             "sampling": sampling, "sampling_tuning": tuning, "metrics": metrics or {}}
    # plain data only (e.g. torch.__version__ is a str subclass that weights_only loading refuses)
    state = {"ema": run.ema.state_dict(), **json.loads(json.dumps(plain, default=str))}
    if not final:  # the raw weights and Adam's moments triple the file; the shipped (final) file keeps
        # only the EMA weights, which sample better and from which --resume restarts
        state |= {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict()}
    save_checkpoint(args.out, kind=CHECKPOINT_KIND, state=state)


def check_arguments(args) -> None:
    """ValueError naming the first option outside its valid range (before any data are made)."""
    from .options import at_least, positive, torch_device

    at_least("--minutes", args.minutes, 0, integer=False)
    at_least("--steps", args.steps, 1, allow_none=True)
    positive("--lr", args.lr)
    positive("--lr-final", args.lr_final, allow_none=True)
    for option in ("batch", "log_every", "threads"):
        at_least("--" + option.replace("_", "-"), getattr(args, option), 1)
    if not 0 <= args.ema_decay < 1:
        raise ValueError(f"--ema-decay must be in [0, 1), got {args.ema_decay!r}")
    torch_device("--device", args.device)
    if isinstance(args.base, bool) or args.base < 8 or args.base % 8:
        raise ValueError(f"--base must be a multiple of 8 (the GroupNorm groups) >= 8, got {args.base!r}")
    positive("--save-every", args.save_every)
    at_least("--eval-samples", args.eval_samples, 0)
    at_least("--eval-reference", args.eval_reference, 2)
    # the 90/10 split by seed keeps a validation field of every class from 5 seeds per class on
    at_least("--per-class", args.per_class, 5)


def run(args):
    check_arguments(args)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    (train_x, train_y), (val_x, val_y), data_summary = build_dataset(
        replace(DataConfig(), per_class=args.per_class), progress=not args.quiet)
    r = _start(args)
    device = torch.device(args.device)
    x = r.model.normalize(torch.from_numpy(train_x).to(device))  # (N, 2, n, n) in [−1, 1]
    y = torch.from_numpy(train_y).long().to(device)
    vx, vy = r.model.normalize(torch.from_numpy(val_x).to(device)), torch.from_numpy(val_y).long().to(device)
    generator = torch.Generator().manual_seed(args.seed + r.step)
    budget, first_step, first_elapsed = args.minutes * 60, r.step, r.elapsed

    def learning_rate() -> float:  # warm-up and decay are relative to this run's start
        progress = (r.elapsed - first_elapsed) / max(budget - first_elapsed, 1e-9)
        return learning_rate_schedule(r.step - first_step, progress, args.lr, args.lr_final)

    from tqdm.auto import tqdm

    parameters = sum(p.numel() for p in r.model.parameters())
    bar = tqdm(total=round(budget), unit="s", desc=f"ddpm ({parameters / 1e6:.2f} M params)",
               disable=args.quiet, initial=min(round(r.elapsed), round(budget)))
    r.model.train()
    start, last_save, running = time.time() - r.elapsed, time.time(), []
    while r.elapsed < budget and (args.steps is None or r.step < args.steps):
        index = torch.randint(0, len(x), (args.batch,), generator=generator).to(device)
        for group in r.optimizer.param_groups:
            group["lr"] = learning_rate()
        loss = r.model.p_losses(augment(x[index], generator), y[index])  # batch (B, 2, n, n)
        r.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(r.model.parameters(), 1.0)
        r.optimizer.step()
        r.ema.update(r.model)
        r.step, r.elapsed = r.step + 1, time.time() - start
        running.append(loss.item())
        bar.update(max(0, min(round(r.elapsed), round(budget)) - bar.n))
        if r.step % args.log_every == 0 or not (r.elapsed < budget and (args.steps is None or r.step < args.steps)):
            r.log.append({"step": r.step, "seconds": round(r.elapsed, 1), "train_loss": float(np.mean(running)),
                          "val_loss": _validation_loss(r.ema.model, vx, vy), "lr": learning_rate()})
            running = []
            bar.set_postfix(loss=f"{r.log[-1]['train_loss']:.4f}", val=f"{r.log[-1]['val_loss']:.4f}")
        if time.time() - last_save > args.save_every * 60:
            _save(args, r, first_step, data_summary)
            last_save = time.time()
    bar.close()
    r.ema.model.eval()
    r.ema.model.set_sampling(r.sampling[0] if r.step == first_step else {})
    metrics = {}
    if args.eval_samples > 0:
        from ..evaluation.ddpm import format_table, quality_table

        evaluation_start = time.time()
        table = quality_table(r.ema.model, samples_per_class=args.eval_samples,
                              reference_per_class=args.eval_reference, progress=not args.quiet)
        metrics = {"quality": table, "evaluation_seconds": time.time() - evaluation_start}
        print(format_table(table))
    _save(args, r, first_step, data_summary, metrics, final=True)
    print(f"saved {args.out} after {r.step} steps, {r.elapsed / 60:.1f} min of training")
    return args.out
