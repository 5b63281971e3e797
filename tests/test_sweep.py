"""turing_helpers.sweep: the same sweep on any executor, saved atomically with its parameters."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from turing_helpers import io as th_io
from turing_helpers.io import FileMismatch
from turing_helpers.sweep import Sweep, SweepConfig, parameter_sweep

# A tiny sweep: 3 × 2 cells of 24² (Pearson's spacing), long enough for the square to
# start breaking up, so cells really differ from one another and from the start.
TINY = SweepConfig(F=(0.026, 0.038, 0.062), k=(0.055, 0.061), n=24, steps=300, square=0.25)


@pytest.fixture(scope="module")
def serial():
    """The reference: every cell in this process, one batch."""
    return parameter_sweep(TINY, backend="numba")


def test_serial_sweep_shapes_and_bookkeeping(serial):
    assert serial.u.shape == serial.v.shape == (3, 2, 24, 24)
    assert serial.u.dtype == np.float32
    assert np.isfinite(serial.u).all() and np.isfinite(serial.v).all()
    assert serial.info["backend"] == "numba" and serial.info["chunks"] == 1
    assert serial.seconds > 0
    # cells with different parameters end differently
    assert not np.array_equal(serial.v[0, 0], serial.v[2, 1])


def test_chunking_does_not_change_the_result(serial):
    chunked = parameter_sweep(TINY, backend="numba", chunks=4)
    assert chunked.info["chunks"] == 4
    np.testing.assert_array_equal(chunked.u, serial.u)
    np.testing.assert_array_equal(chunked.v, serial.v)


def test_process_pool_gives_identical_results(serial):
    # "spawn": fresh interpreters, so the workers never inherit the parent's numba
    # threads through fork (some threading layers are not fork-safe).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        pooled = parameter_sweep(TINY, executor=pool, backend="numba")
    assert pooled.info["chunks"] == 6  # min(cells, 4 per worker)
    np.testing.assert_array_equal(pooled.u, serial.u)
    np.testing.assert_array_equal(pooled.v, serial.v)


def test_dask_local_cluster_gives_identical_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        executor = client.get_executor()
        remote = parameter_sweep(TINY, executor=executor, backend="numba")
    np.testing.assert_array_equal(remote.u, serial.u)
    np.testing.assert_array_equal(remote.v, serial.v)


def test_save_load_round_trip(serial, tmp_path):
    path = serial.save(tmp_path / "atlas.npz")
    loaded = Sweep.load(path, expected=TINY)
    assert loaded.config == TINY
    np.testing.assert_array_equal(loaded.u, serial.u)
    np.testing.assert_array_equal(loaded.v, serial.v)
    assert loaded.u.dtype == serial.u.dtype
    assert loaded.seconds == pytest.approx(serial.seconds)
    assert loaded.info == pytest.approx(serial.info)
    # without an expected config it loads too, and the stored config comes back
    assert Sweep.load(path).config == TINY


@pytest.mark.parametrize("change", [{"steps": 301}, {"F": (0.026, 0.038, 0.061)}, {"n": 32}])
def test_load_refuses_a_sweep_made_with_other_parameters(serial, tmp_path, change):
    path = serial.save(tmp_path / "atlas.npz")
    with pytest.raises(FileMismatch, match="other parameters"):
        Sweep.load(path, expected=replace(TINY, **change))


def test_files_survive_a_package_release_but_not_a_format_change(serial, tmp_path, monkeypatch):
    """The data format, not the package version, decides whether a file can be read."""
    path = serial.save(tmp_path / "atlas.npz")
    import turing_helpers
    import turing_helpers.io as io

    monkeypatch.setattr(turing_helpers, "__version__", "9.9.9")
    assert Sweep.load(path, expected=TINY).config == TINY
    monkeypatch.setattr(io, "DATA_FORMAT", io.DATA_FORMAT + 1)
    old, new = io.DATA_FORMAT - 1, io.DATA_FORMAT
    with pytest.raises(FileMismatch, match=rf"data format {old}, this turing_helpers reads format {new}; regenerate"):
        Sweep.load(path, expected=TINY)


def test_a_truncated_file_is_a_file_mismatch_and_the_data_cache_regenerates_it(tmp_path, monkeypatch):
    import turing_helpers.data as data
    from turing_helpers.io import load_arrays, save_arrays

    path = save_arrays(tmp_path / "cut.npz", {"x": np.arange(1000.0)}, {"n": 1})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(FileMismatch, match="damaged or truncated"):
        load_arrays(path)
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "missing.npz")

    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path)
    config, calls = data.TrajectoryConfig(), []

    def make():
        calls.append(1)
        return {"frames": np.zeros(3)}
    data._cached("cut", config, make, refresh=False)
    cached = next(tmp_path.glob("cut-*.npz"))
    cached.write_bytes(cached.read_bytes()[:40])  # an interrupted copy, say
    assert data._cached("cut", config, make, refresh=False)["frames"].shape == (3,) and len(calls) == 2
    assert data._cached("cut", config, make, refresh=False)["frames"].shape == (3,) and len(calls) == 2


def _interrupted_savez(handle, **arrays):
    """Write a few bytes, as a crash part-way through would, then fail."""
    handle.write(b"PK\x03\x04 half a zip file")
    raise KeyboardInterrupt("simulated interruption during the write")


def test_interrupted_write_leaves_no_file(serial, tmp_path, monkeypatch):
    monkeypatch.setattr(th_io.np, "savez_compressed", _interrupted_savez)
    path = tmp_path / "atlas.npz"
    with pytest.raises(KeyboardInterrupt):
        serial.save(path)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary file


def test_interrupted_write_keeps_the_previous_file(serial, tmp_path, monkeypatch):
    path = serial.save(tmp_path / "atlas.npz")
    before = path.read_bytes()
    monkeypatch.setattr(th_io.np, "savez_compressed", _interrupted_savez)
    with pytest.raises(KeyboardInterrupt):
        serial.save(path)
    assert sorted(tmp_path.iterdir()) == [path]
    assert path.read_bytes() == before
    monkeypatch.undo()
    np.testing.assert_array_equal(Sweep.load(path, expected=TINY).v, serial.v)


def test_empty_sweep_is_a_usage_error():
    with pytest.raises(ValueError, match="at least one value"):
        parameter_sweep(replace(TINY, F=()), backend="numba")
