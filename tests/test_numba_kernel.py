"""The compiled Euler kernel (turing_helpers.numba_kernels) against plain numpy.

The reference below is the update rule written out with np.roll, independent of the
package's own stencil code, so a slip in either shows up here.
"""
import numpy as np
import pytest

import turing_helpers.numba_kernels as kernels
from turing_helpers.numba_kernels import euler_steps

DX = 2.5 / 256
DT = 1.0


def numpy_euler(u, v, F, k, Du, Dv, dt, dx, steps, nine_point):
    """Reference: explicit Euler for Gray-Scott, periodic, batch on axis 0."""
    u, v = u.copy(), v.copy()
    F, k, Du, Dv = (np.asarray(a, float).reshape(-1, 1, 1) for a in (F, k, Du, Dv))

    def lap(f):
        n, s = np.roll(f, 1, axis=-2), np.roll(f, -1, axis=-2)
        w, e = np.roll(f, 1, axis=-1), np.roll(f, -1, axis=-1)
        if not nine_point:
            return (n + s + w + e - 4.0 * f) / dx**2
        corners = (np.roll(n, 1, axis=-1) + np.roll(n, -1, axis=-1)
                   + np.roll(s, 1, axis=-1) + np.roll(s, -1, axis=-1))
        return (4.0 * (n + s + w + e) + corners - 20.0 * f) / (6.0 * dx**2)

    for _ in range(steps):
        uvv = u * v * v
        u, v = (u + dt * (Du * lap(u) - uvv + F * (1.0 - u)),
                v + dt * (Dv * lap(v) + uvv - (F + k) * v))
    return u, v


def smooth_fields(batch, ny, nx, seed=0):
    """Smooth periodic fields with structure in both directions (different per member)."""
    rng = np.random.default_rng(seed)
    y = np.arange(ny)[:, None] / ny
    x = np.arange(nx)[None, :] / nx
    u = np.empty((batch, ny, nx))
    v = np.empty((batch, ny, nx))
    for b in range(batch):
        p = rng.uniform(0, 2 * np.pi, 4)
        u[b] = 0.6 + 0.2 * np.sin(2 * np.pi * (b + 1) * x + p[0]) * np.cos(2 * np.pi * y + p[1])
        v[b] = 0.25 + 0.1 * np.cos(2 * np.pi * (x + 2 * y) + p[2]) + 0.05 * np.sin(2 * np.pi * 3 * y + p[3])
    return u, v


def relative_error(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


PARAMS_1 = dict(F=[0.030], k=[0.062], Du=[2e-5], Dv=[1e-5])
PARAMS_3 = dict(F=[0.030, 0.014, 0.058], k=[0.062, 0.054, 0.065],
                Du=[2e-5, 2e-5, 1.6e-5], Dv=[1e-5, 0.8e-5, 1e-5])


@pytest.mark.parametrize("nine_point", [False, True], ids=["5-point", "9-point"])
@pytest.mark.parametrize("params", [PARAMS_1, PARAMS_3], ids=["B=1", "B=3"])
@pytest.mark.parametrize("shape", [(64, 64), (40, 72)], ids=["square", "non-square"])
@pytest.mark.parametrize("steps", [100, 101], ids=["even", "odd"])
def test_kernel_matches_numpy(nine_point, params, shape, steps):
    batch = len(params["F"])
    u0, v0 = smooth_fields(batch, *shape)
    args = {name: np.array(value) for name, value in params.items()}
    u, v = u0.copy(), v0.copy()
    out = euler_steps(u, v, args["F"], args["k"], args["Du"], args["Dv"], DT, DX, steps, nine_point)
    assert out[0] is u and out[1] is v  # updated in place, whatever the parity of steps
    u_ref, v_ref = numpy_euler(u0, v0, args["F"], args["k"], args["Du"], args["Dv"],
                               DT, DX, steps, nine_point)
    assert relative_error(u, u_ref) < 1e-12
    assert relative_error(v, v_ref) < 1e-12
    # the fields really moved (the comparison is not trivially of two copies of u0)
    assert relative_error(v, v0) > 1e-3


def test_batch_members_are_independent():
    """Member b of a batch run equals a B=1 run with member b's parameters."""
    u0, v0 = smooth_fields(3, 32, 48, seed=1)
    args = {name: np.array(value) for name, value in PARAMS_3.items()}
    u, v = u0.copy(), v0.copy()
    euler_steps(u, v, args["F"], args["k"], args["Du"], args["Dv"], DT, DX, 50, True)
    for b in range(3):
        ub, vb = u0[b:b + 1].copy(), v0[b:b + 1].copy()
        euler_steps(ub, vb, args["F"][b:b + 1], args["k"][b:b + 1], args["Du"][b:b + 1],
                    args["Dv"][b:b + 1], DT, DX, 50, True)
        np.testing.assert_array_equal(u[b], ub[0])
        np.testing.assert_array_equal(v[b], vb[0])


@pytest.mark.parametrize("shape", [(1, 5), (2, 2), (5, 1), (3, 4)])
@pytest.mark.parametrize("nine_point", [False, True], ids=["5-point", "9-point"])
def test_tiny_grids_wrap_like_np_roll(shape, nine_point):
    rng = np.random.default_rng(2)
    u0 = 0.5 + 0.1 * rng.standard_normal((1, *shape))
    v0 = 0.25 + 0.1 * rng.standard_normal((1, *shape))
    u, v = u0.copy(), v0.copy()
    dx = 0.05  # coarse enough that dt = 1 is stable
    euler_steps(u, v, 0.03, 0.062, 2e-5, 1e-5, DT, dx, 7, nine_point)
    u_ref, v_ref = numpy_euler(u0, v0, [0.03], [0.062], [2e-5], [1e-5], DT, dx, 7, nine_point)
    assert relative_error(u, u_ref) < 1e-12
    assert relative_error(v, v_ref) < 1e-12


def test_zero_steps_leaves_fields_alone():
    u0, v0 = smooth_fields(1, 8, 8)
    u, v = u0.copy(), v0.copy()
    euler_steps(u, v, [0.03], [0.062], [2e-5], [1e-5], DT, DX, 0, False)
    np.testing.assert_array_equal(u, u0)
    np.testing.assert_array_equal(v, v0)


def test_rejects_bad_arrays():
    u, v = smooth_fields(1, 8, 8)
    p = ([0.03], [0.062], [2e-5], [1e-5], DT, DX, 1, False)
    with pytest.raises(TypeError):
        euler_steps(u.astype(np.float32), v, *p)
    with pytest.raises(TypeError):
        euler_steps(u[0], v[0], *p)  # 2-D: the batch axis is required
    with pytest.raises(ValueError):
        euler_steps(u[:, :, ::2], v[:, :, ::2], *p)  # not contiguous
    with pytest.raises(ValueError):
        euler_steps(u, v[:, :4], *p)
    with pytest.raises(ValueError):
        euler_steps(u, v, [0.03, 0.04], [0.062], [2e-5], [1e-5], DT, DX, 1, False)
    with pytest.raises(ValueError):
        euler_steps(u, v, *p[:6], -1, False)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("nine_point", [False, True], ids=["5-point", "9-point"])
def test_parallel_strategies_are_bitwise_identical(batch, nine_point):
    """One task per member, row bands with halos of any depth (deeper than a band, too),
    and the per-step prange all do the same arithmetic per cell."""
    params = PARAMS_1 if batch == 1 else PARAMS_3
    args = [np.array(params[name]) for name in ("F", "k", "Du", "Dv")]
    u0, v0 = smooth_fields(batch, 40, 24, seed=3)
    steps = 25  # odd, and deeper than a band of 20 rows when halo=steps
    u_ref, v_ref = numpy_euler(u0, v0, *args, DT, DX, steps, nine_point)
    results = []
    for strategy, halo in [("members", None), ("bands", None), ("bands", 1), ("bands", 7),
                           ("bands", steps), ("per-step", None)]:
        u, v = u0.copy(), v0.copy()
        kernels.euler_steps(u, v, *args, DT, DX, steps, nine_point, strategy=strategy,
                             halo=halo)
        assert relative_error(u, u_ref) < 1e-12 and relative_error(v, v_ref) < 1e-12, strategy
        results.append((u, v))
    for u, v in results[1:]:
        np.testing.assert_array_equal(u, results[0][0])
        np.testing.assert_array_equal(v, results[0][1])


def test_auto_strategy_follows_the_measured_rule(monkeypatch):
    """"auto" bands a single grid when every band keeps BAND_ROWS rows, runs one task per
    member otherwise; whichever it picks, the result is the numpy reference's."""
    calls = []
    real = kernels._euler_tasks

    def spy(*args):
        calls.append(args[-2])  # nbands
        return real(*args)

    monkeypatch.setattr(kernels, "_euler_tasks", spy)
    monkeypatch.setattr(kernels.numba, "get_num_threads", lambda: 2)
    args = [np.array(PARAMS_1[name]) for name in ("F", "k", "Du", "Dv")]
    for n, batch, banded in ((64, 1, True), (48, 1, False), (64, 2, False)):
        u0, v0 = smooth_fields(batch, n, n, seed=4)
        u, v = u0.copy(), v0.copy()
        parameters = [np.repeat(a, batch) for a in args]
        calls.clear()
        euler_steps(u, v, *parameters, DT, DX, 20, False)
        assert (calls[-1] > 1) == banded, (n, batch, calls)
        u_ref, v_ref = numpy_euler(u0, v0, *parameters, DT, DX, 20, False)
        assert relative_error(u, u_ref) < 1e-12 and relative_error(v, v_ref) < 1e-12
    with pytest.raises(ValueError, match="strategy"):
        euler_steps(u, v, *[np.repeat(a, 2) for a in args], DT, DX, 1, False, strategy="fastest")
