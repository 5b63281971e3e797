"""Train the ConvLSTM forecaster on solver trajectories (chapter 4).

Data (:func:`turing_helpers.data.trajectories`, 48² periodic grid at The Well's spacing
dx = 2/128, a frame every 10 time units): two sets of trajectories per class, both split
75/25 into training and validation trajectories (never frames):

- *formation*: from Gaussian bumps of std 0.04 length units and random Fourier fields,
  frames 0–300 (the pattern forming);
- *developed*: the same kinds of start run 10,000 solver steps first, then frames 0–300
  (the pattern's own dynamics, where the 1000-frame rollouts of chapters 4 and 6 live).

Trajectories whose v is uniform at their last frame (a pattern that died; a few spirals
on this box) are dropped and counted in the checkpoint's data protocol.

Each optimiser step draws a batch of windows and sums two losses:

1. *teacher-forced unroll*: from 4 true context frames (plus Gaussian noise) the model
   unrolls K frames with gradients through its own predictions (K follows a curriculum,
   default 2 → 4 → 8, equal shares of the budget); loss: the mean squared VRMSE of the K frames;
2. *pushforward* (Brandstetter et al. 2022), from ``--pushforward-from`` of the budget
   on: the model first runs P frames without gradients (P uniform in 1 … ``--pushforward-max``),
   so that it starts from its own, imperfect, states (frames and memory); then it unrolls
   ``--pushforward-steps`` frames with gradients. After a long prefix the true trajectory
   and the forecast have parted (the patterns are chaotic), so this part is scored by
   phase-blind statistics: the *amplitude spectrum* loss, Σ_k (|ŷ|_k − |y|_k)² / Σ_k |y|_k²
   over wavenumber shells plus the squared error of the mean, per frame and channel; with
   P ≤ 4 the pixel loss is added as well. A forecast that fades scores 1 on this loss,
   whatever the phase: this is the term that keeps rollouts on the attractor.

The spectrum loss (weight ``--spectrum-weight``) is added to the teacher-forced part too.
After every epoch the validation VRMSE (one step, at horizons 8 and 32) and the ratio of
the rollout's v standard deviation to the solver's over frames 100–200 of the developed
validation trajectories are logged, printed and stored in the checkpoint, which is written
atomically after every epoch and at the end.

With ``--motion-weight`` > 0 the *motion loss* is added to both parts: the spectrum loss
of the frame-to-frame differences (floor ``--motion-floor``), which scores how fast and at
which scales the pattern changes — a frozen forecast 1, one that moves where the solver
stands still far more — a time statistic that the losses on single frames cannot see.

With ``--histogram-weight`` > 0 the *histogram loss* is added to both parts: the mean
squared difference of the sorted pixel values of forecast and truth over var y (a 1-D
Wasserstein distance between their value distributions), blind to where the values are but
not to how much of the box the pattern covers, which the amplitude spectrum cannot see.

The shipped model took three stages, each started from the weights of the one before
(``--init-from``; each checkpoint keeps the record of its parent, with its SHA-256):

1. the teacher-forced part alone, on 32² formation trajectories (bumps 0.02 length units
   wide, the first chapters' rule on that box), by this module before the pushforward part
   existed; its options in today's spelling::

    python -m turing_helpers.train convlstm --grid 32 --frames 401 --per-class 16 \
        --developed-per-class 0 --bump-width 0.02 --batch 16 --lr 3e-3 --horizons 1,2,4,8,16 \
        --spectrum-weight 0 --pushforward-from 1 --iters-per-epoch 300 --minutes 32 --out first.pt

2. this module's defaults (stopped after 35.6 of the 50 minutes: in its long rollouts
   stripes had broken up into spots)::

    python -m turing_helpers.train convlstm --init-from first.pt --threads 2 --out second.pt

3. longer pushforward prefixes and the histogram loss::

    python -m turing_helpers.train convlstm --init-from second.pt --minutes 30 --lr 5e-4 \
        --horizons 4,8 --pushforward-max 96 --histogram-weight 1 --threads 2

``--resume`` continues a stopped run from ``--out``.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import SHIPPED_DIR, file_sha256, load_checkpoint, machine_description, save_checkpoint
from .losses import (MOTION_FLOOR, VARIANCE_FLOOR, histogram_loss, motion_loss, shell_matrix, spectrum_loss,
                     vrmse_loss)

DEFAULT_OUT = SHIPPED_DIR / "convlstm.pt"
VALIDATION_HORIZON = 32  # frames forecast by the validation windows
CLIMATE_CHECK = (100, 200)  # validation: v std of rollout frames 100..200 against the solver's
PIXEL_PUSHFORWARD = 4    # pushforward prefixes up to this many frames are scored on pixels too


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("budget")
    group.add_argument("--minutes", type=float, default=50.0, help="wall-clock training budget (default 50)")
    group.add_argument("--epochs", type=int, default=None, help="stop after this many epochs (default: budget only)")
    group.add_argument("--iters-per-epoch", type=int, default=100, help="optimizer steps per epoch (default 100)")
    group = parser.add_argument_group("optimisation")
    group.add_argument("--batch", type=int, default=8, help="windows per step (default 8)")
    group.add_argument("--lr", type=float, default=1e-3, help="peak Adam learning rate, cosine-decayed (default 1e-3)")
    group.add_argument("--horizons", type=str, default="2,4,8",
                       help="curriculum of unrolled horizons, equal shares of the budget (default 2,4,8)")
    group.add_argument("--noise", type=float, default=1e-3,
                       help="std of Gaussian noise added to context frames, concentration units (default 1e-3)")
    group.add_argument("--loss", choices=("vrmse", "vrmse2"), default="vrmse2",
                       help="mean squared VRMSE of the unrolled frames (default), or the VRMSE itself")
    group.add_argument("--floor", type=float, default=VARIANCE_FLOOR,
                       help=f"variance floor in the loss (default {VARIANCE_FLOOR:g})")
    group.add_argument("--spectrum-weight", type=float, default=1.0,
                       help="weight of the amplitude-spectrum loss (default 1; 0 switches it off)")
    group.add_argument("--histogram-weight", type=float, default=0.0,
                       help="weight of the value-distribution loss (default 0: off)")
    group.add_argument("--motion-weight", type=float, default=0.0,
                       help="weight of the motion loss (spectrum of frame differences; default 0)")
    group.add_argument("--motion-floor", type=float, default=MOTION_FLOOR,
                       help=f"variance floor of the motion loss (default {MOTION_FLOOR:g})")
    group.add_argument("--pushforward-from", type=float, default=0.0,
                       help="fraction of the budget after which the pushforward part is added (default 0; 1 never)")
    group.add_argument("--pushforward-max", type=int, default=48,
                       help="longest gradient-free prefix P of the pushforward part, frames (default 48)")
    group.add_argument("--pushforward-steps", type=int, default=8,
                       help="frames unrolled with gradients after the prefix (default 8)")
    group.add_argument("--seed", type=int, default=0, help="seed of initialisation and sampling (default 0)")
    group = parser.add_argument_group("model")
    group.add_argument("--hidden", type=int, default=16, help="ConvLSTM channels (default 16)")
    group.add_argument("--embed", type=int, default=16, help="encoder channels (default 16)")
    group.add_argument("--kernel", type=int, default=3, help="gate kernel size (default 3)")
    group.add_argument("--anisotropic", action="store_true", help="free kernels instead of D4-symmetric ones")
    group = parser.add_argument_group("data")
    group.add_argument("--grid", type=int, default=48,
                       help="training grid size n (default 48: on 32² most gliders die; dx = 2/128 always)")
    group.add_argument("--frames", type=int, default=301, help="frames per training trajectory (default 301)")
    group.add_argument("--per-class", type=int, default=12, help="formation trajectories per class (default 12)")
    group.add_argument("--developed-per-class", type=int, default=12,
                       help="developed trajectories per class (default 12; 0: none)")
    group.add_argument("--warmup-steps", type=int, default=10_000,
                       help="solver steps before frame 0 of the developed trajectories (default 10000)")
    group.add_argument("--bump-width", type=float, default=0.04,
                       help="std of the Gaussian-bump starts, length units (default 0.04)")
    group = parser.add_argument_group("files")
    group.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"checkpoint path (default {DEFAULT_OUT})")
    group.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    group.add_argument("--init-from", type=Path, default=None,
                       help="start from the weights (and config) of this ConvLSTM checkpoint: fine-tuning; its "
                            "provenance (training command, time, log, SHA-256) is kept in the new checkpoint")
    group.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    group.add_argument("--device", type=str, default="cpu", help="torch device (default cpu)")


def _portable(path: Path) -> str:
    """A path as recorded in a checkpoint: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def horizon_at(progress: float, horizons: list[int]) -> int:
    """The curriculum: equal shares of the budget for each horizon, in order."""
    return horizons[min(int(progress * len(horizons)), len(horizons) - 1)]


def learning_rate(progress: float, peak: float, warmup: float = 0.02) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if progress < warmup:
        return peak * (progress + 1e-3) / warmup
    p = min(1.0, (progress - warmup) / (1 - warmup))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))


def pushforward_rollout(model, window, prefix: int, steps: int):
    """Predictions of frames C + prefix … C + prefix + steps − 1 of window (B, ≥ C+prefix+steps, 2, n, n).

    The model reads the C true context frames and predicts ``prefix`` frames without
    gradients, feeding back its own predictions (and keeping its memory); from there it
    predicts ``steps`` more with gradients. ``prefix = 0`` is the plain teacher-forced rollout."""
    C = model.config.context
    if prefix == 0:
        return model.rollout(window[:, :C], steps)
    state = model.init_state(window[:, 0])
    x_next = None
    with torch.no_grad():
        for t in range(C + prefix - 1):
            x = window[:, t] if t < C else x_next
            x_next, state, _ = model.step(x, state)
    x = x_next.detach()
    state = tuple(part.detach() for part in state)
    outputs = []
    for _ in range(steps):
        x, state, _ = model.step(x, state)
        outputs.append(x)
    return torch.stack(outputs, dim=1)


def validation_windows(frames, indices, context: int, horizon: int, every: int):
    """Deterministic validation windows: starts 0, every, 2·every, … of each trajectory."""
    T = frames.shape[1]
    starts = range(0, T - context - horizon + 1, every)
    return np.stack([frames[i, s:s + context + horizon] for i in indices for s in starts])


def evaluate(model, windows, context: int, horizons=(1, 8, 32), batch: int = 64) -> dict:
    """Validation VRMSE (mean over windows and channels) at the given horizons, and persistence's."""
    import torch

    from ..metrics import vrmse

    steps = max(horizons)
    preds = []
    with torch.no_grad():
        for s in range(0, len(windows), batch):
            chunk = torch.from_numpy(windows[s:s + batch])
            preds.append(model.rollout(chunk[:, :context], steps).numpy())
    pred = np.concatenate(preds)                                   # (N, steps, 2, n, n)
    true = windows[:, context:context + steps]
    last = windows[:, context - 1:context]
    out = {}
    for h in horizons:
        out[f"vrmse_{h}"] = float(np.nanmean(vrmse(pred[:, h - 1], true[:, h - 1])))
        out[f"persistence_{h}"] = float(np.mean(vrmse(last[:, 0], true[:, h - 1])))
    return out


def climate_ratio(model, frames, context: int, span=CLIMATE_CHECK) -> float:
    """Mean v std of a rollout over frames span[0]..span[1] divided by the solver's, from the
    first ``context`` frames of trajectories frames (N, T, 2, n, n): 1 on the attractor, 0 faded.
    Shorter trajectories use their second half."""
    last = min(span[1], frames.shape[1] - 1)
    span = (min(span[0], last // 2), last)
    with torch.no_grad():
        pred = model.rollout(torch.from_numpy(frames[:, :context]), span[1] - context + 1).numpy()
    model_std = pred[:, span[0] - context:, 1].std(axis=(-2, -1)).mean()
    solver_std = frames[:, span[0]:span[1] + 1, 1].std(axis=(-2, -1)).mean()
    return float(model_std / solver_std)


def check_arguments(args) -> None:
    """ValueError naming the first option outside its valid range (before any data are made)."""
    from ..models.convlstm import ConvLSTMConfig
    from .options import at_least, positive, torch_device

    torch_device("--device", args.device)
    try:
        horizons = [int(h) for h in args.horizons.split(",")]
    except ValueError:
        raise ValueError(f"--horizons must be comma-separated integers >= 1, got {args.horizons!r}") from None
    if not horizons or min(horizons) < 1:
        raise ValueError(f"--horizons must be comma-separated integers >= 1, got {args.horizons!r}")
    at_least("--minutes", args.minutes, 0, integer=False)
    at_least("--epochs", args.epochs, 1, allow_none=True)
    if args.minutes <= 0 and args.epochs is None:
        raise ValueError("give a positive --minutes or an --epochs count")
    for option in ("iters_per_epoch", "batch", "hidden", "embed", "threads"):
        at_least("--" + option.replace("_", "-"), getattr(args, option), 1)
    positive("--lr", args.lr)
    positive("--floor", args.floor)
    at_least("--spectrum-weight", args.spectrum_weight, 0, integer=False)
    at_least("--histogram-weight", args.histogram_weight, 0, integer=False)
    at_least("--motion-weight", args.motion_weight, 0, integer=False)
    positive("--motion-floor", args.motion_floor)
    if not isinstance(args.pushforward_from, (int, float)) or not 0 <= args.pushforward_from <= 1:
        raise ValueError(f"--pushforward-from must be a fraction in [0, 1], got {args.pushforward_from!r}")
    at_least("--pushforward-max", args.pushforward_max, 1)
    at_least("--pushforward-steps", args.pushforward_steps, 1)
    at_least("--developed-per-class", args.developed_per_class, 0)
    at_least("--warmup-steps", args.warmup_steps, 0)
    positive("--bump-width", args.bump_width)
    at_least("--noise", args.noise, 0, integer=False)
    if isinstance(args.kernel, bool) or args.kernel < 1 or args.kernel % 2 == 0:
        raise ValueError(f"--kernel must be an odd integer >= 1, got {args.kernel!r}")
    at_least("--grid", args.grid, 8)
    # training windows need context + the longest horizon; validation windows forecast 32 frames
    context = ConvLSTMConfig().context
    pushforward = args.pushforward_max + args.pushforward_steps if args.pushforward_from < 1 else 0
    at_least("--frames", args.frames, context + max(max(horizons), VALIDATION_HORIZON, pushforward) + 1)
    # the 75/25 split by trajectory keeps a validation trajectory of every class from 3 on
    at_least("--per-class", args.per_class, 3)
    if 0 < args.developed_per_class < 3:
        raise ValueError(f"--developed-per-class must be 0 or an integer >= 3, got {args.developed_per_class!r}")


def training_data(args) -> dict:
    """The formation and developed trajectory sets, dead trajectories dropped, split by trajectory.

    Returns ``train`` and ``validation`` (N, T, 2, n, n) float32 arrays, ``developed_validation``
    (the developed part of the validation set) and ``protocol``: the configs, the split and the
    number of trajectories dropped per set and class."""
    from ..data import TrajectoryConfig, split_by_trajectory, trajectories
    from ..metrics import is_uniform

    sets = {"formation": TrajectoryConfig(n=args.grid, frames=args.frames, per_class=args.per_class, seed=0,
                                          bump_width=args.bump_width)}
    if args.developed_per_class:
        sets["developed"] = TrajectoryConfig(n=args.grid, frames=args.frames, per_class=args.developed_per_class,
                                             seed=20, bump_width=args.bump_width, warmup_steps=args.warmup_steps)
    parts = {"train": [], "validation": [], "developed_validation": []}
    protocol = {"split": "split_by_trajectory(labels, (0.75, 0.25), seed=0) per set, after dropping dead ones",
                "dead": "v uniform (metrics.is_uniform) at the last frame", "sets": {}}
    for name, config in sets.items():
        data = trajectories(config, progress=True)
        dead = np.atleast_1d(is_uniform(data["frames"][:, -1, 1]))
        keep = np.flatnonzero(~dead)
        train_idx, val_idx = split_by_trajectory(data["labels"][keep], (0.75, 0.25), seed=0)
        parts["train"].append(data["frames"][keep[train_idx]])
        parts["validation"].append(data["frames"][keep[val_idx]])
        if name == "developed":
            parts["developed_validation"].append(data["frames"][keep[val_idx]])
        protocol["sets"][name] = asdict(config) | {
            "dropped_dead": {c: int(dead[data["labels"] == i].sum()) for i, c in enumerate(config.classes)},
            "train_trajectories": len(train_idx), "validation_trajectories": len(val_idx)}
    out = {key: np.concatenate(value) if value else None for key, value in parts.items()}
    out["protocol"] = protocol
    return out


class Trainer:
    """One training run of the ConvLSTM: the model, the optimiser, the data and the counters
    live on the object; :meth:`fit` trains until the budget is spent, :meth:`save` writes the
    checkpoint (atomically, with the run's options, data protocol, log and machine) and
    :meth:`load` continues a stopped run from one.

    ``args``: the options of :func:`add_arguments` (an ``argparse.Namespace``), checked first.
    """

    def __init__(self, args):
        from ..models.convlstm import ConvLSTM, ConvLSTMConfig

        check_arguments(args)
        self.args = args
        torch.set_num_threads(args.threads)
        torch.set_flush_denormal(True)  # fading fields pass through denormal floats, ~3x slower
        self.horizons = [int(h) for h in args.horizons.split(",")]
        self.data = training_data(args)
        config = ConvLSTMConfig(hidden=args.hidden, embed=args.embed, kernel=args.kernel,
                                isotropic=not args.anisotropic)
        self.context = config.context
        self.validation = validation_windows(self.data["validation"], range(len(self.data["validation"])),
                                             self.context, VALIDATION_HORIZON, every=40)
        self.climate_frames = self.data["developed_validation"]
        self.shells = shell_matrix(args.grid).to(args.device)
        torch.manual_seed(args.seed)
        self.config, self.model = config, ConvLSTM(config).to(args.device)
        self.initialised_from = None
        if args.init_from is not None:
            self.initialise_from(args.init_from)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        self.steps, self.epoch, self.elapsed, self.log = 0, 0, 0.0, []
        if args.resume and Path(args.out).exists():
            self.load(args.out)
        self.parameters = sum(p.numel() for p in self.model.parameters())
        self.train_frames = torch.from_numpy(self.data["train"])          # (N, T, 2, n, n)
        self.budget = args.minutes * 60.0
        print(f"ConvLSTM: {self.parameters} parameters; {len(self.data['train'])} training / "
              f"{len(self.data['validation'])} validation trajectories of {args.frames} frames on {args.grid}²; "
              "dropped as dead: "
              + ", ".join(f"{k} {sum(v['dropped_dead'].values())}" for k, v in self.data["protocol"]["sets"].items()))

    def _model_of(self, payload):
        """A ConvLSTM on the run's device with the config and weights of a checkpoint's payload."""
        from ..models.convlstm import ConvLSTM, ConvLSTMConfig

        self.config = ConvLSTMConfig.from_dict(payload["config"])
        model = ConvLSTM(self.config).to(self.args.device)
        model.load_state_dict(payload["model"])
        return model

    def initialise_from(self, path: Path) -> None:
        """Fine-tuning: the weights and config of another ConvLSTM checkpoint, its record kept."""
        from ..models.convlstm import KIND

        parent = load_checkpoint(path, kind=KIND)
        self.model = self._model_of(parent)
        self.initialised_from = {"path": _portable(path), "sha256": file_sha256(path),
                                 "training_seconds": parent.get("training_seconds"), "data": parent.get("data"),
                                 "training": parent.get("training"), "history": parent.get("training_history"),
                                 "metrics": parent.get("metrics"), "log": parent.get("log"),
                                 "initialised_from": parent.get("initialised_from")}
        print(f"initialised from {path} ({parent.get('training_seconds', 0) / 60:.1f} min trained)")

    def load(self, path: Path) -> None:
        """Continue the stopped run of checkpoint ``path``: weights, optimiser, counters, log, RNG."""
        from ..models.convlstm import KIND

        payload = load_checkpoint(path, kind=KIND)
        self.model = self._model_of(payload)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.args.lr)
        self.optimizer.load_state_dict(payload["optimizer"])
        self.steps, self.epoch = payload["step"], payload["epoch"]
        self.elapsed, self.log = payload["training_seconds"], payload["log"]
        self.initialised_from = payload.get("initialised_from")
        torch.set_rng_state(payload["rng"])
        print(f"resumed {path} at epoch {self.epoch}, step {self.steps}, {self.elapsed / 60:.1f} min trained")

    def save(self, metrics: dict) -> None:
        """Write the checkpoint ``--out`` with everything :meth:`load` and the book need."""
        from ..models.convlstm import KIND, config_dict

        args = self.args
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.steps,
                 "epoch": self.epoch, "config": config_dict(self.config), "seed": args.seed,
                 "rng": torch.get_rng_state(), "data": self.data["protocol"],
                 "training": {key: (_portable(value) if isinstance(value, Path) else value)
                              for key, value in vars(args).items() if key != "run"},
                 "parameters": self.parameters, "training_seconds": self.elapsed,
                 "machine": machine_description(), "metrics": metrics, "log": self.log,
                 "initialised_from": self.initialised_from}
        save_checkpoint(args.out, kind=KIND, state=state)

    def progress(self) -> float:
        """How much of the budget (minutes, or epochs if given, whichever runs out first) is spent, 0–1."""
        parts = [self.elapsed / self.budget if self.budget > 0 else 0.0]
        if self.args.epochs:
            parts.append(self.epoch / self.args.epochs)
        return min(1.0, max(parts))

    def plan(self, K: int) -> list[tuple[int, int]]:
        """(prefix, steps) of the parts of one optimiser step: teacher-forced, then pushforward."""
        parts = [(0, K)]
        if self.progress() >= self.args.pushforward_from:
            parts.append((int(torch.randint(1, self.args.pushforward_max + 1, ())), self.args.pushforward_steps))
        return parts

    def loss(self, prefix: int, steps: int) -> torch.Tensor:
        """The loss of one part on a fresh batch of windows (random trajectories, starts and D4 rotations)."""
        args, C = self.args, self.context
        N, T = self.train_frames.shape[:2]
        traj = torch.randint(N, (args.batch,))
        start = torch.randint(T - C - prefix - steps + 1, (args.batch,))
        offsets = start[:, None] + torch.arange(C + prefix + steps)[None]     # (B, C+P+K)
        window = self.train_frames[traj[:, None], offsets]                   # (B, C+P+K, 2, n, n)
        k = int(torch.randint(4, ()))                                        # random rotation (D4)
        window = torch.rot90(window, k, dims=(3, 4)).to(args.device)
        context = window[:, :C] + args.noise * torch.randn_like(window[:, :C])
        pred = pushforward_rollout(self.model, context, prefix, steps)       # (B, steps, 2, n, n)
        true = window[:, C + prefix:]
        loss = torch.zeros(())
        if prefix <= PIXEL_PUSHFORWARD:
            loss = loss + vrmse_loss(pred, true, args.floor, squared=args.loss == "vrmse2")
        if args.spectrum_weight:
            loss = loss + args.spectrum_weight * spectrum_loss(pred, true, self.shells, args.floor)
        if args.histogram_weight:
            loss = loss + args.histogram_weight * histogram_loss(pred, true, args.floor)
        if args.motion_weight and steps > 1:
            loss = loss + args.motion_weight * motion_loss(pred, true, self.shells, args.motion_floor)
        return loss

    def step(self, K: int) -> float:
        """One optimiser step at curriculum horizon K; returns its loss."""
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.progress(), self.args.lr)
        loss = torch.zeros(())
        for prefix, steps in self.plan(K):
            loss = loss + self.loss(prefix, steps)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.steps += 1
        return loss.item()

    def validate(self) -> dict:
        """Validation VRMSE at horizons 1, 8 and 32 (and persistence's), and the v-std ratio."""
        self.model.eval()
        metrics = evaluate(self.model.cpu(), self.validation, self.context)
        if self.climate_frames is not None:
            metrics["v_std_ratio"] = climate_ratio(self.model, self.climate_frames, self.context)
        self.model.to(self.args.device)
        return metrics

    def train_epoch(self) -> dict:
        """``--iters-per-epoch`` steps (fewer if the budget runs out), then validation, log and checkpoint."""
        from tqdm.auto import tqdm

        K = horizon_at(self.progress(), self.horizons)
        self.model.train()
        started = time.perf_counter()
        losses = []
        bar = tqdm(range(self.args.iters_per_epoch), desc=f"epoch {self.epoch + 1} K={K}", leave=False,
                   mininterval=5)
        for _ in bar:
            losses.append(self.step(K))
            self.elapsed += time.perf_counter() - started
            started = time.perf_counter()
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", refresh=False)
            if self.budget > 0 and self.elapsed >= self.budget:
                break
        self.epoch += 1
        metrics = self.validate()
        entry = {"epoch": self.epoch, "step": self.steps, "minutes": self.elapsed / 60, "horizon": K,
                 "lr": self.optimizer.param_groups[0]["lr"], "loss": float(np.mean(losses))} | metrics
        self.log.append(entry)
        print(f"epoch {self.epoch:3d}  {self.elapsed / 60:5.1f} min  K={K:2d}  loss {entry['loss']:.4f}  val VRMSE "
              f"1: {metrics['vrmse_1']:.4f} (persistence {metrics['persistence_1']:.4f})  "
              f"8: {metrics['vrmse_8']:.4f} ({metrics['persistence_8']:.4f})  "
              f"32: {metrics['vrmse_32']:.4f} ({metrics['persistence_32']:.4f})"
              + (f"  v std ratio {metrics['v_std_ratio']:.3f}" if "v_std_ratio" in metrics else ""), flush=True)
        self.save({key: value for key, value in entry.items() if key.startswith(("vrmse", "persistence", "v_std"))})
        return entry

    def fit(self) -> None:
        """Train until the budget is spent, a checkpoint after every epoch."""
        while self.progress() < 1.0:
            self.train_epoch()
        print(f"saved {self.args.out} after {self.elapsed / 60:.1f} min, {self.steps} steps")


def run(args) -> None:
    """The command line's entry point (``python -m turing_helpers.train convlstm``)."""
    Trainer(args).fit()
