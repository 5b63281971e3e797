"""Tests of the DDPM (chapter 5): schedules, forward process, periodic U-Net, samplers,
checkpoints, and the shipped model's quality on fresh solver patterns."""
import numpy as np
import pytest
import torch

from turing_helpers.checkpoints import SHIPPED_DIR, CheckpointError, load_checkpoint, save_checkpoint
from turing_helpers.data import WELL_CLASSES
from turing_helpers.models.ddpm import (DDPM, EMA, DiffusionConfig, cosine_beta_schedule, from_checkpoint,
                                        linear_beta_schedule)
from turing_helpers.models.unet import UNet, UNetConfig

TINY = DiffusionConfig(timesteps=50, unet=UNetConfig(base=8, mults=(1, 2), groups=4))


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    model = DDPM(TINY).eval()
    # a non-zero head, so outputs depend on the input (the head starts at zero)
    torch.nn.init.normal_(model.model.head[-1].weight, std=0.1)
    return model


# -- schedules ---------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", [cosine_beta_schedule, linear_beta_schedule])
@pytest.mark.parametrize("T", [10, 1000])
def test_schedule_properties(schedule, T):
    betas = schedule(T)
    assert betas.dtype == np.float64 and betas.shape == (T,)
    assert np.all((betas > 0) & (betas < 1))
    alphas_cumprod = np.cumprod(1 - betas)
    assert np.all(np.diff(alphas_cumprod) < 0)  # ᾱ strictly decreasing
    assert np.all((alphas_cumprod > 0) & (alphas_cumprod < 1))


def test_cosine_schedule_matches_its_formula():
    T, s = 1000, 0.008
    alphas_cumprod = np.cumprod(1 - cosine_beta_schedule(T, s))
    t = np.arange(1, T + 1) / T
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2 / np.cos(s / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(alphas_cumprod[:-1], f[:-1], rtol=1e-10)  # the last β is clipped
    assert alphas_cumprod[-1] < 1e-4  # x_T is (almost) pure noise


def test_buffers_are_float32(tiny):
    assert tiny.alphas_cumprod.dtype == torch.float32
    np.testing.assert_allclose(tiny.alphas_cumprod.numpy(), np.cumprod(1 - cosine_beta_schedule(50)), rtol=1e-6)


# -- forward process -----------------------------------------------------------------------
def test_q_sample_statistics(tiny):
    torch.manual_seed(1)
    x0 = torch.full((4000, 2, 4, 4), 0.6)
    t = torch.full((4000,), 20, dtype=torch.long)
    x_t = tiny.q_sample(x0, t)
    a = tiny.alphas_cumprod[20].item()
    assert abs(x_t.mean().item() - np.sqrt(a) * 0.6) < 0.01
    assert abs(x_t.var().item() - (1 - a)) < 0.01


def test_predict_start_inverts_q_sample(tiny):
    x0 = torch.rand(3, 2, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([0, 25, 49])
    x_t = tiny.q_sample(x0, t, noise)
    torch.testing.assert_close(tiny.predict_start_from_noise(x_t, t, noise), x0, atol=2e-3, rtol=1e-3)


def test_v_parameterisation_is_consistent(tiny):
    x0 = torch.rand(3, 2, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([1, 25, 49])
    x_t = tiny.q_sample(x0, t, noise)
    v = tiny.predict_v(x0, t, noise)
    torch.testing.assert_close(tiny.predict_start_from_v(x_t, t, v), x0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(tiny.predict_noise_from_start(x_t, t, x0), noise, atol=2e-3, rtol=1e-3)


@pytest.mark.parametrize("objective", ["eps", "v"])
def test_both_objectives_sample(objective):
    model = DDPM(DiffusionConfig(timesteps=20, objective=objective, unet=TINY.unet)).eval()
    assert model.sample(1, 0, size=8, steps=3, seed=0).shape == (1, 2, 8, 8)


def test_old_checkpoint_config_means_eps():
    d = TINY.to_dict()
    del d["objective"]
    assert DiffusionConfig.from_dict(d).objective == "eps"


def test_normalisation_round_trip(tiny, rng):
    x = torch.from_numpy(rng.uniform(0, 0.6, (2, 2, 8, 8)).astype(np.float32))
    torch.testing.assert_close(tiny.unnormalize(tiny.normalize(x)), x)
    assert tiny.normalize(torch.tensor([[[[1.0]], [[0.6]]]])).flatten().tolist() == pytest.approx([1, 1])


# -- periodic U-Net ---------------------------------------------------------------------
@pytest.mark.parametrize("shift", [(4, 0), (0, 8), (12, -4)])
def test_unet_is_exactly_periodic_equivariant(shift):
    torch.manual_seed(0)
    net = UNet(UNetConfig(base=8, mults=(1, 2, 2), groups=4)).eval()
    torch.nn.init.normal_(net.head[-1].weight, std=0.1)
    x = torch.randn(2, 2, 16, 16)
    t, c = torch.tensor([3, 700]), torch.tensor([0, 6])
    with torch.no_grad():
        out = net(x, t, c)
        rolled = net(torch.roll(x, shift, dims=(-2, -1)), t, c)
    assert out.abs().max() > 0.01
    torch.testing.assert_close(rolled, torch.roll(out, shift, dims=(-2, -1)), atol=1e-5, rtol=1e-5)


def test_unet_any_size_and_shape():
    net = UNet(UNetConfig(base=8, mults=(1, 2, 2), groups=4)).eval()
    for n in (8, 20, 64):
        assert net(torch.randn(1, 2, n, n), torch.tensor([5]), torch.tensor([1])).shape == (1, 2, n, n)


@pytest.mark.parametrize("shape", [(1, 3, 16, 16), (2, 16, 16), (1, 2, 16, 12), (1, 2, 18, 18)])
def test_unet_rejects_bad_shapes(shape):
    net = UNet(UNetConfig(base=8, mults=(1, 2, 2), groups=4))
    with pytest.raises(ValueError, match="x must"):
        net(torch.randn(*shape), torch.tensor([1]), torch.tensor([0]))


# -- sampling --------------------------------------------------------------------------------
def test_sample_shapes_units_and_sizes(tiny):
    for size in (8, 24):
        out = tiny.sample(3, "maze", size=size, steps=4, seed=0)
        assert isinstance(out, np.ndarray) and out.shape == (3, 2, size, size) and out.dtype == np.float32
        assert out[:, 0].min() >= 0 and out[:, 0].max() <= 1  # u in its physical range
        assert out[:, 1].min() >= 0 and out[:, 1].max() <= 0.6 + 1e-6


def test_ddim_is_deterministic_for_a_seed(tiny):
    a = tiny.sample(2, 1, size=8, steps=5, seed=3)
    b = tiny.sample(2, 1, size=8, steps=5, seed=3)
    c = tiny.sample(2, 1, size=8, steps=5, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_ddpm_ancestral_and_frames(tiny):
    out, frames = tiny.sample(1, 0, size=8, steps=TINY.timesteps, method="ddpm", seed=0, frames=6)
    assert out.shape == (1, 2, 8, 8) and frames.shape == (6, 1, 2, 8, 8)
    np.testing.assert_allclose(frames[-1], out, atol=1e-6)


def test_guidance_runs(tiny):
    assert tiny.sample(1, 2, size=8, steps=3, seed=0, guidance=2.0).shape == (1, 2, 8, 8)


def test_network_in_cpu_chunks_matches_one_pass(tiny, monkeypatch):
    """Sampling evaluates the U-Net a few fields at a time on a CPU (for the cache): a chunk
    boundary may change a number only by float32 round-off, in a pass or in a whole guided,
    noisy sampling run (the noise is drawn for the whole batch either way)."""
    import turing_helpers.models.ddpm as ddpm_module

    x = torch.randn(2 * ddpm_module.CPU_CHUNK + 3, 2, 8, 8)  # two full chunks and a short one
    t, labels = torch.arange(len(x)) % TINY.timesteps, torch.arange(len(x)) % 7
    with torch.no_grad():
        torch.testing.assert_close(tiny.network(x, t, labels), tiny.model(x, t, labels), rtol=1e-5, atol=1e-5)
    chunked = tiny.sample(len(x), 1, size=8, steps=4, seed=2, guidance=2.0, eta=1.0)
    monkeypatch.setattr(ddpm_module, "CPU_CHUNK", 10 ** 6)
    whole = tiny.sample(len(x), 1, size=8, steps=4, seed=2, guidance=2.0, eta=1.0)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    assert not np.allclose(chunked[0], chunked[-1])  # the fields are not all one


# -- DPM-Solver++ -----------------------------------------------------------------------------
GAUSSIAN_STD = 0.3  # data x_0 ~ N(0, 0.3²): the optimal denoiser and the ODE's solution are exact


def _gaussian_sampler(x, times, alphas_cumprod, second_order=True, eta=0.0, generator=None):
    """Run dpm_solver_update with the exact x̂_0 of Gaussian data, E[x_0 | x_t] = √ᾱ s² x_t / (ᾱ s² + 1 − ᾱ)."""
    from turing_helpers.models.ddpm import dpm_solver_update

    s2, previous = GAUSSIAN_STD ** 2, None
    for i, t in enumerate(times):
        a = float(alphas_cumprod[t])
        a_next = float(alphas_cumprod[times[i + 1]]) if i + 1 < len(times) else 1.0
        x0 = a ** 0.5 * s2 / (a * s2 + 1 - a) * x
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else None
        x = dpm_solver_update(x, x0, a, a_next, previous if second_order else None, eta, noise)
        previous = (x0, a)
    return x


def test_dpm_solver_is_second_order_on_gaussian_data():
    """The probability-flow ODE maps x_T to s x_T / √(ᾱ_T s² + 1 − ᾱ_T) for Gaussian data. With
    quadratic spacing DPM-Solver++(2M) converges at second order, DDIM (the same update without
    the previous x̂_0) at first, and 20 solver steps beat 100 uniform DDIM steps (the shipped
    sampler). Uniform spacing breaks the second order (the reason sample() does not use it)."""
    model = DDPM(DiffusionConfig(unet=TINY.unet))  # the shipped schedule: cosine, T = 1000
    a_T = float(model.alphas_cumprod[-1])
    exact = GAUSSIAN_STD / (a_T * GAUSSIAN_STD ** 2 + 1 - a_T) ** 0.5
    x_T = torch.ones(1, dtype=torch.float64)

    def error(steps, spacing, second_order=True):
        times = model.sampling_times(steps, spacing=spacing)
        return abs(float(_gaussian_sampler(x_T, times, model.alphas_cumprod, second_order)) / exact - 1)

    solver = [error(n, "quadratic") for n in (20, 40, 80)]
    ddim = [error(n, "quadratic", second_order=False) for n in (20, 40, 80)]
    assert solver[0] / solver[1] > 3.5 and solver[1] / solver[2] > 3.5      # halving h: error / 4
    assert 1.7 < ddim[0] / ddim[1] < 2.3 and 1.7 < ddim[1] / ddim[2] < 2.3  # error / 2
    assert solver[0] < 0.02 < error(100, "uniform", second_order=False)
    assert error(20, "uniform") > 5 * solver[0]


def test_dpm_solver_sde_samples_the_right_variance():
    """With η = 1 (fresh noise every step) the samples of Gaussian data have its variance."""
    model = DDPM(DiffusionConfig(unet=TINY.unet))
    generator = torch.Generator().manual_seed(0)
    x_T = torch.randn(100_000, generator=generator, dtype=torch.float64)
    times = model.sampling_times(50, spacing="quadratic")
    x_0 = _gaussian_sampler(x_T, times, model.alphas_cumprod, eta=1.0, generator=generator)
    assert float(x_0.std()) == pytest.approx(GAUSSIAN_STD, rel=0.03)


def test_dpm_solver_first_step_is_the_ddim_step(tiny):
    """Without a previous x̂_0 the update is DDIM's (both solve the ODE exactly for constant x̂_0)."""
    x, labels = torch.randn(3, 2, 8, 8), torch.tensor([0, 2, 5])
    ddim, _ = tiny.ddim_step(x, 40, 30, labels)
    solver, (x0, alpha_bar) = tiny.dpm_solver_step(x, 40, 30, labels)
    torch.testing.assert_close(solver, ddim, rtol=1e-4, atol=1e-5)
    assert alpha_bar == pytest.approx(float(tiny.alphas_cumprod[40]))


def test_dpm_solver_sampling(tiny):
    a = tiny.sample(2, "maze", size=8, steps=6, seed=3, method="dpm++")
    assert a.shape == (2, 2, 8, 8) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, tiny.sample(2, "maze", size=8, steps=6, seed=3, method="dpm++"))
    assert not np.allclose(a, tiny.sample(2, "maze", size=8, steps=6, seed=3))  # not DDIM
    noisy = tiny.sample(2, "maze", size=8, steps=6, seed=3, method="dpm++", eta=1.0, guidance=2.0)
    assert np.isfinite(noisy).all() and not np.allclose(a, noisy)
    with pytest.raises(ValueError, match="spacing"):
        tiny.sampling_times(5, spacing="cubic")


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must"), ({"size": 9}, "size must"), ({"size": 0}, "size must"),
    ({"steps": 0}, "steps must"), ({"steps": 51}, "steps must"), ({"method": "euler"}, "method must"),
    ({"method": "ddpm", "steps": 10}, "steps must be 50"), ({"label": 6}, "label must"),
    ({"label": "zebras"}, "label must"), ({"eta": -1.0}, "eta must"),
])
def test_sample_rejects_bad_input(tiny, kwargs, match):
    arguments = {"n": 1, "label": 0, "size": 8, "steps": 2, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        tiny.sample(**arguments)


def test_bad_configs():
    with pytest.raises(ValueError, match="objective"):
        DDPM(DiffusionConfig(objective="x0", unet=TINY.unet))
    with pytest.raises(ValueError, match="schedule"):
        DDPM(DiffusionConfig(schedule="quadratic", unet=TINY.unet))
    with pytest.raises(ValueError, match="timesteps"):
        cosine_beta_schedule(0)
    with pytest.raises(ValueError, match="decay"):
        EMA(torch.nn.Linear(1, 1), decay=1.0)


def test_training_loss_falls_and_ema_follows(tiny):
    torch.manual_seed(0)
    tiny.train()
    x0 = torch.sin(torch.arange(8.0) * np.pi / 2).expand(8, 2, 8, 8).contiguous()  # a stripe pattern
    y = torch.zeros(8, dtype=torch.long)
    ema = EMA(tiny, decay=0.9)
    optimizer = torch.optim.Adam(tiny.parameters(), lr=3e-3)
    t = torch.randint(0, TINY.timesteps, (8,))
    noise = torch.randn_like(x0)
    first = tiny.p_losses(x0, y, t, noise).item()
    for _ in range(40):
        loss = tiny.p_losses(x0, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.update(tiny)
    assert tiny.p_losses(x0, y, t, noise).item() < 0.7 * first
    moved = [not torch.equal(a, b) for a, b in zip(ema.model.parameters(), tiny.parameters())]
    assert any(moved)  # the average lags the raw weights


# -- checkpoints -----------------------------------------------------------------------------
def test_checkpoint_round_trip_and_rejection(tiny, tmp_path):
    ema = EMA(tiny)
    path = save_checkpoint(tmp_path / "ddpm.pt", kind="ddpm",
                           state={"model": tiny.state_dict(), "ema": ema.state_dict(), "config": TINY.to_dict()})
    loaded = from_checkpoint(load_checkpoint(path, "ddpm"))
    assert not loaded.training and loaded.config == TINY
    np.testing.assert_array_equal(loaded.sample(1, 0, size=8, steps=3, seed=1), tiny.sample(1, 0, size=8, steps=3, seed=1))
    with pytest.raises(CheckpointError, match="convlstm"):
        load_checkpoint(path, "convlstm")
    payload = torch.load(path, weights_only=True)
    payload["version"] = "9.9.9"  # a later release of the package: still the same format
    torch.save(payload, tmp_path / "release.pt")
    assert load_checkpoint(tmp_path / "release.pt", "ddpm")["version"] == "9.9.9"
    payload["format"] = "turing_helpers.checkpoint/0"
    torch.save(payload, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match=r"format 'turing_helpers.checkpoint/0'.*retrain"):
        load_checkpoint(tmp_path / "old.pt", "ddpm")
    payload["format"], payload["kind"] = load_checkpoint(path, "ddpm")["format"], "convlstm"
    with pytest.raises(CheckpointError):
        from_checkpoint(payload)


# -- the shipped model on fresh solver patterns --------------------------------------------------
SHIPPED = SHIPPED_DIR / "ddpm.pt"
# Thresholds of issue 5 (per class): dominant wavelength within 3% of the solver's, component
# density within 15%, and better than the phase-randomised surrogate on the morphology metrics.
WAVELENGTH_TOLERANCE, DENSITY_TOLERANCE = 0.03, 0.15
# The solver never leaves a bubbles, maze, worms or spots field uniform, and the training and
# reference sets hold developed patterns only; a sample that stays uniform is a miss of the
# model. It is left out of the morphology means (its "topology" is that of rounding noise)
# and counted here instead: at most 5% of the samples (3 of 64) may be uniform.
ALIVE_FRACTION = 0.95
# Sets of 64 fields: on a 48² box a class's patterns vary a lot from seed to seed (a bubbles
# box holds one to seven bubbles), so 32 against 32 put the solver's own two halves up to 5%
# apart in wavelength and 15% in component density — the size of the targets.
SAMPLES, REFERENCE = 64, 64
# Classes that fail after the best effort, with the numbers measured ({name: reason}). None at
# present: with 100 DDIM steps and the sampling defaults chosen on validation patterns, every
# class passed here (reference seed 11). benchmarks/ddpm_eval.py (reference seed 9) finds one
# near miss, the bubbles' wavelength at 3.3%.
KNOWN_FAILURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def shipped_ddpm():
    if not SHIPPED.exists():
        pytest.skip("no shipped checkpoint; train it with `python -m turing_helpers.train ddpm`")
    from turing_helpers.models import load_pretrained

    return load_pretrained("ddpm")  # torch's threads: the environment's (`make test` runs workers of one)


@pytest.mark.slow  # 1-4 min a class on 2 cores (64 samples of 100 DDIM steps): `make quick` leaves it out
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[n], strict=False))
                                  if n in KNOWN_FAILURES else n for n in WELL_CLASSES])
def test_shipped_model_quality(shipped_ddpm, name):
    """One class per test, so parallel workers share the classes: the reference patterns are
    those of all six classes (base seed 11; generated once, ~20 s, then cached), the class's
    own half-sets as in the full table. Fresh seeds: reference base seed 11 and sample seed 100
    are used nowhere in training, nor in choosing the sampling defaults (validation base seed 5)."""
    from turing_helpers.evaluation.ddpm import SAMPLING_STEPS, quality_table

    entry = quality_table(shipped_ddpm, samples_per_class=SAMPLES, reference_per_class=REFERENCE,
                          steps=SAMPLING_STEPS, seed=100, reference_seed=11, classes=(name,))[name]
    model, surrogate = entry["model"], entry["surrogate"]
    assert model["alive"] >= ALIVE_FRACTION, f"{name}: {1 - model['alive']:.0%} of the samples are uniform"
    assert model["wavelength_error"] < WAVELENGTH_TOLERANCE, f"{name}: wavelength off by {model['wavelength_error']:.1%}"
    assert model["components_error"] < DENSITY_TOLERANCE, f"{name}: component density off by {model['components_error']:.1%}"
    for metric in ("histogram_distance", "components_error", "euler_error"):
        assert model[metric] < surrogate[metric], (f"{name}: {metric} {model[metric]:.4g} not better than the "
                                                   f"surrogate's {surrogate[metric]:.4g}")


# -- the training entry point ---------------------------------------------------------------------
def test_trainer_logs_decays_and_resumes_from_the_shipped_form(tmp_path, monkeypatch):
    """A run, then a resume from its final (EMA-only) file: the log continues, the learning
    rate warms up again and the history records the resumed phase; then a tuning-only resume,
    and a retraining that voids the tuned sampling defaults."""
    import turing_helpers.training.ddpm as trainer
    from turing_helpers.train import main

    rng = np.random.default_rng(0)

    def tiny_dataset(config, progress=False):  # no solver runs: random fields in the physical ranges
        fields = (rng.uniform(0, 1, (12, 2, 8, 8)) * np.array([1.0, 0.6])[None, :, None, None]).astype(np.float32)
        labels = np.arange(12) % 6
        return (fields[:10], labels[:10]), (fields[10:], labels[10:]), {"size": 8, "train_fields": 10}

    monkeypatch.setattr(trainer, "build_dataset", tiny_dataset)
    out = tmp_path / "ddpm.pt"
    common = ["ddpm", "--base", "8", "--batch", "2", "--log-every", "2", "--eval-samples", "0", "--quiet",
              "--out", str(out)]
    main(common + ["--steps", "4"])
    first = load_checkpoint(out, "ddpm")
    assert first["step"] == 4 and "model" not in first and "optimizer" not in first  # the shipped form
    assert [e["step"] for e in first["log"]] == [2, 4] and all(np.isfinite(e["val_loss"]) for e in first["log"])
    assert first["log"][0]["lr"] < first["log"][1]["lr"] <= 1e-3  # warm-up
    for key in ("config", "seed", "data", "training_seconds", "machine", "metrics", "hyperparameters"):
        assert key in first, key

    main(common + ["--steps", "8", "--resume", "--ema-decay", "0.9", "--lr-final", "1e-5"])
    resumed = load_checkpoint(out, "ddpm")
    assert resumed["step"] == 8 and [e["step"] for e in resumed["log"]] == [2, 4, 6, 8]
    phase = resumed["history"][-1]
    assert phase["step"] == 4 and phase["resumed"]["raw_weights_from_ema"] and phase["resumed"]["adam_restarted"]
    assert phase["resumed"]["lr_final"] == 1e-5 and phase["before"] == first["hyperparameters"]
    assert resumed["ema"]["decay"] == 0.9  # the command line sets the decay of the resumed run
    assert resumed["log"][2]["lr"] == pytest.approx(first["log"][0]["lr"])  # Adam restarted: warm-up again
    assert resumed["sampling"] == {}  # nothing tuned yet: plain conditional DDIM

    # the sampler is chosen by its own command, which touches neither the weights nor the recipe
    import turing_helpers.evaluation.ddpm as evaluation
    from turing_helpers.tune_sampling import main as tune

    monkeypatch.setattr(evaluation, "developed_patterns", lambda *a, **k: (
        np.tile(rng.uniform(0.1, 0.5, (1, 2, 48, 48)).astype(np.float32), (12, 1, 1, 1)), np.arange(12) % 6, 1.0))
    monkeypatch.setattr(evaluation, "SAMPLING_CANDIDATES", ((1.0, 0.0), (2.0, 1.0)))
    tune(["--checkpoint", str(out), "--samples", "2", "--reference", "2", "--eval-samples", "0", "--quiet"])
    tuned = load_checkpoint(out, "ddpm")
    assert tuned["step"] == 8 and tuned["history"] == resumed["history"]
    assert tuned["hyperparameters"] == resumed["hyperparameters"]
    for key in ("ema", "log", "config", "training_seconds"):
        assert str(tuned[key]) == str(resumed[key]), key
    assert set(tuned["sampling"]) == set(WELL_CLASSES)
    for name, choice in tuned["sampling"].items():
        assert [choice["guidance"], choice["eta"]] in ([1.0, 0.0], [2.0, 1.0])
        rows = tuned["sampling_tuning"]["scores"][name]
        assert len(rows) == 2 and min(rows, key=lambda r: r[2])[:2] == [choice["guidance"], choice["eta"]]
    assert from_checkpoint(tuned).sampling == tuned["sampling"]
    main(common + ["--resume", "--minutes", "1e-6"])  # nothing trained: the choice stays
    assert load_checkpoint(out, "ddpm")["sampling"] == tuned["sampling"]
    main(common + ["--steps", "10", "--resume", "--minutes", "45"])  # new weights: the choice is void
    retrained = load_checkpoint(out, "ddpm")
    assert retrained["step"] == 10 and retrained["sampling"] == {} and len(retrained["history"]) == 2


def test_sampling_defaults(tiny):
    plain = tiny.sample(2, "maze", size=8, steps=4, seed=0)
    tiny.set_sampling({"maze": {"guidance": 2.0, "eta": 1.0}})
    np.testing.assert_array_equal(tiny.sample(2, "maze", size=8, steps=4, seed=0),
                                  tiny.sample(2, "maze", size=8, steps=4, seed=0, guidance=2.0, eta=1.0))
    np.testing.assert_array_equal(tiny.sample(2, "maze", size=8, steps=4, seed=0, guidance=1.0, eta=0.0), plain)
    np.testing.assert_array_equal(tiny.sample(2, "spots", size=8, steps=4, seed=0),     # not listed: plain
                                  tiny.sample(2, "spots", size=8, steps=4, seed=0, guidance=1.0, eta=0.0))
    assert tiny.sampling_defaults("maze") == tiny.sampling_defaults(2) == {"guidance": 2.0, "eta": 1.0}
    assert tiny.sampling_defaults("spots") == {"guidance": 1.0, "eta": 0.0}
    assert tiny.labels("maze", 3).tolist() == [2, 2, 2]
    for bad, match in [({"zebras": {}}, "unknown class"), ({"maze": {"w": 2}}, "only"),
                       ({"maze": {"eta": -1}}, "eta"), ({"maze": {"guidance": float("nan")}}, "guidance")]:
        with pytest.raises(ValueError, match=match):
            tiny.set_sampling(bad)


def test_learning_rate_schedule():
    from turing_helpers.training.ddpm import learning_rate_schedule as schedule

    assert [schedule(s, 0.0, 1e-3, warmup=4) for s in range(5)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3])
    assert schedule(10_000, 0.9, 1e-3, warmup=4) == 1e-3  # constant without lr_final
    decayed = [schedule(10_000, p, 1e-3, 1e-5, warmup=4) for p in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert decayed == pytest.approx([1e-3, 1e-5 + 0.99e-3 * (1 + np.cos(np.pi / 4)) / 2, 5.05e-4, 1e-5, 1e-5])
    assert schedule(0, 0.99, 1e-3, 1e-5, warmup=4) == pytest.approx(min(2.5e-4, schedule(9, 0.99, 1e-3, 1e-5, 4)))


def test_uniform_samples_count_as_dead_not_as_noise_topology():
    """A flat sample's excursion set {v > midrange} is its rounding noise: hundreds of specks.
    sample_scores() leaves it out of the morphology means, counts it in ``alive``, and the
    tuning score charges for it."""
    from turing_helpers.evaluation.ddpm import sample_scores, sampling_score

    n = 32
    x = np.arange(n)
    spots = 0.2 + 0.1 * np.cos(2 * np.pi * 4 * x / n)[:, None] * np.cos(2 * np.pi * 4 * x / n)[None, :]
    developed = np.stack([np.full((n, n), 0.5), spots])[None].repeat(4, axis=0).astype(np.float32)  # (4, 2, n, n)
    flat = developed[:1].copy()
    flat[0, 1] = 0.01 + 1e-3 * np.random.default_rng(0).standard_normal((n, n))  # contrast ≈ 0.007 < 0.05
    alive_only = sample_scores(developed, developed, "spots", relax=False)
    with_flat = sample_scores(np.concatenate([developed, flat]), developed, "spots", relax=False)
    assert alive_only["alive"] == 1.0 and with_flat["alive"] == 0.8
    assert with_flat["components"] == alive_only["components"] and with_flat["euler"] == alive_only["euler"]
    assert sampling_score(with_flat) == pytest.approx(sampling_score(alive_only) + 0.2 / 0.05, abs=1e-3)


def test_shipped_sampler_comparison_file():
    """benchmarks/ddpm_solvers.py's result, as chapter 5 reads it: the verdicts are those of
    its own p-values (Holm at α per sampler), and the timings were measured in one run."""
    from turing_helpers import results
    from turing_helpers.evaluation.significance import holm

    shipped = results.load("ddpm_solvers")
    for key, verdict in shipped["verdicts"].items():
        tests = [(name, statistic, entry["against_ddim_100"][key][statistic])
                 for name, entry in shipped["classes"].items() for statistic in
                 ("dominant_wavelength", "component_density", "euler_density", "v_std", "spectral_entropy",
                  "compression_complexity")]
        rejected = holm([t["p"] for _, _, t in tests]) <= shipped["alpha"]
        assert verdict["differing"] == [f"{n}:{s}" for (n, s, _), r in zip(tests, rejected) if r]
        assert verdict["matches"] == (not rejected.any())
    for entry in shipped["classes"].values():
        assert set(entry["seconds_per_sample"]) == {"ddim_100", "ddim_100_again", f"dpm++_{shipped['steps']}",
                                                    f"ddim_{shipped['steps']}"}

