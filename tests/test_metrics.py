"""Known answers and invariances of turing_helpers.metrics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from turing_helpers import metrics as M
from turing_helpers.gray_scott import GrayScott

from synthetic_fields import disks, lattice

N = 64
L = 2.5  # Pearson's domain length
DX = L / N


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- test fields -------------------------------------------------------------------
def sinusoid(m, k, n=N, phase=0.3):
    """sin(2π (m x + k y) / L + phase): m, k whole periods across the box in x, y."""
    i = np.arange(n)
    rows, cols = np.meshgrid(i, i, indexing="ij")  # rows = y, cols = x
    return np.sin(2 * np.pi * (m * cols + k * rows) / n + phase)


def smooth_noise(seed, n=N, sigma=3.0):
    noise = np.random.default_rng(seed).standard_normal((n, n))
    return ndimage.gaussian_filter(noise, sigma, mode="wrap")


def shell_counts(n, dx, nbins=None):
    return M.spectral.shell_geometry(n, float(dx), nbins)[1]


# -- spectra -------------------------------------------------------------------------
@pytest.mark.parametrize("m, k", [(1, 0), (4, 0), (0, 7), (5, 5), (3, 4), (9, 2), (16, 16), (20, 0)])
def test_dominant_wavelength_of_sinusoid(m, k):
    expected = L / np.hypot(m, k)
    assert M.dominant_wavelength(sinusoid(m, k), DX) == pytest.approx(expected, rel=1e-2)
    assert M.dominant_wavelength(sinusoid(m, k), DX) == pytest.approx(expected, rel=1e-9)


def test_dominant_wavelength_of_spot_lattice():
    # a 4 x 4 square lattice of disks: fundamental wavelength L/4
    assert M.dominant_wavelength(lattice(), DX) == pytest.approx(L / 4, rel=1e-2)


def test_dominant_wavelength_constant_field_is_nan():
    assert np.isnan(M.dominant_wavelength(np.full((N, N), 0.3), DX))


@pytest.mark.parametrize("n, nbins", [(64, None), (64, 7), (64, 200), (33, None), (2, None), (16, 1)])
def test_radial_spectrum_parseval(rng, n, nbins):
    field = rng.standard_normal((3, n, n)) + 5.0
    q, power = M.radial_spectrum(field, DX, nbins=nbins)
    counts = shell_counts(n, DX, nbins)
    assert q.shape == counts.shape and power.shape == (3, q.size)
    assert counts.sum() == n * n  # every Fourier mode in exactly one shell
    np.testing.assert_allclose((power * counts).sum(-1), field.var(axis=(-2, -1)), rtol=1e-10)
    if nbins is None:
        assert np.all(power[:, 0] < 1e-20)  # shell 0 is the mean alone, and it is removed


def test_radial_spectrum_units_and_shells():
    q, power = M.radial_spectrum(sinusoid(5, 0), DX)
    dq = 2 * np.pi / L
    np.testing.assert_allclose(q[:3], [0.0, dq, 2 * dq])  # harmonics of the box
    assert np.argmax(power) == 5
    counts = shell_counts(N, DX)
    assert power[5] * counts[5] == pytest.approx(0.5)  # variance of a unit sinusoid


def test_spectral_entropy_low_for_pattern_high_for_noise(rng):
    q, _ = M.radial_spectrum(sinusoid(1, 0), DX)
    assert M.spectral_entropy(sinusoid(6, 0), DX) < 1e-6
    assert M.spectral_entropy(sinusoid(4, 3), DX) < 1e-6  # one shell, two directions
    white = M.spectral_entropy(rng.standard_normal((4, N, N)), DX)
    assert np.all(white > 0.97 * np.log(q.size - 1)) and np.all(white <= np.log(q.size - 1))
    assert M.spectral_entropy(lattice(), DX) < 0.7 * np.log(q.size - 1)


def test_spectrum_distance(rng):
    field = smooth_noise(1)
    assert M.spectrum_distance(field, field, DX) == 0.0
    assert M.spectrum_distance(field, 3.0 * field + 1.0, DX) == pytest.approx(0.0, abs=1e-9)
    assert M.spectrum_distance(field, M.phase_randomized(field, 0), DX) < 1e-6
    assert M.spectrum_distance(sinusoid(4, 0), sinusoid(8, 0), DX) > 1.0
    with pytest.raises(ValueError, match="grid size"):
        M.spectrum_distance(field, field[:32, :32], DX)


# -- morphology ----------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0, 8, 3])  # 0: disks cut by both edges and the corners
def test_disk_lattice_components_and_euler(offset):
    field = lattice(offset=offset)
    assert M.connected_components(field) == 16
    assert M.euler_characteristic(field) == 16


def test_cut_disks_count_once_only_on_the_torus():
    field = lattice(offset=0)  # 9 disks cut into pieces by the edges
    assert M.connected_components(field, periodic=False) == 25
    assert M.euler_characteristic(field, periodic=False) == 25


def test_random_disks(rng):
    centres = [(0, 0), (63, 30), (20, 62), (32, 32), (10, 40)]
    field = disks(centres, 4)
    assert M.connected_components(field) == 5
    assert M.euler_characteristic(field) == 5


@pytest.mark.parametrize("m, k, stripes", [(3, 0, 3), (0, 5, 5), (4, 4, 4), (2, 1, 1), (4, 2, 2)])
def test_stripes_wrap_the_torus(m, k, stripes):
    field = sinusoid(m, k)  # gcd(m, k) stripes, each a loop around the torus
    assert M.connected_components(field) == stripes
    assert M.euler_characteristic(field) == 0


def test_holes_have_negative_euler_characteristic():
    holes = 1.0 - lattice(offset=0)
    assert M.connected_components(holes) == 1
    assert M.euler_characteristic(holes) == -16


def test_single_pixel_and_full_and_empty():
    one = np.zeros((8, 8))
    one[0, 0] = 1.0
    assert M.euler_characteristic(one) == 1 and M.connected_components(one) == 1
    full = np.ones((8, 8))
    assert M.euler_characteristic(full, threshold=0.5) == 0  # the torus
    assert M.connected_components(full, threshold=0.5) == 1
    assert M.euler_characteristic(full) == 0 and M.connected_components(full) == 0  # empty


def test_diagonal_touch_is_connected():
    field = np.zeros((8, 8))
    field[2, 2] = field[3, 3] = 1.0
    assert M.connected_components(field) == 1 and M.euler_characteristic(field) == 1
    field = np.zeros((8, 8))
    field[0, 0] = field[7, 7] = 1.0  # diagonal across the periodic corner
    assert M.connected_components(field) == 1 and M.euler_characteristic(field) == 1


def test_threshold_argument():
    field = lattice()
    batch = np.stack([field, field])
    assert list(M.connected_components(batch, threshold=[0.5, 2.0])) == [16, 0]
    with pytest.raises(ValueError, match="threshold"):
        M.connected_components(batch, threshold=[0.5, 0.5, 0.5])


# -- invariances (hypothesis) --------------------------------------------------------
fields = st.one_of(
    st.integers(0, 2**16).map(smooth_noise),
    st.sampled_from([lattice(offset=3), 1.0 - lattice(), sinusoid(3, 2), sinusoid(0, 5)]),
)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)  # reproducible
@given(field=fields, shift=st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)),
       turns=st.integers(0, 3), flip=st.booleans())
def test_invariance_under_shifts_and_rotations(field, shift, turns, flip):
    moved = np.rot90(np.roll(field, shift, axis=(0, 1)), turns)
    if flip:
        moved = moved.T
    assert M.dominant_wavelength(moved, DX) == pytest.approx(M.dominant_wavelength(field, DX),
                                                             rel=1e-9)
    assert M.connected_components(moved) == M.connected_components(field)
    assert M.euler_characteristic(moved) == M.euler_characteristic(field)
    assert M.spectral_entropy(moved, DX) == pytest.approx(M.spectral_entropy(field, DX), abs=1e-9)


# -- batches and return types -----------------------------------------------------------
SCALAR_METRICS = {
    "dominant_wavelength": lambda f: M.dominant_wavelength(f, DX),
    "spectral_entropy": lambda f: M.spectral_entropy(f, DX),
    "connected_components": M.connected_components,
    "euler_characteristic": M.euler_characteristic,
    "vrmse": lambda f: M.vrmse(f + 0.1 * np.cos(f), f),
    "pearson_correlation": lambda f: M.pearson_correlation(f ** 2, f),
    "pixel_histogram_distance": lambda f: M.pixel_histogram_distance(f, f ** 2),
    "spectrum_distance": lambda f: M.spectrum_distance(f, f ** 2, DX),
    "pde_residual": lambda f: M.pde_residual(GrayScott(0.03, 0.062), 1.0 - f, 0.1 * f, DX),
}


@pytest.mark.parametrize("name", sorted(SCALAR_METRICS))
def test_batch_agrees_with_single_fields(name):
    metric = SCALAR_METRICS[name]
    members = [smooth_noise(1), lattice(offset=2), sinusoid(3, 1), smooth_noise(2)]
    batch = np.stack(members).reshape(2, 2, N, N)
    result = metric(batch)
    assert isinstance(result, np.ndarray) and result.shape == (2, 2)
    single = [metric(f) for f in members]
    for value in single:  # the module's rule: a single field gives a numpy scalar
        assert np.shape(value) == () and isinstance(value, (np.floating, np.integer))
    np.testing.assert_allclose(result.reshape(-1), single, rtol=1e-12)
    expected_kind = "i" if name in ("connected_components", "euler_characteristic") else "f"
    assert result.dtype.kind == expected_kind


# -- forecast skill ------------------------------------------------------------------
def test_vrmse_known_values(rng):
    true = rng.standard_normal((3, N, N)) * 0.2 + 0.5
    np.testing.assert_array_equal(M.vrmse(true, true), 0.0)
    mean = np.broadcast_to(true.mean(axis=(-2, -1), keepdims=True), true.shape)
    np.testing.assert_allclose(M.vrmse(mean, true), 1.0, rtol=1e-5)
    assert M.vrmse(mean[0], true[0]) == pytest.approx(1.0, rel=1e-5)
    # scale: error of half the standard deviation everywhere
    shifted = true + 0.5 * true.std(axis=(-2, -1), keepdims=True)
    np.testing.assert_allclose(M.vrmse(shifted, true), 0.5, rtol=1e-5)


def test_vrmse_diverged_prediction_is_inf_not_error(rng):
    true = rng.standard_normal((N, N))
    pred = true.copy()
    pred[0, 0] = np.inf
    assert M.vrmse(pred, true) == np.inf
    with pytest.raises(ValueError, match="true"):
        M.vrmse(true, pred)


def test_correlation_time(rng):
    T = 10
    true = rng.standard_normal((T, N, N))
    pred = true.copy()
    pred[6:] = rng.standard_normal((4, N, N))  # decorrelates at frame 6
    assert M.correlation_time(pred, true) == 6
    assert M.correlation_time(true, true) == T
    batch_true = np.stack([true, true, true])  # (3, T, N, N)
    diverged = true.copy()
    diverged[2:] = np.nan  # a rollout that blew up at frame 2
    batch_pred = np.stack([pred, true, diverged])
    result = M.correlation_time(batch_pred, batch_true, threshold=0.9)
    assert result.dtype.kind == "i"
    np.testing.assert_array_equal(result, [6, T, 2])
    # a slowly degrading forecast: r_t ≈ 1/sqrt(1 + (t/3)^2), so r(2) ≈ 0.83, r(3) ≈ 0.71
    noisy = true + (np.arange(T)[:, None, None] / 3.0) * rng.standard_normal((T, N, N))
    assert M.correlation_time(noisy, true, threshold=0.8) == 3


def test_pearson_correlation(rng):
    f = rng.standard_normal((N, N))
    assert M.pearson_correlation(3 * f + 1, f) == pytest.approx(1.0)
    assert M.pearson_correlation(-f, f) == pytest.approx(-1.0)
    assert np.isnan(M.pearson_correlation(np.ones((N, N)), f))


# -- physics -------------------------------------------------------------------------
@pytest.mark.parametrize("stencil", ["5-point", "9-point"])
def test_steady_states_have_zero_residual(stencil):
    model = GrayScott(0.098, 0.057)
    states = model.steady_states()
    assert len(states) == 3
    for u0, v0 in states:
        u, v = np.full((N, N), u0), np.full((N, N), v0)
        assert M.pde_residual(model, u, v, DX, stencil) == pytest.approx(0.0, abs=1e-14)
    u, v = np.full((N, N), 1.0), np.zeros((N, N))
    assert M.pde_residual(model, u, v, DX, stencil) == 0.0  # exactly, for (1, 0)


def test_pde_residual_of_a_perturbation():
    model = GrayScott(0.03, 0.062)
    a, m = 1e-3, 4
    u = 1.0 + a * sinusoid(m, 0, phase=0.0)
    v = np.zeros((N, N))
    per_species = M.pde_residual(model, u, v, DX, per_species=True)
    assert per_species.shape == (2,) and per_species[1] == 0.0
    # ∂u/∂t = (D_u λ − F) a sin(qx), λ the 5-point Laplacian symbol; RMS of sin is 1/√2
    lam = (2 * np.cos(2 * np.pi * m / N) - 2) / DX**2
    assert per_species[0] == pytest.approx(abs(model.Du * lam - model.F) * a / np.sqrt(2), rel=1e-9)
    assert M.pde_residual(model, u, v, DX) == pytest.approx(np.hypot(*per_species))
    batch = M.pde_residual(model, np.stack([u, u, u]), np.stack([v, v, v]), DX, per_species=True)
    assert batch.shape == (3, 2)


# -- baselines and distributions -----------------------------------------------------
def test_phase_randomized_preserves_spectrum_and_mean(rng):
    field = lattice(offset=3) + 0.1 * rng.standard_normal((N, N))
    surrogate = M.phase_randomized(field, 7)
    assert surrogate.shape == field.shape and surrogate.dtype == np.float64
    np.testing.assert_allclose(np.abs(np.fft.fft2(surrogate)), np.abs(np.fft.fft2(field)),
                               rtol=1e-9, atol=1e-9)
    assert surrogate.mean() == pytest.approx(field.mean(), abs=1e-12)
    assert not np.allclose(surrogate, field)
    np.testing.assert_array_equal(surrogate, M.phase_randomized(field, 7))  # seeded
    q, p_field = M.radial_spectrum(field, DX)
    np.testing.assert_allclose(M.radial_spectrum(surrogate, DX)[1], p_field, rtol=1e-9, atol=1e-15)


def test_phase_randomized_batch_members_independent(rng):
    field = smooth_noise(3)
    out = M.phase_randomized(np.stack([field, field]), 1)
    assert out.shape == (2, N, N)
    assert not np.allclose(out[0], out[1])
    for member in out:
        np.testing.assert_allclose(np.abs(np.fft.fft2(member)), np.abs(np.fft.fft2(field)),
                                   rtol=1e-9, atol=1e-9)
    odd = M.phase_randomized(rng.standard_normal((33, 33)), 0)  # odd N
    assert odd.shape == (33, 33)


@pytest.mark.parametrize("field", [lattice(offset=0), lattice(offset=8)])
def test_phase_randomized_changes_morphology(field):
    # same spectrum, different morphology: the (components, χ) pair never survives
    for seed in range(5):
        surrogate = M.phase_randomized(field, seed)
        assert M.spectrum_distance(field, surrogate, DX) < 1e-6
        assert (M.connected_components(surrogate), M.euler_characteristic(surrogate)) != (16, 16)
        assert M.pixel_histogram_distance(field, surrogate) > 0.05


def test_pixel_histogram_distance(rng):
    a = rng.standard_normal((2, N, N))
    perm = rng.permutation(a.reshape(2, -1), axis=1).reshape(a.shape)
    np.testing.assert_allclose(M.pixel_histogram_distance(a, perm), 0.0, atol=1e-15)
    np.testing.assert_allclose(M.pixel_histogram_distance(a, a + 0.25), 0.25)
    np.testing.assert_allclose(M.pixel_histogram_distance(a, a + 0.25, bins=64), 0.25, atol=0.02)
    # different grid sizes and broadcasting batches
    small = a[:, :32, :32] + 1.0
    d = M.pixel_histogram_distance(a, small)
    assert d.shape == (2,) and np.all(np.abs(d - 1.0) < 0.1)
    assert M.pixel_histogram_distance(a, a[0]).shape == (2,)


# -- input validation ----------------------------------------------------------------
def test_validation_messages_name_the_argument():
    square = np.zeros((8, 8))
    with pytest.raises(ValueError, match="field.*square"):
        M.dominant_wavelength(np.zeros((8, 9)), DX)
    with pytest.raises(ValueError, match="field.*dimensions"):
        M.radial_spectrum(np.zeros(8), DX)
    with pytest.raises(ValueError, match="dx"):
        M.radial_spectrum(square, 0.0)
    with pytest.raises(ValueError, match="dx"):
        M.dominant_wavelength(square, -1.0)
    bad = square.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="field.*non-finite"):
        M.euler_characteristic(bad)
    with pytest.raises(ValueError, match="pred and true.*same shape"):
        M.vrmse(np.zeros((8, 8)), np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="u and v"):
        M.pde_residual(GrayScott(0.03, 0.06), square, np.zeros((4, 4)), DX)
    with pytest.raises(ValueError, match="true.*dimensions"):
        M.correlation_time(square, square)
    with pytest.raises(ValueError, match="nbins"):
        M.radial_spectrum(square, DX, nbins=0)
    with pytest.raises(ValueError, match="stencil"):
        M.pde_residual(GrayScott(0.03, 0.06), square, square, DX, stencil="7-point")
    with pytest.raises(ValueError, match="model"):
        M.pde_residual(None, square, square, DX)


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    field = smooth_noise(4)
    tensor = torch.tensor(field, dtype=torch.float32, requires_grad=True)
    assert M.dominant_wavelength(tensor, DX) == pytest.approx(
        M.dominant_wavelength(field.astype(np.float32), DX))
    assert M.connected_components(tensor) == M.connected_components(field.astype(np.float32))
    assert M.vrmse(tensor, torch.tensor(field)) == pytest.approx(0.0, abs=1e-6)
    assert isinstance(M.phase_randomized(tensor, 0), np.ndarray)
