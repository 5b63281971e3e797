"""Full per-class evaluation of the shipped DDPM (chapter 5 reads its output).

    python benchmarks/ddpm_eval.py [--samples 64] [--reference 64] [--steps 100] [--threads 2]
    python benchmarks/ddpm_eval.py --timing-only      # re-time sampling only

Scores the shipped EMA model's DDIM samples (each class with the checkpoint's sampling
defaults, guidance w and DDIM η), fresh solver patterns (base seed 9, never
used in training) and their phase-randomised surrogates against another set of fresh
solver patterns, per class (``turing_helpers.evaluation.ddpm.quality_table``), and times
sampling on this CPU: seconds per sample for ancestral DDPM (all T steps) and DDIM with
fewer steps. Writes ``turing_helpers/results/ddpm_eval.json`` atomically.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from turing_helpers.checkpoints import machine_description
from turing_helpers.io import atomic_write
from turing_helpers.models import load_pretrained
from turing_helpers.evaluation.ddpm import SAMPLING_STEPS, format_table, quality_table
from turing_helpers.results import path as result_path

RESULTS = result_path("ddpm_eval")


def sampling_times(model, ddim_steps=(10, 25, 50, 100), batch: int = 2, size: int = 48) -> dict:
    """Seconds per sample (batch of ``batch``, ``size``², no guidance) for DDIM steps and full DDPM;
    guidance w ≠ 1 doubles each step (two network evaluations)."""
    times = {}
    for steps in ddim_steps:
        start = time.perf_counter()
        model.sample(batch, 0, size=size, steps=steps, seed=0, guidance=1.0, eta=0.0)  # one network call a step
        times[f"ddim_{steps}"] = (time.perf_counter() - start) / batch
    T = model.config.timesteps
    start = time.perf_counter()
    model.sample(batch, 0, size=size, steps=T, method="ddpm", seed=0, guidance=1.0)
    times[f"ddpm_{T}"] = (time.perf_counter() - start) / batch
    return {"seconds_per_sample": times, "batch": batch, "size": size}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=64, help="model samples per class")
    parser.add_argument("--reference", type=int, default=64, help="solver patterns per class in each half")
    parser.add_argument("--steps", type=int, default=SAMPLING_STEPS, help="DDIM steps for the samples")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--timing-only", action="store_true",
                        help="re-measure only the sampling times (e.g. on a quiet machine) and update --out")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_pretrained("ddpm")
    if args.timing_only:
        result = json.loads(args.out.read_text())
        result["sampling"] = sampling_times(model)
        result["sampling_machine"] = machine_description()
        print(json.dumps(result["sampling"], indent=1))
        atomic_write(args.out, lambda temporary: Path(temporary).write_text(json.dumps(result, indent=1)))
        return
    start = time.perf_counter()
    table = quality_table(model, samples_per_class=args.samples, reference_per_class=args.reference,
                          steps=args.steps, progress=True)
    seconds = time.perf_counter() - start
    print(format_table(table))
    timing = sampling_times(model)
    print(json.dumps(timing, indent=1))
    command = " ".join(["python benchmarks/ddpm_eval.py", *(sys.argv[1:] if argv is None else argv)])
    result = {"command": command, "quality": table, "sampling_defaults": model.sampling,
              "evaluation_seconds": seconds, "sampling": timing, "machine": machine_description()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, lambda temporary: Path(temporary).write_text(json.dumps(result, indent=1)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
