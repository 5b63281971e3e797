"""Bad input gets a ValueError that names the parameter, never a NaN or a silent coercion.

One table of (entry point, bad call, a regex the message must match); the module-level
tests (solver, metrics, models) hold the longer tables of their own arguments.
"""
import re

import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers.train import main as train

SPOTS = th.preset("spots")
FIELD = np.ones((8, 8))

CASES = [
    ("GrayScott F=True", lambda: th.GrayScott(F=True, k=0.06), "F must be a real number"),
    ("GrayScott k=nan", lambda: th.GrayScott(0.03, float("nan")), "k must be finite"),
    ("GrayScott Du<0", lambda: th.GrayScott(0.03, 0.06, Du=-1e-5), "Du must be finite and >= 0"),
    ("jacobian u=nan", lambda: SPOTS.jacobian(float("nan"), 0.1), "u must be a finite real number"),
    ("jacobian v=inf", lambda: SPOTS.jacobian(0.5, float("inf")), "v must be a finite real number"),
    ("jacobian v complex", lambda: SPOTS.jacobian(0.5, 0.1 + 1j), "v must be a finite real number"),
    ("jacobian u array", lambda: SPOTS.jacobian(np.ones(3), 0.1), "u must be a finite real number"),
    ("dispersion state nan", lambda: SPOTS.dispersion([1.0], (np.nan, 0.0)), "u must be a finite real number"),
    ("simulate complex u", lambda: th.simulate(SPOTS, FIELD + 0j, FIELD * 0, steps=1, dt=1.0, dx=0.02),
     "u must be real"),
    ("simulate complex torch v", lambda: th.simulate(SPOTS, torch.ones(8, 8), torch.zeros(8, 8, dtype=torch.complex64),
                                                     steps=1, dt=1.0, dx=0.02, backend="torch"), "v must be real"),
    ("simulate unstable dt", lambda: th.simulate(th.GrayScott(0.09, 0.035), FIELD, FIELD * 0, steps=1, dt=1.0,
                                                 dx=2.5 / 256), "stability limit dt <= 0.98"),
    ("pearson_square square=2", lambda: th.pearson_square(16, square=2.0), r"square \(a fraction of the side\)"),
    ("pearson_square square=0", lambda: th.pearson_square(16, square=0.0), r"in \(0, 1\]"),
    ("pearson_square noise<0", lambda: th.pearson_square(16, noise=-0.1), r"noise must be a real number in \[0, 1\]"),
    ("pearson_square batch=True", lambda: th.pearson_square(16, batch=True), "batch must be None or an integer"),
    ("gaussian_bumps width=0.7", lambda: th.gaussian_bumps(16, width=0.7),
     r"width \(a fraction of the side\) must be a real number in \(0, 0\.5\], got 0\.7"),
    ("gaussian_bumps n_bumps=(5, 2)", lambda: th.gaussian_bumps(16, n_bumps=(5, 2)), "n_bumps"),
    ("random_fourier max_mode=20", lambda: th.random_fourier(16, max_mode=20), r"max_mode must be an integer in \[1, n // 2 = 8\]"),
    ("random_fourier amplitude=2", lambda: th.random_fourier(16, amplitude=2.0), "amplitude"),
    ("stability_limit dx=0", lambda: th.stability_limit(SPOTS, 0.0), "dx must be finite and > 0"),
    ("trajectories bump_width", lambda: th.data.trajectories(th.data.TrajectoryConfig(n=16, bump_width=0.5)),
     r"bump_width \(length units\) must be a real number in \(0, 0.125\]"),
    ("trajectories warmup_steps", lambda: th.data.trajectories(th.data.TrajectoryConfig(n=16, warmup_steps=-1)),
     "warmup_steps must be an integer >= 0"),
    ("dominant_wavelength complex", lambda: th.metrics.dominant_wavelength(FIELD + 1j, 0.02),
     "field must be real-valued, got dtype complex128"),
]


@pytest.mark.parametrize("call, words", [pytest.param(c, w, id=name) for name, c, w in CASES])
def test_bad_input_is_a_named_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@pytest.mark.parametrize("options, words", [
    (["convlstm", "--per-class", "2", "--frames", "100"], "--per-class must be an integer >= 3, got 2"),
    (["convlstm", "--developed-per-class", "2"], "--developed-per-class must be 0 or an integer >= 3"),
    (["convlstm", "--pushforward-from", "1.5"], r"--pushforward-from must be a fraction in \[0, 1\]"),
    (["convlstm", "--bump-width", "0"], "--bump-width must be a number > 0"),
    (["convlstm", "--spectrum-weight", "-1"], "--spectrum-weight must be a number >= 0"),
    (["convlstm", "--frames", "20"], "--frames must be an integer >= 61"),
    (["convlstm", "--horizons", "1,x"], "--horizons must be comma-separated integers"),
    (["convlstm", "--kernel", "4"], "--kernel must be an odd integer"),
    (["convlstm", "--lr", "0"], "--lr must be a number > 0"),
    (["ddpm", "--per-class", "2"], "--per-class must be an integer >= 5"),
    (["ddpm", "--base", "12"], "--base must be a multiple of 8"),
    (["ddpm", "--ema-decay", "1"], r"--ema-decay must be in \[0, 1\)"),
    (["ddpm", "--batch", "0"], "--batch must be an integer >= 1"),
    (["ddpm", "--device", "tpu9"], "--device must be a torch device"),
    (["convlstm", "--device", "cuda:0"] if not torch.cuda.is_available() else ["convlstm", "--device", "nope"],
     "--device"),
])
def test_training_options_are_checked_before_any_work(options, words, capsys, tmp_path):
    """The entry point stops with argparse's usage error (exit 2) naming the option, before
    it generates any data (a crash deep in the data pipeline names nothing)."""
    with pytest.raises(SystemExit) as stop:
        train(options + ["--out", str(tmp_path / "x.pt")])
    assert stop.value.code == 2
    assert re.search(words, capsys.readouterr().err)


def test_uniform_fields_give_documented_nans_and_counts():
    """The metrics' one rule for a field with no pattern (module docstring of th.metrics)."""
    m, flat, noise = th.metrics, np.full((16, 16), 0.3), np.random.default_rng(0).random((16, 16))
    for value in (m.dominant_wavelength(flat, 0.02), m.spectral_entropy(flat, 0.02),
                  m.spectrum_distance(flat, noise, 0.02), m.pearson_correlation(flat, noise)):
        assert np.isnan(value)
    assert m.connected_components(flat) == 0 and m.euler_characteristic(flat) == 0
    assert m.compression_complexity(flat) == 0 and bool(m.is_uniform(flat))
    assert np.isfinite(m.pixel_histogram_distance(flat, noise)) and np.isfinite(m.vrmse(flat, noise))
