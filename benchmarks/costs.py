"""Time and memory of the three systems making patterns: a table, each system in its own process.

    python benchmarks/costs.py                 # all three, side by side, ~2 min on 2 CPU cores
    python benchmarks/costs.py --system ddpm --json   # one system in this process, as a JSON line

Chapter 6's cost rows come from this script (``benchmarks/compare.py --costs-only`` runs it
and stores the numbers with the machine beside them). Each system is measured in a fresh
process, so that its peak memory is its own:

- ``solver``: ``frames`` × 10 Euler steps (numba) for the per-frame time; a developed
  pattern costs 10,000 steps (1000 frames), the time every dataset of the book uses;
- ``convlstm``: a rollout of ``frames`` frames; a developed pattern: 1000 frames from four
  frames of a start;
- ``ddpm``: one 100-step DDIM sample per pattern (the class maze: w = 1, one network call a
  step); a "frame" is one sampling step.

Times are for a batch of ``batch`` patterns, after a warm-up. Memory: the peak resident set
(Linux ``VmHWM``, reset before) while ``memory_batch`` patterns are made at once, less the
resident set before, divided by ``memory_batch`` — the working memory a pattern needs
(states, activations), not the interpreter and libraries; and ``process_mib``, the process's
resident set at the end.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from turing_helpers.checkpoints import machine_description
from turing_helpers.initial_conditions import random_fourier
from turing_helpers.presets import WELL_DX, preset
from turing_helpers.solver import simulate

SYSTEMS = ("solver", "convlstm", "ddpm")
SIZE = 48          # the DDPM's periodic box, grid points per side
DDIM_STEPS = 100   # chapter 5's sampling protocol
CONTEXT = 4        # frames the ConvLSTM reads before its first prediction


def pattern_maker(system: str, n: int):
    """make(batch, frames): ``batch`` patterns of ``system`` advanced ``frames`` frames on an n² box,
    with the sequential steps and frames a developed pattern costs."""
    if system == "solver":
        def make(batch, frames):
            starts = [random_fourier(n, max_mode=max(1, round(8 * n / 128)), seed=s) for s in range(batch)]
            u0, v0 = np.stack([s[0] for s in starts]), np.stack([s[1] for s in starts])
            simulate(preset("maze"), u0, v0, steps=10 * frames, dt=1.0, dx=WELL_DX, backend="numba")
        return make, 10_000, 1000
    from turing_helpers.models import load_pretrained

    if system == "convlstm":
        model = load_pretrained("convlstm")

        def make(batch, frames):
            context = torch.rand(batch, CONTEXT, 2, n, n) * torch.tensor([1.0, 0.4]).view(1, 1, 2, 1, 1)
            with torch.no_grad():
                model.rollout(context, frames)
        return make, 1000, 1000
    if system == "ddpm":
        model = load_pretrained("ddpm")

        def make(batch, frames):
            model.sample(batch, "maze", size=n, steps=frames, seed=0, guidance=1.0, eta=0.0)
        return make, DDIM_STEPS, DDIM_STEPS
    raise ValueError(f"system must be one of {SYSTEMS}, got {system!r}")


def measure_cost(system: str, n: int = SIZE, batch: int = 8, frames: int = 100, memory_batch: int = 64) -> dict:
    """Seconds per frame and per developed pattern (per field), sequential steps per pattern,
    ``mib_per_pattern`` and ``process_mib`` of one system in this process (module docstring)."""
    torch.set_flush_denormal(True)
    make, steps, per_pattern_frames = pattern_maker(system, n)
    make(1, 2)  # warm-up: compilation, first allocations
    before = memory_mib("VmRSS")
    reset_peak_memory()
    make(memory_batch, 2)
    memory = (memory_mib("VmHWM") - before) / memory_batch
    start = time.perf_counter()
    make(batch, frames)
    per_frame = (time.perf_counter() - start) / frames / batch
    return {"seconds_per_frame": per_frame, "seconds_per_pattern": per_frame * per_pattern_frames,
            "sequential_steps": steps, "frames_per_pattern": per_pattern_frames, "mib_per_pattern": memory,
            "process_mib": memory_mib("VmRSS"), "batch": batch, "memory_batch": memory_batch}


def memory_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), MiB: VmRSS (resident
    now) or VmHWM (peak resident since the last reset); NaN where /proc is unavailable.
    (``resource.getrusage``'s ru_maxrss is no use here: a child process inherits its parent's.)"""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return float("nan")


def reset_peak_memory() -> None:
    """Reset VmHWM to the current resident size (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def costs_side_by_side(threads: int) -> dict:
    """measure_cost of each system, each in a fresh process of this script: {system: costs}."""
    out = {}
    for system in SYSTEMS:
        command = [sys.executable, str(Path(__file__).resolve()), "--system", system, "--threads", str(threads),
                   "--json"]
        completed = subprocess.run(command, capture_output=True, text=True, check=True)
        out[system] = json.loads(completed.stdout.strip().splitlines()[-1])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", choices=SYSTEMS, help="measure one system in this process")
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.system:
        result = {args.system: measure_cost(args.system)}
    else:
        result = costs_side_by_side(args.threads)
    if args.json:
        print(json.dumps(result[args.system] if args.system else result))
        return
    print(f"{SIZE}² box, {args.threads} threads, {machine_description()['processor']}")
    print(f"{'system':>9} | {'ms / frame':>10} | {'s / pattern':>11} | {'steps':>6} | {'MiB / pattern':>13}")
    for system, c in result.items():
        print(f"{system:>9} | {1e3 * c['seconds_per_frame']:10.3f} | {c['seconds_per_pattern']:11.2f} | "
              f"{c['sequential_steps']:6d} | {c['mib_per_pattern']:13.2f}")


if __name__ == "__main__":
    main()
