"""Tests of the ConvLSTM forecaster (turing_helpers.models.convlstm) and its trainer."""
import json

import numpy as np
import pytest
import torch

from turing_helpers.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from turing_helpers.models.convlstm import ConvLSTM, ConvLSTMConfig, config_dict, from_checkpoint


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = ConvLSTM(ConvLSTMConfig(hidden=8, embed=8, decoder=16)).eval()
    with torch.no_grad():  # a random, clearly non-trivial increment (the init is near persistence)
        m.decoder[-1].weight.normal_(0, 0.5)
    return m


@pytest.fixture
def frames(rng):
    """A batch of 2 contexts of 4 frames on a 12 × 16 grid, values inside [0, 1]."""
    return torch.from_numpy(rng.uniform(0.1, 0.9, (2, 4, 2, 12, 16)).astype(np.float32))


def test_shapes(model, frames):
    with torch.no_grad():
        assert model(frames).shape == (2, 2, 12, 16)
        assert model.rollout(frames, 5).shape == (2, 5, 2, 12, 16)
        assert model.rollout(frames[:1, :1], 3).shape == (1, 3, 2, 12, 16)   # any context length, any grid


def test_forward_is_first_rollout_frame(model, frames):
    with torch.no_grad():
        torch.testing.assert_close(model(frames), model.rollout(frames, 4)[:, 0])


def test_rollout_feeds_back_its_predictions(model, frames):
    """Frame 2 of a rollout is the one-step forecast from the context extended by frame 1."""
    with torch.no_grad():
        out = model.rollout(frames, 2)
        again = model(torch.cat([frames, out[:, :1]], dim=1))
    torch.testing.assert_close(out[:, 1], again)


def test_iterating_the_whole_state_map_is_the_rollout(model, frames):
    """state_step on (x_t, x_{t-1}, h, c) is one step of a rollout: its frames are the rollout's."""
    with torch.no_grad():
        state = model.rollout_state(frames)                 # (B, 2 + 2 + 2 H, n, n)
        out = model.rollout(frames, 4)
        assert state.shape == (2, 4 + 2 * model.config.hidden, 12, 16)
        torch.testing.assert_close(state[:, :2], out[:, 0])
        torch.testing.assert_close(state[:, 2:4], frames[:, -1])
        for k in range(1, 4):
            state = model.state_step(state)
            torch.testing.assert_close(state[:, :2], out[:, k])


def test_periodic_shift_equivariance(model, frames):
    shift = (3, 5)
    with torch.no_grad():
        out = model.rollout(frames, 3)
        shifted = model.rollout(torch.roll(frames, shift, dims=(3, 4)), 3)
    torch.testing.assert_close(shifted, torch.roll(out, shift, dims=(3, 4)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("transform", [lambda x: torch.rot90(x, 1, dims=(-2, -1)),
                                       lambda x: torch.rot90(x, 2, dims=(-2, -1)),
                                       lambda x: x.transpose(-2, -1),
                                       lambda x: torch.flip(x, dims=(-1,))],
                         ids=["rot90", "rot180", "transpose", "flip"])
def test_isotropic_model_commutes_with_the_square_symmetries(model, frames, transform):
    with torch.no_grad():
        out = model.rollout(frames, 3)
        turned = model.rollout(transform(frames), 3)
    torch.testing.assert_close(turned, transform(out), atol=1e-5, rtol=1e-5)


def test_free_kernels_are_not_rotation_equivariant(frames):
    """The symmetry comes from the D4-averaged kernels, not from the test's data."""
    torch.manual_seed(0)
    m = ConvLSTM(ConvLSTMConfig(hidden=8, embed=8, isotropic=False)).eval()
    with torch.no_grad():
        m.decoder[-1].weight.normal_(0, 0.5)
        out = m.rollout(frames, 3)
        turned = m.rollout(torch.rot90(frames, 1, dims=(-2, -1)), 3)
    assert not torch.allclose(turned, torch.rot90(out, 1, dims=(-2, -1)), atol=1e-4)


def test_gates_shapes_ranges_and_cell_update(model, frames):
    with torch.no_grad():
        out, gates = model.rollout(frames, 3, return_gates=True)
    assert out.shape == (2, 3, 2, 12, 16)
    steps = 4 + 3 - 1
    for name in "ifogc":
        assert gates[name].shape == (2, steps, 8, 12, 16), name
    for name in "ifo":  # sigmoid gates: strictly inside (0, 1)
        assert gates[name].min() > 0 and gates[name].max() < 1, name
    assert gates["g"].abs().max() <= 1
    # the cell state obeys c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t, starting from c_0 = 0
    c_prev = torch.zeros_like(gates["c"][:, 0])
    for t in range(steps):
        expected = gates["f"][:, t] * c_prev + gates["i"][:, t] * gates["g"][:, t]
        torch.testing.assert_close(gates["c"][:, t], expected)
        c_prev = gates["c"][:, t]
    _, one = model(frames, return_gates=True)
    assert one["i"].shape == (2, 4, 8, 12, 16)


def test_outputs_stay_in_the_physical_range(frames):
    torch.manual_seed(1)
    m = ConvLSTM(ConvLSTMConfig(hidden=8, embed=8)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 3.0)  # wild weights: increments far larger than any frame
        out = m.rollout(frames, 20)
    assert torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    assert out.std() > 0.05  # and the clip did not just freeze everything


@pytest.mark.parametrize("bad, message", [
    (torch.zeros(2, 4, 2, 8), "shape"),
    (torch.zeros(2, 4, 3, 8, 8), "channels"),
    (torch.zeros(2, 0, 2, 8, 8), "T >= 1"),
    (torch.zeros(1, 4, 2, 2, 8), "3 × 3"),
    (torch.full((1, 4, 2, 8, 8), float("nan")), "non-finite"),
])
def test_bad_context_raises(model, bad, message):
    with pytest.raises(ValueError, match=message):
        model.rollout(bad, 2)


@pytest.mark.parametrize("steps", [0, -1, 1.5, True, "3"])
def test_bad_steps_raises(model, frames, steps):
    with pytest.raises(ValueError, match="steps"):
        model.rollout(frames, steps)


@pytest.mark.parametrize("field, value", [("hidden", 0), ("kernel", 4), ("std", (0.1, 0.0)),
                                          ("mean", (0.5,)), ("delta_scale", 0.0)])
def test_bad_config_raises(field, value):
    with pytest.raises(ValueError, match=field):
        ConvLSTMConfig(**{field: value})


def test_numpy_context_is_accepted(model, frames):
    with torch.no_grad():
        torch.testing.assert_close(model(frames.numpy()), model(frames))


def test_checkpoint_round_trip(model, frames, tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, kind="convlstm", state={"model": model.state_dict(), "config": config_dict(model.config),
                                                  "seed": 0})
    assert json.loads(path.with_suffix(".json").read_text())["config"]["hidden"] == 8
    restored = from_checkpoint(load_checkpoint(path, kind="convlstm"))
    assert not restored.training
    with torch.no_grad():
        torch.testing.assert_close(restored.rollout(frames, 3), model.rollout(frames, 3))


def test_checkpoint_of_another_kind_or_format_is_refused(model, tmp_path):
    path = tmp_path / "m.pt"
    state = {"model": model.state_dict(), "config": config_dict(model.config)}
    save_checkpoint(path, kind="convlstm", state=state)
    with pytest.raises(CheckpointError, match="convlstm"):
        load_checkpoint(path, kind="ddpm")
    payload = torch.load(path, weights_only=True) | {"version": "0.0.0-old"}
    torch.save(payload, path)
    assert load_checkpoint(path, kind="convlstm")["version"] == "0.0.0-old"  # the format decides
    torch.save(payload | {"format": "turing_helpers.checkpoint/2"}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="checkpoint/2"):
        load_checkpoint(tmp_path / "future.pt", kind="convlstm")
    with pytest.raises(ValueError, match="not 'convlstm'"):
        from_checkpoint(payload | {"kind": "ddpm"})
    with pytest.raises(ValueError, match="unknown ConvLSTMConfig"):
        from_checkpoint(payload | {"config": {**payload["config"], "depth": 3}})


def test_shell_matrix_sums_the_spectrum_to_the_variance():
    """Parseval: the shells of |rfft2|² (norm "ortho", mirrored columns counted twice) add up
    to Σ (x − mean)², on even and odd grids."""
    from turing_helpers.training.losses import amplitude_spectrum, shell_matrix

    for n in (16, 15):
        x = torch.randn(3, n, n)
        power = amplitude_spectrum(x, shell_matrix(n)) ** 2                 # (3, n//2 + 1)
        centred = x - x.mean(dim=(-2, -1), keepdim=True)
        torch.testing.assert_close(power.sum(-1), (centred ** 2).sum(dim=(-2, -1)), rtol=1e-4, atol=1e-4)


def test_spectrum_loss_is_phase_blind_and_scores_a_faded_forecast_one():
    from turing_helpers.training.losses import shell_matrix, spectrum_loss

    torch.manual_seed(0)
    true = torch.rand(2, 3, 2, 16, 16)
    shells = shell_matrix(16)
    shifted = torch.roll(true, (5, -3), dims=(-2, -1))                      # same spectrum, other phase
    assert spectrum_loss(shifted, true, shells).item() < 1e-6
    faded = true.mean(dim=(-2, -1), keepdim=True).expand_as(true)          # uniform at the true mean
    assert spectrum_loss(faded, true, shells).item() == pytest.approx(1.0, abs=0.01)
    half = 0.5 * (true - true.mean(dim=(-2, -1), keepdim=True)) + true.mean(dim=(-2, -1), keepdim=True)
    assert spectrum_loss(half, true, shells).item() == pytest.approx(0.25, abs=0.01)


def test_motion_loss_scores_how_frames_change():
    """0 for a shifted copy of the true motion, 1 for a frozen forecast, large for one that
    moves where the truth stands still."""
    from turing_helpers.training.losses import motion_loss, shell_matrix

    torch.manual_seed(0)
    base = torch.rand(2, 1, 2, 16, 16)
    steps = 0.01 * torch.randn(2, 4, 2, 16, 16).cumsum(dim=1)
    true = base + steps                                                      # a moving field
    shells = shell_matrix(16)
    shifted = torch.roll(true, (4, 7), dims=(-2, -1))
    assert motion_loss(shifted, true, shells).item() < 1e-6
    frozen = true[:, :1].expand_as(true)
    assert motion_loss(frozen, true, shells).item() == pytest.approx(1.0, abs=0.01)
    still = base.expand(2, 5, 2, 16, 16)
    moving = still + 1e-3 * torch.randn(2, 5, 2, 16, 16)
    # mean squared change 2e-6 over the floor 1e-7: a static truth is strict
    assert motion_loss(moving, still, shells).item() > 10


def test_pushforward_rollout_continues_the_models_own_rollout(model, frames):
    """The frames after a gradient-free prefix are the plain rollout's, and only they carry gradients."""
    from turing_helpers.training.convlstm import pushforward_rollout

    context = frames[:, :4]
    with torch.no_grad():
        full = model.rollout(context, 7)
    torch.testing.assert_close(pushforward_rollout(model, context, 0, 3), model.rollout(context, 3))
    tail = pushforward_rollout(model, context, 4, 3)
    torch.testing.assert_close(tail.detach(), full[:, 4:], rtol=1e-5, atol=1e-6)
    assert tail.requires_grad
    model.zero_grad()
    tail.sum().backward()
    assert model.decoder[-1].weight.grad is not None


def test_trainer_runs_logs_and_resumes(tmp_path, monkeypatch):
    from turing_helpers.train import main

    monkeypatch.setenv("TURING_HELPERS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "c.pt"
    common = ["convlstm", "--grid", "16", "--frames", "40", "--per-class", "4", "--developed-per-class", "3",
              "--warmup-steps", "200", "--iters-per-epoch", "3", "--batch", "2", "--hidden", "4", "--embed", "4",
              "--horizons", "1,2", "--pushforward-from", "0.5", "--pushforward-max", "3",
              "--pushforward-steps", "2", "--out", str(out)]
    main(common + ["--epochs", "2"])
    payload = load_checkpoint(out, kind="convlstm")
    assert [entry["epoch"] for entry in payload["log"]] == [1, 2]
    assert [entry["horizon"] for entry in payload["log"]] == [1, 2]   # the curriculum
    assert np.isfinite(payload["log"][-1]["vrmse_1"]) and payload["step"] == 6
    assert np.isfinite(payload["log"][-1]["v_std_ratio"])
    for key in ("config", "seed", "data", "training_seconds", "machine", "metrics"):
        assert key in payload, key
    sets = payload["data"]["sets"]
    assert set(sets) == {"formation", "developed"} and sets["developed"]["warmup_steps"] == 200
    for part in sets.values():     # dead trajectories are counted, the rest split 75/25
        kept = part["train_trajectories"] + part["validation_trajectories"]
        assert kept + sum(part["dropped_dead"].values()) == 6 * part["per_class"]
    main(common + ["--epochs", "3", "--resume"])
    resumed = load_checkpoint(out, kind="convlstm")
    assert [entry["epoch"] for entry in resumed["log"]] == [1, 2, 3] and resumed["step"] == 9
    # fine-tuning: the weights of another checkpoint, its provenance kept
    tuned = tmp_path / "tuned.pt"
    main(common[:-1] + [str(tuned), "--epochs", "1", "--init-from", str(out)])
    child = load_checkpoint(tuned, kind="convlstm")
    assert child["initialised_from"]["training_seconds"] == resumed["training_seconds"]
    assert len(child["initialised_from"]["sha256"]) == 64 and child["step"] == 3


# -- the shipped checkpoint, on trajectories it never saw -----------------------------------
@pytest.fixture(scope="module")
def shipped():
    from turing_helpers.models import load_pretrained

    torch.set_flush_denormal(True)  # a fading rollout passes through slow denormal floats
    yield load_pretrained("convlstm")
    torch.set_flush_denormal(False)


@pytest.fixture(scope="module")
def unseen():
    """Fresh 128² trajectories, 2 per class, from seed 3 (training: seeds 0 and 20; benchmark: seed 1)."""
    from turing_helpers.data import TrajectoryConfig, trajectories

    return trajectories(TrajectoryConfig(n=128, frames=201, per_class=2, seed=3, bump_width=0.04))


@pytest.mark.slow
def test_shipped_one_step_vrmse_on_unseen_128(shipped, unseen):
    """One-step skill on fresh trajectories: well below persistence, The Well's baselines and
    ONE_STEP_BOUND (benchmarks/convlstm_eval.py measures 0.0XX on its own test set)."""
    from turing_helpers.metrics import is_uniform, vrmse

    frames = unseen["frames"]                                                 # (12, 201, 2, 128, 128)
    starts = range(0, frames.shape[1] - 5, 20)
    windows = np.stack([frames[i, s:s + 5] for i in range(len(frames)) for s in starts])
    windows = windows[~is_uniform(windows[:, 4, 1])]                          # dead targets apart
    with torch.no_grad():
        pred = np.concatenate([shipped(torch.from_numpy(windows[b:b + 24, :4])).numpy()
                               for b in range(0, len(windows), 24)])
    model = float(vrmse(pred, windows[:, 4]).mean())
    persistence = float(vrmse(windows[:, 3], windows[:, 4]).mean())
    assert model < ONE_STEP_BOUND, model
    assert model < 0.5 * persistence, (model, persistence)


ONE_STEP_BOUND = 0.02
# What the shipped model achieves over 1000 frames from developed states, checked on a
# fresh seed (benchmarks/convlstm_eval.py, 8 starts per class on 64², measures every class
# alive and the wavelength within 2%, the contrast within 46%; the target of 15% on
# every statistic is met by two classes, and the closing note of issue 12 lists the rest).
CLIMATE_WAVELENGTH_TOLERANCE, CLIMATE_V_STD_TOLERANCE = 0.10, 0.6


@pytest.mark.slow
def test_shipped_climate_of_1000_frames_keeps_every_pattern(shipped):
    """From developed states of fresh seeds (48², 2 per class, seed 43), 1000-frame rollouts
    keep every class's pattern: values finite in [0, 1], fewer than half the frames uniform,
    the set wavelength of frames 500-1000 within CLIMATE_WAVELENGTH_TOLERANCE and the v
    standard deviation within CLIMATE_V_STD_TOLERANCE of the solver's from the same states.
    The first model faded every class here; a model that fades fails the verdict."""
    from turing_helpers.data import WELL_CLASSES, developed_patterns
    from turing_helpers.evaluation.climate import climate_statistics
    from turing_helpers.presets import WELL_DX as DX
    from turing_helpers.presets import preset
    from turing_helpers.solver import simulate

    fields, labels, _ = developed_patterns(48, 3, seed=43)   # 3 made, in case one died
    for k, c in enumerate(WELL_CLASSES):
        start = fields[labels == k][:2].astype(np.float64)
        u, v = simulate(preset(c), start[:, 0], start[:, 1], steps=10 * 1003, dt=1.0, dx=DX,
                           backend="numba", save_every=10)
        truth = np.stack([u, v], axis=2).astype(np.float32)                   # (2, 1004, 2, 48, 48)
        with torch.no_grad():
            rollout = shipped.rollout(torch.from_numpy(truth[:, :4]), 1000).numpy()  # frames 4..1003
        assert np.isfinite(rollout).all() and rollout.min() >= 0 and rollout.max() <= 1, c
        # the climate: frames 500-1000 after the last context frame, of the model and the solver
        model = climate_statistics(rollout[:, 499:], DX, snapshot_every=10)
        solver = climate_statistics(truth[:, 4:][:, 499:], DX, snapshot_every=10)
        assert np.mean(model["uniform_fraction"]) < 0.5, (c, model["uniform_fraction"])
        wavelength = np.mean(model["set_wavelength"]) / np.mean(solver["set_wavelength"])
        contrast = np.mean(model["v_std"]) / np.mean(solver["v_std"])
        assert abs(wavelength - 1) <= CLIMATE_WAVELENGTH_TOLERANCE, (c, wavelength)
        assert abs(contrast - 1) <= CLIMATE_V_STD_TOLERANCE, (c, contrast)
