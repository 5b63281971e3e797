"""Choose the DDPM's sampler per class, then measure it: ``python -m turing_helpers.tune_sampling``.

For a trained checkpoint (default: the shipped one), try each (guidance w, DDIM η) of
:data:`~turing_helpers.evaluation.ddpm.SAMPLING_CANDIDATES` on validation patterns (base
seed 5; :func:`~turing_helpers.evaluation.ddpm.tune_sampling`), store the winners as the
model's per-class sampling defaults, measure the quality table on fresh patterns (base seed
9) and write both into the checkpoint (atomically). The weights are not touched. About 48
minutes on two CPU cores with the defaults (5 candidates × 64 samples × 100 DDIM steps per
class), plus 7 for the quality table.

    python -m turing_helpers.tune_sampling                            # the shipped checkpoint
    python -m turing_helpers.tune_sampling --checkpoint run/ddpm.pt --samples 16 --eval-samples 0
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .checkpoints import SHIPPED_DIR, load_checkpoint, save_checkpoint


def main(argv=None):
    import torch

    from .evaluation import ddpm as evaluation
    from .models.ddpm import CHECKPOINT_KIND, from_checkpoint

    parser = argparse.ArgumentParser(prog="python -m turing_helpers.tune_sampling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED_DIR / "ddpm.pt", help="the DDPM checkpoint")
    parser.add_argument("--samples", type=int, default=64, help="samples per class and candidate")
    parser.add_argument("--reference", type=int, default=128, help="validation patterns per class")
    parser.add_argument("--eval-samples", type=int, default=64,
                        help="samples per class for the quality table afterwards (0: skip)")
    parser.add_argument("--eval-reference", type=int, default=64,
                        help="fresh solver patterns per class in each half of the quality table")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", type=str, default="cpu", help="torch device for sampling (default cpu)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    from .training.options import at_least, torch_device

    try:
        torch_device("--device", args.device)
        for option in ("samples", "reference", "threads"):
            at_least("--" + option, getattr(args, option), 1 if option != "reference" else 2)
        at_least("--eval-samples", args.eval_samples, 0)
        at_least("--eval-reference", args.eval_reference, 2)
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(args.threads)
    payload = load_checkpoint(args.checkpoint, CHECKPOINT_KIND)
    model = from_checkpoint(payload).to(args.device)
    start = time.time()
    sampling, scores = evaluation.tune_sampling(model, samples_per_class=args.samples,
                                                reference_per_class=args.reference,
                                                candidates=evaluation.SAMPLING_CANDIDATES,
                                                progress=not args.quiet)
    payload["sampling"] = sampling
    payload["sampling_tuning"] = {"scores": scores, "columns": ["guidance", "eta", "score", "wavelength_error",
                                                                 "components_error", "euler_error", "alive"],
                                  "reference_seed": evaluation.TUNING_SEED, "steps": evaluation.SAMPLING_STEPS,
                                  "samples_per_class": args.samples, "seconds": time.time() - start}
    print("sampling defaults per class:", sampling)
    model.set_sampling(sampling)
    if args.eval_samples > 0:
        start = time.time()
        table = evaluation.quality_table(model, samples_per_class=args.eval_samples,
                                         reference_per_class=args.eval_reference, progress=not args.quiet)
        payload["metrics"] = {"quality": table, "evaluation_seconds": time.time() - start}
        print(evaluation.format_table(table))
    else:
        payload["metrics"] = {}  # the old table measured other sampling defaults
    kind = payload.pop("kind")
    for key in ("format", "version"):
        payload.pop(key)
    save_checkpoint(args.checkpoint, kind=kind, state=payload)
    print(f"wrote the sampling defaults into {args.checkpoint}")
    return args.checkpoint


if __name__ == "__main__":
    main()
