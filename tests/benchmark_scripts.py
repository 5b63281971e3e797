"""The scripts of benchmarks/ as modules, imported by name as they import one another when run."""
import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def script(name: str):
    """benchmarks/<name>.py as the module ``name`` (benchmarks/ put on sys.path once)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)
