"""The model and its linear theory: steady states, Jacobian, dispersion, boundaries."""
import math

import numpy as np
import pytest

from turing_helpers import GrayScott, linear_stability_map
from turing_helpers.presets import PEARSON_CLASSES, WELL_PARAMETERS, preset


@pytest.mark.parametrize("F, k", [(0.098, 0.057), (0.03, 0.055), (0.06, 0.0623), (0.03, 0.062)])
def test_steady_states_are_zeros_of_the_reaction(F, k):
    model = GrayScott(F, k)
    states = model.steady_states()
    assert states[0] == (1.0, 0.0)
    for u, v in states:
        fu, fv = model.reaction(u, v)
        assert abs(fu) < 1e-14 and abs(fv) < 1e-14


def test_number_of_states_follows_the_saddle_node_line():
    F = 0.04
    k_sn = float(GrayScott.saddle_node_k(F))
    assert len(GrayScott(F, k_sn - 1e-4).steady_states()) == 3
    assert len(GrayScott(F, k_sn + 1e-4).steady_states()) == 1
    low, high = GrayScott.saddle_node_F(k_sn)
    assert math.isclose(high, F, rel_tol=1e-9) or math.isclose(low, F, rel_tol=1e-9)


def test_jacobian_matches_finite_differences():
    model = GrayScott(0.037, 0.06)
    u, v = 0.4, 0.3
    h = 1e-7
    numeric = np.empty((2, 2))
    for j, (du, dv) in enumerate([(h, 0), (0, h)]):
        plus, minus = model.reaction(u + du, v + dv), model.reaction(u - du, v - dv)
        numeric[:, j] = (np.array(plus) - np.array(minus)) / (2 * h)
    np.testing.assert_allclose(model.jacobian(u, v), numeric, rtol=1e-6)


def test_dispersion_at_q_zero_is_the_jacobian_spectrum_and_decays_at_large_q():
    model = GrayScott(0.06, 0.0623)
    state = model.steady_states()[-1]
    lam = model.dispersion([0.0, 1e4], state)
    assert lam.shape == (2, 2)
    np.testing.assert_allclose(np.sort_complex(lam[0]), np.sort_complex(np.linalg.eigvals(model.jacobian(*state))))
    assert np.all(lam[1].real < -model.Dv * 1e8 * 0.99)


def test_turing_band_edges_are_zeros_of_the_growth_rate():
    model = GrayScott(0.06, 0.0623)
    state = model.steady_states()[-1]
    q_low, q_high = model.turing_band(state)
    assert 0 < q_low < q_high
    edges = model.dispersion([q_low, q_high], state)[:, 0].real
    np.testing.assert_allclose(edges, 0.0, atol=1e-12)
    inside = model.dispersion([(q_low + q_high) / 2], state)[0, 0].real
    assert inside > 0
    assert model.dispersion([0.0], state)[0, 0].real < 0
    assert q_low < model.fastest_growing_wavenumber(state) < q_high


def test_turing_band_is_none_for_stable_or_uniformly_unstable_states():
    spots = preset("bubbles")
    assert spots.turing_band((1.0, 0.0)) is None  # (1, 0) is always linearly stable
    saddle = spots.steady_states()[1]
    assert spots.turing_band(saddle) is None


def test_hopf_line_is_where_the_trace_vanishes():
    k = np.array([0.03, 0.045, 0.06])
    F_low, _ = GrayScott.hopf_F(k)
    for F, kk in zip(F_low, k):
        model = GrayScott(F, kk)
        u, v = model.steady_states()[-1]
        assert abs(np.trace(model.jacobian(u, v))) < 1e-10
        assert np.linalg.det(model.jacobian(u, v)) > 0


def test_linear_map_has_all_four_regions():
    F, k = np.meshgrid(np.linspace(0.005, 0.2, 80), np.linspace(0.03, 0.07, 80))
    codes = linear_stability_map(F, k)
    assert set(np.unique(codes)) == {0, 1, 2, 3}
    assert linear_stability_map(0.06, 0.0623) == 3
    assert linear_stability_map(0.03, 0.062) == 0


@pytest.mark.parametrize("name, value", [("F", -0.01), ("k", float("nan")), ("Du", -1e-5),
                                         ("Dv", float("inf")), ("F", "abc")])
def test_bad_parameters_are_rejected_by_name(name, value):
    kwargs = dict(F=0.03, k=0.06, Du=2e-5, Dv=1e-5)
    kwargs[name] = value
    with pytest.raises(ValueError, match=name):
        GrayScott(**kwargs)


def test_presets_by_name():
    assert preset("spots") == GrayScott(*WELL_PARAMETERS["spots"])
    assert preset("κ") == preset("kappa") == GrayScott(*PEARSON_CLASSES["kappa"])
    with pytest.raises(ValueError, match="unknown preset"):
        preset("stripes-ish")
