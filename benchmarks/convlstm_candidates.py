"""Chapter 6's climate test for several ConvLSTM checkpoints side by side (choosing a recipe).

    python benchmarks/convlstm_candidates.py CHECKPOINT [CHECKPOINT ...] [--starts 8] [--sizes 48]
        [--out _build/convlstm_candidates.json]

Every checkpoint (``shipped`` names the shipped model) continues the same developed solver
states of the test seed for 1000 frames and is scored by ``stability_under_time`` against
the same two independent solver sets (``compare.ClimateProtocol``, with ``--starts`` starts
per class and the sizes given), so that differences between checkpoints are theirs, not
the draw's. Prints, per class, the verdict and the ratio model / solver of each climate
statistic (``*`` where the statistic fails its solver-calibrated threshold).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

from compare import ClimateProtocol, climate_runs, convlstm_forecaster, ratio_line
from turing_helpers.checkpoints import SHIPPED_DIR, load_checkpoint, machine_description
from turing_helpers.io import write_json
from turing_helpers.models.convlstm import from_checkpoint


def load(name: str):
    """A ConvLSTM in eval mode from a checkpoint path, or the shipped one for ``shipped``."""
    path = SHIPPED_DIR / "convlstm.pt" if name == "shipped" else Path(name)
    return from_checkpoint(load_checkpoint(path, kind="convlstm")).eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint paths, or 'shipped'")
    parser.add_argument("--starts", type=int, default=8, help="starts (and reference fields) per class")
    parser.add_argument("--sizes", type=int, nargs="+", default=[48], help="box sizes (grid points per side)")
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--out", type=Path, default=Path("_build/convlstm_candidates.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # fading rollouts pass through denormal floats, ~3x slower
    protocol = dataclasses.replace(ClimateProtocol(), sizes=tuple(args.sizes), starts_per_class=args.starts,
                                   generated_per_class=args.starts + 8)
    models = {name: load(name) for name in args.checkpoints}
    # the same forecaster for every class: climate_runs asks for one per class name
    forecasts = {name: convlstm_forecaster(model) for name, model in models.items()}
    forecasters = {name: (lambda _class, forecast=forecast: forecast) for name, forecast in forecasts.items()}
    started = time.perf_counter()
    results = climate_runs(protocol, forecasters, progress=True)
    for n in args.sizes:
        print(f"\n{n}²")
        for name, result in results.items():
            classes = result["sizes"][str(n)]["classes"]
            on = sum(c["climate"]["verdict"] == "on the attractor" for c in classes.values())
            print(f"  {name}: {on} of {len(classes)} classes on the attractor")
            for cls, entry in classes.items():
                print(f"    {cls:8s} {entry['climate']['verdict']:17s} {ratio_line(entry['climate'])}")
    command = " ".join(["python benchmarks/convlstm_candidates.py", *(sys.argv[1:] if argv is None else argv)])
    write_json(args.out, {"command": command, "results": results, "seconds": time.perf_counter() - started,
                          "machine": machine_description()})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
