"""Fit GrayScottCell's (F, k, D_u, D_v) per class on chapter 4's training trajectories.

    python benchmarks/analogy_fit.py          # about 3 minutes on 2 CPU cores

Writes ``turing_helpers/results/analogy_fit.json`` (read by chapter 7). Protocol:

- Data: the training trajectories of chapter 4's first ConvLSTM (``FIT_DATA``: 32²
  periodic, dx = 2/128, a frame every 10 Euler steps of dt = 1, 401 frames, seed 0), the
  training split only, ``--per-class`` trajectories per class (default 4), windows of
  ``--window`` + 1 frames (default 3 + 1) every ``--stride`` frames (default 20) from frame
  200 on (the developed regime), windows whose last frame is uniform left out.
- Start: deliberately wrong, (1.3 F, 0.85 k, 0.7 D_u, 1.4 D_v) of the true class values.
- Fit: :func:`turing_helpers.training.gray_scott_cell.fit_gray_scott_cell`, Adam on the
  log-parameters, ``--iterations`` (default 300), batches of 8 windows, loss the rollout's
  mean squared error normalised by each frame's variance.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict

import numpy as np
import torch

from turing_helpers import preset
from turing_helpers.checkpoints import machine_description
from turing_helpers.data import WELL_CLASSES, TrajectoryConfig, split_by_trajectory, trajectories
from turing_helpers.io import write_json
from turing_helpers.metrics import is_uniform
from turing_helpers.results import path as result_path
from turing_helpers.training.gray_scott_cell import PARAMETERS, fit_gray_scott_cell

FIT_DATA = TrajectoryConfig(n=32, frames=401, per_class=16, seed=0)
START_FACTORS = {"F": 1.3, "k": 0.85, "Du": 0.7, "Dv": 1.4}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=4, help="training trajectories per class")
    parser.add_argument("--window", type=int, default=3, help="frames predicted per window")
    parser.add_argument("--stride", type=int, default=20, help="frames between window starts")
    parser.add_argument("--iterations", type=int, default=300, help="Adam steps per class")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", default=str(result_path("analogy_fit")), help="result file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    config = FIT_DATA
    protocol = asdict(config) | {"split": "split_by_trajectory(labels, (0.75, 0.25), seed=0)"}
    data = trajectories(config, progress=True)
    train, _ = split_by_trajectory(data["labels"], (0.75, 0.25), seed=0)
    options = {key: value for key, value in vars(args).items() if key != "out"}
    result = {"protocol": options | {"data": protocol, "start_factors": START_FACTORS,
                                        "first_frame": 200, "command": "python benchmarks/analogy_fit.py"},
              "machine": machine_description(), "classes": {}}
    began = time.perf_counter()
    for c, name in enumerate(WELL_CLASSES):
        own = [i for i in train if data["labels"][i] == c][:args.per_class]
        frames = data["frames"][own, 200:]                      # (P, T, 2, n, n)
        windows = np.concatenate([frames[:, s:s + args.window + 1]
                                  for s in range(0, frames.shape[1] - args.window, args.stride)])
        alive = ~is_uniform(windows[:, -1, 1])
        windows = windows[alive]
        truth = preset(name)
        start = type(truth)(**{p: START_FACTORS[p] * getattr(truth, p) for p in PARAMETERS})
        fit = fit_gray_scott_cell(windows, start, config.dx, config.dt, config.frame_every,
                                  iterations=args.iterations, seed=c)
        errors = {p: fit["parameters"][p] / getattr(truth, p) - 1 for p in PARAMETERS}
        result["classes"][name] = {"windows": int(len(windows)), "true": {p: getattr(truth, p) for p in PARAMETERS},
                                   "fitted": fit["parameters"], "relative_error": errors,
                                   "history": fit["history"], "seconds": fit["seconds"]}
        print(f"{name:8s} {len(windows):3d} windows, {fit['seconds']:5.1f} s: "
              + "  ".join(f"{p} {errors[p]:+.2e}" for p in PARAMETERS))
    result["seconds"] = time.perf_counter() - began
    write_json(args.out, result)
    print(f"wrote {args.out} ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
