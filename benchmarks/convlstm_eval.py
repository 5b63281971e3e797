"""Evaluate the shipped ConvLSTM on unseen 128² trajectories; write turing_helpers/results/convlstm_eval.json.

    python benchmarks/convlstm_eval.py            # about 10-15 minutes on 2 CPU cores

Protocol (chapter 4 reads and states it):

- Test data: ``TrajectoryConfig(n=128, frames=1001, per_class=2, seed=1)`` — The Well's
  grid, spacing and length (1001 frames, one every 10 time units), two trajectories per
  class (one Gaussian-bump and one Fourier start); training used seed 0, so no test
  trajectory was seen.
- Windows: 4 context frames starting at frames 0, stride, 2·stride, … (default stride
  100) of every trajectory, each followed by 100 frames to forecast. The Well averages
  over all windows; a stride subsamples them evenly, from the first frames (the pattern
  forming) to the last (developed).
- Scores from the shared evaluation layer (``turing_helpers.evaluation.forecast_skill``):
  VRMSE at horizon h per window and channel (u, v), sqrt(mean (ŷ − y)² / (var y + 1e-7))
  over the grid, averaged over channels; its mean, median and pooled value
  sqrt(Σ MSE / Σ var) over windows, overall and per class. Windows whose target becomes
  uniform (a trajectory that died) are scored apart and left out of these numbers, since
  var y ≈ 0 makes their scores explode. Persistence (repeat the last context frame) beside it.
- Correlation time (Lippe et al. 2023), per window: frames until the channel-averaged
  Pearson correlation with the truth first drops below 0.8 / 0.9 / 0.95, a collapsed
  (constant) prediction counting as decorrelated; the median over windows is reported.
- Long rollouts: from frames 0-3 of one trajectory per class (the Fourier starts), 997
  predicted frames (to frame 1000) — the range of the values, whether they stay finite,
  the PDE residual of the predicted fields (metrics.pde_residual) beside the solver's.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from turing_helpers import preset
from turing_helpers.checkpoints import SHIPPED_DIR, load_checkpoint
from turing_helpers.data import WELL_CLASSES, TrajectoryConfig, trajectories
from turing_helpers.evaluation import forecast_scores, forecast_skill
from turing_helpers.io import write_json
from turing_helpers.metrics import pde_residual, vrmse
from turing_helpers.models.convlstm import from_checkpoint
from turing_helpers.results import path as result_path

RESULTS = result_path("convlstm_eval")
WELL_ONE_STEP = {"FNO": 0.1365, "TFNO": 0.3633, "U-Net": 0.2252, "CNextU-Net": 0.1761}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED_DIR / "convlstm.pt")
    parser.add_argument("--stride", type=int, default=100, help="frames between window starts (default 100)")
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--long", type=int, default=1000, help="last frame of the long rollouts (default 1000)")
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # fading fields pass through denormal floats, ~3x slower
    started = time.perf_counter()

    payload = load_checkpoint(args.checkpoint, kind="convlstm")
    model = from_checkpoint(payload)
    C = model.config.context
    data_config = TrajectoryConfig(n=128, frames=1001, per_class=2, seed=1)
    data = trajectories(data_config, progress=True)
    frames, labels, kinds = data["frames"], data["labels"], data["kinds"]   # (N, T, 2, 128, 128)
    N, T = frames.shape[:2]

    # -- VRMSE against horizon (batch by batch: the forecasts of all windows would take GBs) --
    H = args.horizon
    starts = list(range(0, T - C - H + 1, args.stride))
    index = [(i, s) for i in range(N) for s in starts]
    scores = {"model": [], "persistence": []}                                 # per window (H,) arrays
    for b in range(0, len(index), args.batch):
        windows = np.stack([frames[i, s:s + C + H] for i, s in index[b:b + args.batch]])   # (w, C+H, 2, n, n)
        with torch.no_grad():
            pred = model.rollout(torch.from_numpy(windows[:, :C]), H).numpy()           # (w, H, 2, n, n)
        true = windows[:, C:]
        last = np.broadcast_to(windows[:, C - 1:C], true.shape)
        for name, p in (("model", pred), ("persistence", last)):
            scores[name].append(forecast_scores(p, true))
    window_labels = np.array([labels[i] for i, _ in index])
    skill = {name: forecast_skill(None, None, labels=window_labels, classes=WELL_CLASSES,
                                  scores={key: np.concatenate([s[key] for s in parts]) for key in parts[0]})
             for name, parts in scores.items()}
    table = {"horizon": list(range(1, H + 1))}
    for name, s in skill.items():
        table[f"{name}_mean"] = s["vrmse"]["mean"].tolist()
        table[f"{name}_median"] = s["vrmse"]["median"].tolist()
        table[f"{name}_pooled"] = s["vrmse"]["pooled"].tolist()
        table[f"{name}_per_class_mean"] = {c: e["vrmse"]["mean"].tolist() for c, e in s["per_class"].items()
                                           if e["windows"]}
        table[f"{name}_per_class_median"] = {c: e["vrmse"]["median"].tolist() for c, e in s["per_class"].items()
                                             if e["windows"]}
        table[f"{name}_correlation"] = s["correlation"]["mean"].tolist()
    below = {h: bool(table["model_mean"][h - 1] < table["persistence_mean"][h - 1]) for h in table["horizon"]}

    # -- long rollouts -------------------------------------------------------------------
    long_idx = [int(np.flatnonzero((labels == k) & (kinds == 1))[0]) for k in range(len(WELL_CLASSES))]
    steps = args.long - C + 1
    with torch.no_grad():
        long_pred = model.rollout(torch.from_numpy(frames[long_idx, :C]), steps).numpy()   # (6, steps, 2, n, n)
    dx = data_config.dx
    checkpoints = [t for t in (10, 50, 100, 250, 500, 750, 1000) if t <= args.long]
    long = {"frames": checkpoints, "classes": [WELL_CLASSES[labels[i]] for i in long_idx], "model_residual": [],
            "solver_residual": [], "vrmse": [], "finite": bool(np.isfinite(long_pred).all()),
            "min": float(np.nanmin(long_pred)), "max": float(np.nanmax(long_pred)),
            "model_std": [], "solver_std": []}
    for j, i in enumerate(long_idx):
        gs = preset(WELL_CLASSES[labels[i]])
        p = long_pred[j, [t - C for t in checkpoints]]                          # (K, 2, n, n)
        y = frames[i, checkpoints]
        long["model_residual"].append(pde_residual(gs, p[:, 0], p[:, 1], dx).tolist())
        long["solver_residual"].append(pde_residual(gs, y[:, 0], y[:, 1], dx).tolist())
        long["vrmse"].append(vrmse(p, y).mean(axis=-1).tolist())
        long["model_std"].append(p[:, 1].std(axis=(-2, -1)).tolist())
        long["solver_std"].append(y[:, 1].std(axis=(-2, -1)).tolist())

    result = {
        "command": "python benchmarks/convlstm_eval.py",
        "checkpoint": str(args.checkpoint.name),
        "checkpoint_training_seconds": payload.get("training_seconds"),
        "data": {"n": data_config.n, "frames": data_config.frames, "per_class": data_config.per_class,
                 "seed": data_config.seed, "trajectories": int(N)},
        "windows": {"context": C, "starts": starts, "count": len(index), "stride": args.stride},
        "well_one_step": WELL_ONE_STEP,
        "table": table,
        "model_below_persistence": {"all": all(below.values()),
                                    "horizons_not_below": [h for h, b in below.items() if not b]},
        "correlation_time": {name: {t: c["median"] for t, c in s["correlation_time"].items()}
                             for name, s in skill.items()},
        "uniform_target_windows": skill["model"]["uniform_target"]["windows"],
        "developed_windows": skill["model"]["windows"],
        "skill": skill,
        "long_rollout": long,
        "seconds": time.perf_counter() - started,
        "threads": args.threads,
    }
    write_json(args.out, result)
    for h in (1, 2, 5, 10, 20, 50, 100):
        if h <= H:
            print(f"h={h:3d}  model {table['model_mean'][h - 1]:8.4f}  persistence {table['persistence_mean'][h - 1]:8.4f}"
                  f"   (median {table['model_median'][h - 1]:.4f} / {table['persistence_median'][h - 1]:.4f})")
    print("correlation time", result["correlation_time"])
    print("long rollout: finite", long["finite"], "range", long["min"], long["max"])
    print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
