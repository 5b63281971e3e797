"""response_kernel on maps with known kernels; kernel_diffusion and kernel_locality."""
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers.evaluation import kernel_diffusion, kernel_locality, response_kernel
from turing_helpers.stencils import laplacian

DX = 2 / 128


def _correlate(weights):
    """A numpy map: periodic cross-correlation with weights (C', C, 2r+1, 2r+1)."""
    r = weights.shape[-1] // 2

    def f(x):
        out = np.zeros((x.shape[0], weights.shape[0]) + x.shape[-2:])
        for co in range(weights.shape[0]):
            for c in range(weights.shape[1]):
                for a in range(-r, r + 1):
                    for b in range(-r, r + 1):
                        out[:, co] += weights[co, c, a + r, b + r] * np.roll(x[:, c], (-a, -b), axis=(-2, -1))
        return out
    return f


def _torch_conv(weights):
    conv = torch.nn.Conv2d(weights.shape[1], weights.shape[0], weights.shape[-1], padding=weights.shape[-1] // 2,
                           padding_mode="circular", bias=True).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(weights))
        conv.bias.fill_(0.3)  # a constant offset has no Jacobian
    return conv


def _embedded(stencil, r):
    out = np.zeros((2 * r + 1, 2 * r + 1))
    h = stencil.shape[0] // 2
    out[r - h:r + h + 1, r - h:r + h + 1] = stencil
    return out


@pytest.mark.parametrize("name", ["identity", "5-point", "9-point"])
def test_known_stencils_come_back_for_numpy_and_torch_maps(name, rng):
    x = rng.standard_normal((2, 1, 10, 10))
    if name == "identity":
        expected = np.zeros((1, 1, 3, 3))
        expected[0, 0, 1, 1] = 1.0
        numpy_map = lambda y: y.copy()  # noqa: E731
    else:
        numpy_map = lambda y: laplacian(y, 1.0, name)  # noqa: E731
        delta = np.zeros((3, 3))
        delta[1, 1] = 1.0
        expected = laplacian(delta, 1.0, name)[None, None]
    K = response_kernel(numpy_map, x, 2)
    np.testing.assert_allclose(K, _embedded(expected[0, 0], 2)[None, None], atol=1e-9)
    torch_map = _torch_conv(expected)
    np.testing.assert_allclose(response_kernel(torch_map, torch.from_numpy(x), 1), expected, atol=1e-13)


def test_a_random_two_channel_kernel_comes_back_exactly(rng):
    weights = rng.standard_normal((2, 2, 5, 5))
    x = rng.standard_normal((3, 2, 12, 12))
    np.testing.assert_allclose(response_kernel(_correlate(weights), x, 2), weights, atol=1e-9)
    np.testing.assert_allclose(response_kernel(_torch_conv(weights), x, 2), weights, atol=1e-13)
    # a wider window holds zeros beyond the kernel; a narrower one cuts it
    wide = response_kernel(_torch_conv(weights), x, 4)
    np.testing.assert_allclose(wide[:, :, 2:-2, 2:-2], weights, atol=1e-13)
    assert np.abs(wide[:, :, :2]).max() < 1e-13
    # with a translation-invariant map any subset of positions is exact too
    np.testing.assert_allclose(response_kernel(_torch_conv(weights), x, 2, positions=3), weights, atol=1e-13)


def test_per_state_kernels_average_to_the_kernel(rng):
    x = rng.standard_normal((3, 2, 8, 8))

    def quadratic(y):  # a nonlinear local map: its Jacobian depends on the state
        return y**2 + np.roll(y, 1, axis=-1)

    per = response_kernel(quadratic, x, 1, per_state=True)
    assert per.shape == (3, 2, 2, 3, 3)
    np.testing.assert_allclose(per.mean(axis=0), response_kernel(quadratic, x, 1), atol=1e-12)
    # the centre is the grid mean of 2 y; the shifted copy is the entry at offset (0, -1)
    np.testing.assert_allclose(per[:, 0, 0, 1, 1], 2 * x[:, 0].mean(axis=(-2, -1)), atol=1e-7)
    np.testing.assert_allclose(per[:, 0, 0, 1, 0], 1.0, atol=1e-7)


def test_one_euler_step_at_the_trivial_state_is_identity_plus_diffusion():
    model = th.preset("spots")

    def euler_step(x):
        u, v = th.simulate(model, x[:, 0], x[:, 1], steps=1, dt=1.0, dx=DX)
        return np.stack([u, v], axis=1)

    state = np.zeros((2, 16, 16))
    state[0] = 1.0
    K = response_kernel(euler_step, state, 2)
    u = kernel_diffusion(K[0, 0], DX, dt=1.0)
    v = kernel_diffusion(K[1, 1], DX, dt=1.0)
    assert u["diffusion"] == pytest.approx(model.Du, rel=1e-6)
    assert v["diffusion"] == pytest.approx(model.Dv, rel=1e-6)
    assert u["spread_diffusion"] == pytest.approx(model.Du / (1 - model.F), rel=1e-6)
    assert v["spread_diffusion"] == pytest.approx(model.Dv / (1 - model.F - model.k), rel=1e-6)
    assert u["mass"] == pytest.approx(1 - model.F, abs=1e-8)
    assert u["identity"] == pytest.approx(1 - model.F, abs=1e-8)
    assert v["identity"] == pytest.approx(1 - model.F - model.k, abs=1e-8)
    assert u["explained"] == pytest.approx(1.0, abs=1e-10) and np.abs(u["remainder"]).max() < 1e-8
    # at (1, 0) nothing couples u and v in one step
    assert np.abs(K[0, 1]).max() < 1e-8 and np.abs(K[1, 0]).max() < 1e-8
    assert kernel_locality(K, 1) == pytest.approx(1.0)


def test_locality_of_a_wide_kernel():
    k = np.zeros((5, 5))
    k[2, 2], k[0, 0] = 1.0, 1.0
    assert kernel_locality(k, 1) == pytest.approx(0.5)
    assert kernel_locality(k, 2) == pytest.approx(1.0)


def test_bad_inputs_are_named(rng):
    x = rng.standard_normal((1, 2, 8, 8))
    with pytest.raises(ValueError, match="radius must be an integer in"):
        response_kernel(lambda y: y, x, 4)
    with pytest.raises(ValueError, match="x must be states"):
        response_kernel(lambda y: y, np.zeros((2, 8, 9)), 1)
    with pytest.raises(ValueError, match="positions must be None"):
        response_kernel(lambda y: y, x, 1, positions=0)
    with pytest.raises(ValueError, match="f must map"):
        response_kernel(lambda y: y[:, 0], x, 1)
    with pytest.raises(ValueError, match="NaN or inf"), np.errstate(divide="ignore", invalid="ignore"):
        response_kernel(lambda y: y / 0.0, x, 1)
    with pytest.raises(ValueError, match="kernel must be square"):
        kernel_diffusion(np.zeros((4, 4)), DX)


def test_the_spread_of_many_steps_grows_with_diffusion():
    """Over a frame (10 Euler steps) the kernel's spread is monotone in D, where the 5-point
    projection of a kernel wider than the stencil is not a measure of it."""
    spread = []
    for factor in (1.0, 2.0):
        base = th.preset("spots")
        model = th.GrayScott(F=base.F, k=base.k, Du=factor * base.Du, Dv=factor * base.Dv)

        def frame(x, model=model):
            u, v = th.simulate(model, x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX)
            return np.stack([u, v], axis=1)

        state = np.zeros((2, 24, 24))
        state[0] = 1.0
        K = response_kernel(frame, state, 8)
        spread.append(kernel_diffusion(K[1, 1], DX, dt=10.0)["spread_diffusion"] / model.Dv)
    # D / (1 − γ dt) per step at (1, 0), to the window's truncation
    assert spread[0] == pytest.approx(1 / (1 - 0.092), rel=0.02)
    assert spread[1] == pytest.approx(1 / (1 - 0.092), rel=0.05)
