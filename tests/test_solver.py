"""The time stepper: theory, convergence, symmetries, backends, and errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from turing_helpers import (GrayScott, SimulationDiverged, gaussian_bumps, pearson_square, preset,
                            random_fourier, simulate, stability_limit)
from turing_helpers.validation import (convergence_orders, measured_growth_rate,
                                       theoretical_growth_rate)

# Turing-unstable v-rich states (stable to uniform perturbations, a band of growing q).
TURING_SETS = [(0.06, 0.0623), (0.098, 0.0584), (0.051, 0.0614)]


@pytest.mark.parametrize("F, k", TURING_SETS)
@pytest.mark.parametrize("method, stencil", [("euler", "5-point"), ("euler", "9-point"), ("etdrk4", "5-point")])
def test_linear_growth_rate_matches_theory_across_the_band(F, k, method, stencil):
    model = GrayScott(F, k)
    state = model.steady_states()[-1]
    n, dx = 64, 0.01
    q_low, q_high = model.turing_band(state)
    modes = [m for m in range(1, n // 2) if q_low < 2 * np.pi * m / (n * dx) < q_high]
    assert len(modes) >= 2
    for mode in modes:
        expected = theoretical_growth_rate(model, state, mode, n, dx, method, stencil)
        measured = measured_growth_rate(model, state, mode, n=n, dx=dx, method=method, stencil=stencil,
                                        dt=0.25 if method == "euler" else 1.0)
        assert abs(measured - expected) <= 0.02 * abs(expected), (mode, measured, expected)


def test_euler_is_first_order_in_time():
    _, errors, orders = convergence_orders(preset("spots"), vary="dt")
    assert np.all(np.diff(errors) < 0)
    assert 0.9 < orders[-1] < 1.1


@pytest.mark.parametrize("stencil", ["5-point", "9-point"])
def test_euler_is_second_order_in_space(stencil):
    _, errors, orders = convergence_orders(preset("spots"), vary="dx", stencil=stencil)
    assert 1.8 < orders[-1] < 2.3


def test_etdrk4_is_fourth_order_in_time():
    _, errors, orders = convergence_orders(preset("spots"), vary="dt", method="etdrk4",
                                           values=[2.0, 1.0, 0.5, 0.25])
    assert 3.7 < orders[-1] < 4.3


def test_etdrk4_is_spectrally_accurate_in_space():
    _, errors, orders = convergence_orders(preset("spots"), vary="dx", method="etdrk4", values=[8, 16, 32])
    assert errors[-1] < 1e-5 and orders[-1] > orders[0] > 4


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
@pytest.mark.parametrize("method", ["euler", "etdrk4"])
def test_homogeneous_steady_states_stay_put(backend, method):
    model = GrayScott(0.098, 0.057)
    for u_star, v_star in model.steady_states():
        u, v = np.full((16, 16), u_star), np.full((16, 16), v_star)
        u_end, v_end = simulate(model, u, v, steps=200, dt=1.0, dx=0.01, method=method, backend=backend)
        assert np.abs(u_end - u_star).max() < 1e-12 and np.abs(v_end - v_star).max() < 1e-12


def _advance(fields, method, stencil="5-point"):
    u, v = fields
    return np.stack(simulate(preset("maze"), u, v, steps=30, dt=1.0, dx=0.02, method=method,
                             stencil=stencil))


@settings(max_examples=10, deadline=None)
@given(shift_y=st.integers(0, 31), shift_x=st.integers(0, 31), turns=st.integers(1, 3),
       method=st.sampled_from(["euler", "etdrk4"]), stencil=st.sampled_from(["5-point", "9-point"]))
def test_stepping_commutes_with_periodic_shifts_and_rotations(shift_y, shift_x, turns, method, stencil):
    u, v = random_fourier(32, max_mode=5, seed=shift_x + 32 * shift_y)
    reference = _advance((u, v), method, stencil)
    shifted = _advance((np.roll(u, (shift_y, shift_x), (0, 1)), np.roll(v, (shift_y, shift_x), (0, 1))),
                       method, stencil)
    np.testing.assert_allclose(shifted, np.roll(reference, (shift_y, shift_x), (1, 2)), atol=1e-12)
    rotated = _advance((np.rot90(u, turns), np.rot90(v, turns)), method, stencil)
    np.testing.assert_allclose(rotated, np.rot90(reference, turns, axes=(1, 2)), atol=1e-12)


@pytest.mark.parametrize("method, stencil", [("euler", "5-point"), ("euler", "9-point"), ("etdrk4", "5-point")])
def test_backends_agree(method, stencil):
    u, v = gaussian_bumps(48, seed=3)
    results = [np.stack(simulate(preset("worms"), u, v, steps=100, dt=1.0, dx=2 / 128, method=method,
                                 stencil=stencil, backend=backend))
               for backend in ("numpy", "numba", "torch")]
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(results[2], results[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_a_batch_of_parameters_matches_one_run_each(backend):
    models = [preset(name) for name in ("spots", "maze", "gliders")]
    u, v = random_fourier(24, seed=1, batch=3)
    batch_u, batch_v = simulate(models, u, v, steps=50, dt=1.0, dx=0.02, backend=backend)
    for i, model in enumerate(models):
        single_u, single_v = simulate(model, u[i], v[i], steps=50, dt=1.0, dx=0.02)
        np.testing.assert_allclose(batch_u[i], single_u, atol=1e-12)
        np.testing.assert_allclose(batch_v[i], single_v, atol=1e-12)


def test_torch_keeps_tensors_and_dtype():
    u, v = random_fourier(16, seed=2, batch=2)
    u_t, v_t = torch.tensor(u, dtype=torch.float32), torch.tensor(v, dtype=torch.float32)
    out_u, out_v = simulate(preset("spots"), u_t, v_t, steps=10, dt=1.0, dx=0.02, backend="torch")
    assert isinstance(out_u, torch.Tensor) and out_u.dtype == torch.float32 and out_u.shape == (2, 16, 16)
    reference, _ = simulate(preset("spots"), u, v, steps=10, dt=1.0, dx=0.02)
    np.testing.assert_allclose(out_u.numpy(), reference, atol=1e-5)


def test_save_every_returns_frames_with_the_initial_state():
    u, v = pearson_square(32, square=0.25)
    frames_u, frames_v = simulate(preset("spots"), u, v, steps=100, dt=1.0, dx=0.02, save_every=25)
    assert frames_u.shape == (5, 32, 32)
    np.testing.assert_array_equal(frames_u[0], u)
    final_u, _ = simulate(preset("spots"), u, v, steps=100, dt=1.0, dx=0.02)
    np.testing.assert_allclose(frames_u[-1], final_u, atol=1e-14)
    batch_u, _ = simulate(preset("spots"), np.stack([u, u]), np.stack([v, v]), steps=20, dt=1.0, dx=0.02,
                          save_every=10)
    assert batch_u.shape == (2, 3, 32, 32)


def test_inputs_are_not_modified():
    u, v = gaussian_bumps(16, seed=0)
    u0, v0 = u.copy(), v.copy()
    for backend in ("numpy", "numba"):
        simulate(preset("spots"), u, v, steps=5, dt=1.0, dx=0.02, backend=backend)
    np.testing.assert_array_equal(u, u0)
    np.testing.assert_array_equal(v, v0)


def test_unstable_time_step_is_rejected_with_the_limit():
    dx = 2.5 / 256
    limit = stability_limit(preset("spots"), dx)
    assert 1.0 < limit < 1.2  # Pearson's dt = 1 is stable on his grid, barely
    u, v = pearson_square(16)
    with pytest.raises(ValueError, match=r"stability limit dt <= 1\.1"):
        simulate(preset("spots"), u, v, steps=1, dt=1.5, dx=dx)
    assert stability_limit(preset("spots"), dx, "9-point") > limit


def _checkerboard_growth(model, state, dt, dx, steps=40, n=8):
    """Per-step growth factor of a 1e-6 checkerboard on the homogeneous state (numpy Euler)."""
    sign = np.where(np.add.outer(np.arange(n), np.arange(n)) % 2, -1.0, 1.0)
    u, v = state[0] + 1e-6 * sign, state[1] - 1e-6 * sign
    amplitude = lambda f: abs((f * sign).mean())  # noqa: E731
    before = amplitude(u) + amplitude(v)
    u, v = simulate(model, u, v, steps=steps, dt=dt, dx=dx)
    return ((amplitude(u) + amplitude(v)) / before) ** (1 / steps)


@pytest.mark.parametrize("F, k", [(0.09, 0.035), (0.10, 0.035), (0.102, 0.040), (0.06, 0.0623)])
def test_stability_limit_is_the_edge_of_grid_scale_growth_with_the_reaction(F, k, monkeypatch):
    """Just below the limit a checkerboard on the v-rich state decays, just above it grows.
    The limit includes the reaction Jacobian: at (0.09, 0.035) on Pearson's grid the bound
    without it (2 / (D_u ρ + F + k) = 1.11) would admit dt = 1, at which it grows."""
    import turing_helpers.solver as solver

    model, dx = GrayScott(F, k), 2.5 / 256
    limit = stability_limit(model, dx)
    if (F, k) == (0.09, 0.035):
        assert limit < 1.0 < 2 / (model.Du * 8 / dx**2 + F + k)
        with pytest.raises(ValueError, match=r"dt = 1 is above the explicit Euler stability limit dt <= 0\.98"):
            simulate(model, *pearson_square(16), steps=1, dt=1.0, dx=dx)
    monkeypatch.setattr(solver, "_check_time_step", lambda *args: None)  # let the run happen
    assert _checkerboard_growth(model, model.steady_states()[-1], 0.97 * limit, dx) < 1.0
    assert _checkerboard_growth(model, model.steady_states()[-1], 1.03 * limit, dx) > 1.0


def test_grid_scale_growth_is_stopped_with_step_time_and_limit(monkeypatch):
    """The run-time guard: past the static check (disabled here), a growing checkerboard stops
    the run with the step, the time and the stable dt at the field's own state."""
    import turing_helpers.solver as solver

    model, dx = GrayScott(0.09, 0.035), 2.5 / 256
    monkeypatch.setattr(solver, "_check_time_step", lambda *args: None)
    rng = np.random.default_rng(0)
    u, v = (c + 1e-3 * rng.standard_normal((32, 32)) for c in model.steady_states()[-1])  # v-rich, noisy
    for backend in ("numpy", "numba", "torch"):
        with pytest.raises(SimulationDiverged, match=r"grid-scale \(Nyquist\) oscillation is growing at step "
                                                     r"\d+ \(t = \d+\).*dt <= 0\.9"):
            simulate(model, u, v, steps=20_000, dt=1.0, dx=dx, backend=backend)


@pytest.mark.parametrize("n", [5, 7, 9])
def test_the_guard_ignores_the_mean_on_odd_grids(n):
    """On an odd × odd grid (−1)^(i+j) has a mean; a uniform field must not look like a
    checkerboard (it did: a stable run on 5² was stopped at step 500)."""
    from turing_helpers.solver import checkerboard_amplitude

    u, v = np.full((n, n), 0.4), np.full((n, n), 0.2)
    assert checkerboard_amplitude(u, v) < 1e-15
    simulate(preset("spots"), u, v, steps=1_500, dt=1.0, dx=2.5 / 256)  # no SimulationDiverged


@pytest.mark.parametrize("name", ["epsilon", "kappa", "mu", "theta", "spots", "bubbles"])
def test_the_guard_leaves_developed_patterns_alone(name):
    """Resolved patterns have a checkerboard component far below the guard's threshold."""
    from turing_helpers.solver import NYQUIST_AMPLITUDE, checkerboard_amplitude

    u, v = simulate(preset(name), *random_fourier(64, max_mode=4, seed=1), steps=6_000, dt=1.0, dx=2.5 / 256,
                    backend="numba")
    assert v.std() > 0.01  # a pattern, not a decayed field
    assert checkerboard_amplitude(u, v) < 1e-4 * NYQUIST_AMPLITUDE


def test_blow_up_reports_when_and_where():
    u, v = np.ones((16, 16)), np.zeros((16, 16))
    v[3, 5] = 1e40  # finite, but u v² = 1e80 and its square overflow within three steps
    for backend in ("numpy", "numba", "torch"):
        with pytest.raises(SimulationDiverged, match=r"u became non-finite at step 3 \(t = 1\.5\) at index \(3, 5\)"):
            simulate(preset("spots"), u, v, steps=1000, dt=0.5, dx=0.02, backend=backend)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"), (dict(dt=0.0), "dt"), (dict(dt=float("nan")), "dt"),
    (dict(dx=-0.1), "dx"), (dict(method="rk4"), "method"), (dict(backend="jax"), "backend"),
    (dict(stencil="7-point"), "stencil"), (dict(save_every=0), "save_every"),
])
def test_bad_arguments_name_the_parameter(kwargs, message):
    u, v = np.ones((8, 8)), np.zeros((8, 8))
    arguments = dict(steps=1, dt=1.0, dx=0.02) | kwargs
    with pytest.raises(ValueError, match=message):
        simulate(preset("spots"), u, v, **arguments)


def test_bad_fields_are_rejected():
    ok = np.ones((8, 8))
    with pytest.raises(ValueError, match="same shape"):
        simulate(preset("spots"), ok, np.zeros((8, 9)), steps=1, dt=1.0, dx=0.02)
    with pytest.raises(ValueError, match="shape"):
        simulate(preset("spots"), np.ones(8), np.zeros(8), steps=1, dt=1.0, dx=0.02)
    with pytest.raises(ValueError, match="finite"):
        simulate(preset("spots"), ok, np.full((8, 8), np.nan), steps=1, dt=1.0, dx=0.02)
    with pytest.raises(ValueError, match="batch of 2 models"):
        simulate([preset("spots"), preset("maze")], ok, ok * 0, steps=1, dt=1.0, dx=0.02)
    with pytest.raises(ValueError, match="model"):
        simulate("spots", ok, ok * 0, steps=1, dt=1.0, dx=0.02)


def test_initial_conditions_are_reproducible_and_physical():
    for make in (pearson_square, gaussian_bumps, random_fourier):
        a, b = make(32, seed=7), make(32, seed=7)
        np.testing.assert_array_equal(a[0], b[0])
        assert not np.array_equal(make(32, seed=8)[1], a[1]) or make is pearson_square and False
        for field in a:
            assert field.shape == (32, 32) and field.min() >= 0 and field.max() <= 1
        assert make(32, seed=7, batch=3)[0].shape == (3, 32, 32)
    with pytest.raises(ValueError, match="n must be"):
        gaussian_bumps(2)
