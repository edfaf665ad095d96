import pennylane as qml
import pytest
import torch

from qmtl.architectures import build_model
from qmtl.config import validate_config
from qmtl.errors import UserError


def _model(raw, input_dims=64):
    config = validate_config(raw)
    torch.manual_seed(0)
    device = qml.device("default.qubit", wires=config.model.n_qubits)
    return config, device, build_model(config, input_dims, device, "backprop")


def test_output_shapes_and_parameter_split(tiny_config):
    config, _, model = _model(tiny_config)
    outputs = model(torch.randn(5, 64))
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {"digit": (5, 10), "parity": (5, 1), "ge5": (5, 1)}
    counts = model.parameter_counts()
    assert counts["heads"] == {"digit": 4 * 10 + 10, "parity": 4 + 1, "ge5": 2 + 1}
    encoder = 64 * 16 + 16 + 16 * 4 + 4
    # one strongly-entangling layer: R_Z(phi), R_Y(theta) per wire; the last R_Z(omega) is
    # followed only by CNOTs and Z words, commutes with them, and is no parameter
    assert counts["shared"] == encoder + 1 * 4 * 2


def test_every_parameter_gets_a_gradient(tiny_config):
    _, _, model = _model(tiny_config)
    outputs = model(torch.randn(8, 64))
    sum(o.pow(2).sum() for o in outputs.values()).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_batch_is_broadcast_and_equals_per_example_evaluation(tiny_config):
    _, device, model = _model(tiny_config)
    x = torch.randn(6, 64)
    with qml.Tracker(device) as tracker:
        batched = model(x)
    assert tracker.totals["simulations"] == 1  # one state for all tasks and the whole batch
    for i in range(6):
        single = model(x[i : i + 1])
        for task in batched:
            assert torch.allclose(batched[task][i], single[task][0], atol=1e-5)


def test_all_tasks_read_one_state(tiny_config):
    """The expectation values each head reads equal those of a direct circuit evaluation."""
    _, _, model = _model(tiny_config)
    angles = model.encoder(torch.randn(3, 64))
    values = model.circuit(angles)
    assert model.circuit.observables == ["Z0", "Z1", "Z2", "Z3", "Z0 Z1", "Z2 Z3"]
    z0z1 = values[:, 4]
    assert torch.all(z0z1.abs() <= 1 + 1e-6)
    assert model.columns["ge5"] == [4, 5]


def test_modalities_get_one_encoder_each(tiny_config):
    _, _, model = _model(tiny_config, input_dims={"left": 32, "right": 32})
    outputs = model({"left": torch.randn(4, 32), "right": torch.randn(4, 32)})
    assert outputs["digit"].shape == (4, 10)
    assert set(model.encoder.branches) == {"left", "right"}


def test_reupload_changes_the_circuit(tiny_config):
    tiny_config["model"]["ansatz"]["layers"] = 2
    _, _, plain = _model(tiny_config)
    tiny_config["model"]["encoding"] = {"reupload": True}
    _, _, reuploaded = _model(tiny_config)
    x = torch.randn(2, 64)
    angles = plain.encoder(x)
    tape_plain = qml.workflow.construct_tape(plain.circuit.qnode)(angles, plain.circuit.weights)
    tape_re = qml.workflow.construct_tape(reuploaded.circuit.qnode)(angles, reuploaded.circuit.weights)
    # one more encoding layer of 4 RY gates (the ansatz gates are the same in both)
    assert sum(op.name == "RY" for op in tape_re.operations) == sum(op.name == "RY" for op in tape_plain.operations) + 4


def test_unknown_architecture(tiny_config):
    tiny_config["model"]["architecture"] = "hard_shared"
    with pytest.raises(UserError, match="unknown architecture 'hard_shared' \\(did you mean 'hard_sharing'\\?\\)"):
        _model(tiny_config)


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_statevector_program_equals_the_qnode(tiny_config, rotation):
    """On default.qubit the compiled statevector program (qmtl/statevector.py) gives the
    QNode's expectation values and gradients, Z words and X/Y words alike."""
    tiny_config["tasks"][2]["observables"] = ["X0", "Y1 Z2"]
    tiny_config["model"]["encoding"] = {"rotation": rotation, "reupload": True}
    tiny_config["model"]["ansatz"]["layers"] = 2
    _, _, model = _model(tiny_config)
    assert model.circuit.program is not None
    model.double()
    angles = model.encoder(torch.randn(4, 64, dtype=torch.float64)).detach().requires_grad_()
    fast = model.circuit(angles)
    textbook = torch.stack(list(model.circuit.qnode(angles, model.circuit.weights)), dim=-1)
    assert torch.allclose(fast, textbook, atol=1e-12)
    mix = torch.randn_like(fast)
    grads = [torch.autograd.grad((v * mix).sum(), [angles, model.circuit.weights]) for v in (fast, textbook)]
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-12)


def test_non_z_words_use_expectation_values(tiny_config):
    tiny_config["tasks"][2]["observables"] = ["X0", "Y1 Z2"]
    _, _, model = _model(tiny_config)
    assert model(torch.randn(3, 64))["ge5"].shape == (3, 1)
