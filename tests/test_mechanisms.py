"""The analogy's measurements (chapter 7): correlations, gates, chemistry, drift per scale."""
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers import metrics
from turing_helpers.evaluation import mechanisms
from turing_helpers.models.convlstm import ConvLSTM, ConvLSTMConfig
from turing_helpers.models.ddpm import DDPM, DiffusionConfig
from turing_helpers.models.unet import UNetConfig

DX = 2 / 128


def smooth_fields(seed, count=40, n=32, width=3.0):
    noise = np.random.default_rng(seed).normal(size=(count, n, n))
    q2 = np.fft.fftfreq(n)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2
    return np.fft.ifft2(np.fft.fft2(noise) * np.exp(-q2 * (n / width) ** 2)).real


# -- correlations ---------------------------------------------------------------------------------
def test_correlation_is_plus_and_minus_one_on_constructed_fields():
    a = smooth_fields(0)
    np.testing.assert_allclose(mechanisms.field_correlation(a, 3 * a + 2), 1.0, atol=1e-12)
    np.testing.assert_allclose(mechanisms.field_correlation(a, -0.5 * a + 1), -1.0, atol=1e-12)
    # r(a, a²) is not ±1: the measure is linear correlation, not dependence
    assert np.all(np.abs(mechanisms.field_correlation(a, a**2)) < 0.99)


def test_correlation_of_a_constant_field_is_undefined_not_zero():
    a = smooth_fields(1, count=3)
    b = a.copy()
    b[1] = 0.7
    r = mechanisms.field_correlation(a, b)
    assert np.isfinite(r[[0, 2]]).all() and np.isnan(r[1])


def test_shuffled_and_shifted_baselines_are_near_zero_for_independent_fields():
    a, b = smooth_fields(2, count=400), smooth_fields(3, count=400)
    rng = np.random.default_rng(0)
    shuffled = rng.permuted(a.reshape(400, -1), axis=1).reshape(a.shape)
    assert abs(np.mean(mechanisms.field_correlation(a, shuffled))) < 0.01
    assert np.quantile(np.abs(mechanisms.field_correlation(a, shuffled)), 0.9) < 0.1
    # a field against its own shifted copy: the alignment is broken, the structure kept (for
    # fields whose correlation length is well below the box; box-scale modes anticorrelate at
    # half-box shifts, which is why the chapter uses the baseline's spread, not its mean)
    fine = smooth_fields(8, count=400, width=8.0)
    shifted = mechanisms.shifted_correlation(fine, fine, seed=1)
    assert abs(np.mean(shifted)) < 0.05
    # smooth unrelated fields correlate by chance more than shuffled ones: the reason for the shift
    assert np.quantile(np.abs(mechanisms.field_correlation(a, b)), 0.9) > \
        3 * np.quantile(np.abs(mechanisms.field_correlation(a, shuffled)), 0.9)


def test_gate_chemistry_finds_the_tracking_channel_and_its_sign():
    field = smooth_fields(4, count=30)                               # (N, n, n)
    noise = smooth_fields(5, count=30)
    gates = np.stack([field, -2 * field + 1, noise], axis=1)         # (N, 3, n, n)
    out = mechanisms.gate_chemistry({"i": gates}, {"v": field}, seed=0)["i"]["v"]
    np.testing.assert_allclose(out["median"][:2], [1.0, -1.0], atol=1e-12)
    assert abs(out["median"][2]) < out["baseline_abs_high"][2]       # the unrelated channel is chance
    assert out["r"].shape == (3, 30) and out["undefined"].tolist() == [0, 0, 0]
    # the shift-permutation test: the tracking channels at the smallest p, the unrelated one not
    smallest = 1 / (1 + out["offsets"])
    np.testing.assert_allclose(out["p"][:2], smallest)
    assert out["p"][2] > 5 * smallest
    with pytest.raises(ValueError, match="chemistry"):
        mechanisms.gate_chemistry({"i": gates}, {"v": field[:, :8]})
    with pytest.raises(ValueError, match=r"gates\['i'\]"):
        mechanisms.gate_chemistry({"i": field}, {"v": field})


def test_shift_correlation_maps_agree_with_rolled_correlations():
    a, b = smooth_fields(6, count=3), smooth_fields(7, count=3)
    b[1] = 0.5                                                     # a constant field: NaN everywhere
    maps = mechanisms.shift_correlation_maps(a, b)
    for dy, dx in ((0, 0), (3, 5), (7, 1)):
        rolled = mechanisms.field_correlation(a, np.roll(b, (dy, dx), axis=(-2, -1)))
        np.testing.assert_allclose(maps[:, dy, dx][[0, 2]], rolled[[0, 2]], atol=1e-12)
    assert np.isnan(maps[1]).all()


def test_permutation_p_values_are_uniform_for_unrelated_fields():
    """The test's size: channels unrelated to the field give p-values spread like a uniform
    draw on the offsets' grid (not piled up at the smallest value)."""
    field = smooth_fields(10, count=20, width=4.0)
    gates = np.stack([smooth_fields(20 + ch, count=20, width=4.0) for ch in range(40)], axis=1)
    p = mechanisms.gate_chemistry({"f": gates}, {"u": field})["f"]["u"]["p"]
    assert 0.3 < np.mean(p) < 0.7 and np.mean(p <= 0.05) <= 0.15


def test_field_correlation_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        mechanisms.field_correlation(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))


# -- the chemistry and the gates ------------------------------------------------------------------
def test_gray_scott_fields_are_the_euler_steps_terms():
    model = th.preset("worms")
    rng = np.random.default_rng(0)
    x = np.stack([rng.uniform(0.3, 1, (3, 16, 16)), rng.uniform(0, 0.4, (3, 16, 16))], axis=1)
    chem = mechanisms.gray_scott_fields(model, x, DX, 1.0)
    np.testing.assert_allclose(chem["a_u"], 1 - (model.F + x[:, 1] ** 2))
    np.testing.assert_allclose(chem["decay_u"], model.F + x[:, 1] ** 2)
    u1, v1 = th.simulate(model, x[:, 0], x[:, 1], steps=1, dt=1.0, dx=DX)
    a_v = 1 - (model.F + model.k)
    np.testing.assert_allclose(a_v * x[:, 1] + chem["b_v"], v1, atol=1e-15)


def test_teacher_forced_gates_are_the_rollouts_gates():
    torch.manual_seed(0)
    model = ConvLSTM(ConvLSTMConfig(hidden=4, embed=4, decoder=8)).eval()
    frames = np.random.default_rng(0).uniform(0, 1, (2, 5, 2, 12, 12)).astype(np.float32)
    gates = mechanisms.teacher_forced_gates(model, frames)
    with torch.no_grad():
        _, own = model.rollout(torch.from_numpy(frames), 1, return_gates=True)
    for name in ("i", "f", "g", "c"):
        assert gates[name].shape == (2, 5, 4, 12, 12)
        np.testing.assert_array_equal(gates[name], own[name].numpy())


# -- the DDPM's drift per scale -------------------------------------------------------------------
def test_cross_spectrum_is_the_power_spectrum_on_the_diagonal_and_linear():
    f, g = smooth_fields(6, count=4), smooth_fields(7, count=4)
    q, power = metrics.radial_spectrum(f, DX)
    _, cross = metrics.radial_cross_spectrum(f, f, DX)
    np.testing.assert_allclose(cross, power, rtol=1e-12, atol=1e-20)
    _, fg = metrics.radial_cross_spectrum(f, g, DX)
    _, f2g = metrics.radial_cross_spectrum(2 * f + 5, g, DX)   # the mean drops out; linear in a
    np.testing.assert_allclose(f2g, 2 * fg, rtol=1e-10, atol=1e-20)
    with pytest.raises(ValueError, match="same shape"):
        metrics.radial_cross_spectrum(f, g[:, :16, :16], DX)


@pytest.fixture(scope="module")
def tiny_ddpm():
    torch.manual_seed(0)
    return DDPM(DiffusionConfig(timesteps=50, unet=UNetConfig(base=8, mults=(1, 2), groups=4))).eval()


def test_drift_feedback_adds_up_to_the_deterministic_steps_gain(tiny_ddpm):
    """a + drift_gain per shell equals the gain of (a x_t + b) on x_t, computed independently."""
    ddpm, t = tiny_ddpm, 30
    x0 = np.random.default_rng(0).uniform(0, 0.5, (4, 2, 16, 16)).astype(np.float32)
    out = mechanisms.drift_feedback(ddpm, x0, 0, t, seed=3, dx=DX)
    generator = torch.Generator().manual_seed(3)
    clean = ddpm.normalize(torch.from_numpy(x0))
    noise = torch.randn(clean.shape, generator=generator)
    abar = ddpm.alphas_cumprod[t]
    x_t = abar.sqrt() * clean + (1 - abar).sqrt() * noise
    labels = ddpm.labels(0, 4)
    mean, _ = ddpm.q_posterior(ddpm.model_predictions(x_t, torch.full((4,), t), labels)[1], x_t,
                               torch.full((4,), t))
    v_t, v_mean = x_t[:, 1].double().numpy(), mean[:, 1].detach().double().numpy()
    _, cross = metrics.radial_cross_spectrum(v_mean, v_t, DX)
    _, power = metrics.radial_spectrum(v_t, DX)
    expected = cross.mean(axis=0)[1:] / power.mean(axis=0)[1:]
    np.testing.assert_allclose(out["a"] + out["drift_gain"][1:], expected, rtol=1e-5)
    assert out["a"] > 1 and out["sigma"] > 0 and np.isnan(out["drift_gain"][0])
    with pytest.raises(ValueError, match="x0"):
        mechanisms.drift_feedback(ddpm, x0[:, :1], 0, t)


def test_wiener_reference_lies_between_the_schedules_two_limits(tiny_ddpm):
    ddpm, t = tiny_ddpm, 20
    x0 = np.random.default_rng(1).uniform(0, 0.5, (4, 2, 16, 16)).astype(np.float32)
    out = mechanisms.drift_feedback(ddpm, x0, 1, t, seed=0, dx=DX)
    assert out["pure_signal_gain"] == pytest.approx(out["a"], rel=1e-6)  # the "eps" factor is 1/√α_t
    assert out["pure_noise_gain"] == pytest.approx(float(ddpm.posterior_mean_coef2[t]))
    wiener = out["wiener_gain"][1:]
    assert np.all((wiener >= out["pure_noise_gain"] - 1e-12) & (wiener <= out["pure_signal_gain"] + 1e-12))
    flat = np.full_like(x0, 0.3)                                     # no signal at any scale
    none = mechanisms.drift_feedback(ddpm, flat, 1, t, seed=0, dx=DX)
    np.testing.assert_allclose(none["wiener_gain"][1:], none["pure_noise_gain"], rtol=1e-12)
