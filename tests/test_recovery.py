"""Pattern identity and the recovery outcomes (evaluation.recovery)."""
import numpy as np
import pytest

import turing_helpers as th
from turing_helpers.evaluation.recovery import (
    OUTCOMES, classify_recovery, pattern_identity, recovery_thresholds, statistics_distance)

DX = 2 / 128


@pytest.fixture(scope="module")
def spots():
    """Two independent sets of developed spots, (4, 2, 32, 32) each."""
    a, _, _ = th.data.developed_patterns(32, 4, seed=11, classes=("spots",))
    b, _, _ = th.data.developed_patterns(32, 4, seed=12, classes=("spots",))
    return a.astype(np.float64), b.astype(np.float64)


def test_identity_is_one_for_any_periodic_shift_and_symmetric():
    field = np.random.default_rng(0).standard_normal((16, 16))
    moved = np.roll(field, (5, -3), axis=(0, 1))
    assert pattern_identity(moved, field) == pytest.approx(1.0)
    other = np.random.default_rng(1).standard_normal((16, 16))
    assert pattern_identity(field, other) == pytest.approx(pattern_identity(other, field))


def test_identity_of_a_constant_field_is_zero_and_batches_work():
    field = np.random.default_rng(0).standard_normal((3, 8, 8))
    assert np.all(pattern_identity(np.ones((3, 8, 8)), field) == 0)
    assert pattern_identity(field, field).shape == (3,)


def test_identity_is_invariant_to_offset_and_contrast():
    field = np.random.default_rng(2).standard_normal((12, 12))
    other = np.random.default_rng(3).standard_normal((12, 12))
    assert pattern_identity(3 + 0.5 * field, other) == pytest.approx(pattern_identity(field, other))


def test_thresholds_tell_the_same_pattern_from_another_of_its_class(spots):
    a, b = spots
    thresholds = recovery_thresholds(a, b, DX)
    assert 0 < thresholds["identity"] < 1 and thresholds["pairs"] == 16
    moved = np.roll(a, 7, axis=-1)
    uniform = np.zeros_like(a)
    uniform[:, 0] = 1.0
    assert classify_recovery(moved, a, thresholds, DX)["fractions"]["the pattern"] == 1.0
    # fields of another seed: patterns of the class, but not these ones
    other = classify_recovery(b, a, thresholds, DX)["fractions"]
    assert other["the pattern"] <= 0.25 and other["a pattern"] + other["the pattern"] >= 0.75
    assert classify_recovery(uniform, a, thresholds, DX)["outcome"] == ["lost"] * 4
    assert set(OUTCOMES) == {"the pattern", "a pattern", "lost"}


def test_statistics_distance_is_zero_for_the_same_fields_and_one_when_lost(spots):
    a, _ = spots
    assert np.allclose(statistics_distance(a, a, DX), 0)
    uniform = np.zeros_like(a)
    uniform[:, 0] = 1.0
    assert np.all(statistics_distance(uniform, a, DX) == 1)


def test_identity_names_mismatched_shapes():
    with pytest.raises(ValueError, match="field and original must have the same shape"):
        pattern_identity(np.zeros((8, 8)), np.zeros((9, 9)))
