"""jacobian_spectrum: Krylov eigenvalues of a frame map's Jacobian against known spectra
and dense eigensolvers, for numpy maps (finite differences) and torch maps (autodiff)."""
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers.evaluation import jacobian_spectrum

# torch's forward-mode AD loads its decompositions through torch.jit.script, deprecated
# in torch 2.13: a warning about torch, not about this code.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These tensors are tiny: threads only add overhead (and fight a busy machine's cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


N_GRID = 16  # 2 n² = 512 unknowns: above the dense cut-off, so ARPACK does the work
DX = 2 / 128


def leading(values, k):
    """The k values of largest modulus, ordered as jacobian_spectrum orders them."""
    values = np.asarray(values)
    return values[np.argsort(-np.abs(values), kind="stable")][:k]


def assert_same_spectrum(found, expected, rtol):
    """Equal as multisets of complex numbers (the order of values of equal modulus aside)."""
    key = lambda z: np.lexsort((np.round(z.imag, 6), np.round(np.abs(z), 6)))  # noqa: E731
    found, expected = np.asarray(found), np.asarray(expected)
    np.testing.assert_allclose(found[key(found)], expected[key(expected)], rtol=rtol,
                               atol=rtol * np.abs(expected).max())


# -- linear maps with known spectra --------------------------------------------------
def diagonal_map(rng):
    """x ↦ a ⊙ x with a known diagonal a (2, n, n), and a; six entries of distinct
    moduli, of both signs, lead the rest (ARPACK converges fast past a clear gap)."""
    diagonal = rng.uniform(-0.6, 0.6, (2, N_GRID, N_GRID))
    diagonal.flat[rng.choice(diagonal.size, 6, replace=False)] = [2.0, -1.7, 1.5, 1.2, -1.0, 0.9]
    return (lambda x: diagonal * x), diagonal


def rotation_scaling_map(rng):
    """x ↦ block-diagonal 2×2 rotation-scalings r R(θ) acting on (u, v) at each cell, and
    its eigenvalues r e^{±iθ}; a few cells get distinct large radii to lead the spectrum."""
    radius = rng.uniform(0.1, 0.5, (N_GRID, N_GRID))
    radius.flat[:4] = [1.3, 1.1, 0.9, 0.8]
    angle = rng.uniform(0.2, 2.5, (N_GRID, N_GRID))
    c, s = radius * np.cos(angle), radius * np.sin(angle)

    def rotate(x):
        u, v = x[:, 0], x[:, 1]
        return np.stack([c * u - s * v, s * u + c * v], axis=1)

    pole = radius * np.exp(1j * angle)
    return rotate, np.concatenate([pole.ravel(), pole.conj().ravel()])


def test_diagonal_map_gives_its_largest_diagonal_entries(rng):
    step, diagonal = diagonal_map(rng)
    values = jacobian_spectrum(step, rng.uniform(0, 1, (2, N_GRID, N_GRID)), k=6)
    assert values.shape == (6,) and values.dtype == np.complex128
    np.testing.assert_allclose(values, leading(diagonal.ravel(), 6), rtol=1e-6, atol=1e-8)


def test_rotation_scaling_blocks_give_complex_pairs(rng):
    step, poles = rotation_scaling_map(rng)
    values = jacobian_spectrum(step, np.zeros((2, N_GRID, N_GRID)), k=8, seed=3)
    assert_same_spectrum(values, leading(poles, 8), rtol=1e-6)
    assert np.all(np.diff(np.abs(values)) <= 1e-12)  # largest modulus first,
    assert np.all(values[::2].imag > 0) and np.all(values[1::2].imag < 0)  # e^{+iθ} before e^{−iθ}


def test_eigenvectors_satisfy_the_eigen_equation(rng):
    step, _ = rotation_scaling_map(rng)
    values, vectors = jacobian_spectrum(step, np.zeros((2, N_GRID, N_GRID)), k=4, return_vectors=True)
    assert vectors.shape == (4, 2, N_GRID, N_GRID)
    image = step(vectors.real) + 1j * step(vectors.imag)  # the map is linear
    np.testing.assert_allclose(image, values[:, None, None, None] * vectors, atol=1e-6)


def test_result_is_reproducible_from_the_seed(rng):
    step, _ = rotation_scaling_map(rng)
    state = np.zeros((2, N_GRID, N_GRID))
    np.testing.assert_array_equal(jacobian_spectrum(step, state, k=4, seed=1),
                                  jacobian_spectrum(step, state, k=4, seed=1))


def test_tiny_grid_uses_the_dense_path(rng):
    diagonal = rng.uniform(-1, 1, (2, 3, 3))
    values = jacobian_spectrum(lambda x: diagonal * x, np.ones((2, 3, 3)), k=16)  # 2 n² − 2
    np.testing.assert_allclose(values, leading(diagonal.ravel(), 16), rtol=1e-6, atol=1e-8)


# -- torch maps ----------------------------------------------------------------------
def test_torch_function_with_autograd_matches_the_numpy_map(rng):
    step, poles = rotation_scaling_map(rng)
    c, s = (torch.as_tensor(a) for a in (poles[: N_GRID**2].real.reshape(N_GRID, N_GRID),
                                         poles[: N_GRID**2].imag.reshape(N_GRID, N_GRID)))

    def rotate(x):  # r R(θ) written with torch: (r cos θ, r sin θ) = (Re, Im) of the pole
        u, v = x[:, 0], x[:, 1]
        return torch.stack([c * u - s * v, s * u + c * v], dim=1)

    values = jacobian_spectrum(rotate, np.zeros((2, N_GRID, N_GRID)), k=8, autograd=True)
    assert_same_spectrum(values, leading(poles, 8), rtol=1e-9)


class PeriodicConv(torch.nn.Module):
    """A small nonlinear frame map: x + tanh(periodic 3×3 convolution of x)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        return x + torch.tanh(self.conv(x))


def dense_torch_spectrum(module, state):
    """All eigenvalues of the module's Jacobian at state, from a dense autograd Jacobian."""
    module = module.double()
    x = torch.as_tensor(state, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda y: module(y[None])[0], x)
    return np.linalg.eigvals(jac.reshape(x.numel(), x.numel()).numpy())


@pytest.mark.parametrize("autograd", [None, False], ids=["autodiff", "finite-differences"])
def test_torch_module_matches_a_dense_jacobian(rng, autograd):
    module = PeriodicConv().float()
    state = rng.uniform(0, 1, (2, 8, 8))  # 128 unknowns
    values = jacobian_spectrum(module, state, k=6, autograd=autograd)
    assert_same_spectrum(values, leading(dense_torch_spectrum(PeriodicConv(), state), 6), rtol=1e-6)
    assert next(module.parameters()).dtype == torch.float32  # differentiated through a copy


# -- the solver's frame map at a developed pattern -----------------------------------
SOLVER_GRID = 20  # spots die on a 16² box (0.25 a side) from random_fourier starts
MODEL = th.preset("spots")


def solver_frame(x):
    """One frame of the exact solver: 10 Euler steps of dt = 1 on a batch (B, 2, n, n)."""
    u, v = th.simulate(MODEL, x[:, 0], x[:, 1], steps=10, dt=1.0, dx=DX)
    return np.stack([u, v], axis=1)


@pytest.fixture(scope="module")
def developed_state():
    """Steady spots on a 20² box: ~6 spots, changing by < 1e-7 per frame after 12000 steps."""
    u, v = th.random_fourier(SOLVER_GRID, max_mode=2, seed=0)
    u, v = th.simulate(MODEL, u, v, steps=12000, dt=1.0, dx=DX)
    assert not th.metrics.is_uniform(v), "the spots died on the small box: pick another start"
    state = np.stack([u, v])
    assert np.abs(solver_frame(state[None])[0] - state).max() < 1e-6, "not yet steady"
    return state


def dense_central_difference_spectrum(step, state, h=1e-6):
    """All eigenvalues of step's Jacobian, built column by column by central differences."""
    size = state.size
    directions = np.eye(size).reshape(size, *state.shape)
    outputs = step(np.concatenate([state + h * directions, state - h * directions]))
    forward, backward = np.split(outputs.reshape(2 * size, size), 2)
    return np.linalg.eigvals(((forward - backward) / (2 * h)).T)


def test_solver_frame_map_at_a_developed_pattern_matches_a_dense_eigensolver(developed_state):
    values = jacobian_spectrum(solver_frame, developed_state, k=6)
    expected = leading(dense_central_difference_spectrum(solver_frame, developed_state), 6)
    np.testing.assert_allclose(np.sort(np.abs(values)), np.sort(np.abs(expected)), rtol=1e-5)
    # a stable steady pattern: every perturbation decays, the slowest (translations and an
    # oscillating mode, pinned by the lattice) at a few per cent per frame
    assert 0.95 < np.abs(values[0]) < 1.0


# -- bad input -----------------------------------------------------------------------
def identity(x):
    return x.copy()


@pytest.mark.parametrize("call, words", [
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((8, 8))), r"state must have shape \(C, n, n\)",
                 id="no channel axis"),
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((2, 8, 6))), r"state must have shape \(C, n, n\)",
                 id="not square"),
    pytest.param(lambda: jacobian_spectrum(identity, np.full((2, 8, 8), np.nan)), "state must be real and finite",
                 id="NaN state"),
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((2, 8, 8)), k=0), r"k must be an integer in \[1, ",
                 id="k=0"),
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((2, 8, 8)), k=127), r"\[1, C n² − 2 = 126\]",
                 id="k too large"),
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((2, 8, 8)), k=2.0), "k must be an integer",
                 id="k float"),
    pytest.param(lambda: jacobian_spectrum(lambda x: x[:, :1], np.zeros((2, 8, 8))),
                 r"step must return .* got shape \(1, 1, 8, 8\)", id="step drops a channel"),
    pytest.param(lambda: jacobian_spectrum(lambda x: x / 0.0, np.zeros((2, 8, 8))), "step returned NaN or inf",
                 id="step not finite"),
    pytest.param(lambda: jacobian_spectrum(identity, np.zeros((2, 8, 8)), autograd=1), "autograd must be",
                 id="autograd not a bool"),
])
def test_bad_input_is_a_named_value_error(call, words):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(ValueError, match=words):
        call()


def test_a_state_of_more_channels_works_as_a_recurrent_models_whole_state():
    """Three channels, diagonal map: the multipliers per channel come back."""
    scale = np.array([0.9, 0.5, -0.7])[:, None, None]

    def step(x):
        return x * scale

    values = jacobian_spectrum(step, np.zeros((3, 8, 8)), k=2)
    np.testing.assert_allclose(values, [0.9, 0.9], atol=1e-6)
