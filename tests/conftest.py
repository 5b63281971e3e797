import os

import numpy as np
import pytest

_WORKERS = os.environ.get("PYTEST_XDIST_WORKER_COUNT")  # set in pytest-xdist workers (`make test` runs two)


@pytest.fixture(autouse=True)
def _workers_share_of_threads():
    """In a parallel worker every test starts with the worker's share of the cores for torch,
    whatever the test before it set (a training entry point sets ``--threads``): otherwise
    two workers' threads fight over the cores."""
    if _WORKERS:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(_WORKERS)))


@pytest.fixture
def rng():
    """A seeded generator, so every random test is reproducible."""
    return np.random.default_rng(0)
