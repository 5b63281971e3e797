"""Train the ConvLSTM forecaster on solver trajectories (chapter 4).

Data: :func:`turing_helpers.data.trajectories` on a small periodic grid (default 32² at
The Well's spacing dx = 2/128, a frame every 10 time units), split into training and
validation trajectories (never frames). Each iteration samples windows of
``context + K`` frames, adds Gaussian noise to the context frames, unrolls the model
K frames autoregressively (gradients flow through its own predictions) and minimises
the mean squared VRMSE of the K predicted frames (variance floor 1e-4). K follows a curriculum (default
1 → 2 → 4 → 8 → 16) over the training budget. After every epoch the validation VRMSE
(one step, and at horizons 8 and 32) is logged, printed and stored in the checkpoint,
which is written atomically after every epoch and at the end.

    python -m turing_helpers.train convlstm --minutes 45          # the shipped model
    python -m turing_helpers.train convlstm --minutes 45 --resume # continue after a stop
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import SHIPPED_DIR, load_checkpoint, machine_description, save_checkpoint

DEFAULT_OUT = SHIPPED_DIR / "convlstm.pt"
VARIANCE_FLOOR = 1e-4   # default --floor: added to var(true) in the training loss, so that nearly
#                         uniform fields (var → 0) weigh more, but finitely (The Well's VRMSE uses 1e-7)


VALIDATION_HORIZON = 32  # frames forecast by the validation windows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("budget")
    group.add_argument("--minutes", type=float, default=45.0, help="wall-clock training budget (default 45)")
    group.add_argument("--epochs", type=int, default=None, help="stop after this many epochs (default: budget only)")
    group.add_argument("--iters-per-epoch", type=int, default=100, help="optimizer steps per epoch (default 100)")
    group = parser.add_argument_group("optimisation")
    group.add_argument("--batch", type=int, default=16, help="windows per step (default 16)")
    group.add_argument("--lr", type=float, default=3e-3, help="peak Adam learning rate, cosine-decayed (default 3e-3)")
    group.add_argument("--horizons", type=str, default="1,2,4,8,16",
                       help="curriculum of unrolled horizons, equal shares of the budget (default 1,2,4,8,16)")
    group.add_argument("--noise", type=float, default=1e-3,
                       help="std of Gaussian noise added to context frames, concentration units (default 1e-3)")
    group.add_argument("--loss", choices=("vrmse", "vrmse2"), default="vrmse2",
                       help="mean squared VRMSE of the unrolled frames (default), or the VRMSE itself")
    group.add_argument("--floor", type=float, default=VARIANCE_FLOOR,
                       help=f"variance floor in the loss (default {VARIANCE_FLOOR:g})")
    group.add_argument("--seed", type=int, default=0, help="seed of initialisation and sampling (default 0)")
    group = parser.add_argument_group("model")
    group.add_argument("--hidden", type=int, default=16, help="ConvLSTM channels (default 16)")
    group.add_argument("--embed", type=int, default=16, help="encoder channels (default 16)")
    group.add_argument("--kernel", type=int, default=3, help="gate kernel size (default 3)")
    group.add_argument("--anisotropic", action="store_true", help="free kernels instead of D4-symmetric ones")
    group = parser.add_argument_group("data")
    group.add_argument("--grid", type=int, default=32, help="training grid size n (default 32; dx = 2/128 always)")
    group.add_argument("--frames", type=int, default=401, help="frames per training trajectory (default 401)")
    group.add_argument("--per-class", type=int, default=16, help="trajectories per class (default 16)")
    group = parser.add_argument_group("files")
    group.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"checkpoint path (default {DEFAULT_OUT})")
    group.add_argument("--resume", action="store_true", help="continue from --out if it exists")
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


def vrmse_loss(pred, true, floor: float = VARIANCE_FLOOR, squared: bool = False):
    """The Well's VRMSE, sqrt(mean((ŷ − y)²) / (var(y) + floor)), averaged over batch, time
    and channel (or the mean of its square)."""
    mse = ((pred - true) ** 2).mean(dim=(-2, -1))                 # (B, K, 2)
    ratio = mse / (true.var(dim=(-2, -1), unbiased=False) + floor)
    return ratio.mean() if squared else torch.sqrt(ratio + 1e-12).mean()


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
    at_least("--noise", args.noise, 0, integer=False)
    if isinstance(args.kernel, bool) or args.kernel < 1 or args.kernel % 2 == 0:
        raise ValueError(f"--kernel must be an odd integer >= 1, got {args.kernel!r}")
    at_least("--grid", args.grid, 8)
    # training windows need context + the longest horizon; validation windows forecast 32 frames
    at_least("--frames", args.frames, ConvLSTMConfig().context + max(max(horizons), VALIDATION_HORIZON) + 1)
    # the 75/25 split by trajectory keeps a validation trajectory of every class from 3 on
    at_least("--per-class", args.per_class, 3)


def run(args) -> None:
    import torch
    from tqdm.auto import tqdm

    from ..data import TrajectoryConfig, split_by_trajectory, trajectories
    from ..models.convlstm import KIND, ConvLSTM, ConvLSTMConfig, config_dict

    check_arguments(args)
    torch.set_num_threads(args.threads)
    horizons = [int(h) for h in args.horizons.split(",")]

    data_config = TrajectoryConfig(n=args.grid, frames=args.frames, per_class=args.per_class, seed=0)
    data = trajectories(data_config, progress=True)
    train_idx, val_idx = split_by_trajectory(data["labels"], (0.75, 0.25), seed=0)
    frames = data["frames"]                                          # (N, T, 2, n, n)
    config = ConvLSTMConfig(hidden=args.hidden, embed=args.embed, kernel=args.kernel,
                            isotropic=not args.anisotropic)
    C = config.context
    val_windows = validation_windows(frames, val_idx, C, VALIDATION_HORIZON, every=40)

    torch.manual_seed(args.seed)
    model = ConvLSTM(config).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, epoch, elapsed, log = 0, 0, 0.0, []
    if args.resume and Path(args.out).exists():
        payload = load_checkpoint(args.out, kind=KIND)
        config = ConvLSTMConfig.from_dict(payload["config"])
        model = ConvLSTM(config).to(args.device)
        model.load_state_dict(payload["model"])
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        optimizer.load_state_dict(payload["optimizer"])
        step, epoch, elapsed, log = payload["step"], payload["epoch"], payload["training_seconds"], payload["log"]
        torch.set_rng_state(payload["rng"])
        print(f"resumed {args.out} at epoch {epoch}, step {step}, {elapsed / 60:.1f} min trained")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"ConvLSTM: {n_params} parameters; {len(train_idx)} training / {len(val_idx)} validation "
          f"trajectories of {frames.shape[1]} frames on {args.grid}²")

    train_frames = torch.from_numpy(frames[train_idx])               # (N, T, 2, n, n)
    budget = args.minutes * 60.0

    def progress_now():
        parts = [elapsed / budget if budget > 0 else 0.0]
        if args.epochs:
            parts.append(epoch / args.epochs)
        return min(1.0, max(parts))

    def save(metrics):
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "epoch": epoch,
                 "config": config_dict(config), "seed": args.seed, "rng": torch.get_rng_state(),
                 "data": asdict(data_config) | {"split": "split_by_trajectory(labels, (0.75, 0.25), seed=0)",
                                                "train_trajectories": len(train_idx),
                                                "validation_trajectories": len(val_idx)},
                 "training": {key: (_portable(value) if isinstance(value, Path) else value)
                              for key, value in vars(args).items() if key != "run"},
                 "parameters": n_params, "training_seconds": elapsed, "machine": machine_description(),
                 "metrics": metrics, "log": log}
        save_checkpoint(args.out, kind=KIND, state=state)

    N, T = train_frames.shape[:2]
    while progress_now() < 1.0:
        K = horizon_at(progress_now(), horizons)
        model.train()
        started = time.perf_counter()
        losses = []
        bar = tqdm(range(args.iters_per_epoch), desc=f"epoch {epoch + 1} K={K}", leave=False, mininterval=5)
        for _ in bar:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(progress_now(), args.lr)
            traj = torch.randint(N, (args.batch,))
            start = torch.randint(T - C - K + 1, (args.batch,))
            offsets = start[:, None] + torch.arange(C + K)[None]       # (B, C+K)
            window = train_frames[traj[:, None], offsets]               # (B, C+K, 2, n, n)
            k = int(torch.randint(4, ()))                               # random rotation (D4 augmentation)
            window = torch.rot90(window, k, dims=(3, 4)).to(args.device)
            context = window[:, :C] + args.noise * torch.randn_like(window[:, :C])
            pred = model.rollout(context, K)                            # (B, K, 2, n, n)
            loss = vrmse_loss(pred, window[:, C:], args.floor, squared=args.loss == "vrmse2")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            step += 1
            elapsed += time.perf_counter() - started
            started = time.perf_counter()
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", refresh=False)
            if budget > 0 and elapsed >= budget:
                break
        epoch += 1
        model.eval()
        metrics = evaluate(model.cpu(), val_windows, C)
        model.to(args.device)
        entry = {"epoch": epoch, "step": step, "minutes": elapsed / 60, "horizon": K,
                 "lr": optimizer.param_groups[0]["lr"], "loss": float(np.mean(losses))} | metrics
        log.append(entry)
        print(f"epoch {epoch:3d}  {elapsed / 60:5.1f} min  K={K:2d}  loss {entry['loss']:.4f}  val VRMSE "
              f"1: {metrics['vrmse_1']:.4f} (persistence {metrics['persistence_1']:.4f})  "
              f"8: {metrics['vrmse_8']:.4f} ({metrics['persistence_8']:.4f})  "
              f"32: {metrics['vrmse_32']:.4f} ({metrics['persistence_32']:.4f})", flush=True)
        save({key: value for key, value in entry.items() if key.startswith(("vrmse", "persistence"))})
    print(f"saved {args.out} after {elapsed / 60:.1f} min, {step} steps")
