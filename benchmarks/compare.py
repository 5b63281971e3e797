"""Chapter 6's measurements: the solver, the ConvLSTM and the DDPM compared in stability and
complexity; writes ``turing_helpers/results/compare.json`` (package data the chapter reads).

    python benchmarks/compare.py              # about 10-15 minutes on 2 CPU cores
    python benchmarks/compare.py --costs-only # re-measure only the costs (on a quiet machine)
    python benchmarks/compare.py --convlstm-only  # after retraining the ConvLSTM: redo what involves it

The experiments and their protocol are :mod:`turing_helpers.evaluation.comparison`
(:class:`~turing_helpers.evaluation.comparison.ComparisonConfig` holds every size and seed;
it is stored in the file). The costs are measured side by side in one run, each system in a
fresh process so that its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from turing_helpers.checkpoints import SHIPPED_DIR, machine_description, training_stages
from turing_helpers.evaluation.comparison import ComparisonConfig, measure_cost, rerun_convlstm, run, summary_table
from turing_helpers.io import plain, write_json
from turing_helpers.results import path as result_path

RESULTS = result_path("compare")


def costs(threads: int) -> dict:
    """measure_cost of each system in its own process, with the models' sizes and training records."""
    out = {}
    for system in ("solver", "convlstm", "ddpm"):
        code = ("import json, torch; from turing_helpers.evaluation.comparison import measure_cost; "
                f"torch.set_num_threads({threads}); print(json.dumps(measure_cost({system!r})))")
        completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out[system] = json.loads(completed.stdout.strip().splitlines()[-1])
    out["solver"] |= {"parameters": 4, "training_seconds": 0.0}
    for system, record in training_records().items():
        out[system] |= record
    return out


def training_records() -> dict:
    """Parameters and training time of the shipped models from their checkpoint records; a
    fine-tuned model's time is the sum over its stages (each record keeps its parent's)."""
    out = {}
    for system in ("convlstm", "ddpm"):
        record = json.loads((SHIPPED_DIR / f"{system}.json").read_text())
        stages = training_stages(record)
        parameters = record.get("parameters")
        if parameters is None:  # the first ConvLSTM's record keeps it under its config
            from turing_helpers.models import load_pretrained

            parameters = sum(p.numel() for p in load_pretrained(system).parameters())
        out[system] = {"parameters": parameters,
                       "training_seconds": sum(stage["training_seconds"] for stage in stages),
                       "training_stages": len(stages), "training_machine": record["machine"].get("processor")}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--costs-only", action="store_true", help="re-measure the costs and update --out")
    parser.add_argument("--convlstm-only", action="store_true",
                        help="redo the experiments that involve the ConvLSTM, keep the DDPM's samples and "
                             "settling and the measured costs from --out (update the training records)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    command = " ".join(["python benchmarks/compare.py", *(sys.argv[1:] if argv is None else argv)])
    if args.costs_only:
        result = json.loads(args.out.read_text())
    elif args.convlstm_only:
        start = time.perf_counter()
        previous = json.loads(args.out.read_text())
        result = plain(rerun_convlstm(previous, ComparisonConfig(), progress=True))
        result["seconds"]["convlstm_rerun"] = time.perf_counter() - start
        result["convlstm_rerun"] = {"command": command, "kept_from": previous.get("command"),
                                    "kept": ["samples", "settling", "samples_uniform",
                                             "complexity rows of solver, ddpm, surrogate"]}
    else:
        start = time.perf_counter()
        result = plain(run(ComparisonConfig(), progress=True))
        result["seconds"]["total"] = time.perf_counter() - start
    if args.convlstm_only:
        # the ConvLSTM's architecture is unchanged: its time per frame stays the one measured
        # side by side with the others on a quiet machine; only the training records change
        result["costs"] = previous["costs"]
        for system, record in training_records().items():
            result["costs"][system] |= record
    else:
        result["costs"] = costs(args.threads)
    result["summary"] = summary_table(result, result["costs"])
    result["machine"] = machine_description()
    # the experiments' command stays the one that ran them; a costs-only rerun is recorded beside it
    if not args.convlstm_only:
        result["costs_command" if args.costs_only else "command"] = command
    write_json(args.out, result)
    for row in result["summary"]:
        print(f"{row['measurement'][:70]:70s} | {row['solver']:>18s} | {row['convlstm']:>18s} | {row['ddpm']:>18s}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
