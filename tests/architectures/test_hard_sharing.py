import pennylane as qml
import pytest
import torch

from qmtl.architectures import build_model
from qmtl.config import validate_config
from qmtl.errors import UserError
from qmtl.lightcone import expand


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
    tape_plain = qml.workflow.construct_tape(plain.circuit.qnode)(angles, plain.circuit.weights, gates=True)
    tape_re = qml.workflow.construct_tape(reuploaded.circuit.qnode)(angles, reuploaded.circuit.weights, gates=True)
    # one more encoding layer of 4 RY gates (the ansatz gates are the same in both)
    assert sum(op.name == "RY" for op in tape_re.operations) == sum(op.name == "RY" for op in tape_plain.operations) + 4


def test_unknown_architecture(tiny_config):
    tiny_config["model"]["architecture"] = "hard_shared"
    with pytest.raises(UserError, match="unknown architecture 'hard_shared' \\(did you mean 'hard_sharing'\\?\\)"):
        _model(tiny_config)


def test_diagonal_readout_equals_expectation_values(tiny_config):
    """The probabilities-times-signs path gives <Z...> exactly as per-word expvals do."""
    _, device, model = _model(tiny_config)
    assert model.circuit.signs is not None
    angles = model.encoder(torch.randn(4, 64)).double()
    weights = model.circuit.weights.detach().double()
    full = expand(weights, model.circuit.live)  # dead angles at 0: every gate queued

    @qml.qnode(device, interface="torch")
    def reference(x, w):
        model.circuit._encode(x)
        for layer in range(model.circuit.layers):
            model.circuit.ansatz.apply_layer(w[layer], range(4), layer)
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliZ(3)), qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))]

    expected = torch.stack(reference(angles, full), dim=-1)
    values = model.circuit.qnode(angles, weights) @ model.circuit.signs
    assert torch.allclose(values[:, [0, 3, 4]], expected, atol=1e-10)


def test_non_z_words_use_expectation_values(tiny_config):
    tiny_config["tasks"][2]["observables"] = ["X0", "Y1 Z2"]
    _, _, model = _model(tiny_config)
    assert model.circuit.signs is None
    assert model(torch.randn(3, 64))["ge5"].shape == (3, 1)


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_product_state_encoding_equals_encoding_gates(tiny_config, rotation):
    """The closed-form first encoding gives the same outputs and gradients as the gates."""
    tiny_config["model"]["encoding"] = {"rotation": rotation, "reupload": True}
    tiny_config["model"]["ansatz"]["layers"] = 2
    _, _, model = _model(tiny_config)
    model.double()
    x = torch.randn(5, 64, dtype=torch.float64)
    results = []
    for closed_form in (True, False):
        model.circuit.product_state_encoding = closed_form
        model.zero_grad()
        outputs = model(x)
        sum(o.sum() for o in outputs.values()).backward()
        results.append((outputs, [p.grad.clone() for p in model.parameters()]))
    (fast, fast_grads), (gates, gate_grads) = results
    for task in fast:
        assert torch.allclose(fast[task], gates[task], atol=1e-10)
    for a, b in zip(fast_grads, gate_grads):
        assert torch.allclose(a, b, atol=1e-10)
