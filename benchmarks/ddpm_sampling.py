"""What a DDIM step of the shipped DDPM costs on this CPU, by chunk size and thread count.

    python benchmarks/ddpm_sampling.py [--batch 64] [--size 48] [--repeats 3] [--json out.json]

A sampling step is one pass of the U-Net over the batch (two with classifier-free
guidance). Printed side by side in one run, in milliseconds per field: the pass over a
batch of ``--batch`` fields evaluated whole or in chunks of 4 to 64 fields, on 1 and 2
torch threads, and whole sampling runs (10 DDIM steps) with the package's chunking
(``DDPM.network``, chunks of ``CPU_CHUNK``) against one pass over the whole batch. On the
2-core machine the book is built on, sampling 64 fields of 48² in chunks of 16 is 1.1–1.9×
faster than in one pass, most for guided classes (whose pass is over 128): the activations
of a small chunk stay in the cache. Each field's pass is its own, so chunks change the
outputs only by float32 round-off (the run prints the largest difference).
"""
from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from turing_helpers.checkpoints import machine_description
from turing_helpers.io import atomic_write
from turing_helpers.models import load_pretrained
from turing_helpers.models import ddpm as ddpm_module

ONE_PASS = 10 ** 9  # a chunk larger than any batch: DDPM.network makes one pass


@contextmanager
def cpu_chunk(chunk: int):
    """DDPM.network's chunk size set to ``chunk`` for the block."""
    saved = ddpm_module.CPU_CHUNK
    ddpm_module.CPU_CHUNK = chunk
    try:
        yield
    finally:
        ddpm_module.CPU_CHUNK = saved


def pass_ms_per_field(model, batch: int, size: int, chunk: int, repeats: int) -> float:
    """Milliseconds per field of one ``DDPM.network`` pass over ``batch`` fields in chunks of
    ``chunk``, best of ``repeats``."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, model.config.unet.channels, size, size, generator=g)
    t = torch.full((batch,), 500)
    c = torch.zeros(batch, dtype=torch.long)
    best = float("inf")
    with torch.no_grad(), cpu_chunk(chunk):
        model.network(x, t, c)  # warm-up: first-call allocations and kernel choice
        for _ in range(repeats):
            start = time.perf_counter()
            model.network(x, t, c)
            best = min(best, time.perf_counter() - start)
    return 1e3 * best / batch


def sampling_ms_per_field_step(model, batch: int, name: str, chunk: int, steps: int = 10) -> float:
    """Milliseconds per field and DDIM step of ``model.sample`` with ``CPU_CHUNK = chunk``."""
    with cpu_chunk(chunk):
        start = time.perf_counter()
        model.sample(batch, name, steps=steps, seed=0)
        return 1e3 * (time.perf_counter() - start) / (batch * steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64, help="fields per batch (the quality test's set)")
    parser.add_argument("--size", type=int, default=48, help="grid side of the fields")
    parser.add_argument("--repeats", type=int, default=3, help="timings per entry (the best is kept)")
    parser.add_argument("--json", type=Path, help="also write the numbers here (atomically)")
    args = parser.parse_args(argv)
    model = load_pretrained("ddpm")
    unet_config = model.config.unet

    x = torch.randn(args.batch, unet_config.channels, args.size, args.size, generator=torch.Generator().manual_seed(1))
    t, c = torch.full((args.batch,), 300), torch.arange(args.batch) % (unet_config.num_classes + 1)
    with torch.no_grad():
        with cpu_chunk(ONE_PASS):
            whole = model.network(x, t, c)
        difference = float((model.network(x, t, c) - whole).abs().max())
    print(f"chunks of {ddpm_module.CPU_CHUNK} against one pass over {args.batch}: largest difference "
          f"{difference:.1e} (outputs up to {float(whole.abs().max()):.1f})")

    chunks = [c for c in (4, 8, 16, 32, 64) if c <= args.batch]
    by_threads = {}
    print(f"\nU-Net pass over {args.batch} fields of {args.size}², ms per field, best of {args.repeats}")
    print(f"{'threads':>7} " + " ".join(f"{'chunk ' + str(c):>9}" for c in chunks))
    for threads in (1, 2):
        torch.set_num_threads(threads)
        by_threads[threads] = {c: pass_ms_per_field(model, args.batch, args.size, c, args.repeats) for c in chunks}
        print(f"{threads:7d} " + " ".join(f"{by_threads[threads][c]:9.2f}" for c in chunks))

    torch.set_num_threads(2)
    print(f"\nmodel.sample({args.batch}, ..., steps=10), 2 threads, ms per field and step")
    print(f"{'class':>8} {'guided':>6} {'one pass':>9} {'chunks of ' + str(ddpm_module.CPU_CHUNK):>13} {'speed-up':>9}")
    sampling = {}
    for name in ("spots", "worms"):
        whole = sampling_ms_per_field_step(model, args.batch, name, chunk=ONE_PASS)
        chunked = sampling_ms_per_field_step(model, args.batch, name, chunk=ddpm_module.CPU_CHUNK)
        guided = model.sampling.get(name, {}).get("guidance", 1.0) != 1.0
        sampling[name] = {"guided": guided, "one_pass": whole, "chunked": chunked}
        print(f"{name:>8} {str(guided):>6} {whole:9.2f} {chunked:13.2f} {whole / chunked:9.2f}")

    if args.json:
        text = json.dumps({"command": "python benchmarks/ddpm_sampling.py", "batch": args.batch, "size": args.size,
                           "cpu_chunk": ddpm_module.CPU_CHUNK, "largest_difference": difference,
                           "pass_ms_per_field": by_threads, "sampling_ms_per_field_step": sampling,
                           "machine": machine_description()}, indent=1)
        atomic_write(args.json, lambda temporary: Path(temporary).write_text(text + "\n"))


if __name__ == "__main__":
    main()
