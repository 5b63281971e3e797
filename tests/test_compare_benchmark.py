"""benchmarks/compare.py's stability experiment and its summary rows, on a small protocol, and
the shipped results file it wrote (chapter 6 reads it)."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from turing_helpers import results
from turing_helpers.evaluation.climate import CLIMATE_STATISTICS, VERDICTS

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    """benchmarks/compare.py as a module (registered first: its dataclasses look themselves up)."""
    if "compare_benchmark" not in sys.modules:
        spec = importlib.util.spec_from_file_location("compare_benchmark", ROOT / "benchmarks" / "compare.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["compare_benchmark"] = module
        spec.loader.exec_module(module)
    return sys.modules["compare_benchmark"]


@pytest.fixture(scope="module")
def small_climate():
    compare = _benchmark()
    protocol = compare.ClimateProtocol(sizes=(32,), starts_per_class=3, generated_per_class=4, test_seed=85,
                                       reference_seeds=(86, 87), frames=40, climate_from=20, horizon=8,
                                       snapshot_every=5, classes=("spirals", "spots"))
    return compare, compare.climate_experiment(protocol, progress=False)


def test_small_climate_experiment_has_every_test_and_control(small_climate):
    _, climate = small_climate
    entries = climate["sizes"]["32"]["classes"]
    assert set(entries) == {"spirals", "spots"}
    for name, entry in entries.items():
        assert entry["climate"]["verdict"] in VERDICTS
        assert set(entry["controls"]) == {"solver", "frozen", "uniform", "other_class"}
        assert entry["controls"]["uniform"]["verdict"] == "faded"
        assert set(entry["climate"]["statistics"]) == set(CLIMATE_STATISTICS)
        assert entry["climate"]["tests"] == 2  # classes x sizes of the protocol
        assert len(entry["skill"]["model"]["horizon"]) == 8
    assert climate["sizes"]["32"]["classes"]["spirals"]["other_class"] == "spots"


def test_summary_rows_are_regenerated_from_the_small_run(small_climate):
    compare, climate = small_climate
    rows = compare.climate_rows(climate)
    assert rows[0]["measurement"].startswith("classes on the attractor")
    counts = rows[0]["convlstm"].split("/")
    assert int(counts[0]) == sum(e["climate"]["verdict"] == "on the attractor"
                                 for e in climate["sizes"]["32"]["classes"].values())
    assert "censored" in rows[2]["measurement"] and "(32²)" in rows[2]["convlstm"]
    full = compare.summary({"climate": climate, **_old_parts()})
    assert full[:3] == rows and not any(r["measurement"].startswith("classes whose 1000-frame") for r in full)


def _old_parts():
    """The parts of the shipped results that the first protocol's summary rows read."""
    shipped = results.load("compare")
    return {key: shipped[key] for key in ("config", "stability", "settling", "perturbation", "complexity",
                                          "samples_uniform", "costs")}


def test_shipped_climate_results_follow_the_protocol():
    """The file benchmarks/compare.py --climate-only wrote: test seeds apart from development
    seeds, every class at every size, the solver's own set on the attractor everywhere."""
    climate = results.load("compare")["climate"]
    protocol = climate["protocol"]
    assert not set([protocol["test_seed"], *protocol["reference_seeds"]]) & set(protocol["development_seeds"])
    assert climate["command"].startswith("python benchmarks/compare.py")
    for n in map(str, protocol["sizes"]):
        entries = climate["sizes"][n]["classes"]
        assert set(entries) == set(protocol["classes"])
        for name, entry in entries.items():
            assert entry["controls"]["solver"]["verdict"] == "on the attractor", (n, name)
            assert entry["controls"]["other_class"]["verdict"] == "drifted", (n, name)
            assert entry["controls"]["uniform"]["verdict"] == "faded", (n, name)
            windows = np.asarray(entry["skill"]["model"]["correlation_time"]["0.8"]["per_window"])
            assert len(windows) == protocol["starts_per_class"], (n, name)


@pytest.fixture(scope="module")
def small_handover():
    compare = _benchmark()
    protocol = compare.HandoverProtocol(size=32, fields_per_class=2, frames=12, ddim_steps=4, convlstm_frames=6,
                                        test_seed=85, reference_seeds=(86, 87), generated_per_class=4,
                                        snapshot_every=4, classes=("spots",))
    return compare, compare.handover_experiment(protocol, progress=False)


def test_small_handover_experiment_and_its_summary_rows(small_handover):
    compare, handover = small_handover
    entry = handover["classes"]["spots"]
    assert set(entry) >= {"ddpm", "convlstm", "controls"}
    assert entry["controls"]["uniform"]["verdict"] == "faded"
    assert entry["ddpm"]["tests"] == 2  # one class, two candidates
    rows = compare.handover_rows(handover)
    assert rows[0]["ddpm"].endswith("(samples)") and "perturbed" in rows[0]["solver"]
    assert rows[1]["convlstm"].endswith("×")


def test_zero_mean_noise_keeps_each_fields_mean(rng):
    """On developed spots (u near 1 and v near 0 over most of the box, where a plain clip shifts
    the means by a good fraction of the amplitude) the means stay, the noise is there."""
    from turing_helpers.data import developed_patterns

    compare = _benchmark()
    fields, _, _ = developed_patterns(32, 2, seed=85, classes=("spots",), steps=4000)
    clipped = np.clip(fields + 0.1 * rng.standard_normal(fields.shape), 0, 1)
    shift = np.abs(clipped.mean(axis=(-2, -1)) - fields.mean(axis=(-2, -1))).max()
    noisy = compare.zero_mean_noise(fields, 0.1, seed=0)
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert np.std(noisy - fields) > 0.05
    assert np.abs(noisy.mean(axis=(-2, -1)) - fields.mean(axis=(-2, -1))).max() < 0.05 * shift


def test_shipped_handover_results_have_their_controls():
    """The file benchmarks/compare.py --handover-only wrote: in every class the solver's own
    developed states pass, the perturbed ones do not, a uniform field fades."""
    handover = results.load("compare")["handover"]
    assert handover["command"].startswith("python benchmarks/compare.py")
    assert set(handover["classes"]) == set(handover["protocol"]["classes"])
    for name, entry in handover["classes"].items():
        assert entry["controls"]["solver"]["verdict"] == "on the attractor", name
        assert entry["controls"]["perturbed"]["verdict"] != "on the attractor", name
        assert entry["controls"]["uniform"]["verdict"] == "faded", name
        assert entry["ddpm"]["trajectories"]["candidate"] == handover["protocol"]["fields_per_class"]


def test_shipped_jacobian_results_have_their_controls():
    """The file benchmarks/compare.py --jacobian-only wrote: ETDRK4 (the same equations) is as
    stable as the Euler frame map, the amplified map is not, in every class."""
    jacobian = results.load("compare")["jacobian"]
    assert jacobian["command"].startswith("python benchmarks/compare.py")
    states = jacobian["protocol"]["states_per_class"]
    for name, entry in jacobian["classes"].items():
        assert entry["controls"] == {"etdrk4": "as stable as the solver", "amplified": "less stable than the solver"}
        for system in ("solver", "convlstm", "etdrk4", "amplified"):
            assert len(entry["spectral_radius"][system]) == states
        # the amplified map's Jacobian is exactly a times the Euler map's
        np.testing.assert_allclose(entry["spectral_radius"]["amplified"],
                                   jacobian["protocol"]["amplified"] * np.array(entry["spectral_radius"]["solver"]),
                                   rtol=1e-4)
