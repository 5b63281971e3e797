"""Speed of the Gray-Scott solver: our backends against each other and against py-pde.

Usage (from the repository root)::

    python benchmarks/solver.py                 # full run, a few minutes on 2 cores
    python benchmarks/solver.py --quick         # short runs (CI smoke test)
    python benchmarks/solver.py --json turing_helpers/results/solver.json
    python benchmarks/solver.py --threads 1     # per-core numbers (robust on a busy machine)

What it measures, all on Pearson's problem (256² float64, periodic domain of side 2.5,
dx = 2.5/256, dt = 1, D_u = 2e-5, D_v = 1e-5, F = 0.030, k = 0.062, central square):

1. *Per step, after compilation/warm-up*, for each backend of ``turing_helpers.simulate``
   (numpy, numba, torch CPU; explicit Euler, 5-point; ETDRK4 numpy/torch for reference),
   for the numba kernel alone with each of its parallel strategies, and for py-pde's
   explicit Euler solver (``pde.PDE`` with the Gray-Scott expressions on a periodic
   ``CartesianGrid``, fixed dt = 1, no tracker). A warm-up call compiles; then a run of
   about a second is timed, best of a few repeats.
   One cell-update = one grid cell, both species, one time step.
2. *End to end*: a fresh ``python -c`` process per solver, with ``NUMBA_CACHE_DIR``
   pointing at an empty temporary folder (so nothing is compiled in advance), that
   imports, compiles and runs the same number of steps. Wall time of the process.
3. *Pearson's full experiment*: 200 000 steps with the numba backend (``--quick``: 20 000,
   extrapolated).
4. *A roofline estimate* for the numba kernel: FLOPs and bytes per cell-update counted
   from ``turing_helpers/numba_kernels.py``, the machine's peak FLOP rate (from
   ``lscpu``) and memory bandwidth (a large numpy copy), and the fraction achieved.

The machine may be shared: the load average is printed and stored, and every timing is
the best of several repeats. Multithreaded code that synchronises often (torch's and
py-pde's operators, the per-step variant of our kernel) slows down by large factors when
other processes compete for the cores; ``--threads 1`` measures every solver on one
core, which a busy machine disturbs far less. py-pde is optional (``benchmarks/requirements.txt``); without
it its rows are skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from turing_helpers.gray_scott import GrayScott  # noqa: E402
from turing_helpers.initial_conditions import pearson_square  # noqa: E402
from turing_helpers.solver import simulate  # noqa: E402

N = 256
L = 2.5
DX = L / N
DT = 1.0
F, K, DU, DV = 0.030, 0.062, 2e-5, 1e-5
CELLS = N * N

# FLOPs per cell-update of turing_helpers/numba_kernels.py, counted from the source
# (adds, subtractions and multiplications; dt·uvv is computed once and reused):
#   5-point: lap_u 3 add + 1 mul + 1 sub = 5, lap_v 5, uvv = u·v·v 2,
#            u' = u + cu·lap − dt·uvv + dtF·(1 − u): 3 mul + 4 add/sub = 7,
#            v' = v + cv·lap + dt·uvv − dtFk·v: 2 mul + 3 add/sub = 5 (dt·uvv reused)  → 24
#   9-point: each Laplacian 4·(4 neighbours) 3 add + 1 mul, + 4 corners 4 add,
#            − 20·c 1 mul + 1 sub = 10, twice = 20; + 2 + 7 + 5                        → 34
FLOPS_PER_CELL = {"5-point": 24, "9-point": 34}
# Compulsory memory traffic per cell-update: read u, v (2 × 8 B), write u', v' (2 × 8 B).
# (The stencil's other loads hit rows already in L1; write-allocate would add 16 B if
# the buffers did not stay in cache.)
BYTES_PER_CELL = 32


# ---------------------------------------------------------------------------- timing
def _best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def per_step_rate(run, target_s, repeats):
    """Cell-updates per second of ``run(steps)`` after compilation and warm-up.

    run(n) advances n steps. One call warms up (compiles, plans FFTs, starts thread
    pools), a second sizes the timed run to about ``target_s``; the timed run is
    repeated and the best time kept (on a shared machine the best is the least
    disturbed). Fixed per-call costs are included but small at these run lengths.
    (A long-minus-short difference would cancel them exactly, but on a loaded
    machine the difference of two noisy times was itself mostly noise.)
    """
    run(2)  # warm-up: compilation, FFT plans, thread pools
    probe_steps = 5
    probe = _best_time(lambda: run(probe_steps), 1)
    n = int(min(max(target_s * probe_steps / max(probe, 1e-9), 10), 200_000))
    best = _best_time(lambda: run(n), repeats)
    return {"cell_updates_per_s": CELLS * n / best, "ms_per_step": 1e3 * best / n,
            "steps": n, "best_s": best, "repeats": repeats}


def initial_state():
    return pearson_square(N, seed=0)


def simulate_runner(method, backend, stencil="5-point"):
    model = GrayScott(F, K, DU, DV)
    u0, v0 = initial_state()

    def run(steps):
        simulate(model, u0, v0, steps=steps, dt=DT, dx=DX, method=method, backend=backend,
                 stencil=stencil)
    return run


def kernel_runner(strategy="auto", nine_point=False):
    """The raw kernel, bypassing simulate's chunking and finiteness checks.

    strategy: "auto" (what euler_steps does), "members" (B = 1: one thread), "bands"
    (row bands, threads meet every 16 steps), "per-step" (prange over rows every step).
    """
    from turing_helpers.numba_kernels import euler_steps

    u0, v0 = initial_state()
    u, v = u0[None].copy(), v0[None].copy()
    p = [np.array([x]) for x in (F, K, DU, DV)]

    def run(steps):
        euler_steps(u, v, *p, DT, DX, steps, nine_point, strategy=strategy)
    return run


def pypde_problem():
    import pde

    grid = pde.CartesianGrid([[0, L], [0, L]], [N, N], periodic=True)
    eq = pde.PDE(
        {"u": "Du * laplace(u) - u * v**2 + F * (1 - u)",
         "v": "Dv * laplace(v) + u * v**2 - (F + k) * v"},
        consts={"Du": DU, "Dv": DV, "F": F, "k": K},
    )
    u0, v0 = initial_state()
    state = pde.FieldCollection([pde.ScalarField(grid, u0.copy(), label="u"),
                                 pde.ScalarField(grid, v0.copy(), label="v")])
    return pde, eq, state


def pypde_runner():
    """py-pde's explicit Euler (EulerSolver, fixed dt, numba backend), stepper built once.

    ``solver="explicit"`` is a deprecated alias of ``"euler"`` in recent py-pde (it
    warns and returns an EulerSolver), so the Euler solver is used directly; and
    ``eq.solve`` would rebuild (and recompile) the stepper on every call, so the stepper
    is made once. Returns (run, agreement): run(n) advances a working state by n steps;
    agreement(steps) is the max |difference| from our numba backend after ``steps``
    steps from the same initial state (a check that both solve the same problem).
    """
    pde, eq, state = pypde_problem()
    euler = getattr(pde.solvers, "EulerSolver", None) or pde.solvers.ExplicitSolver
    solver = euler(eq, backend="numba", adaptive=False)
    stepper = solver.make_stepper(state, dt=DT)

    def run(steps):
        stepper(state, 0.0, steps * DT)

    def agreement(steps=100):
        fresh = pypde_problem()[2]
        stepper(fresh, 0.0, steps * DT)
        u0, v0 = initial_state()
        u, v = simulate(GrayScott(F, K, DU, DV), u0, v0, steps=steps, dt=DT, dx=DX,
                        backend="numba")
        return float(max(np.abs(fresh[0].data - u).max(), np.abs(fresh[1].data - v).max()))
    return run, agreement


# ----------------------------------------------------------------- end to end (cold)
E2E_CODE = {
    "numba": """
import json, time
t0 = time.perf_counter()
from turing_helpers import GrayScott, simulate, pearson_square
t1 = time.perf_counter()
u, v = pearson_square({n}, seed=0)
u, v = simulate(GrayScott({F}, {K}, {DU}, {DV}), u, v, steps={steps}, dt={dt}, dx={dx},
                backend="numba")
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "run_s": t2 - t1, "v_mean": float(v.mean())}}))
""",
    "py-pde": """
import json, time
t0 = time.perf_counter()
import pde
if {single_thread}:
    pde.config["backend.numba.multithreading"] = "never"
from turing_helpers import pearson_square
t1 = time.perf_counter()
u, v = pearson_square({n}, seed=0)
grid = pde.CartesianGrid([[0, {L}], [0, {L}]], [{n}, {n}], periodic=True)
eq = pde.PDE({{"u": "Du * laplace(u) - u * v**2 + F * (1 - u)",
              "v": "Dv * laplace(v) + u * v**2 - (F + k) * v"}},
             consts={{"Du": {DU}, "Dv": {DV}, "F": {F}, "k": {K}}})
state = pde.FieldCollection([pde.ScalarField(grid, u, label="u"),
                             pde.ScalarField(grid, v, label="v")])
out = eq.solve(state, t_range={steps} * {dt}, dt={dt}, solver="euler", tracker=None,
               backend="numba")
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "run_s": t2 - t1, "v_mean": float(out[1].data.mean())}}))
""",
}


def end_to_end(name, steps, threads=None):
    """Wall time of a fresh interpreter that imports, compiles (cold cache) and runs."""
    code = E2E_CODE[name].format(n=N, L=L, F=F, K=K, DU=DU, DV=DV, steps=steps, dt=DT, dx=DX,
                                 single_thread=threads == 1)
    cache = tempfile.mkdtemp(prefix="numba-cold-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if threads:
        env.update(NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} end-to-end run failed:\n{proc.stderr[-2000:]}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"steps": steps, "wall_s": wall, **inner}


# ------------------------------------------------------------------------- roofline
def cpu_info():
    """Cores, clock and SIMD features from lscpu (falls back to /proc/cpuinfo)."""
    text = ""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        pass
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    flags = fields.get("Flags", "").split()
    ghz = None
    for key in ("CPU max MHz", "CPU MHz"):
        if key in fields:
            ghz = float(fields[key]) / 1000
            break
    if ghz is None:
        try:
            mhz = re.findall(r"cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text())
            ghz = float(mhz[0]) / 1000 if mhz else None
        except OSError:
            pass
    try:
        cores = int(fields["Core(s) per socket"]) * int(fields.get("Socket(s)", 1))
    except (KeyError, ValueError):
        cores = os.cpu_count() or 1
    if "avx512f" in flags:
        simd, isa = 8, "AVX-512"
    elif "avx2" in flags or "avx" in flags:
        simd, isa = 4, "AVX2" if "avx2" in flags else "AVX"
    else:
        simd, isa = 2, "SSE2"
    fma = 2 if "fma" in flags else 1
    fma_units = 2  # assumed: two FMA pipes per core (Zen 4/5, Skylake-SP and later)
    peak = cores * (ghz or 0.0) * 1e9 * simd * fma * fma_units
    return {"model": fields.get("Model name", platform.processor()), "cores": cores, "ghz": ghz,
            "isa": isa, "simd_doubles": simd, "fma": fma == 2, "fma_units_assumed": fma_units,
            "peak_gflops": peak / 1e9,
            "l2": fields.get("L2 cache"), "l3": fields.get("L3 cache")}


def memory_bandwidth(megabytes=256, repeats=5):
    """Bytes per second of a single-threaded numpy copy (read + write counted)."""
    src = np.ones(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = _best_time(lambda: np.copyto(dst, src), repeats)
    return 2 * src.nbytes / best


# ----------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI smoke test)")
    parser.add_argument("--json", metavar="PATH", help="write the results to this JSON file")
    parser.add_argument("--no-pypde", action="store_true", help="skip the py-pde comparison")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="threads for numba, torch and py-pde (default: all cores); "
                             "--threads 1 gives per-core numbers that a busy machine "
                             "disturbs least")
    args = parser.parse_args(argv)

    target_s, repeats = (0.15, 2) if args.quick else (1.0, 3)
    e2e_steps = 1_000 if args.quick else 10_000
    pearson_steps = 20_000 if args.quick else 200_000
    t_start = time.perf_counter()
    import numba
    import torch

    if args.threads:
        numba.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)

    results = {
        "problem": {"n": N, "L": L, "dx": DX, "dt": DT, "F": F, "k": K, "Du": DU, "Dv": DV,
                    "dtype": "float64", "cells": CELLS},
        "quick": args.quick,
        "threads_option": args.threads,
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "numba": numba.__version__, "torch": torch.__version__,
                        "numba_threads": numba.get_num_threads(),
                        "numba_threading_layer": None,
                        "torch_threads": torch.get_num_threads(),
                        "load_average_start": list(os.getloadavg())},
        "per_step": [],
    }
    try:
        import pde
        have_pypde = not args.no_pypde
        results["environment"]["py-pde"] = pde.__version__
        if args.threads == 1:
            pde.config["backend.numba.multithreading"] = "never"
    except ImportError:
        have_pypde = False
    print(f"Gray-Scott {N}x{N} float64, dt={DT}, dx={L}/{N}; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
          + (" (quick)" if args.quick else ""), flush=True)

    cases = [
        ("numpy", "euler", "5-point", simulate_runner("euler", "numpy")),
        ("numba", "euler", "5-point", simulate_runner("euler", "numba")),
        ("numba", "euler", "9-point", simulate_runner("euler", "numba", "9-point")),
        ("kernel auto", "euler", "5-point", kernel_runner("auto")),
        ("kernel 1 thread", "euler", "5-point", kernel_runner("members")),
        ("kernel bands", "euler", "5-point", kernel_runner("bands")),
        ("kernel per-step", "euler", "5-point", kernel_runner("per-step")),
        ("torch", "euler", "5-point", simulate_runner("euler", "torch")),
        ("numpy", "etdrk4", "spectral", simulate_runner("etdrk4", "numpy")),
        ("torch", "etdrk4", "spectral", simulate_runner("etdrk4", "torch")),
    ]
    if have_pypde:
        cases.append(("py-pde", "euler", "5-point", None))
    for backend, method, stencil, run in cases:
        t0 = time.perf_counter()
        if run is None:  # py-pde: build (and compile) its stepper only now
            run, agreement = pypde_runner()
            results["pypde_max_abs_difference_100_steps"] = agreement(100)
        row = {"backend": backend, "method": method, "stencil": stencil,
               **per_step_rate(run, target_s, repeats), "wall_s": None}
        row["wall_s"] = time.perf_counter() - t0
        results["per_step"].append(row)
        print(f"  measured {backend:19s} {method:6s} {stencil:8s} "
              f"{row['cell_updates_per_s'] / 1e6:9.1f} M cell-updates/s "
              f"({row['wall_s']:.1f} s)", flush=True)
    results["environment"]["numba_threading_layer"] = numba.threading_layer()

    by_key = {(r["backend"], r["method"], r["stencil"]): r for r in results["per_step"]}
    numba_rate = by_key[("numba", "euler", "5-point")]["cell_updates_per_s"]
    numpy_rate = by_key[("numpy", "euler", "5-point")]["cell_updates_per_s"]

    # end to end, cold caches, fresh processes
    e2e = {"numba": end_to_end("numba", e2e_steps, args.threads)}
    print(f"  end to end numba:  {e2e['numba']['wall_s']:.1f} s", flush=True)
    if have_pypde:
        e2e["py-pde"] = end_to_end("py-pde", e2e_steps, args.threads)
        print(f"  end to end py-pde: {e2e['py-pde']['wall_s']:.1f} s", flush=True)
    results["end_to_end"] = e2e

    # Pearson's experiment with the numba backend
    u0, v0 = initial_state()
    t0 = time.perf_counter()
    u, v = simulate(GrayScott(F, K, DU, DV), u0, v0, steps=pearson_steps, dt=DT, dx=DX,
                    backend="numba")
    t_pearson = time.perf_counter() - t0
    results["pearson"] = {
        "steps_run": pearson_steps, "seconds": t_pearson,
        "seconds_200k": t_pearson * 200_000 / pearson_steps,
        "extrapolated": pearson_steps != 200_000,
        "fraction_v_above_0.2": float((v > 0.2).mean()),
    }

    # roofline
    cpu = cpu_info()
    bandwidth = memory_bandwidth(64 if args.quick else 256)
    flops = FLOPS_PER_CELL["5-point"]
    achieved = numba_rate * flops
    used_cores = min(cpu["cores"], numba.get_num_threads())
    peak_used = cpu["peak_gflops"] * used_cores / cpu["cores"]
    raw_rate = max(by_key[(name, "euler", "5-point")]["cell_updates_per_s"]
                   for name in ("kernel auto", "kernel 1 thread", "kernel bands", "kernel per-step"))
    results["roofline"] = {
        **cpu,
        "flops_per_cell_update": FLOPS_PER_CELL,
        "bytes_per_cell_update": BYTES_PER_CELL,
        "arithmetic_intensity": flops / BYTES_PER_CELL,
        "memory_bandwidth_gbs": bandwidth / 1e9,
        "state_bytes": 2 * CELLS * 8,
        "achieved_gflops": achieved / 1e9,
        "achieved_gflops_best_kernel_variant": raw_rate * flops / 1e9,
        "cores_used": used_cores,
        "peak_gflops_cores_used": peak_used,
        "fraction_of_peak": achieved / (peak_used * 1e9) if peak_used else None,
        "bandwidth_bound_cell_rate": bandwidth / BYTES_PER_CELL,
    }
    pypde_rate = by_key.get(("py-pde", "euler", "5-point"), {}).get("cell_updates_per_s")
    results["summary"] = {
        "numba_cell_updates_per_s": numba_rate,
        "numpy_cell_updates_per_s": numpy_rate,
        "pypde_cell_updates_per_s": pypde_rate,
        "numba_over_pypde_per_step": numba_rate / pypde_rate if pypde_rate else None,
        "numba_over_pypde_end_to_end": (e2e["py-pde"]["wall_s"] / e2e["numba"]["wall_s"]
                                        if "py-pde" in e2e else None),
        "pearson_200k_seconds": results["pearson"]["seconds_200k"],
        # simulate's own choice of kernel against the fastest variant measured beside it
        "numba_over_best_kernel_variant": numba_rate / raw_rate,
    }
    results["environment"]["load_average_end"] = list(os.getloadavg())
    results["total_seconds"] = time.perf_counter() - t_start

    report(results, numba_rate, numpy_rate)
    if args.json:
        write_json_atomic(args.json, results)
        print(f"\nwrote {args.json}")
    return results


def report(r, numba_rate, numpy_rate):
    print("\nPer step, after compilation/warm-up (256² float64; 1 cell-update = 1 cell, both "
          "species, 1 step)")
    print(f"{'backend':20s} {'method':7s} {'stencil':9s} {'ms/step':>9s} "
          f"{'M cell-upd/s':>13s} {'× numpy':>8s}")
    for row in r["per_step"]:
        rate = row["cell_updates_per_s"]
        print(f"{row['backend']:20s} {row['method']:7s} {row['stencil']:9s} "
              f"{row['ms_per_step']:9.3f} {rate / 1e6:13.1f} {rate / numpy_rate:8.1f}")
    print("  (numba = simulate(backend='numba'); kernel * = euler_steps alone: auto = its "
          "default choice,\n   1 thread, bands = row bands meeting every 16 steps, per-step = "
          "prange over rows every step)")
    print(f"  simulate(backend='numba') runs at {r['summary']['numba_over_best_kernel_variant']:.0%} of the "
          "fastest kernel variant")
    by_backend = {row["backend"]: row for row in r["per_step"] if row["method"] == "euler"}
    e2e = r["end_to_end"]
    print(f"\nEnd to end, fresh process, empty numba cache, {e2e['numba']['steps']} steps "
          "(import + compile + run):")
    for name, row in e2e.items():
        print(f"  {name:7s} {row['wall_s']:7.1f} s   (imports {row['import_s']:.1f} s, "
              f"compile + run {row['run_s']:.1f} s)")
    if "py-pde" in by_backend:
        pp = by_backend["py-pde"]["cell_updates_per_s"]
        print(f"\nnumba / py-pde speed: per step {numba_rate / pp:.1f}×, "
              f"end to end {e2e['py-pde']['wall_s'] / e2e['numba']['wall_s']:.1f}×")
        print(f"py-pde vs numba backend after 100 steps: max |Δ| = "
              f"{r['pypde_max_abs_difference_100_steps']:.2e} (same discretisation)")
    p = r["pearson"]
    print(f"\nPearson's experiment (256², 200 000 steps, numba): {p['seconds_200k']:.1f} s"
          + (f" (extrapolated from {p['steps_run']} steps)" if p["extrapolated"] else "")
          + f"; {100 * p['fraction_v_above_0.2']:.1f}% of cells have v > 0.2")
    rf = r["roofline"]
    print("\nRoofline estimate for the numba kernel (5-point):")
    print(f"  CPU: {rf['model']}, {rf['cores']} cores × {rf['ghz']:.2f} GHz × "
          f"{rf['simd_doubles']} doubles ({rf['isa']}) × 2 (FMA) × {rf['fma_units_assumed']} "
          f"FMA units (assumed) = {rf['peak_gflops']:.0f} GFLOP/s peak")
    print(f"  kernel: {rf['flops_per_cell_update']['5-point']} FLOPs and "
          f"{rf['bytes_per_cell_update']} B (compulsory) per cell-update, "
          f"intensity {rf['arithmetic_intensity']:.2f} FLOP/B")
    print(f"  memory bandwidth (numpy copy, 1 thread): {rf['memory_bandwidth_gbs']:.1f} GB/s → "
          f"bandwidth bound {rf['bandwidth_bound_cell_rate'] / 1e6:.0f} M cell-updates/s if "
          f"the state lived in DRAM; it does not: 2 × {rf['state_bytes'] / 2**20:.0f} MiB "
          f"(state + scratch) fits in L2 ({rf['l2']}) / L3 ({rf['l3']})")
    frac = rf["fraction_of_peak"]
    peak = rf["peak_gflops_cores_used"]
    print(f"  achieved (simulate, {rf['cores_used']} core(s), peak {peak:.0f} GFLOP/s): "
          f"{rf['achieved_gflops']:.1f} GFLOP/s" + (f" = {100 * frac:.0f}% of peak" if frac else "")
          + f"; best kernel variant {rf['achieved_gflops_best_kernel_variant']:.1f} GFLOP/s"
          + (f" = {100 * rf['achieved_gflops_best_kernel_variant'] / peak:.0f}%" if peak else ""))
    print(f"  memory-bound limit at the measured DRAM bandwidth: "
          f"{rf['bandwidth_bound_cell_rate'] / 1e6:.0f} M cell-updates/s; achieved "
          f"{r['summary']['numba_cell_updates_per_s'] / rf['bandwidth_bound_cell_rate']:.2f}× that "
          f"(above 1 means the data are served from cache)")
    env = r["environment"]
    if env["load_average_start"][0] > (os.cpu_count() or 1):
        print("\nWARNING: the machine was busy (load average above the number of CPUs); "
              "multithreaded rows suffer most. Compare with --threads 1.")
    print(f"\nload average start {env['load_average_start'][0]:.2f}, end "
          f"{env['load_average_end'][0]:.2f}; numba {env['numba']} "
          f"({env['numba_threads']} threads, {env['numba_threading_layer']}), torch "
          f"{env['torch']} ({env['torch_threads']} threads)"
          + (f", py-pde {env['py-pde']}" if "py-pde" in env else "")
          + f"; total {r['total_seconds']:.0f} s")


def write_json_atomic(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


if __name__ == "__main__":
    main()
