"""turing_helpers.atlas: morphology labels on known answers and on Pearson's classes."""

import numpy as np
import pytest

import turing_helpers as th
import turing_helpers.io  # noqa: F401  (th.io)
from turing_helpers import atlas
from turing_helpers.sweep import Sweep, parameter_sweep

from synthetic_fields import disks, lattice

N = 64
DX = 2.5 / 256  # Pearson's spacing


# -- synthetic fields --------------------------------------------------------------
def stripes(periods=4, n=N):
    """sin stripes along x that wrap around the torus: `periods` bright stripes."""
    return np.sin(2 * np.pi * periods * np.arange(n) / n)[None, :].repeat(n, axis=0)


def bars(rows, length, width=4, n=N, column=8):
    """Horizontal bars (worms) of a given length, starting at `column`, one per row index."""
    out = np.zeros((n, n))
    for r in rows:
        out[r:r + width, column:column + length] = 1.0
    return out


def mixed_field():
    """Four disks on the left, two long bars on the right: neither phase mostly compact."""
    field = disks([(8, 8), (24, 8), (40, 8), (56, 8)], 5)
    field[10:16, 24:62] = 1.0
    field[42:48, 24:62] = 1.0
    return field


def test_disk_lattice_is_spots():
    m = atlas.morphology_measures(lattice(), DX)
    assert (m["components"], m["euler"], m["holes"]) == (16, 16, 1)
    assert m["compact_spots"] == pytest.approx(1.0) and m["compact_holes"] == 0.0
    assert atlas.classify_morphology(lattice(), DX) == "spots"
    assert atlas.morphology_index(lattice(), DX) == pytest.approx(1.0)


def test_wrapping_stripes_are_stripes():
    field = stripes(4)
    m = atlas.morphology_measures(field, DX)
    assert (m["components"], m["euler"], m["holes"]) == (4, 0, 4)
    assert atlas.classify_morphology(field, DX) == "stripes/labyrinth"
    assert abs(atlas.morphology_index(field, DX)) < atlas.MINORITY
    # the dominant wavelength is the stripes' period
    assert m["wavelength"] == pytest.approx(N * DX / 4, rel=1e-6)


def test_holes_in_a_sheet_are_holes():
    field = 1.0 - lattice()
    m = atlas.morphology_measures(field, DX)
    assert (m["components"], m["euler"], m["holes"]) == (1, -16, 16)
    assert atlas.classify_morphology(field, DX) == "holes"
    assert atlas.morphology_index(field, DX) == pytest.approx(-1.0)


@pytest.mark.parametrize("field", [np.zeros((N, N)), np.full((N, N), 0.3),
                                   0.25 + 0.01 * np.random.default_rng(0).random((N, N))])
def test_constant_and_nearly_constant_fields_are_uniform(field):
    m = atlas.morphology_measures(field, DX)
    assert atlas.classify_morphology(field, DX) == "uniform"
    assert (m["components"], m["euler"], m["holes"]) == (0, 0, 0)
    assert np.isnan(m["wavelength"]) and np.isnan(atlas.morphology_index(field, DX))


def test_worms_are_not_spots_although_their_topology_is():
    # Separate bars: each is a simply connected blob, so chi = N exactly as for spots;
    # only their elongation (length 40, width 4: eps ~ 4*40/(pi*4) ~ 13) tells them apart.
    field = bars(rows=[4, 20, 36, 52], length=40)
    m = atlas.morphology_measures(field, DX)
    assert m["components"] == m["euler"] == 4
    assert m["compact_spots"] == 0.0
    assert atlas.classify_morphology(field, DX) == "stripes/labyrinth"


def test_spots_and_worms_together_are_mixed():
    m = atlas.morphology_measures(mixed_field(), DX)
    assert atlas.MINORITY <= m["compact_spots"] < atlas.MAJORITY
    assert atlas.classify_morphology(mixed_field(), DX) == "mixed"


def test_negating_the_field_exchanges_spots_and_holes():
    # the midrange threshold is symmetric: v -> -v swaps the two phases exactly
    field = lattice(radius=6) + 0.1 * stripes(2)
    assert atlas.classify_morphology(field, DX) == "spots"
    assert atlas.classify_morphology(-field, DX) == "holes"
    a, b = atlas.morphology_measures(field, DX), atlas.morphology_measures(-field, DX)
    assert (a["components"], a["holes"]) == (b["holes"], b["components"])


def test_labels_are_vectorised_over_a_sweep_shaped_batch():
    fields = np.stack([np.stack([lattice(), stripes(), 1 - lattice()]),
                       np.stack([np.zeros((N, N)), bars([4, 36], 40), mixed_field()])])  # (2, 3, N, N)
    labels = atlas.classify_morphology(fields, DX)
    assert labels.shape == (2, 3)
    assert labels.tolist() == [["spots", "stripes/labyrinth", "holes"],
                               ["uniform", "stripes/labyrinth", "mixed"]]
    table = atlas.morphology_table(fields, DX)
    assert all(np.shape(column) == (2, 3) for column in table.values())
    assert table["components"][0, 0] == 16 and table["euler"][0, 2] == -16
    np.testing.assert_array_equal(atlas.label_codes(labels),
                                  [[1, 3, 4], [0, 3, 2]])


# -- component shapes --------------------------------------------------------------
def test_elongation_of_disk_square_and_bar():
    area, eps, chi = atlas.component_shapes(disks([(32, 32)], 8) > 0)
    assert chi.tolist() == [1] and 0.8 < eps[0] < 1.25
    square = np.zeros((N, N), bool)
    square[20:36, 20:36] = True
    # 4/pi for a continuous square; an even side puts the centre between pixels, so
    # the pixel inradius is half a pixel short
    assert 4 / np.pi <= atlas.component_shapes(square)[1][0] <= 4 / np.pi * (8 / 7.5) ** 2
    # a bar of length l and width w: eps ~ 4 l / (pi w), more for a thin one (whose
    # pixel inradius is up to half a pixel short); a 3:1 worm is already not compact
    area, eps, _ = atlas.component_shapes(bars([30], 40) > 0)
    assert area[0] == 160 and eps[0] >= 4 * 40 / (np.pi * 4)
    worm = bars([30], 18, width=6) > 0
    assert atlas.component_shapes(worm)[1][0] > atlas.MAX_ELONGATION


def test_component_topology_on_the_torus():
    # a disk cut by the corner of the domain is one disk
    area, eps, chi = atlas.component_shapes(disks([(0, 0)], 7) > 0)
    assert len(area) == 1 and chi[0] == 1 and eps[0] < 1.25
    # a ring has one hole (chi = 0); a wrapping stripe goes round the torus (chi = 0)
    ring = (disks([(32, 32)], 12) - disks([(32, 32)], 7)) > 0
    assert atlas.component_shapes(ring)[2].tolist() == [0]
    assert atlas.component_shapes(stripes(2) > 0)[2].tolist() == [0, 0]
    # the background of a few spots wraps around the torus: never counted as a compact blob
    _, _, chi = atlas.component_shapes(lattice() == 0)
    assert chi.tolist() == [-16]
    # per-component chi adds up to the metrics' chi of the whole set
    field = mixed_field() + (1 - lattice(2, 4, 16)) * 0
    assert atlas.component_shapes(field > 0.5)[2].sum() == th.metrics.euler_characteristic(field, 0.5)


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError):
        atlas.classify_morphology(np.zeros(5), DX)
    with pytest.raises(ValueError):
        atlas.classify_morphology(np.zeros((4, 5)), DX)
    with pytest.raises(ValueError):
        atlas.component_shapes(np.zeros((2, 4, 4), bool))


# -- Pearson's classes, simulated --------------------------------------------------
# Classes whose morphology is unambiguous once developed (checked by running them with
# Pearson's setup at 256² for 200,000 steps, benchmarks/atlas_gallery.py). The chaotic
# classes alpha, beta, epsilon and zeta never settle (gallery r < 0.5) and are left out.
SPOTS = ["lambda", "eta"]
STRIPES = ["theta", "kappa", "gamma", "mu"]
HOLES = ["delta", "iota"]


@pytest.fixture(scope="module")
def pearson_fields():
    """Pearson's setup (dx = 2.5/256, dt = 1, his 20-point square) on a 128² domain,
    20,000 steps, all classes as one numba batch (~5-10 s on 2 cores)."""
    names = SPOTS + STRIPES + HOLES
    n = 128
    u0, v0 = th.pearson_square(n, square=20 / n)
    models = [th.preset(name) for name in names]
    u = np.broadcast_to(u0, (len(names), n, n)).copy()
    v = np.broadcast_to(v0, (len(names), n, n)).copy()
    _, v = th.simulate(models, u, v, steps=20_000, dt=1.0, dx=DX, backend="numba")
    return dict(zip(names, v))


def test_pearson_classes_fall_on_the_right_side_of_the_boundary(pearson_fields):
    names = list(pearson_fields)
    v = np.stack([pearson_fields[name] for name in names])
    table = atlas.morphology_table(v, DX)
    label = dict(zip(names, table["label"]))
    index = dict(zip(names, table["index"]))
    for name in SPOTS:
        assert label[name] == "spots", (name, label[name])
        assert index[name] >= atlas.MAJORITY
    for name in STRIPES:
        assert label[name] == "stripes/labyrinth", (name, label[name])
        assert abs(index[name]) < atlas.MINORITY
    for name in HOLES:
        assert label[name] == "holes", (name, label[name])
        assert index[name] <= -atlas.MAJORITY
    # every spot class lies above every stripe class on the morphology axis
    assert min(index[s] for s in SPOTS) > max(index[s] for s in STRIPES)
    # and the developed patterns have the Turing-scale wavelength of Pearson's figures
    assert all(0.08 < w < 0.2 for w in table["wavelength"])


# -- the atlas grid ----------------------------------------------------------------
def test_atlas_config_survives_a_save_load_round_trip(tmp_path):
    config = atlas.atlas_config(n=16, steps=3, square=0.25)
    assert (len(config.F), len(config.k)) == (13, 16)
    assert config.F[0] == 0.006 and config.k[-1] == 0.07
    path = parameter_sweep(config, backend="numba").save(tmp_path / "atlas.npz")
    loaded = Sweep.load(path, expected=atlas.atlas_config(n=16, steps=3, square=0.25))
    assert loaded.config == config
    fine = atlas.atlas_config(0.004, 0.001)
    inside = [name for name, (F, k) in th.PEARSON_CLASSES.items() if F in fine.F and k in fine.k]
    assert sorted(set(th.PEARSON_CLASSES) - set(inside)) == ["iota", "pi", "sigma"]


# -- the files chapter 3 reloads ---------------------------------------------------
DATA = th.results.RESULTS_DIR  # package data: the files the chapters read


def test_committed_gallery_and_map_still_load():
    """The chapter reloads these with a version and parameter check: a package version bump
    or a change of the atlas grid makes them stale. Regenerate them with
    `python benchmarks/atlas_gallery.py` and `python benchmarks/atlas_map.py`."""
    arrays, parameters = th.io.load_arrays(DATA / "pearson_gallery.npz",
                                           {"n": 256, "steps": 200_000, "classes": list(th.PEARSON_CLASSES)})
    assert arrays["v"].shape == (17, 256, 256) and arrays["label"].shape == (17,)
    expected = atlas.atlas_config(F_step=0.004, k_step=0.001, steps=30_000)
    sweep = Sweep.load(DATA / "atlas_map.npz", expected=expected)
    assert sweep.v.shape == (25, 31, 64, 64)


def _checkerboard_amplification(F, k, dt=1.0, dx=DX):
    """Largest |eigenvalue| of one linearised Euler step for the grid checkerboard mode
    (5-point symbol -8/dx^2) around the v-rich state; None without that state."""
    model = th.GrayScott(F, k)
    states = model.steady_states()
    if len(states) < 2:
        return None
    J = model.jacobian(*states[-1])
    step = np.eye(2) + dt * (J - 8 / dx**2 * np.diag([model.Du, model.Dv]))
    return np.abs(np.linalg.eigvals(step)).max()


def test_pearson_time_step_is_stable_in_the_atlas_window_but_not_below_it():
    """Why ATLAS_K_RANGE starts at 0.040: with Pearson's dt = 1 the v-rich state grows a
    grid-scale checkerboard at low k and high F; stability_limit says so."""
    config = atlas.atlas_config(0.004, 0.001)
    factors = [_checkerboard_amplification(F, k) for F in config.F for k in config.k]
    assert max(f for f in factors if f is not None) < 1.0
    assert min(th.stability_limit(th.GrayScott(F, k), DX) for F in config.F for k in config.k) >= config.dt
    assert _checkerboard_amplification(0.10, 0.035) > 1.0
    assert th.stability_limit(th.GrayScott(0.10, 0.035), DX) < 1.0
