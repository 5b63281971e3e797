"""Chapter 7's gate ablations and squashing: what the ConvLSTM's gates do, by function. Writes
``turing_helpers/results/analogy_gates.json``.

    python benchmarks/analogy_gates.py       # about 12 minutes on 2 CPU cores

Protocol (:class:`GateProtocol`): chapter 6's test starts (seed 80, 48², the first 8 per class) and two
independent solver sets as references (seeds 81, 82). Per class the shipped ConvLSTM is rolled
out 1000 frames as trained and with one gate clamped (``evaluation.ablation.clamped_gates``):

- ``f_mean``: the forget gate held at its per-channel mean (over the unclamped rollouts of the
  class: positions, frames and starts) — its variation removed, its level kept;
- ``f_one``: the forget gate at 1 — nothing forgotten;
- ``i_mean``: the input gate held at its per-channel mean.

Each variant is a forecaster of ``evaluation.stability.stability_under_time``: skill over the
first 100 frames beside persistence, and chapter 6's climate test over frames 500–1000 with
its controls (Bonferroni over classes × variants). Squashing: on the unclamped rollouts,
``evaluation.ablation.gate_saturation`` — the share of sigmoid gates within 0.05 of 0 or 1 and
of cell states in tanh's linear range.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import torch

import compare
from turing_helpers.checkpoints import machine_description
from turing_helpers.data import WELL_CLASSES
from turing_helpers.evaluation.ablation import clamped_gates, gate_saturation
from turing_helpers.evaluation.climate import climate_statistics
from turing_helpers.evaluation.stability import stability_under_time
from turing_helpers.io import plain, write_json
from turing_helpers.models import load_pretrained
from turing_helpers.results import path as result_path


VARIANTS = ("trained", "f_mean", "f_one", "i_mean")


@dataclass(frozen=True)
class GateProtocol:
    size: int = 48
    starts_per_class: int = 8           # rollouts per class and variant (4 variants x 6 classes)
    generated_per_class: int = 40
    test_seed: int = 80
    reference_seeds: tuple = (81, 82)
    frames: int = 1000
    climate_from: int = 500
    horizon: int = 100
    snapshot_every: int = 10
    saturation_frames: int = 200        # frames of the unclamped rollouts whose gates are recorded
    saturation_starts: int = 4
    alpha: float = 0.05
    classes: tuple = WELL_CLASSES


def measure(protocol: GateProtocol = GateProtocol(), progress=True) -> dict:
    torch.set_flush_denormal(True)
    model = load_pretrained("convlstm").eval()
    forecast = compare.convlstm_forecaster(model)
    draw = (protocol.starts_per_class, protocol.generated_per_class, protocol.classes)
    starts, _ = compare.developed_starts(protocol.size, protocol.test_seed, *draw)
    references = [compare.developed_starts(protocol.size, seed, *draw)[0] for seed in protocol.reference_seeds]
    window = slice(protocol.climate_from, protocol.frames + 1)
    out = {"protocol": plain(asdict(protocol)), "classes": {}}
    for name in protocol.classes:
        started = time.perf_counter()
        reference_stats = [climate_statistics(compare.solver_frames(name, r[name], protocol.frames, keep=window),
                                              compare.DX, protocol.snapshot_every) for r in references]
        truth = compare.solver_frames(name, starts[name], compare.CONTEXT - 1 + protocol.frames)
        # the trained cell's gates over its own rollouts: their per-channel means and saturation
        with torch.no_grad():
            _, gates = model.rollout(torch.from_numpy(truth[:protocol.saturation_starts, :compare.CONTEXT]),
                                     protocol.saturation_frames, return_gates=True)
        means = {g: gates[g].mean(dim=(0, 1, 3, 4)) for g in ("i", "f")}   # (C,)
        clamps = {"trained": {}, "f_mean": {"f": means["f"]}, "f_one": {"f": 1.0}, "i_mean": {"i": means["i"]}}
        entry = {"gate_means": {g: m.tolist() for g, m in means.items()}, "saturation": gate_saturation(gates),
                 "variants": {}}
        for variant in VARIANTS:
            def clamped(context, frames, clamp=clamps[variant]):
                with clamped_gates(model, **clamp):
                    return forecast(context, frames)

            result = stability_under_time(clamped, truth, reference_stats, compare.DX, context=compare.CONTEXT,
                                          horizon=protocol.horizon, climate_from=protocol.climate_from,
                                          snapshot_every=protocol.snapshot_every, alpha=protocol.alpha,
                                          tests=len(protocol.classes) * len(VARIANTS))
            del result["end"]
            entry["variants"][variant] = plain(result)
            if progress:
                skill = result["skill"]["model"]["vrmse"]["median"]
                print(f"  {name} {variant}: VRMSE {skill[0]:.3g} / {skill[-1]:.3g}; {result['climate']['verdict']}",
                      flush=True)
        entry["seconds"] = time.perf_counter() - started
        out["classes"][name] = plain(entry)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads")
    parser.add_argument("--out", default=str(result_path("analogy_gates")), help="result file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    began = time.perf_counter()
    result = measure()
    result |= {"command": "python benchmarks/analogy_gates.py", "machine": machine_description(),
               "threads": args.threads, "seconds": time.perf_counter() - began}
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
