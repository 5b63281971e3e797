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

__all__ = ["atomic_write", "save_arrays", "load_arrays", "write_json", "plain", "FileMismatch",
           "DATA_FORMAT"]


class FileMismatch(ValueError):
    """A file is damaged, of another format, or made with other parameters than expected."""


# The layout of the files save_arrays writes. Bump it when that layout, or the meaning of
# what it stores, changes so that an old file would be misread; a package release alone
# does not change it. Files from before the number was stored (turing_helpers 0.1.0) are
# format 1.
DATA_FORMAT = 1


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

    metadata = {"parameters": parameters, "version": __version__, "format": DATA_FORMAT}
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    payload["__metadata__"] = np.array(json.dumps(metadata, sort_keys=True))

    def write(temporary):
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **payload)
    return atomic_write(path, write)


def load_arrays(path, expected_parameters: dict | None = None):
    """Load a file written by :func:`save_arrays` → (arrays dict, parameters dict).

    Raises FileNotFoundError if there is no file, OSError if it cannot be read (a
    permission, a directory), and FileMismatch if it is damaged or
    truncated, of another :data:`DATA_FORMAT`, or if ``expected_parameters`` (a subset)
    disagree with the stored ones. The package version that wrote it is not checked.
    """
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            if "__metadata__" not in data.files:
                raise FileMismatch(f"{path} has no stored parameters; it was not written by turing_helpers")
            metadata = json.loads(str(data["__metadata__"]))
            arrays = {name: data[name] for name in data.files if name != "__metadata__"}
    except (FileNotFoundError, FileMismatch):
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError) as error:
        raise FileMismatch(f"{path} is damaged or truncated ({type(error).__name__}: {error}); "
                           f"delete it and regenerate it") from error
    if metadata.get("format", 1) != DATA_FORMAT:
        raise FileMismatch(f"{path} has data format {metadata.get('format')}, this turing_helpers reads "
                           f"format {DATA_FORMAT}; regenerate it")
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
