"""turing_helpers.analogy: each gated update is its system's own step, to round-off."""
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers.analogy import (ConvLSTMCellState, DDPMForward, DDPMReverse, GrayScottCell,
                                    GrayScottEuler)
from turing_helpers.models.convlstm import ConvLSTM, ConvLSTMConfig
from turing_helpers.models.ddpm import DDPM, DiffusionConfig
from turing_helpers.models.unet import UNetConfig

DX = 2 / 128


@pytest.mark.parametrize("split", ["reaction", "local"])
@pytest.mark.parametrize("stencil", ["5-point", "9-point"])
def test_gray_scott_gates_are_the_euler_step(split, stencil):
    model = th.preset("worms")
    u, v = th.random_fourier(24, max_mode=3, seed=2)
    x = np.stack([u, v])
    update = GrayScottEuler(model, DX, 1.0, stencil, split)
    expected = np.stack(th.simulate(model, u, v, steps=1, dt=1.0, dx=DX, stencil=stencil))
    np.testing.assert_allclose(update.step(x), expected, rtol=0, atol=1e-14)
    a, b, sigma = update.gates(x)
    assert sigma == 0 and a.shape == b.shape == x.shape
    if split == "reaction":  # the forget factor of u is set by the activator v; v's is constant
        np.testing.assert_allclose(a[0], 1 - (model.F + v**2))
        np.testing.assert_allclose(a[1], 1 - (model.F + model.k))


@pytest.mark.parametrize("n, batch", [(16, 1), (24, 3), (33, 2)])
def test_gray_scott_cell_is_the_solver_over_1000_steps(n, batch):
    """A batch of starts (one parameter set: the cell has one) on even and odd grids."""
    u, v = th.random_fourier(n, max_mode=3, seed=1, batch=batch)
    cell = GrayScottCell(th.preset("spots"), DX, 1.0)
    us, vs = torch.from_numpy(u), torch.from_numpy(v)
    with torch.no_grad():
        for _ in range(1000):
            us, vs = cell(us, vs)
    ref_u, ref_v = th.simulate(th.preset("spots"), u, v, steps=1000, dt=1.0, dx=DX)
    np.testing.assert_allclose(us.numpy(), ref_u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(vs.numpy(), ref_v, rtol=0, atol=1e-12)


def test_gray_scott_cell_gradient_matches_a_finite_difference():
    u, v = (torch.from_numpy(a) for a in th.random_fourier(16, max_mode=3, seed=3))
    target = [a.detach() for a in GrayScottCell(th.preset("maze"), DX, 1.0).rollout(u, v, 3)]

    def loss(cell):
        pu, pv = cell.rollout(u, v, 3)
        return ((pu - target[0]) ** 2 + (pv - target[1]) ** 2).mean()

    cell = GrayScottCell(th.GrayScott(0.031, 0.057), DX, 1.0)
    value = loss(cell)
    value.backward()
    grad_log_F = cell.log_F.grad.item()
    h = 1e-6
    with torch.no_grad():
        cell.log_F += h
        up = loss(cell).item()
        cell.log_F -= 2 * h
        down = loss(cell).item()
    assert grad_log_F == pytest.approx((up - down) / (2 * h), rel=1e-5)
    u2, v2 = cell(u, v)
    (a_u, a_v), (b_u, b_v) = cell.gates(u, v)
    torch.testing.assert_close(a_u * u + b_u, u2, rtol=0, atol=1e-14)
    torch.testing.assert_close(a_v * v + b_v, v2, rtol=0, atol=1e-14)
    assert cell.as_model().F == pytest.approx(0.031)


def test_convlstm_cell_state_is_f_c_plus_i_g():
    torch.manual_seed(0)
    model = ConvLSTM(ConvLSTMConfig(hidden=8, embed=8, decoder=16)).eval()
    e, h, c = torch.randn(2, 8, 12, 12), torch.randn(2, 8, 12, 12), torch.randn(2, 8, 12, 12)
    _, c_next, (i, f, _, g) = model.cell(e, (h, c))
    update = ConvLSTMCellState(model.cell)
    torch.testing.assert_close(update.step(c, e=e, h=h), c_next, rtol=0, atol=1e-6)
    a, b, sigma = update.gates(c, e=e, h=h)
    assert sigma == 0 and bool(((a > 0) & (a < 1)).all())  # the forget factor is a sigmoid


@pytest.fixture(scope="module")
def tiny_ddpm():
    torch.manual_seed(0)
    return DDPM(DiffusionConfig(timesteps=50, unet=UNetConfig(base=8, mults=(1, 2), groups=4))).eval()


def test_forward_steps_compose_to_q_sample(tiny_ddpm):
    """Σ over steps of σ_s² Π_{r>s} a_r² and Π a_r give q(x_t | x_0)'s variance and mean factor."""
    abar = tiny_ddpm.alphas_cumprod.double().numpy()
    gain, variance = 1.0, 0.0
    for t in range(50):
        a, b, sigma = DDPMForward(tiny_ddpm, t).gates(None)
        gain, variance = a * gain, a * a * variance + sigma * sigma
        assert b == 0
        assert gain == pytest.approx(np.sqrt(abar[t]), rel=1e-5)
        assert variance == pytest.approx(1 - abar[t], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("split", ["eps", "x0"])
@pytest.mark.parametrize("method, t, t_prev, eta", [("ancestral", 30, None, 0.0), ("ancestral", 0, None, 0.0),
                                                    ("ddim", 40, 20, 0.0), ("ddim", 40, 20, 1.0),
                                                    ("ddim", 5, -1, 0.0)])
def test_reverse_gates_are_the_samplers_step(tiny_ddpm, split, method, t, t_prev, eta):
    d = tiny_ddpm
    x = torch.randn(2, 2, 16, 16, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 3])
    update = DDPMReverse(d, t, labels, method=method, t_prev=t_prev, guidance=2.0, eta=eta, split=split)
    if method == "ancestral":
        expected, _ = d.p_sample(x, t, labels, guidance=2.0, generator=torch.Generator().manual_seed(7))
    else:
        expected, _ = d.ddim_step(x, t, t_prev, labels, guidance=2.0, eta=eta,
                                  generator=torch.Generator().manual_seed(7))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    # float32 throughout; at t = 0 the ε-form divides x̂_0's residual by √(1 − ᾱ_0) ≪ 1 and
    # multiplies it back, so its round-off is a few 1e-5
    tolerance = 1e-4 if (split, t) == ("eps", 0) else 1e-5
    torch.testing.assert_close(update.step(x, noise), expected, rtol=tolerance, atol=tolerance)
    a, _, _ = update.gates(x)
    assert update.factor() == pytest.approx(float(a), rel=1e-7)  # the same a, without the network
    abar = d.alphas_cumprod
    if split == "eps" and method == "ancestral":  # amplification, not decay
        assert float(a) == pytest.approx(1 / float((1 - d.betas[t]).sqrt()), rel=1e-5) and float(a) > 1
    if split == "x0" and t > 0:  # the coefficient of x_t is a decay (0 at DDIM's last step: x̂_0 itself)
        assert 0 <= float(a) < 1 and (float(a) > 0 or t_prev == -1)
    if split == "eps" and method == "ddim":
        prev = abar[t_prev] if t_prev >= 0 else torch.tensor(1.0)
        assert float(a) == pytest.approx(float((prev / abar[t]).sqrt()), rel=1e-5) and float(a) > 1


@pytest.mark.parametrize("call, message", [
    (lambda d: DDPMReverse(d, 50, torch.zeros(1, dtype=torch.long)), "t must be an integer in"),
    (lambda d: DDPMReverse(d, 10, torch.zeros(1, dtype=torch.long), t_prev=5), "ancestral step goes from t"),
    (lambda d: DDPMReverse(d, 10, torch.zeros(1, dtype=torch.long), split="mu"), "split must be"),
    (lambda d: DDPMForward(d, -1), "t must be an integer in"),
    (lambda d: DDPMReverse(d, 10, torch.zeros(1, dtype=torch.long), method="ddim", t_prev=True), "t_prev must be"),
    (lambda d: GrayScottEuler(th.preset("spots"), DX, 1.0).gates(np.ones((8, 8))), r"x must have shape \(\.\.\., 2"),
    (lambda d: GrayScottEuler(th.preset("spots"), DX, 1.0, split="diagonal"), "split must be"),
    (lambda d: GrayScottCell(th.GrayScott(0.0, 0.06), DX, 1.0), "F must be finite and > 0"),
])
def test_bad_arguments_name_the_parameter(tiny_ddpm, call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny_ddpm)


def test_fitting_the_cell_recovers_the_parameters_from_a_wrong_start():
    """Gradient descent through 3-frame rollouts (10 Euler steps a frame) of developed worms."""
    from turing_helpers.training.gray_scott_cell import fit_gray_scott_cell

    truth = th.preset("worms")
    u, v = th.random_fourier(24, max_mode=2, seed=0, batch=2)
    U, V = th.simulate(truth, u, v, steps=2000, dt=1.0, dx=DX, backend="numba", save_every=10)
    frames = np.stack([U, V], axis=2)[:, 100:]  # (2, 101, 2, 24, 24), developed
    windows = np.concatenate([frames[:, s:s + 4] for s in range(0, 96, 16)])
    start = th.GrayScott(truth.F * 1.2, truth.k * 0.9, truth.Du * 0.8, truth.Dv * 1.2)
    fit = fit_gray_scott_cell(windows, start, DX, iterations=150, lr=0.05)
    for name, value in fit["parameters"].items():
        assert value == pytest.approx(getattr(truth, name), rel=0.01), name
    assert fit["history"][-1][1] < 1e-3 * fit["history"][0][1]


def test_shipped_fit_recovers_every_class_within_one_percent():
    """The result file benchmarks/analogy_fit.py wrote: every class's four parameters within
    1% of the truth from a start 15–40% off (issue 11's target), on chapter 4's data."""
    from turing_helpers.results import load

    fit = load("analogy_fit")
    assert fit["protocol"]["command"] == "python benchmarks/analogy_fit.py"
    assert fit["protocol"]["start_factors"] == {"F": 1.3, "k": 0.85, "Du": 0.7, "Dv": 1.4}
    assert sorted(fit["classes"]) == sorted(th.data.WELL_CLASSES)
    for name, entry in fit["classes"].items():
        assert entry["windows"] >= 10, name
        for parameter, error in entry["relative_error"].items():
            assert abs(error) < 0.01, (name, parameter, error)
            assert entry["fitted"][parameter] == pytest.approx(getattr(th.preset(name), parameter), rel=0.01)
