import os

import numpy as np
import pytest

_WORKERS = os.environ.get("PYTEST_XDIST_WORKER_COUNT")


def _share_of_cores() -> int:
    return max(1, (os.cpu_count() or 1) // int(_WORKERS))


def pytest_configure(config):
    if _WORKERS:  # parallel workers (`make test` runs two): each takes its share of the cores for torch
        import torch

        torch.set_num_threads(_share_of_cores())


@pytest.fixture(autouse=True)
def _keep_the_workers_share_of_threads():
    """A training entry point sets torch's threads (``--threads``); in a parallel worker the
    next test must not inherit them, or two workers' threads fight over the cores."""
    yield
    if _WORKERS:
        import torch

        torch.set_num_threads(_share_of_cores())


@pytest.fixture
def rng():
    """A seeded generator, so every random test is reproducible."""
    return np.random.default_rng(0)
