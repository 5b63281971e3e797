"""benchmarks/analogy_denoiser.py: its pieces on known inputs, and the shipped results file."""
import numpy as np
import pytest
import torch

from test_analogy_kernels import _script
from turing_helpers import results


def test_radial_profile_of_known_kernels():
    denoiser = _script("analogy_denoiser")
    point = np.zeros((5, 5))
    point[2, 2] = 1.0
    np.testing.assert_allclose(denoiser.radial_profile(point), [1, 0, 0])
    ring = np.ones((5, 5))
    np.testing.assert_allclose(denoiser.radial_profile(ring), [1, 1, 1])
    # the four nearest neighbours share ring 1 with the diagonals (distance √2 rounds to 1)
    cross = np.zeros((5, 5))
    cross[1, 2] = cross[3, 2] = cross[2, 1] = cross[2, 3] = 1.0
    assert denoiser.radial_profile(cross)[1] == pytest.approx(0.5)


def test_verdicts_read_the_significant_rings():
    denoiser = _script("analogy_denoiser")

    def tests(signs):
        return [{"difference": float(s)} for s in signs]

    none = np.zeros(9, bool)
    assert denoiser.verdict(tests([1] * 9), none, 8.0) == "spectrum only"
    centre_up = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0], bool)
    assert denoiser.verdict(tests([1, 1, 0, 0, 0, 0, 0, 0, 0]), centre_up, 8.0) == "local activation"
    surround = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0], bool)
    assert denoiser.verdict(tests([1, 0, 0, -1, 0, 0, 0, 0, 0]), surround, 8.0) == \
        "local activation and lateral inhibition"
    assert denoiser.verdict(tests([-1, -1, 0, 0, 0, 0, 0, 0, 0]), centre_up, 8.0) == "damped at patterns"
    outer = np.array([0, 0, 0, 0, 0, 0, 0, 1, 0], bool)
    assert denoiser.verdict(tests([0] * 7 + [1, 0]), outer, 8.0) == "other"


def test_threshold_control_responds_by_how_much_of_the_field_is_near_its_threshold():
    """The fail control's Jacobian is large where the smoothed field is near the midrange."""
    denoiser = _script("analogy_denoiser")
    predict = denoiser.threshold_denoiser(0.0, 1.0, 16)
    flat_at_threshold = torch.zeros(1, 2, 16, 16, dtype=torch.float64)
    far = torch.full((1, 2, 16, 16), 3.0, dtype=torch.float64)
    jvp = [torch.func.jvp(predict, (x,), (torch.ones_like(x),))[1] for x in (flat_at_threshold, far)]
    assert float(jvp[0].mean()) == pytest.approx(4.0, rel=1e-6)   # s / w = 4 at the threshold
    assert float(jvp[1].mean()) < 1e-3


def test_shipped_denoiser_file_has_its_controls():
    """The pass control (Gaussian against Gaussian) finds nothing, the fail control (a
    thresholding denoiser) differs in all cases but one: the test can pass and fail."""
    shipped = results.load("analogy_denoiser")
    assert shipped["controls"]["pass"]
    assert set(shipped["verdicts"]["pass"].values()) == {"spectrum only"}
    # the thresholding denoiser is called different in all but one case (chapter 7 says so)
    called = [v != "spectrum only" for v in shipped["verdicts"]["fail"].values()]
    assert sum(called) >= len(called) - 1
    protocol = shipped["protocol"]
    assert len(shipped["verdicts"]["measurement"]) == len(protocol["classes"]) * len(protocol["levels"])
