"""Tests of the shared evaluation layer (turing_helpers.evaluation) on known answers."""

import numpy as np
import pytest

import turing_helpers as th
from turing_helpers import metrics
from turing_helpers.data import WELL_CLASSES, developed_patterns
from turing_helpers.evaluation import (SET_STATISTICS, STATISTICS, compare_patterns, compression_complexity,
                                       forecast_skill, linear_response, pattern_statistics, set_wavelength,
                                       spectral_gain)

DX = 2 / 128


def etdrk4_frame(model, n):
    """The exact solver's one-frame map: 10 ETDRK4 steps of dt = 1 on (B, 2, n, n)."""
    def step(x):
        u, v = th.simulate(model, x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX, method="etdrk4")
        return np.stack([u, v], axis=1)
    return step


@pytest.mark.parametrize("name", WELL_CLASSES)
def test_linear_response_of_the_exact_map_is_exp_10_lambda(name):
    model, n = th.preset(name), 32
    modes = np.arange(0, n // 2 + 1)
    eig = linear_response(etdrk4_frame(model, n), (1.0, 0.0), n, DX, modes)
    exact = np.exp(10 * model.dispersion(2 * np.pi * modes / (n * DX), (1.0, 0.0)))
    np.testing.assert_allclose(eig, exact, rtol=1e-6)


def test_linear_response_of_a_known_linear_map_and_its_matrix():
    """A shift-invariant linear map with a known symbol: diffusion-like damping and u → v coupling."""
    n = 16
    def step(x):
        lap = np.roll(x, 1, -1) + np.roll(x, -1, -1) + np.roll(x, 1, -2) + np.roll(x, -1, -2) - 4 * x
        out = x + 0.1 * lap
        out[:, 1] += 0.5 * (x[:, 0] - 1.0)
        return out
    modes = np.array([0, 1, 4, 8])
    eig, G = linear_response(step, (1.0, 0.0), n, 1.0, modes, return_matrix=True)
    symbol = 1 + 0.1 * (2 * np.cos(2 * np.pi * modes / n) - 2)
    np.testing.assert_allclose(G[:, 0, 0], symbol, atol=1e-9)
    np.testing.assert_allclose(G[:, 1, 0], 0.5, atol=1e-9)
    np.testing.assert_allclose(G[:, 0, 1], 0.0, atol=1e-9)
    np.testing.assert_allclose(np.sort(eig.real, axis=1), np.sort(np.stack([symbol, symbol], 1), axis=1), atol=1e-9)


@pytest.mark.parametrize("kwargs, match", [({"modes": [9]}, "modes"), ({"modes": [1.5]}, "modes"),
                                           ({"amplitude": 0}, "amplitude"), ({"state": (1.0,)}, "state"),
                                           ({"dx": -1.0}, "dx")])
def test_linear_response_rejects_bad_input(kwargs, match):
    args = {"step": lambda x: x, "state": (1.0, 0.0), "n": 16, "dx": 1.0, "modes": [1]} | kwargs
    with pytest.raises(ValueError, match=match):
        linear_response(**args)


def test_linear_response_names_a_step_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        linear_response(lambda x: x[:, :1], (1.0, 0.0), 16, 1.0, [1])


@pytest.fixture(scope="module")
def solver_sets():
    """Two independent sets of developed 48² solver patterns per class (base seeds 41, 43)."""
    a = developed_patterns(48, 16, seed=41, classes=("maze", "spots"))
    b = developed_patterns(48, 16, seed=43, classes=("maze", "spots"))
    return a, b


def test_compression_complexity_orders_uniform_maze_noise(solver_sets):
    (fields, labels, _), _ = solver_sets
    maze = fields[labels == WELL_CLASSES.index("maze")][:, 1]
    uniform = np.full((48, 48), 0.25)
    noise = np.random.default_rng(0).random((48, 48))
    scores = [float(compression_complexity(uniform)), float(np.mean(compression_complexity(maze))),
              float(compression_complexity(noise))]
    assert scores[0] < 0.01 and scores[2] > 0.99
    assert scores[0] < scores[1] < scores[2]
    with pytest.raises(ValueError, match="value_range"):
        compression_complexity(noise, value_range=(1.0, 0.0))


def test_contrast_normalised_compression_ignores_contrast_and_the_raw_one_does_not(solver_sets):
    (fields, labels, _), _ = solver_sets
    maze = fields[labels == WELL_CLASSES.index("maze")][:, 1].astype(np.float64)
    faint = maze.mean() + 0.5 * (maze - maze.mean())
    own = {"value_range": "field", "levels": 16}
    assert np.allclose(compression_complexity(faint, **own), compression_complexity(maze, **own), atol=0.01)
    assert np.all(compression_complexity(faint) < compression_complexity(maze) - 0.05)
    # random values of the same 16 levels cannot be compressed; a constant field scores 0
    noise = np.random.default_rng(0).integers(0, 16, (48, 48)) / 15
    assert compression_complexity(noise, **own) > 0.98
    assert compression_complexity(np.full((48, 48), 0.3), **own) == 0
    with pytest.raises(ValueError, match="levels"):
        compression_complexity(maze, levels=300)
    with pytest.raises(ValueError, match="value_range"):
        compression_complexity(maze, value_range="own")


def test_compare_patterns_of_a_set_with_itself_is_zero_with_zero_width(solver_sets):
    (fields, labels, _), _ = solver_sets
    v = fields[labels == WELL_CLASSES.index("spots")][:, 1]
    result = compare_patterns(v, v, DX, resamples=200)
    assert set(result) == {"uniform_fraction", *SET_STATISTICS}
    # the set statistic has its own name: the per-field peak is pattern_statistics'
    assert "set_wavelength" in result and "dominant_wavelength" not in result
    for name, entry in result.items():
        assert entry["error"] == 0.0, name
        assert entry["interval"] == (0.0, 0.0), name


@pytest.mark.parametrize("name", ["maze", "spots"])
def test_the_solver_across_seeds_sits_inside_its_own_intervals(solver_sets, name):
    (fa, la, _), (fb, lb, _) = solver_sets
    c = WELL_CLASSES.index(name)
    result = compare_patterns(fa[la == c][:, 1], fb[lb == c][:, 1], DX, resamples=500)
    for statistic, entry in result.items():
        low, high = entry["interval"]
        assert low <= 0.0 <= high, f"{name} {statistic}: {entry}"


def test_compare_patterns_sees_a_different_class(solver_sets):
    (fields, labels, _), _ = solver_sets
    maze = fields[labels == WELL_CLASSES.index("maze")][:, 1]
    spots = fields[labels == WELL_CLASSES.index("spots")][:, 1]
    result = compare_patterns(spots, maze, DX, resamples=200)
    assert result["component_density"]["interval"][0] > 1.0  # spots: many more components


def test_pattern_statistics_set_uniform_fields_apart():
    n = 32
    x = np.arange(n)
    stripes = 0.2 + 0.1 * np.cos(2 * np.pi * 4 * x / n)[None, :] * np.ones((n, 1))
    flat = np.full((n, n), 0.1) + 1e-4 * np.random.default_rng(0).standard_normal((n, n))
    stats = pattern_statistics(np.stack([stripes, flat]), DX)
    assert list(stats["uniform"]) == [False, True]
    assert stats["dominant_wavelength"][0] == pytest.approx(n * DX / 4)
    assert stats["component_density"][0] == pytest.approx(4 / (n * DX) ** 2)  # 4 wrapping stripes
    assert stats["euler_density"][0] == 0
    for name in ("dominant_wavelength", "spectral_entropy", "component_density", "euler_density"):
        assert np.isnan(stats[name][1]), name
    assert stats["v_std"][1] < 1e-3 and stats["compression_complexity"][1] < 0.05
    assert set_wavelength(np.stack([stripes, stripes]), DX) == pytest.approx(n * DX / 4)
    assert np.isnan(set_wavelength(np.stack([flat]), DX))


def test_forecast_skill_perfect_persistence_and_collapse():
    rng = np.random.default_rng(0)
    W, H, n = 4, 6, 16
    true = 0.3 + 0.2 * rng.random((W, H, 2, n, n))
    perfect = forecast_skill(true, true, labels=[0, 0, 1, 1], classes=("a", "b"))
    assert perfect["windows"] == 4 and perfect["uniform_target"]["windows"] == 0
    np.testing.assert_allclose(perfect["vrmse"]["mean"], 0.0)
    assert perfect["correlation_time"]["0.8"]["median"] == H
    assert perfect["per_class"]["a"]["windows"] == 2
    collapsed = np.broadcast_to(true.mean(axis=(-2, -1), keepdims=True), true.shape)  # constant fields
    skill = forecast_skill(collapsed, true)
    np.testing.assert_allclose(skill["correlation"]["mean"], 0.0)       # counted as decorrelated, not dropped
    assert skill["correlation_time"]["0.9"]["mean"] == 0
    np.testing.assert_allclose(skill["vrmse"]["pooled"], 1.0, rtol=1e-3)  # predicting the mean scores 1


def test_forecast_skill_sets_uniform_targets_apart():
    rng = np.random.default_rng(1)
    true = 0.3 + 0.2 * rng.random((3, 4, 2, 8, 8))
    true[2, 3] = 0.5  # window 2 dies: its last target frame is uniform
    skill = forecast_skill(true + 0.01, true)
    assert skill["windows"] == 2 and skill["uniform_target"]["windows"] == 1
    assert np.isfinite(skill["vrmse"]["mean"]).all()


def test_spectral_gain_of_a_scaling_is_its_square():
    v = np.random.default_rng(2).random((3, 16, 16))
    q, gain = spectral_gain(v, 3.0 * v, 1.0)
    assert np.isnan(gain[0]) and np.isfinite(gain[1:]).sum() >= 8  # shells past the corners may be empty
    np.testing.assert_allclose(gain[1:][np.isfinite(gain[1:])], 9.0)


def test_rhs_is_the_one_right_hand_side():
    """GrayScott.rhs drives the Euler step and the PDE residual; zero at homogeneous states."""
    model = th.preset("maze")
    rng = np.random.default_rng(3)
    u, v = rng.random((16, 16)), 0.3 * rng.random((16, 16))
    du, dv = model.rhs(u, v, DX)
    u1, v1 = th.simulate(model, u, v, steps=1, dt=1.0, dx=DX)
    np.testing.assert_allclose(u1, u + du, atol=1e-14)
    np.testing.assert_allclose(v1, v + dv, atol=1e-14)
    assert metrics.pde_residual(model, u, v, DX) == pytest.approx(np.sqrt(np.mean(du**2 + dv**2)))
    for state in th.preset("bubbles").steady_states():
        du, dv = th.preset("bubbles").rhs(np.full((8, 8), state[0]), np.full((8, 8), state[1]), DX)
        assert np.abs(du).max() < 1e-15 and np.abs(dv).max() < 1e-15


def test_compare_patterns_independent_and_paired_resampling(solver_sets):
    (fields, labels, _), _ = solver_sets
    v = fields[labels == WELL_CLASSES.index("maze")][:, 1]
    independent = compare_patterns(v, v.copy() + 0.0, DX, resamples=200, paired=False)
    low, high = independent["component_density"]["interval"]
    assert independent["component_density"]["error"] == 0 and low < 0 < high  # independent draws: a real width
    with pytest.raises(ValueError, match="paired"):
        compare_patterns(v, v[:-1], DX, paired=True)
