"""Parameter sweeps over the (F, k) plane, on one machine or many.

A sweep is split into chunks of parameter cells; each chunk is one batched call of
:func:`turing_helpers.simulate` (a batch of parameters, one initial condition). Chunks
go to any executor with a ``map`` method in the ``concurrent.futures`` style:

- nothing (``executor=None``): run in this process;
- ``concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))``:
  local processes (use "spawn": forking a process whose numba threads are running is
  unsafe on Linux and breaks the pool);
- ``distributed.Client(...).get_executor()``: a dask cluster, same call.

Results carry their parameters and are saved atomically (:mod:`turing_helpers.io`),
so an atlas can be reloaded without recomputing and is never silently stale.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .gray_scott import GrayScott
from .initial_conditions import pearson_square
from .io import load_arrays, save_arrays
from .solver import simulate

__all__ = ["SweepConfig", "Sweep", "parameter_sweep", "default_backend"]


@dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's result (saved inside its file)."""

    F: tuple[float, ...]          # feed rates, 1/time, shape (nF,)
    k: tuple[float, ...]          # kill rates, 1/time, shape (nk,)
    n: int = 64                   # grid points per side
    dx: float = 2.5 / 256         # Pearson's spacing: his 256² grid on a domain of side 2.5
    dt: float = 1.0               # Pearson's time step, stable for this dx (limit ≈ 1.12)
    steps: int = 10_000           # Pearson ran 200,000; most classes are recognisable far sooner
    seed: int = 0                 # one initial condition (Pearson's square) for every cell
    square: float = 0.3125        # side of the central square as a fraction of the domain (20 of 64 points)
    Du: float = 2e-5
    Dv: float = 1e-5
    method: str = "euler"

    def models(self) -> list[GrayScott]:
        """One model per cell, F-major order: index i * nk + j is (F[i], k[j])."""
        return [GrayScott(F, k, self.Du, self.Dv) for F in self.F for k in self.k]


@dataclass
class Sweep:
    """The final fields of a sweep: u, v of shape (nF, nk, n, n), float32."""

    config: SweepConfig
    u: np.ndarray
    v: np.ndarray
    seconds: float = 0.0          # wall time of the run that produced it
    info: dict = field(default_factory=dict)

    def save(self, path):
        parameters = asdict(self.config) | {"seconds": self.seconds, "info": self.info}
        return save_arrays(path, {"u": self.u, "v": self.v}, parameters)

    @classmethod
    def load(cls, path, expected: SweepConfig | None = None) -> "Sweep":
        """Load a saved sweep; with ``expected``, refuse one made with other parameters."""
        check = None if expected is None else asdict(expected)
        arrays, parameters = load_arrays(path, check)
        seconds, info = parameters.pop("seconds"), parameters.pop("info")
        config = SweepConfig(**{key: tuple(value) if isinstance(value, list) else value
                                for key, value in parameters.items()})
        return cls(config, arrays["u"], arrays["v"], seconds, info)


def default_backend() -> str:
    """torch on a GPU when one is present, else the numba kernel."""
    try:
        import torch

        if torch.cuda.is_available():
            return "torch"
    except ImportError:
        pass
    return "numba"


def _run_chunk(config: SweepConfig, indices: list[int], backend: str):
    """Simulate the cells ``indices`` (flat, F-major) as one batch; returns float32 (u, v)."""
    models = [config.models()[i] for i in indices]
    u0, v0 = pearson_square(config.n, square=config.square, seed=config.seed)
    u = np.broadcast_to(u0, (len(models), config.n, config.n)).copy()
    v = np.broadcast_to(v0, (len(models), config.n, config.n)).copy()
    if backend == "torch":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        u, v = torch.as_tensor(u, device=device), torch.as_tensor(v, device=device)
    u, v = simulate(models, u, v, steps=config.steps, dt=config.dt, dx=config.dx,
                    method=config.method, backend=backend)
    if backend == "torch":
        u, v = u.cpu().numpy(), v.cpu().numpy()
    return u.astype(np.float32), v.astype(np.float32)


def parameter_sweep(config: SweepConfig, *, executor=None, chunks: int | None = None,
                    backend: str | None = None, progress: bool = False) -> Sweep:
    """Run ``config`` over its (F, k) grid and return the final fields.

    executor: None (this process) or any object with ``map(fn, *iterables)`` —
    a ``concurrent.futures`` pool or a dask ``Client.get_executor()``.
    chunks: number of batches (default: 1 without an executor, 4 per worker with one),
    so slow cells do not leave workers idle.
    """
    cells = len(config.F) * len(config.k)
    if cells == 0:
        raise ValueError("config.F and config.k must each hold at least one value")
    backend = backend or default_backend()
    workers = getattr(executor, "_max_workers", None) or 2
    chunks = chunks or (1 if executor is None else min(cells, 4 * workers))
    groups = [list(map(int, g)) for g in np.array_split(np.arange(cells), chunks) if len(g)]

    start = time.perf_counter()
    mapper = map if executor is None else executor.map
    results = mapper(_run_chunk, [config] * len(groups), groups, [backend] * len(groups))
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(groups), desc="sweep", unit="batch")
    u = np.empty((cells, config.n, config.n), np.float32)
    v = np.empty_like(u)
    for (chunk_u, chunk_v), group in zip(results, groups):  # results first: exhausts the bar
        u[group], v[group] = chunk_u, chunk_v
    seconds = time.perf_counter() - start
    shape = (len(config.F), len(config.k), config.n, config.n)
    info = {"backend": backend, "chunks": len(groups),
            "cell_updates_per_second": cells * config.n**2 * config.steps / seconds}
    return Sweep(config, u.reshape(shape), v.reshape(shape), seconds, info)
