"""The fine (F, k) atlas of chapter 3: a parameter sweep saved for the book to reload.

Usage (from the repository root)::

    python benchmarks/atlas_map.py                 # 25 × 31 cells, 64², 30,000 steps: ~3-6 min on 2 cores
    python benchmarks/atlas_map.py --workers 2     # the same through a local process pool
    python benchmarks/atlas_map.py --n 256 --steps 200000 --out /tmp/pearson_map.npz
                                                   # Pearson's resolution and run length: hours
                                                   # on a CPU, minutes on a GPU (torch backend)

The grid is :func:`turing_helpers.atlas.atlas_config` with F_step = 0.004, k_step = 0.001
over the book's window (F 0.006–0.102, k 0.040–0.070): it contains the (F, k) of every
Pearson class but ι and π as a cell. Each cell is Pearson's setup at his grid spacing
(dx = 2.5/256, dt = 1, his 20-point central square) on a smaller periodic domain
(64² points: side 0.625, about five pattern wavelengths), run for ``--steps``.

Writes ``turing_helpers/results/atlas_map.npz`` with :meth:`turing_helpers.sweep.Sweep.save`
(atomic, with the config, the run time and the package version); the chapter reloads it
with ``Sweep.load(path, expected=atlas_config(0.004, 0.001, steps=30_000))``, which
refuses a file made with other parameters. The machine may be shared: the load average
at the start is stored in the sweep's ``info``.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from turing_helpers.atlas import atlas_config, morphology_table  # noqa: E402
from turing_helpers.sweep import default_backend, parameter_sweep  # noqa: E402
from turing_helpers.results import path as result_path

OUT = result_path("atlas_map.npz")


def _one_thread():
    """Pool initializer: one numba thread per worker process (the workers share the cores)."""
    import numba

    numba.set_num_threads(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--F-step", type=float, default=0.004)
    parser.add_argument("--k-step", type=float, default=0.001)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=0,
                        help="0: this process (numba threads over the batch); N: a pool of N processes")
    parser.add_argument("--backend", default=None, help="numba or torch (default: torch on a GPU, else numba)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    config = atlas_config(args.F_step, args.k_step, n=args.n, steps=args.steps)
    backend = args.backend or default_backend()
    load = os.getloadavg()[0]
    cells = len(config.F) * len(config.k)
    print(f"{len(config.F)} × {len(config.k)} = {cells} cells of {config.n}², {config.steps} steps, "
          f"backend {backend}, load average {load:.1f} on {os.cpu_count()} CPUs")
    if args.workers:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.workers, mp_context=context, initializer=_one_thread) as pool:
            sweep = parameter_sweep(config, executor=pool, backend=backend, progress=True)
    else:
        sweep = parameter_sweep(config, backend=backend, chunks=len(config.F), progress=True)
    sweep.info |= {"load_average_at_start": load, "cpu_count": os.cpu_count(), "workers": args.workers}
    path = sweep.save(args.out)
    labels = morphology_table(sweep.v, config.dx)["label"]
    counts = {name: int((labels == name).sum()) for name in sorted(set(labels.ravel()))}
    print(f"{sweep.seconds:.0f} s, {sweep.info['cell_updates_per_second'] / 1e6:.0f} M cell-updates/s "
          f"-> {path} ({path.stat().st_size / 1e6:.1f} MB); labels {counts}")


if __name__ == "__main__":
    main()
