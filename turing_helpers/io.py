"""Files the package writes: atomic, self-describing, checked on load.

Every file carries its parameters and the package version. It is written to a
temporary file in the same folder and moved into place with ``os.replace`` (atomic on
POSIX and Windows), so an interrupted run leaves either the old file or none — never a
half-written one that a later run would trust.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "save_arrays", "load_arrays", "write_json", "plain", "FileMismatch"]


class FileMismatch(ValueError):
    """A file's stored parameters or version differ from what the caller expects."""


def atomic_write(path, write) -> Path:
    """Call ``write(temporary_path)``, then rename the result onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would make shared files private
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def save_arrays(path, arrays: dict[str, np.ndarray], parameters: dict) -> Path:
    """Save named arrays and their ``parameters`` (JSON-serialisable) to an ``.npz`` file."""
    from . import __version__

    metadata = {"parameters": parameters, "version": __version__}
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    payload["__metadata__"] = np.array(json.dumps(metadata, sort_keys=True))

    def write(temporary):
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **payload)
    return atomic_write(path, write)


def load_arrays(path, expected_parameters: dict | None = None, check_version: bool = True):
    """Load a file written by :func:`save_arrays` → (arrays dict, parameters dict).

    Raises FileMismatch if ``expected_parameters`` (a subset) disagree with the stored
    ones, or if the file was written by another package version.
    """
    from . import __version__

    with np.load(path, allow_pickle=False) as data:
        if "__metadata__" not in data.files:
            raise FileMismatch(f"{path} has no stored parameters; it was not written by turing_helpers")
        metadata = json.loads(str(data["__metadata__"]))
        arrays = {name: data[name] for name in data.files if name != "__metadata__"}
    if check_version and metadata["version"] != __version__:
        raise FileMismatch(f"{path} was written by turing_helpers {metadata['version']}, "
                           f"this is {__version__}; regenerate it")
    stored = metadata["parameters"]
    if expected_parameters:
        expected = json.loads(json.dumps(expected_parameters))  # same normalisation as stored
        wrong = {key: (stored.get(key), value) for key, value in expected.items() if stored.get(key) != value}
        if wrong:
            details = ", ".join(f"{key}: stored {s!r}, expected {e!r}" for key, (s, e) in wrong.items())
            raise FileMismatch(f"{path} was made with other parameters ({details}); regenerate it")
    return arrays, stored


def plain(value):
    """``value`` as JSON data: numpy arrays and scalars become lists and numbers, tuples
    lists, dict keys strings; NaN stays NaN (Python's json writes it as NaN)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path, data) -> Path:
    """Write ``data`` (converted by :func:`plain`) as indented JSON, atomically."""
    text = json.dumps(plain(data), indent=1)
    return atomic_write(path, lambda temporary: Path(temporary).write_text(text))
