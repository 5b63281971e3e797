"""The climate test and the stability measure: controls that must pass and controls that must fail.

Solver trajectories on a 32² box (developed: 10,000 warm-up steps; 200 frames), three
independent seed sets of a moving class (spirals) and a class at rest (spots). Seeds 901–903
are development seeds (benchmarks/compare.py's ClimateProtocol lists them).
"""
import numpy as np
import pytest

from turing_helpers import metrics
from turing_helpers.data import TrajectoryConfig, trajectories
from turing_helpers.evaluation import climate_test
from turing_helpers.evaluation.climate import CLIMATE_STATISTICS, VERDICTS, climate_statistics
from turing_helpers.evaluation.stability import persistence, rollout_skill, stability_under_time
from turing_helpers.presets import preset
from turing_helpers.solver import simulate

DX = 2 / 128
CLASSES = ("spirals", "spots")


def _sets(seed):
    data = trajectories(TrajectoryConfig(n=32, frames=201, per_class=8, seed=seed, bump_width=0.04,
                                         warmup_steps=10_000, classes=CLASSES))
    alive = ~np.atleast_1d(metrics.is_uniform(data["frames"][:, -1, 1]))
    return {name: data["frames"][(data["labels"] == c) & alive] for c, name in enumerate(CLASSES)}


@pytest.fixture(scope="module")
def solver_sets():
    """{class: [three independent solver sets (B, 201, 2, 32, 32)]}."""
    sets = [_sets(seed) for seed in (901, 902, 903)]
    return {name: [s[name] for s in sets] for name in CLASSES}


@pytest.mark.parametrize("name", CLASSES)
def test_an_independent_solver_set_is_on_the_attractor(solver_sets, name):
    candidate, *references = solver_sets[name]
    result = climate_test(candidate, references, DX, snapshot_every=5)
    assert result["verdict"] == "on the attractor", {k: s for k, s in result["statistics"].items() if not s["passed"]}
    assert set(result["statistics"]) == set(CLIMATE_STATISTICS)
    for s in result["statistics"].values():
        assert s["threshold"] >= 0 and len(s["references"]) == 2


def test_another_class_drifts(solver_sets):
    result = climate_test(solver_sets["spots"][0], solver_sets["spirals"][1:], DX, snapshot_every=5)
    assert result["verdict"] == "drifted"
    assert not result["statistics"]["motion"]["passed"]


def test_a_frozen_copy_of_a_moving_class_drifts_and_of_a_class_at_rest_does_not(solver_sets):
    """No snapshot statistic can tell a frozen glider field from a moving one: the time ones do."""
    for name, expected in (("spirals", "drifted"), ("spots", "on the attractor")):
        candidate, *references = solver_sets[name]
        frozen = np.repeat(candidate[:, :1], candidate.shape[1], axis=1)
        result = climate_test(frozen, references, DX, snapshot_every=5)
        assert result["verdict"] == expected, name


def test_frozen_spirals_fail_on_time_statistics(solver_sets):
    candidate, *references = solver_sets["spirals"]
    frozen = np.repeat(candidate[:, :1], candidate.shape[1], axis=1)
    stats = climate_test(frozen, references, DX, snapshot_every=5)["statistics"]
    assert not stats["motion"]["passed"] and not stats["autocorrelation_time"]["passed"]
    assert stats["motion"]["candidate"] == 0.0


def test_uniform_fields_fade(solver_sets):
    candidate, *references = solver_sets["spots"]
    uniform = np.zeros_like(candidate)
    uniform[:, :, 0] = 1.0  # the state (1, 0) everywhere
    assert climate_test(uniform, references, DX, snapshot_every=5)["verdict"] == "faded"


def test_fields_growing_past_the_physical_range_blow_up(solver_sets):
    candidate, *references = solver_sets["spirals"]
    growing = candidate * np.linspace(1.0, 3.0, candidate.shape[1])[None, :, None, None, None]
    assert climate_test(growing, references, DX, snapshot_every=5)["verdict"] == "blew up"
    diverged = candidate.copy()
    diverged[0, -1, 1, 0, 0] = np.nan
    assert climate_test(diverged, references, DX, snapshot_every=5)["verdict"] == "blew up"


def test_climate_test_is_invariant_to_the_order_of_trajectories(solver_sets):
    candidate, *references = solver_sets["spirals"]
    a = climate_test(candidate, references, DX, snapshot_every=5)
    b = climate_test(candidate[::-1], [r[::-1] for r in references[::-1]], DX, snapshot_every=5)
    for name in CLIMATE_STATISTICS:
        assert a["statistics"][name]["candidate"] == pytest.approx(b["statistics"][name]["candidate"])
        assert a["statistics"][name]["threshold"] == pytest.approx(b["statistics"][name]["threshold"])


def test_thresholds_grow_with_the_family_and_shrink_with_more_trajectories(solver_sets):
    candidate, *references = solver_sets["spirals"]
    one = climate_test(candidate, references, DX, snapshot_every=5)
    twelve = climate_test(candidate, references, DX, snapshot_every=5, tests=12)
    fewer = climate_test(candidate[:2], references, DX, snapshot_every=5)
    assert twelve["z"] > one["z"] > 2.0
    for name in CLIMATE_STATISTICS:
        assert twelve["statistics"][name]["threshold"] >= one["statistics"][name]["threshold"]
        assert fewer["statistics"][name]["threshold"] >= one["statistics"][name]["threshold"]


def test_precomputed_statistics_give_the_same_result(solver_sets):
    candidate, *references = solver_sets["spots"]
    direct = climate_test(candidate, references, DX, snapshot_every=5)
    stats = [climate_statistics(r, DX, snapshot_every=5) for r in references]
    assert climate_test(candidate, stats, DX, snapshot_every=5) == direct


def test_motion_and_autocorrelation_time_of_a_travelling_wave():
    """A sinusoid moving one grid point per frame along a 32-point axis: mean |Δv| is known, and
    its autocorrelation first drops below 1/2 at lag 6 (cos(2π · 6/32) = 0.38 < 0.5 < cos(2π · 5/32))."""
    n, T = 32, 64
    x = np.arange(n)
    frames = np.zeros((1, T, 2, n, n))
    frames[0, :, 0] = 1.0
    for t in range(T):
        frames[0, t, 1] = 0.25 + 0.1 * np.sin(2 * np.pi * (x[None, :] - t) / n)
    s = climate_statistics(frames, DX)
    assert s["autocorrelation_time"][0] == 6.0 and not s["censored"][0]
    expected = np.mean(np.abs(0.1 * (np.sin(2 * np.pi * (x - 1) / n) - np.sin(2 * np.pi * x / n))))
    assert s["motion"][0] == pytest.approx(expected, rel=1e-12)
    at_rest = climate_statistics(np.repeat(frames[:, :1], T, axis=1), DX)
    assert at_rest["motion"][0] == 0.0 and at_rest["censored"][0] and at_rest["autocorrelation_time"][0] == T // 2 + 1


def test_bad_inputs_name_the_parameter(solver_sets):
    candidate, *references = solver_sets["spots"]
    with pytest.raises(ValueError, match="references"):
        climate_test(candidate, references[0], DX)
    with pytest.raises(ValueError, match="references"):
        climate_test(candidate, references[:1], DX)
    with pytest.raises(ValueError, match="candidate"):
        climate_test(candidate[:, :, 1], references, DX)
    with pytest.raises(ValueError, match="alpha"):
        climate_test(candidate, references, DX, alpha=0.0)
    with pytest.raises(ValueError, match="grid"):
        climate_test(candidate[:, :, :, :16, :16], references, DX)
    with pytest.raises(ValueError, match="not a solver set"):
        climate_test(candidate, [references[0], references[1] * 3], DX)
    assert set(VERDICTS) == {"on the attractor", "drifted", "faded", "blew up"}


# ---------------------------------------------------------------------- stability_under_time
def _solver_forecaster(name):
    def forecast(context, frames):
        f = context[:, -1].astype(np.float64)
        u, v = simulate(preset(name), f[:, 0], f[:, 1], steps=10 * frames, dt=1.0, dx=DX, save_every=10,
                        backend="numba")
        return np.stack([u[:, 1:], v[:, 1:]], axis=2).astype(np.float32)
    return forecast


def test_the_solver_as_a_forecaster_is_on_the_attractor_and_persistence_is_not(solver_sets):
    truth, *sets = solver_sets["spirals"]
    references = [s[:, 100:] for s in sets]  # frames 100..200 of the references' own trajectories
    kwargs = dict(context=4, horizon=20, climate_from=97, snapshot_every=5)  # the rollout's frames 97..197
    solver = stability_under_time(_solver_forecaster("spirals"), truth, references, DX, series_every=10, **kwargs)
    assert solver["climate"]["verdict"] == "on the attractor"
    # the course of the rollout is the solver's own, frame for frame
    series = solver["series"]
    assert series["frames"][:2] == [10, 20] and len(series["model"]["v_std"]) == len(series["frames"])
    np.testing.assert_allclose(series["model"]["v_std"], series["solver"]["v_std"], rtol=1e-5)
    assert np.all(series["model"]["uniform_fraction"] == 0)
    assert solver["controls"]["solver"]["verdict"] == "on the attractor"
    assert solver["controls"]["frozen"]["verdict"] == "drifted"
    assert solver["controls"]["uniform"]["verdict"] == "faded"
    # the solver forecasts itself exactly (same steps from the same state): VRMSE 0, never decorrelated
    assert np.max(solver["skill"]["model"]["vrmse"]["median"]) < 1e-5
    assert solver["skill"]["censored"]["model"] == 1.0
    frozen = stability_under_time(persistence, truth, references, DX, other_class=solver_sets["spots"][1][:, 100:],
                                  **kwargs)
    assert frozen["climate"]["verdict"] == "drifted"
    assert frozen["controls"]["other_class"]["verdict"] == "drifted"
    # persistence of moving spirals loses correlation within the horizon in most windows
    assert frozen["skill"]["censored"]["persistence"] < 0.5


def test_rollout_skill_checks_its_inputs(solver_sets):
    truth = solver_sets["spots"][0]
    with pytest.raises(ValueError, match="context \\+ horizon"):
        rollout_skill(persistence, truth[:, :10], context=4, horizon=20)
    out = rollout_skill(persistence, truth, context=4, horizon=20)
    # spots are at rest: persistence is near-perfect, its correlation time censored at the horizon
    assert out["censored"]["persistence"] == 1.0 and out["no_skill_horizon"]["persistence"] is None
