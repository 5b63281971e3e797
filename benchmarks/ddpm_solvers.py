"""Does a 15-step DPM-Solver++ sample what 100 DDIM steps sample? Per class, with intervals.

    python benchmarks/ddpm_solvers.py [--samples 32] [--steps 15] [--threads 2]

For each class the shipped DDPM draws ``--samples`` fields of 48² with its sampling defaults
(guidance w, noise η) four ways: 100 DDIM steps (the sampler chapter 5's table was made
with), 100 DDIM steps again from other noise (the pass control: two runs of one sampler),
``--steps`` DPM-Solver++(2M) steps (the candidate) and ``--steps`` DDIM steps (the fail
control: the same budget of network calls, first order). Each set is scored per field by
``pattern_statistics`` (uniform fields counted apart), and every statistic is compared with
the 100-step set by ``difference_test`` (bootstrap interval, permutation p), Holm-corrected
over classes × statistics per comparison. A sampler *matches* when no statistic of any class
differs at α = 0.05; the fresh solver patterns (base seed 9) are scored beside them, so
that a difference can be read against how far the model is from the solver. Seconds per
sample of each sampler are measured in the same run. Writes
``turing_helpers/results/ddpm_solvers.json`` atomically.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from turing_helpers.checkpoints import machine_description
from turing_helpers.data import WELL_CLASSES, developed_patterns
from turing_helpers.evaluation.ddpm import DX, EVAL_SEED, SAMPLING_STEPS
from turing_helpers.evaluation.patterns import pattern_statistics
from turing_helpers.evaluation.significance import difference_test, holm
from turing_helpers.io import write_json
from turing_helpers.models import load_pretrained
from turing_helpers.results import path as result_path

RESULTS = result_path("ddpm_solvers")
STATISTICS = ("dominant_wavelength", "component_density", "euler_density", "v_std",
              "spectral_entropy", "compression_complexity")
ALPHA = 0.05       # family-wise, Holm over classes x statistics, per sampler
SAMPLE_SEED = 300  # noise of the samples: used by no training, tuning or quality run


def samplers(steps: int) -> dict:
    """name → (method, steps, seed offset) of the four sample sets."""
    return {"ddim_100": ("ddim", SAMPLING_STEPS, 0), "ddim_100_again": ("ddim", SAMPLING_STEPS, 1000),
            f"dpm++_{steps}": ("dpm++", steps, 0), f"ddim_{steps}": ("ddim", steps, 0)}


def field_statistics(fields: np.ndarray) -> dict:
    """Per-field statistics of v (lists, NaN for uniform fields) and the uniform fraction."""
    stats = pattern_statistics(fields[:, 1].astype(np.float64), DX)
    out = {key: stats[key].tolist() for key in STATISTICS}
    out["uniform_fraction"] = float(np.mean(stats["uniform"]))
    return out


def compare(candidate: dict, reference: dict) -> dict:
    """difference_test of every statistic (candidate − reference) and the uniform fractions."""
    out = {key: difference_test(candidate[key], reference[key]) for key in STATISTICS}
    out["uniform_fraction"] = [candidate["uniform_fraction"], reference["uniform_fraction"]]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=32, help="fields per class and sampler")
    parser.add_argument("--steps", type=int, default=15, help="steps of DPM-Solver++ and of the short DDIM")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--classes", nargs="+", default=list(WELL_CLASSES), choices=WELL_CLASSES)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_pretrained("ddpm")
    plan = samplers(args.steps)
    fields, labels, _ = developed_patterns(model.config.size, args.samples, EVAL_SEED)
    started = time.perf_counter()
    classes = {}
    for name in args.classes:
        c = WELL_CLASSES.index(name)
        entry = {"sampling": model.sampling.get(name, {}), "sets": {}, "seconds_per_sample": {}}
        for key, (method, steps, offset) in plan.items():
            start = time.perf_counter()
            samples = model.sample(args.samples, name, steps=steps, method=method, seed=SAMPLE_SEED + c + offset)
            entry["seconds_per_sample"][key] = (time.perf_counter() - start) / args.samples
            entry["sets"][key] = field_statistics(samples)
        entry["sets"]["solver"] = field_statistics(fields[labels == c])
        entry["against_ddim_100"] = {key: compare(entry["sets"][key], entry["sets"]["ddim_100"])
                                     for key in entry["sets"] if key != "ddim_100"}
        classes[name] = entry
        print(f"{name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in entry["seconds_per_sample"].items()), flush=True)

    verdicts = {}
    for key in [k for k in plan if k != "ddim_100"] + ["solver"]:
        tests = [(name, statistic, classes[name]["against_ddim_100"][key][statistic])
                 for name in classes for statistic in STATISTICS]
        rejected = holm([test["p"] for _, _, test in tests]) <= ALPHA
        differing = [f"{name}:{statistic}" for (name, statistic, _), r in zip(tests, rejected) if r]
        verdicts[key] = {"matches": not differing, "differing": differing, "tests": len(tests)}
    print(f"\n{'class':8s} {'statistic':22s} " + " ".join(f"{k:>24s}" for k in verdicts))
    for name in classes:
        for statistic in STATISTICS:
            cells = []
            for key in verdicts:
                test = classes[name]["against_ddim_100"][key][statistic]
                cells.append(f"{test['relative']:+7.1%} [{test['interval'][0]:+.3g}, {test['interval'][1]:+.3g}]")
            print(f"{name:8s} {statistic:22s} " + " ".join(f"{cell:>24s}" for cell in cells))
    for key, verdict in verdicts.items():
        print(f"{key}: {'matches' if verdict['matches'] else 'differs'} 100-step DDIM "
              f"({len(verdict['differing'])} of {verdict['tests']} Holm-rejected: {', '.join(verdict['differing'])})")
    controls = {"pass": verdicts["ddim_100_again"]["matches"], "fail": not verdicts[f"ddim_{args.steps}"]["matches"]}
    print(f"controls: second 100-step run matches: {controls['pass']}; {args.steps}-step DDIM differs: "
          f"{controls['fail']}")
    command = " ".join(["python benchmarks/ddpm_solvers.py", *(sys.argv[1:] if argv is None else argv)])
    result = {"command": command, "samples": args.samples, "steps": args.steps, "size": model.config.size,
              "sample_seed": SAMPLE_SEED, "solver_seed": EVAL_SEED, "alpha": ALPHA, "classes": classes,
              "verdicts": verdicts, "controls": controls, "seconds": time.perf_counter() - started,
              "machine": machine_description()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
