"""Pearson's (1993) classes with Pearson's own setup: the gallery of chapter 3.

Usage (from the repository root)::

    python benchmarks/atlas_gallery.py                       # ~10-20 min on 2 CPU cores
    python benchmarks/atlas_gallery.py --steps 20000         # a quick look (not for the book)
    python benchmarks/atlas_gallery.py --states /tmp/s.npz   # also keep the float64 end states

Setup, as in Pearson (1993) and the design notes: periodic square of side 2.5 on a 256²
grid (dx = 2.5/256), D_u = 2e-5, D_v = 1e-5, explicit Euler with the 5-point Laplacian
and dt = 1, (u, v) = (1, 0) everywhere except a central 20 × 20 square at (1/2, 1/4),
±1 % uniform noise (``turing_helpers.pearson_square``, seed 0, the same start for
every class), 200,000 steps. All 17 classes of ``turing_helpers.PEARSON_CLASSES`` run as
one batch with the numba backend (both cores busy on the rows of the batch).

Writes ``turing_helpers/results/pearson_gallery.npz`` atomically (``turing_helpers.io.save_arrays``),
with its parameters and the package version:

- ``v``: the final autocatalyst field of each class, (17, 256, 256) float16 (display only);
- ``v_early``: v at the ``snapshot_steps`` (default 10,000 and 50,000), block-averaged to
  128², (17, 2, 128, 128) float16 — what a shorter run would have shown;
- the morphology of the final fields, measured at full resolution in float64 with
  :func:`turing_helpers.atlas.morphology_table`: ``wavelength``, ``components``,
  ``euler``, ``holes``, ``contrast``, ``label``, ... (all shape (17,));
- ``persistence``: the Pearson correlation between v 5,000 steps before the end and v at
  the end (``turing_helpers.metrics.pearson_correlation``), (17,): ≈ 1 for a pattern that
  has settled, ≈ 0 for one that keeps changing (NaN for a uniform end state).

With ``--states PATH`` the float64 end states (u, v) are also kept, and a later call with
``--measure-only --states PATH`` re-measures them without simulating again.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from turing_helpers.atlas import morphology_table  # noqa: E402
from turing_helpers.gray_scott import GrayScott  # noqa: E402
from turing_helpers.initial_conditions import pearson_square  # noqa: E402
from turing_helpers.io import save_arrays  # noqa: E402
from turing_helpers.metrics import pearson_correlation  # noqa: E402
from turing_helpers.presets import PEARSON_CLASSES  # noqa: E402
from turing_helpers.solver import simulate  # noqa: E402
from turing_helpers.results import path as result_path

OUT = result_path("pearson_gallery.npz")


def gallery_parameters(steps: int = 200_000, snapshot_steps=(10_000, 50_000), lag: int = 5_000) -> dict:
    """Everything that determines the gallery (stored in the file, checked on load)."""
    names = list(PEARSON_CLASSES)
    return {
        "classes": names,
        "F": [PEARSON_CLASSES[name][0] for name in names],
        "k": [PEARSON_CLASSES[name][1] for name in names],
        "n": 256, "dx": 2.5 / 256, "dt": 1.0, "steps": int(steps),
        "square": 20 / 256, "noise": 0.01, "seed": 0, "Du": 2e-5, "Dv": 1e-5,
        "method": "euler", "stencil": "5-point",
        "snapshot_steps": [int(s) for s in snapshot_steps if s <= steps],
        "persistence_lag": int(lag),
    }


def simulate_gallery(p: dict, progress: bool = True):
    """Run all classes as one batch.

    Returns float64 u, v (B, n, n) at the end, the v snapshots (B, S, n, n) at
    ``snapshot_steps`` and v (B, n, n) ``persistence_lag`` steps before the end.
    """
    models = [GrayScott(F, k, p["Du"], p["Dv"]) for F, k in zip(p["F"], p["k"])]
    u0, v0 = pearson_square(p["n"], square=p["square"], noise=p["noise"], seed=p["seed"])
    u = np.broadcast_to(u0, (len(models),) + u0.shape).copy()
    v = np.broadcast_to(v0, (len(models),) + v0.shape).copy()
    before = p["steps"] - p["persistence_lag"]
    marks = sorted({m for m in p["snapshot_steps"] if m <= p["steps"]} | {max(before, 0), p["steps"]})
    snapshots, done = [], 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=p["steps"], unit="step", desc=f"{len(models)} classes, {p['n']}²")
    segment = 2_000
    for mark in marks:
        while done < mark:
            n = min(segment, mark - done)
            u, v = simulate(models, u, v, steps=n, dt=p["dt"], dx=p["dx"], method=p["method"],
                            backend="numba")
            done += n
            if bar is not None:
                bar.update(n)
        if mark in p["snapshot_steps"]:
            snapshots.append(v.copy())
        if mark == before:
            v_before = v.copy()
    if bar is not None:
        bar.close()
    early = np.stack(snapshots, axis=1) if snapshots else np.empty((len(models), 0) + v.shape[1:])
    return u, v, early, v_before


def block_mean(a: np.ndarray, factor: int) -> np.ndarray:
    """Average factor × factor blocks on the last two axes (downsampling for display)."""
    *lead, ny, nx = a.shape
    return a.reshape(*lead, ny // factor, factor, nx // factor, factor).mean(axis=(-3, -1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--states", type=Path, default=None,
                        help="also save (or, with --measure-only, read) the float64 end states here")
    parser.add_argument("--measure-only", action="store_true")
    args = parser.parse_args(argv)

    p = gallery_parameters(args.steps)
    load_start = os.getloadavg()[0]
    if args.measure_only:
        if args.states is None:
            parser.error("--measure-only needs --states")
        with np.load(args.states) as data:
            u, v, early, v_before = data["u"], data["v"], data["v_early"], data["v_before"]
            seconds = float(data["seconds"])
            load_start = float(data["load_average"])
            if int(data["steps"]) != p["steps"]:
                parser.error(f"{args.states} holds {int(data['steps'])} steps, not {p['steps']}")
    else:
        start = time.perf_counter()
        u, v, early, v_before = simulate_gallery(p)
        seconds = time.perf_counter() - start
        if args.states is not None:
            np.savez(args.states, u=u, v=v, v_early=early, v_before=v_before, seconds=seconds,
                     load_average=load_start, steps=p["steps"])

    table = morphology_table(v, p["dx"])
    arrays = {"v": v.astype(np.float16), "v_early": block_mean(early, 2).astype(np.float16)}
    arrays |= {name: np.asarray(column) for name, column in table.items()}
    arrays["persistence"] = np.asarray(pearson_correlation(v_before, v))
    cells = len(p["classes"]) * p["n"] ** 2 * p["steps"]
    run = {"seconds": seconds, "cell_updates_per_second": cells / seconds,
           "load_average_at_start": load_start, "cpu_count": os.cpu_count(), "backend": "numba"}
    path = save_arrays(args.out, arrays, p | {"run": run})
    print(f"{len(p['classes'])} classes × {p['steps']} steps on {p['n']}² in {seconds:.0f} s "
          f"({cells / seconds / 1e6:.0f} M cell-updates/s, load average {load_start:.1f}) -> {path}")
    print(f"{'class':>8} {'F':>6} {'k':>7} {'λ*':>6} {'N':>4} {'χ':>5} {'holes':>5} {'r':>6}  label")
    for i, name in enumerate(p["classes"]):
        print(f"{name:>8} {p['F'][i]:6.3f} {p['k'][i]:7.4f} {table['wavelength'][i]:6.3f} "
              f"{table['components'][i]:4d} {table['euler'][i]:5d} {table['holes'][i]:5d} "
              f"{arrays['persistence'][i]:6.3f}  "
              f"{table['label'][i]}")


if __name__ == "__main__":
    main()
