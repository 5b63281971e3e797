"""Model checkpoints: atomic, versioned, and safe to load.

A checkpoint is one ``.pt`` file holding only tensors and plain data (dicts, lists,
strings, numbers), loaded with ``torch.load(..., weights_only=True)``, so a downloaded
file can never run code. Beside it a ``.json`` file repeats everything but the weights
(config, seed, data protocol, training time, machine, metrics) for people to read.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from .io import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "machine_description", "CheckpointError",
           "SHIPPED_DIR", "FORMAT"]

# The checkpoint format, separate from the package version: bump its number when the
# payload's layout changes, or when a model's architecture or the meaning of its weights and
# config changes so that an old file would load into a different model. A package release
# that changes neither keeps it, and old checkpoints keep loading.
FORMAT = "turing_helpers.checkpoint/1"
SHIPPED_DIR = Path(__file__).parent / "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint of another kind or format, or a damaged file."""


def machine_description() -> dict:
    """Where a model was trained: CPU, core count, accelerator, library versions."""
    import torch

    description = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                   "cpu_count": os.cpu_count(), "python": platform.python_version(),
                   "torch": str(torch.__version__),  # str(): torch's version class is refused by weights_only
                   "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        description["gpu"] = torch.cuda.get_device_name(0)
    return description


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes (hex): what a checkpoint's record names its parent by."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def training_stages(record: dict) -> list[dict]:
    """A checkpoint record and the records of the checkpoints it was fine-tuned from
    (``initialised_from``), first stage first."""
    stages = []
    while record is not None:
        stages.append(record)
        record = record.get("initialised_from")
    return stages[::-1]


def save_checkpoint(path, *, kind: str, state: dict) -> Path:
    """Write ``state`` (must contain ``model`` state_dict; may hold optimizer, config,
    metrics, ...) with the format, kind and package version; also ``path`` with .json."""
    import torch

    from . import __version__

    payload = {"format": FORMAT, "kind": kind, "version": __version__, **state}
    atomic_write(path, lambda temporary: torch.save(payload, temporary))
    readable = {key: value for key, value in payload.items() if key not in ("model", "ema", "optimizer")}
    atomic_write(Path(path).with_suffix(".json"),
                 lambda temporary: Path(temporary).write_text(json.dumps(readable, indent=2, default=str)))
    return Path(path)


def load_checkpoint(path, kind: str, map_location="cpu") -> dict:
    """Load a checkpoint with ``weights_only=True`` and check its :data:`FORMAT` and kind.

    The package version that wrote it is kept (``payload["version"]``) but not checked.
    """
    import torch

    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # unpickling refused or truncated file
        raise CheckpointError(f"{path} is not a loadable turing_helpers checkpoint: {error}") from error
    if not isinstance(payload, dict) or not str(payload.get("format", "")).startswith("turing_helpers.checkpoint/"):
        raise CheckpointError(f"{path} is not a turing_helpers checkpoint (format {FORMAT} expected)")
    if payload["format"] != FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {payload['format']!r}, this turing_helpers reads "
                              f"{FORMAT!r}; retrain with `python -m turing_helpers.train {kind}`")
    if payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {payload.get('kind')!r} model, not {kind!r}")
    return payload
