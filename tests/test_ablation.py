"""Gate ablations of the ConvLSTM and its gates' saturation (evaluation.ablation)."""
import numpy as np
import pytest
import torch

import turing_helpers as th
from turing_helpers.evaluation.ablation import clamped_gates, gate_saturation
from turing_helpers.models.convlstm import ConvLSTM, ConvLSTMConfig


@pytest.fixture(scope="module")
def model_and_context():
    torch.manual_seed(0)
    model = ConvLSTM(ConvLSTMConfig(hidden=4, embed=4, decoder=8)).double().eval()
    fields, _, _ = th.data.developed_patterns(32, 1, seed=85, classes=("spots",), steps=4000)
    u, v = th.simulate(th.preset("spots"), fields[:, 0].astype(float), fields[:, 1].astype(float), steps=30,
                       dt=1.0, dx=2 / 128, save_every=10)
    return model, torch.from_numpy(np.stack([u, v], axis=2))  # (1, 4, 2, 32, 32)


def test_clamping_to_the_recorded_gates_reproduces_the_rollout(model_and_context):
    """The test of the ablation's wiring: a clamp equal to the actual gates changes nothing."""
    model, context = model_and_context
    with torch.no_grad():
        frames, gates = model.rollout(context, 6, return_gates=True)
    replay = {name: iter(gates[name].unbind(dim=1)) for name in ("i", "f")}
    with torch.no_grad(), clamped_gates(model, i=lambda g: next(replay["i"]), f=lambda g: next(replay["f"])):
        again = model.rollout(context, 6)
    torch.testing.assert_close(again, frames, rtol=0, atol=1e-12)
    assert model.cell.gate_hook is None  # restored on leaving


def test_a_clamp_changes_the_rollout_and_is_restored_after_an_error(model_and_context):
    model, context = model_and_context
    with torch.no_grad():
        free = model.rollout(context, 4)
        with clamped_gates(model, f=1.0, i=np.full(4, 0.5)):
            held = model.rollout(context, 4)
            _, gates = model.rollout(context, 2, return_gates=True)
    assert not torch.allclose(free, held)
    assert torch.all(gates["f"] == 1.0) and torch.all(gates["i"] == 0.5)
    with pytest.raises(RuntimeError), clamped_gates(model, f=0.0):
        raise RuntimeError("inside")
    assert model.cell.gate_hook is None


def test_bad_clamps_are_named(model_and_context):
    model, _ = model_and_context
    with pytest.raises(ValueError, match="clamps must name gates"):
        with clamped_gates(model, forget=1.0):
            pass
    with pytest.raises(ValueError, match="needs 4 values"):
        with clamped_gates(model, f=[0.5, 0.5]):
            pass


def test_saturation_of_known_gates():
    shape = (1, 2, 1, 2, 2)
    gates = {"i": np.full(shape, 0.01), "f": np.full(shape, 0.5), "o": np.full(shape, 0.99),
             "g": np.full(shape, -0.99), "c": np.concatenate([np.full((1, 1, 1, 2, 2), 0.1),
                                                            np.full((1, 1, 1, 2, 2), 2.0)], axis=1)}
    out = gate_saturation(gates)
    assert out["i"] == {"low": 1.0, "high": 0.0, "saturated": 1.0}
    assert out["f"]["saturated"] == 0.0 and out["o"]["high"] == 1.0
    assert out["g"]["saturated"] == 1.0 and out["c"]["linear"] == 0.5
