"""Evaluate a ConvLSTM checkpoint on fresh data; write turing_helpers/results/convlstm_eval.json.

    python benchmarks/convlstm_eval.py                      # the shipped model, ~15 min on 2 CPU cores
    git show a02a080:turing_helpers/checkpoints/convlstm.pt > /tmp/convlstm_v1.pt
    python benchmarks/convlstm_eval.py --checkpoint /tmp/convlstm_v1.pt \
        --out turing_helpers/results/convlstm_eval_v1.json # the first model, same protocol

Protocol (chapter 4 reads and states it; every seed is one no training run used):

- **Forecast windows** on The Well's grid: ``TrajectoryConfig(n=128, frames=1001,
  per_class=2, seed=1, bump_width=0.04)``, two trajectories per class (a Gaussian-bump and a
  Fourier start), 1001 frames one every 10 time units. Windows: 4 context frames starting at
  frames 0, stride, 2·stride, … (default 100), each followed by 100 frames to forecast — from
  the pattern forming to the developed pattern. Scores from the shared evaluation layer
  (``turing_helpers.evaluation.forecast_skill``): per window the VRMSE at horizon h averaged
  over (u, v); per class and overall its mean, median and pooled value sqrt(Σ MSE / Σ var);
  windows whose target is uniform (a trajectory that died) apart, never in these numbers;
  persistence (repeat the last context frame) beside it; the correlation time, per window
  the frames until the channel-averaged Pearson r first drops below 0.8 / 0.9 / 0.95, a
  collapsed prediction counting as decorrelated (``metrics.decorrelation_frame``).
- **One step, The Well's way**: every window start 0, 10, 20, … of the same trajectories,
  one predicted frame, VRMSE averaged over windows (mean and median; uniform targets apart).
- **Climate**: chapter 6's solver-calibrated test (``evaluation.climate.climate_test``, run by
  ``evaluation.stability.stability_under_time`` through ``compare.climate_runs``) on developed
  solver states of fresh seeds: 8 starts per class of ``developed_patterns(64, 8, seed=41)``
  (10,000 solver steps, 64², uniform ones dropped) continued for 1000 frames; their climate
  over frames 500–1000 against two independent solver sets of the class (8 each, seeds 46
  and 47), whose spread sets every threshold (Bonferroni over the six classes); per class the
  verdict, every statistic against its threshold, the controls (the solver's own
  continuation must pass; frozen, uniform and another class's set must fail) and the course
  of v std over the 1000 frames beside the solver's.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from compare import ClimateProtocol, climate_runs, convlstm_forecaster, ratio_line

from turing_helpers.checkpoints import SHIPPED_DIR, file_sha256, load_checkpoint, machine_description
from turing_helpers.data import WELL_CLASSES, TrajectoryConfig, trajectories
from turing_helpers.evaluation import forecast_scores, forecast_skill
from turing_helpers.io import plain, write_json
from turing_helpers.models.convlstm import from_checkpoint
from turing_helpers.results import path as result_path

RESULTS = result_path("convlstm_eval")
# The Well's published one-step VRMSE for gray_scott_reaction_diffusion (Ohana et al. 2024,
# table 3). Weak anchors: the FNO/TFNO numbers came from a wrapper that discarded the spectral
# blocks' output (the_well PR #64), and all four were trained and tested on The Well's files.
WELL_ONE_STEP = {"FNO": 0.1365, "TFNO": 0.3633, "U-Net": 0.2252, "CNextU-Net": 0.1761}
TEST_DATA = TrajectoryConfig(n=128, frames=1001, per_class=2, seed=1, bump_width=0.04)
# chapter 6's climate test on 64², with chapter 4's own starts and two fresh reference sets
CLIMATE = ClimateProtocol(sizes=(64,), starts_per_class=8, generated_per_class=8, test_seed=41,
                          reference_seeds=(46, 47), development_seeds=())
SERIES_EVERY = 10  # frames between the points of the climate figure's v-std course
TABLE_HORIZONS = (1, 10, 30, 100)


def _rollout_scores(model, frames, index, context: int, horizon: int, batch: int) -> dict:
    """forecast_scores of the model and of persistence over windows index [(trajectory, start)]."""
    scores = {"model": [], "persistence": []}
    for b in range(0, len(index), batch):
        windows = np.stack([frames[i, s:s + context + horizon] for i, s in index[b:b + batch]])
        with torch.no_grad():
            pred = model.rollout(torch.from_numpy(windows[:, :context]), horizon).numpy()
        true = windows[:, context:]
        last = np.broadcast_to(windows[:, context - 1:context], true.shape)
        scores["model"].append(forecast_scores(pred, true))
        scores["persistence"].append(forecast_scores(last, true))
    return {name: {key: np.concatenate([s[key] for s in parts]) for key in parts[0]}
            for name, parts in scores.items()}


def forecast_section(model, frames, labels, stride: int, horizon: int, batch: int) -> dict:
    C = model.config.context
    starts = list(range(0, frames.shape[1] - C - horizon + 1, stride))
    index = [(i, s) for i in range(len(frames)) for s in starts]
    window_labels = np.array([labels[i] for i, _ in index])
    scores = _rollout_scores(model, frames, index, C, horizon, batch)
    skill = {name: forecast_skill(None, None, labels=window_labels, classes=WELL_CLASSES, scores=s)
             for name, s in scores.items()}
    table = {"horizon": list(range(1, horizon + 1))}
    for name, s in skill.items():
        for statistic in ("mean", "median", "pooled"):
            table[f"{name}_{statistic}"] = s["vrmse"][statistic].tolist()
            table[f"{name}_per_class_{statistic}"] = {
                c: e["vrmse"][statistic].tolist() for c, e in s["per_class"].items() if e["windows"]}
        table[f"{name}_correlation"] = s["correlation"]["mean"].tolist()
    targets = {}
    for c in WELL_CLASSES:
        entry = skill["model"]["per_class"][c]
        if not entry["windows"]:
            targets[c] = {"windows": 0}
            continue
        model_median = entry["vrmse"]["median"]
        pers_median = skill["persistence"]["per_class"][c]["vrmse"]["median"]
        below = model_median < pers_median
        targets[c] = {
            "windows": entry["windows"],
            "uniform_target_windows": entry["uniform_target"]["windows"],
            "median_below_persistence_every_horizon": bool(below.all()),
            "horizons_median_not_below": [int(h) for h in np.flatnonzero(~below) + 1],
            "at": {str(h): {"model_median": float(model_median[h - 1]), "persistence_median": float(pers_median[h - 1]),
                            "model_pooled": float(entry["vrmse"]["pooled"][h - 1]),
                            "persistence_pooled": float(
                                skill["persistence"]["per_class"][c]["vrmse"]["pooled"][h - 1])}
                   for h in TABLE_HORIZONS if h <= horizon}}
    return {"windows": {"context": C, "starts": starts, "count": len(index), "stride": stride,
                        "developed": skill["model"]["windows"],
                        "uniform_target": skill["model"]["uniform_target"]["windows"]},
            "table": table, "per_class_targets": targets,
            "correlation_time": {name: {t: c["median"] for t, c in s["correlation_time"].items()}
                                 for name, s in skill.items()},
            "skill": skill}


def one_step_section(model, frames, labels, every: int, batch: int) -> dict:
    C = model.config.context
    index = [(i, s) for i in range(len(frames)) for s in range(0, frames.shape[1] - C, every)]
    scores = _rollout_scores(model, frames, index, C, 1, batch)
    out = {"window_every": every, "windows": len(index)}
    for name, s in scores.items():
        keep = ~s["uniform_target"][:, 0]
        values = s["vrmse"][keep, 0]
        out[name] = {"mean": float(values.mean()), "median": float(np.median(values)),
                     "uniform_target_windows": int((~keep).sum())}
    out["per_class_mean"] = {}
    window_labels = np.array([labels[i] for i, _ in index])
    keep = ~scores["model"]["uniform_target"][:, 0]
    for k, c in enumerate(WELL_CLASSES):
        mask = keep & (window_labels == k)
        out["per_class_mean"][c] = {name: float(s["vrmse"][mask, 0].mean()) for name, s in scores.items()}
    return out


def climate_section(model, frames: int = 1000) -> dict:
    """Chapter 6's climate test of ``model``'s ``frames``-frame rollouts on :data:`CLIMATE`'s
    starts: {"protocol", "per_class": {class: stability_under_time's result, without "end"}}."""
    protocol = dataclasses.replace(CLIMATE, frames=frames, climate_from=frames // 2, horizon=min(100, frames))
    forecast = convlstm_forecaster(model)
    result = climate_runs(protocol, {"convlstm": lambda name: forecast}, progress=True,
                           series_every=SERIES_EVERY)["convlstm"]
    size = result["sizes"][str(protocol.sizes[0])]
    return {"protocol": result["protocol"], "alive": size["alive"], "per_class": size["classes"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED_DIR / "convlstm.pt")
    parser.add_argument("--stride", type=int, default=100, help="frames between window starts (default 100)")
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--one-step-every", type=int, default=10, help="frames between one-step windows (default 10)")
    parser.add_argument("--climate-frames", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--climate-only", action="store_true",
                        help="only the climate section (e.g. for an intermediate training stage)")
    parser.add_argument("--replace-climate", action="store_true",
                        help="rerun only the climate section and replace it in --out, an evaluation of the same "
                             "checkpoint (after a change of the climate protocol)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # fading fields pass through denormal floats, ~3x slower
    started = time.perf_counter()

    payload = load_checkpoint(args.checkpoint, kind="convlstm")
    model = from_checkpoint(payload)
    command = " ".join(["python benchmarks/convlstm_eval.py", *(sys.argv[1:] if argv is None else argv)])
    if args.replace_climate:
        replace_climate(args.out, model, args.checkpoint, args.climate_frames, command, args.threads)
        return
    seconds, forecast, one_step = {}, {}, None
    if not args.climate_only:
        data = trajectories(TEST_DATA, progress=True)
        frames, labels = data["frames"], data["labels"]                      # (N, T, 2, 128, 128)
        t = time.perf_counter()
        forecast = forecast_section(model, frames, labels, args.stride, args.horizon, args.batch)
        seconds["forecast"] = time.perf_counter() - t
        t = time.perf_counter()
        one_step = one_step_section(model, frames, labels, args.one_step_every, args.batch)
        seconds["one_step"] = time.perf_counter() - t
    t = time.perf_counter()
    climate = climate_section(model, args.climate_frames)
    seconds["climate"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started

    from turing_helpers.metrics import is_uniform

    result = {
        "command": command,
        "checkpoint": args.checkpoint.name,
        "checkpoint_sha256": file_sha256(args.checkpoint),
        "checkpoint_training_seconds": payload.get("training_seconds"),
        "checkpoint_initialised_from": (payload.get("initialised_from") or {}).get("sha256"),
        "data": None if args.climate_only else (
            {key: value for key, value in vars(TEST_DATA).items() if key != "classes"}
            | {"trajectories": int(len(frames)), "dead_at_last_frame": int(np.sum(is_uniform(frames[:, -1, 1])))}),
        "well_one_step": WELL_ONE_STEP,
        **forecast,
        "one_step": one_step,
        "climate": climate,
        "seconds": seconds,
        "threads": args.threads,
        "machine": machine_description(),
    }
    write_json(args.out, plain(result))
    print_tables(result)
    print(f"wrote {args.out} in {seconds['total']:.0f} s")


def replace_climate(out: Path, model, checkpoint: Path, frames: int, command: str, threads: int) -> None:
    """Rerun the climate section of the evaluation in ``out`` (of the same checkpoint) and write
    the file back with it, the rest unchanged; the section records its own command and machine."""
    result = json.loads(out.read_text())
    if result["checkpoint_sha256"] != file_sha256(checkpoint):
        raise ValueError(f"{out} evaluates another checkpoint than {checkpoint}: run the full evaluation")
    started = time.perf_counter()
    result["climate"] = climate_section(model, frames) | {"command": command, "threads": threads,
                                                          "machine": machine_description()}
    result["seconds"]["climate"] = time.perf_counter() - started
    write_json(out, plain(result))
    print_climate(result)
    print(f"replaced the climate section of {out} in {result['seconds']['climate']:.0f} s")


def print_tables(result: dict) -> None:
    """The per-class tables of the closing note: median and pooled VRMSE, climate vs solver."""
    if result["one_step"] is None:
        print_climate(result)
        return
    print(f"one step (windows every {result['one_step']['window_every']} frames): "
          f"model mean {result['one_step']['model']['mean']:.4f} median {result['one_step']['model']['median']:.4f}"
          f" | persistence mean {result['one_step']['persistence']['mean']:.4f}")
    print(f"{'':>8}   VRMSE at horizon h, model/persistence: median, then pooled")
    print(f"{'class':>8} | " + " | ".join(f"{'h=' + str(h):>26s}" for h in TABLE_HORIZONS)
          + " | median below persistence at every h")
    for c, t in result["per_class_targets"].items():
        if not t["windows"]:
            print(f"{c:>8} | no developed windows")
            continue
        cells = [f"{a['model_median']:.3f}/{a['persistence_median']:.3f}  {a['model_pooled']:.3f}/"
                 f"{a['persistence_pooled']:.3f}" for a in t["at"].values()]
        print(f"{c:>8} | " + " | ".join(f"{x:>26s}" for x in cells)
              + f" | {t['median_below_persistence_every_horizon']} (not at {t['horizons_median_not_below'][:5]})")
    print_climate(result)


def print_climate(result: dict) -> None:
    """Per class: the verdict, and each statistic's ratio to the solver's (* where it fails its threshold)."""
    for name, entry in result["climate"]["per_class"].items():
        controls = ", ".join(f"{key} {test['verdict']}" for key, test in entry["controls"].items())
        print(f"{name:>8} {entry['climate']['verdict']:17s} {ratio_line(entry['climate'])} | controls: {controls}")


if __name__ == "__main__":
    main()
