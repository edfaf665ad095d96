import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.errors import UserError


def test_gates_are_input_dependent_softmaxes(make_model):
    model = make_model("qmoe", {"experts": 3})
    gates = model.gate_weights(torch.randn(6, FEATURES))
    assert set(gates) == {"digit", "parity", "ge5"}
    for gate in gates.values():
        assert gate.shape == (6, 3) and torch.all(gate > 0)
        assert torch.allclose(gate.sum(dim=1), torch.ones(6))
        assert not torch.allclose(gate[0], gate[1])  # depends on the input
    assert not torch.allclose(gates["digit"], gates["parity"])  # one gate per task


def test_output_is_the_readout_of_the_gate_weighted_expert_sum(make_model):
    model = make_model("qmoe", {"experts": 4, "expert_layers": 2})
    x = torch.randn(5, FEATURES)
    outputs = model(x)
    angles = model.encoder(x)
    experts = model.expert_outputs(angles)  # (experts, batch, words)
    assert experts.shape == (4, 5, len(model.experts.observables))
    # the experts differ: each has its own weights
    assert not torch.allclose(experts[0], experts[1])
    for name, gate in model.gate_weights(x).items():
        mixed = sum(gate[:, e, None] * experts[e][:, model.columns[name]] for e in range(4))
        assert torch.allclose(outputs[name], model.heads[name](mixed), atol=1e-6)


def test_all_experts_run_in_one_execution(make_model):
    model = make_model("qmoe", {"experts": 3})
    with qml.Tracker(model.experts.qnode.device) as tracker:
        model(torch.randn(5, FEATURES))
    assert tracker.totals["simulations"] == 1


def test_parameter_split_and_gradients(make_model):
    model = make_model("qmoe", {"experts": 2})
    outputs = model(torch.randn(8, FEATURES))
    sum(o.pow(2).sum() for o in outputs.values()).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    per_task = model.task_parameters()
    parity = {id(p) for p in per_task[1]}
    assert id(model.gates["parity"].weight) in parity and id(model.heads["parity"].linear.weight) in parity
    shared = {id(p) for p in model.shared_parameters()}
    assert all(id(w) in shared for w in model.experts.weights)


def test_expert_qubits_must_cover_the_measured_wires(make_model):
    with pytest.raises(UserError, match="expert_qubits = 2 must be between 4 .* and model.n_qubits = 4"):
        make_model("qmoe", {"expert_qubits": 2})
