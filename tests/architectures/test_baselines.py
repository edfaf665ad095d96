import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.errors import UserError


def test_single_task_shares_no_parameter(make_model):
    model = make_model("single_task")
    assert model.shared_parameters() == []
    per_task = model.task_parameters()
    ids = [{id(p) for p in params} for params in per_task]
    assert sum(len(s) for s in ids) == len(set().union(*ids)) == len(list(model.parameters()))
    outputs = model(torch.randn(8, FEATURES))
    for t, name in enumerate(model.task_names):
        model.zero_grad(set_to_none=True)
        outputs[name].pow(2).sum().backward(retain_graph=True)
        for u, params in enumerate(per_task):
            touched = [p.grad is not None and p.grad.abs().sum() > 0 for p in params]
            assert all(touched) if u == t else not any(touched), (name, u)


def test_single_task_circuit_budget_equals_the_multi_task_circuit(make_model):
    single, hard = make_model("single_task"), make_model("hard_sharing")
    # each task's own circuit keeps the angles that reach its own words; the layout is the same
    assert {tuple(mask.shape) for mask in single.circuits.live} == {tuple(hard.circuit.live.shape)}
    assert all(w.numel() == mask.sum() <= hard.circuit.live.numel()
               for w, mask in zip(single.circuits.weights, single.circuits.live))
    assert len(single.circuits.weights) == len(hard.task_names)


def test_single_task_runs_all_circuits_in_one_execution(make_model):
    model = make_model("single_task")
    with qml.Tracker(model.circuits.qnode.device) as tracker:
        model(torch.randn(4, FEATURES))
    assert tracker.totals["simulations"] == 1


def test_classical_matches_the_quantum_parameter_count(make_model, tiny_config):
    for hidden in ([16], [32, 8], []):
        tiny_config["model"]["encoder"]["hidden"] = hidden
        quantum = make_model("hard_sharing", raw=tiny_config).parameter_counts()["total"]
        classical = make_model("classical", raw=tiny_config)
        total = classical.parameter_counts()["total"]
        assert abs(total - quantum) <= 0.1 * quantum, (hidden, total, quantum)
        assert classical(torch.randn(3, FEATURES))["digit"].shape == (3, 10)


def test_classical_fixed_width(make_model):
    model = make_model("classical", {"match_parameters": False, "width": 7})
    assert model.heads["digit"].in_features == 7
    with pytest.raises(UserError, match="either model.options.match_parameters"):
        make_model("classical", {"width": 7})
