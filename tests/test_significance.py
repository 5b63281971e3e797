"""Two-sample tests and multiple-comparison corrections (evaluation.significance)."""
import numpy as np
import pytest

from turing_helpers.evaluation.significance import benjamini_hochberg, difference_test, holm


def test_holm_matches_its_definition_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    expected = {3: 0.02, 0: 0.03, 2: 0.06, 1: 0.06}
    adjusted = holm(p)
    for i, value in expected.items():
        assert adjusted[i] == pytest.approx(value)


def test_benjamini_hochberg_matches_its_definition_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4/1, 4/2, 4/3, 4/4 -> 0.02, 0.02, 0.04, 0.04
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_corrections_are_never_below_the_raw_p_and_bh_never_above_holm():
    p = np.random.default_rng(0).uniform(size=50) ** 3
    assert np.all(holm(p) >= p - 1e-15) and np.all(benjamini_hochberg(p) >= p - 1e-15)
    assert np.all(benjamini_hochberg(p) <= holm(p) + 1e-15)
    assert np.all(holm(p) <= 1)


def test_holm_keeps_the_family_wise_error_rate_under_the_null():
    rng = np.random.default_rng(1)
    false_alarms = [np.any(holm(rng.uniform(size=20)) <= 0.05) for _ in range(2000)]
    assert np.mean(false_alarms) <= 0.06


def test_difference_test_can_pass_and_fail():
    rng = np.random.default_rng(2)
    reference = rng.normal(5, 1, 40)
    same = difference_test(rng.normal(5, 1, 40), reference, resamples=1000)
    candidate = rng.normal(6, 1, 40)
    shifted = difference_test(candidate, reference, resamples=1000)
    assert same["p"] > 0.05 and same["interval"][0] < 0 < same["interval"][1]
    assert shifted["p"] < 0.01 and shifted["interval"][0] > 0
    assert shifted["difference"] == pytest.approx(candidate.mean() - reference.mean())
    assert shifted["relative"] == pytest.approx(shifted["difference"] / reference.mean())
    assert shifted["n"] == [40, 40]


def test_difference_test_p_is_never_zero():
    result = difference_test(np.full(10, 5.0) + np.arange(10) * 1e-3, np.arange(10) * 1e-3, resamples=100)
    assert result["p"] == pytest.approx(1 / 101)


@pytest.mark.parametrize("bad", [[], [0.1, np.nan], [1.5], [[0.1, 0.2]]])
def test_corrections_reject_bad_p_values(bad):
    with pytest.raises(ValueError, match="p must"):
        holm(bad)


def test_difference_test_names_a_too_small_sample():
    with pytest.raises(ValueError, match="candidate needs at least 2"):
        difference_test([1.0], [1.0, 2.0])
