"""benchmarks/compare.py's stability experiment and its summary rows, on a small protocol, and
the shipped results file it wrote (chapter 6 reads it)."""
import numpy as np
import pytest

from benchmark_scripts import script
from turing_helpers import results
from turing_helpers.evaluation.climate import CLIMATE_STATISTICS, VERDICTS


def _benchmark():
    """benchmarks/compare.py as a module."""
    return script("compare")


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
    assert compare.summary({"climate": climate}) == rows


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
    # residuals in absolute units for every set handed over, and the scale beside them
    assert set(entry["residual"]) == {"ddpm", "convlstm", "solver", "references", "scale"}
    assert all(len(entry["residual"][k]["per_field"]) == 2 for k in ("ddpm", "convlstm", "solver"))
    assert entry["residual"]["scale"] > 0
    # complexity: every candidate and measure tested, Holm-corrected over the family
    complexity = entry["complexity"]
    assert set(complexity) == {"ddpm", "convlstm", "solver", "halved contrast"}
    for system in complexity.values():
        for measure in compare.COMPLEXITY_MEASURES:
            assert system[measure]["p_holm"] >= system[measure]["p"]
            assert isinstance(system[measure]["differs"], bool)
    summary = compare.summary({"handover": handover})
    assert summary[:2] == rows
    assert [r["measurement"].split(",")[0] for r in summary[2:]] == [
        "PDE residual", "compression complexity of v", "compression complexity of v"]


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


def test_small_perturbation_experiment_scores_against_the_right_targets():
    compare = _benchmark()
    protocol = compare.PerturbationProtocol(size=32, fields_per_class=2, amplitudes=(0.0, 0.1), relax_frames=3,
                                            ddpm_t_start=20, test_seed=85, reference_seeds=(86, 87),
                                            generated_per_class=4, classes=("spots",))
    recovery = compare.perturbation_experiment(protocol, progress=False)
    entry = recovery["classes"]["spots"]
    assert entry["controls"]["uniform"]["fractions"]["lost"] == 1.0
    kinds = [(r["kind"], r["amplitude"]) for r in entry["perturbations"]]
    assert kinds == [("noise", 0.0), ("noise", 0.1), ("patch", 16.0)]
    unperturbed = entry["perturbations"][0]["systems"]
    # without a perturbation the solver reproduces its own continuation exactly
    np.testing.assert_allclose(unperturbed["solver"]["identity"], 1.0, atol=1e-6)
    np.testing.assert_allclose(unperturbed["untreated"]["identity"], 1.0, atol=1e-6)
    noise = entry["perturbations"][1]
    assert abs(noise["mean_shift_v"]) < 0.01 and noise["rms_v"] > 0.03
    rows = compare.recovery_rows(recovery)
    assert len(rows) == 3 and rows[0]["measurement"].startswith("after zero-mean noise of amplitude 0.1")
    assert all(len(r["ddpm"].split(" · ")) == 3 for r in rows)


def test_linear_response_experiment_controls_pass_and_fail():
    compare = _benchmark()
    response = compare.linear_response_experiment(compare.LinearResponseProtocol(size=32, modes=tuple(range(9)),
                                                                                 classes=("maze",)),
                                                  progress=False)
    (state,) = response["classes"]["maze"]
    assert state["state"] == [1.0, 0.0]
    assert state["verdicts"]["etdrk4"] == "the solver's filter"
    assert state["verdicts"]["identity"] == "not the solver's filter"
    assert state["verdicts"]["diffusion_doubled"] == "not the solver's filter"
    # the exact flow of one frame: exp(10 λ) with λ the dispersion relation's
    exact = np.array(state["exact"]["real"])
    assert np.all(exact <= 1) and np.all(np.diff(exact[:, 0]) <= 1e-12)
    row = compare.response_rows(response)[0]
    assert row["solver"].startswith("ETDRK4 1/1")


def test_shipped_recovery_and_response_results_have_their_controls():
    """The files benchmarks/compare.py --perturbation-only and --response-only wrote."""
    shipped = results.load("compare")
    recovery = shipped["recovery"]
    for name, entry in recovery["classes"].items():
        assert entry["controls"]["uniform"]["fractions"]["lost"] == 1.0, name
        # an independent solver field of the class is rarely taken for the original
        assert entry["controls"]["independent"]["fractions"]["the pattern"] <= 0.25, name
        solver = entry["perturbations"][0]["systems"]["solver"]
        assert entry["perturbations"][0]["amplitude"] == 0 and solver["fractions"]["the pattern"] == 1.0, name
    for name, states in shipped["response"]["classes"].items():
        for state in states:
            assert state["verdicts"]["etdrk4"] == "the solver's filter", name
            assert state["verdicts"]["identity"] == "not the solver's filter", name
            assert state["verdicts"]["diffusion_doubled"] == "not the solver's filter", name


def test_gray_scott_forecaster_is_the_solver_continued():
    """The cell's forecaster with the true parameters continues the solver's own frames."""
    from turing_helpers.data import developed_patterns
    from turing_helpers.presets import preset

    compare = _benchmark()
    fields, _, _ = developed_patterns(32, 2, seed=85, classes=("spots",), steps=2000)
    truth = compare.solver_frames("spots", fields, 3 + 5)
    predicted = compare.gray_scott_forecaster(preset("spots"))(truth[:, :4], 5)
    np.testing.assert_allclose(predicted, truth[:, 4:], atol=1e-6)


def test_shipped_cell_climate_uses_the_climate_protocol():
    """The file benchmarks/compare.py --cell-only wrote: the ConvLSTM's protocol, the fitted
    parameters of analogy_fit.json, the controls as in the ConvLSTM's run."""
    shipped = results.load("compare")
    cell, climate = shipped["cell_climate"], shipped["climate"]
    assert cell["protocol"] == climate["protocol"]
    fit = results.load("analogy_fit")["classes"]
    assert cell["fitted"] == {name: fit[name]["fitted"] for name in cell["protocol"]["classes"]}
    for n, size in cell["sizes"].items():
        for name, entry in size["classes"].items():
            assert entry["controls"]["solver"]["verdict"] == "on the attractor", (n, name)
            assert entry["controls"]["uniform"]["verdict"] == "faded", (n, name)


# -- the gains at (1, 0) and the DDPM's sampling chains (GainsProtocol) ----------------------------
@pytest.fixture(scope="module")
def small_gains():
    """A small version of benchmarks/compare.py's gains: two classes, the shipped models."""
    from turing_helpers.io import plain

    compare = _benchmark()
    protocol = compare.GainsProtocol(reference_per_class=6, ddim_steps=20, gain_levels=(100, 800), gain_fields=2,
                                     chain_samples=1, start_seed=61, classes=("maze", "spots"))
    return plain(compare.gains_experiment(protocol, progress=False))  # plain: the same form as the results file


def test_small_gains_have_sane_numbers(small_gains):
    gains = small_gains["gains"]
    for name in ("maze", "spots"):
        chain = gains["chain"][name]
        assert chain["pde_residual"][0] > 10 * chain["final_residual"]  # noise is far from a steady state
        assert np.array(gains["ddpm"][name]).shape == (2, len(gains["q_shells"]))
    exact = np.asarray(gains["exact"]["maze"])
    assert np.all((exact > 0) & (exact <= 1))  # a decaying low-pass filter: no class is Turing-unstable at (1, 0)
    learned = np.asarray(gains["convlstm"])
    assert learned.shape == exact.shape and np.all(np.isfinite(learned))
    assert set(small_gains) == {"config", "kept", "gains", "seconds"}


def test_shipped_comparison_results_file_is_complete():
    """The results file chapter 6 reads was written by benchmarks/compare.py with its parameters."""
    from dataclasses import asdict

    from turing_helpers.io import plain

    shipped = results.load("compare")
    assert shipped["command"].startswith("python benchmarks/compare.py")
    assert shipped["config"] == plain(asdict(_benchmark().GainsProtocol()))
    parts = {"climate", "jacobian", "handover", "recovery", "response", "cell_climate"}
    assert parts | {"gains", "costs", "summary"} <= set(shipped)
    for key in parts:
        assert shipped[key]["command"].startswith("python benchmarks/compare.py"), key
        assert {"machine", "seconds", "protocol"} <= set(shipped[key]), key
    # the first protocol's experiments are gone, not left behind with no code that makes them
    assert not {"stability", "settling", "perturbation", "complexity", "samples_uniform"} & set(shipped)
