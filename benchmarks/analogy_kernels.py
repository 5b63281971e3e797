"""Chapter 7's kernels: does a learned one-frame map act as diffusion? Writes
``turing_helpers/results/analogy_kernels.json``.

    python benchmarks/analogy_kernels.py     # about 15 minutes on 2 CPU cores

The proposal reads the ConvLSTM's convolutions as diffusion. The test: the real-space linear
response (``turing_helpers.evaluation.response_kernel``, the position-averaged Jacobian) of
each system's one-frame map at developed states of each class (:class:`KernelProtocol`: the
test starts of chapter 6, seed 80), projected on the identity and the 5-point Laplacian
(``kernel_diffusion``), per channel (u → u, v → v): the Laplacian's coefficient β, and the
kernel's spread (its second moment per unit mass) read as a diffusion coefficient over one
frame, D_spread, which grows with D however many steps a frame has. Maps:

- ``euler``: the solver's frame map (10 explicit Euler steps of dt = 1, the ConvLSTM's data);
- ``etdrk4``: the same equations by another integrator — the solver's own spread: must pass;
- ``doubled``: the Euler map with both diffusivities doubled — other physics: must fail;
- ``identity``: a frozen field — no diffusion at all: must fail;
- ``cell``: chapter 7's GrayScottCell with its fitted parameters (``analogy_fit.json``);
- ``convlstm_last``: the ConvLSTM's next frame with its last context frame perturbed and the
  three before held (the perturbation is also a jump of the increment it reads);
- ``convlstm_steady``: the same with all four context frames perturbed alike (a perturbation
  of the state that persists, as the solver's maps see it).

Rule, fixed before the ConvLSTM was measured: at a state, a map's diffusion is *the solver's*
for a channel when |D − D_euler| ≤ ``tolerance_factor`` × |D_etdrk4 − D_euler| + ``floor`` ×
|D_euler| (D: D_spread); the verdict for a class needs it at every state. ``kernel_locality`` gives the share
of each kernel within one grid point of its centre.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from turing_helpers.checkpoints import machine_description
from turing_helpers.data import WELL_CLASSES, developed_patterns
from turing_helpers.evaluation import kernel_diffusion, kernel_locality, response_kernel
from turing_helpers.gray_scott import GrayScott
from turing_helpers.io import plain, write_json
from turing_helpers.models import load_pretrained
from turing_helpers.presets import WELL_DX, preset
from turing_helpers.results import load, path as result_path
from turing_helpers.solver import simulate

DX = WELL_DX
FRAME_TIME = 10.0   # time units per frame (10 steps of dt = 1)
CONTEXT = 4
MAPS = ("euler", "etdrk4", "doubled", "identity", "cell", "convlstm_last", "convlstm_steady")


@dataclass(frozen=True)
class KernelProtocol:
    size: int = 48
    states_per_class: int = 2
    test_seed: int = 80                 # chapter 6's test starts
    generated_per_class: int = 40
    radius: int = 6                     # the kernels' half-width, grid points (a frame spreads ~2)
    solver_positions: int | None = None  # the solver's maps: every grid point (exact average)
    convlstm_positions: int = 128       # the ConvLSTM: random grid points per state and channel
    seed: int = 0
    tolerance_factor: float = 2.0
    floor: float = 0.05
    diffusion_control: float = 2.0
    classes: tuple = WELL_CLASSES


def _frame_map(model, method="euler"):
    def step(x):
        options = {"backend": "numba"} if method == "euler" else {}
        u, v = simulate(model, x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX, method=method, **options)
        return np.stack([u, v], axis=1)
    return step


def _convlstm_maps(model, context):
    """The ConvLSTM's next frame as a map of its last context frame: (last frame perturbed,
    all four perturbed alike). context: (4, 2, n, n) float64."""
    frames = torch.from_numpy(context)

    def last(x):
        x = torch.as_tensor(x, dtype=torch.float64)
        held = frames[None, :CONTEXT - 1].expand(x.shape[0], -1, -1, -1, -1)
        with torch.no_grad():
            return model.rollout(torch.cat([held, x[:, None]], dim=1), 1)[:, 0].numpy()

    def steady(x):
        x = torch.as_tensor(x, dtype=torch.float64)
        shifted = frames[None] + (x - frames[-1])[:, None]
        with torch.no_grad():
            return model.rollout(shifted, 1)[:, 0].numpy()

    return last, steady


def measure(protocol: KernelProtocol = KernelProtocol(), progress=True) -> dict:
    """Per class and state, each map's kernel summary; per class, the verdicts."""
    convlstm = copy.deepcopy(load_pretrained("convlstm")).double().eval()
    fit = load("analogy_fit")["classes"]
    fields, labels, _ = developed_patterns(protocol.size, protocol.generated_per_class, protocol.test_seed,
                                           classes=protocol.classes)
    out = {"protocol": plain(asdict(protocol)), "classes": {}}
    for name in protocol.classes:
        started = time.perf_counter()
        gs = preset(name)
        starts = fields[labels == WELL_CLASSES.index(name)][:protocol.states_per_class].astype(np.float64)
        doubled = dataclasses.replace(gs, Du=protocol.diffusion_control * gs.Du, Dv=protocol.diffusion_control * gs.Dv)
        states = []
        for b, start in enumerate(starts):
            u, v = simulate(gs, start[None, 0], start[None, 1], steps=10 * (CONTEXT - 1), dt=1.0, dx=DX,
                            backend="numba", save_every=10)
            context = np.stack([u[0], v[0]], axis=1)                  # (4, 2, n, n): x_0 .. x_3
            state = context[-1]
            last, steady = _convlstm_maps(convlstm, context)
            maps = {"euler": _frame_map(gs), "etdrk4": _frame_map(gs, "etdrk4"), "doubled": _frame_map(doubled),
                    "identity": lambda x: np.array(x, copy=True),
                    "cell": _frame_map(GrayScott(**fit[name]["fitted"])),
                    "convlstm_last": last, "convlstm_steady": steady}
            kernels = {}
            for key, f in maps.items():
                positions = protocol.convlstm_positions if key.startswith("convlstm") else protocol.solver_positions
                kernels[key] = response_kernel(f, state, protocol.radius, positions=positions, seed=protocol.seed + b)
            entry = {}
            for key, K in kernels.items():
                entry[key] = {}
                for c, channel in enumerate("uv"):
                    d = kernel_diffusion(K[c, c], DX, dt=FRAME_TIME)
                    entry[key][channel] = {"identity": d["identity"], "laplacian": d["laplacian"],
                                           "diffusion": d["diffusion"], "spread": d["spread_diffusion"],
                                           "explained": d["explained"], "gain": d["mass"],
                                           "locality_1": kernel_locality(K[c, c], 1),
                                           "centre_row": K[c, c, protocol.radius].tolist()}
                entry[key]["coupling"] = float(np.abs(K[0, 1]).sum() + np.abs(K[1, 0]).sum())
            states.append(entry)
            if progress:
                print(f"  {name} state {b}: " + ", ".join(
                    f"{key} D_v {entry[key]['v']['spread'] / gs.Dv:.2f} Dv" for key in MAPS), flush=True)
        out["classes"][name] = {"states": states, "verdicts": _verdicts(states, protocol),
                                "true": {"Du": gs.Du, "Dv": gs.Dv}, "seconds": time.perf_counter() - started}
    return out


def _verdicts(states, protocol: KernelProtocol) -> dict:
    """Per map and channel: "the solver's diffusion" if the rule holds at every state."""
    out = {}
    for key in MAPS:
        out[key] = {}
        for channel in "uv":
            passed = []
            for entry in states:
                euler = entry["euler"][channel]["spread"]
                spread = abs(entry["etdrk4"][channel]["spread"] - euler)
                tolerance = protocol.tolerance_factor * spread + protocol.floor * abs(euler)
                # a kernel without mass has no spread to read (NaN): it fails
                passed.append(bool(abs(entry[key][channel]["spread"] - euler) <= tolerance))
            out[key][channel] = "the solver's diffusion" if all(passed) else "not the solver's diffusion"
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--out", default=str(result_path("analogy_kernels")), help="result file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    began = time.perf_counter()
    result = measure()
    result |= {"command": "python benchmarks/analogy_kernels.py", "machine": machine_description(),
               "threads": args.threads, "seconds": time.perf_counter() - began}
    write_json(args.out, result)
    for name, entry in result["classes"].items():
        print(f"{name:>8}: " + "; ".join(f"{key} u {v['u'][:3]} v {v['v'][:3]}" for key, v in entry["verdicts"].items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
