"""The chapters' setup call (turing_helpers.book) and the numpy/torch helpers (turing_helpers.backend)."""
import sys

import matplotlib
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers import backend
from turing_helpers.plotting import STYLE


def test_setup_applies_the_style_and_seeds_numpy_and_torch():
    matplotlib.rcParams.update({key: matplotlib.rcParamsDefault[key] for key in STYLE})
    threads = torch.get_num_threads()
    rng = th.book.setup(seed=3, threads=1)
    assert all(matplotlib.rcParams[key] == value for key, value in STYLE.items())
    assert rng.random() == np.random.default_rng(3).random()
    first = torch.rand(3)
    th.book.setup(seed=3)
    assert torch.equal(torch.rand(3), first)  # torch was seeded again: the same draws
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)  # the other tests in this process keep theirs


@pytest.mark.parametrize("bad", [{"seed": -1}, {"seed": 1.5}, {"threads": 0}])
def test_setup_names_a_bad_argument(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        th.book.setup(**bad)


def test_glue_is_a_no_op_without_the_books_build_tools(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # "import myst_nb" now raises ImportError
    assert th.book.glue("anything", 1.0, display=False) is None


def test_backend_tells_tensors_from_arrays_without_importing_torch_for_arrays():
    tensor, array = torch.arange(4.0, requires_grad=True), np.arange(4.0)
    assert backend.is_torch(tensor) and not backend.is_torch(array) and not backend.is_torch([1.0])
    assert isinstance(backend.to_numpy(tensor), np.ndarray)
    np.testing.assert_array_equal(backend.to_numpy(tensor), array)
    assert backend.to_numpy(array) is array  # no copy where none is needed
    assert backend.namespace(tensor) is torch and backend.namespace(array) is np


def test_field_grid_lays_out_a_flat_sequence_and_a_rows_by_columns_array():
    import matplotlib.pyplot as plt

    from turing_helpers.plotting import field_grid

    fields = np.random.default_rng(0).random((2, 3, 8, 8))
    fig = field_grid(fields, titles=["a", "b", "c"], row_labels=["top", "bottom"], vmin=0, vmax=1)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["a", "b", "c"] and axes[1, 0].get_title() == ""
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["top", "bottom"]
    np.testing.assert_array_equal(axes[1, 2].images[0].get_array(), fields[1, 2])
    assert axes[0, 0].images[0].get_clim() == (0, 1)  # one colour scale for every panel
    plt.close(fig)
    fig = field_grid(list(fields[0]) + [fields[1, 0]], ncols=2)   # 4 panels, 2 per row
    assert len(fig.axes) == 4 and all(ax.images for ax in fig.axes)
    plt.close(fig)
    with pytest.raises(ValueError, match="row_labels"):
        field_grid(fields, row_labels=["only one"])
