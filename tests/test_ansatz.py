import pennylane as qml
import pytest
import torch

from qmtl.ansatz import ANSATZE, get_ansatz
from qmtl.errors import UserError


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 5])
def test_strongly_entangling_matches_pennylane_template(n_qubits):
    layers = 3
    weights = torch.rand(layers, n_qubits, 3, dtype=torch.float64) * 6.28
    ansatz = get_ansatz("strongly_entangling")
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev)
    def ours():
        for layer in range(layers):
            ansatz.apply_layer(weights[layer], list(range(n_qubits)), layer)
        return qml.state()

    @qml.qnode(dev)
    def reference():
        qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
        return qml.state()

    assert torch.allclose(ours(), reference(), atol=1e-12)


def test_hardware_efficient_layer_uses_ry_rz_and_a_cnot_ring():
    ansatz = ANSATZE["hardware_efficient"]
    assert ansatz.shape(2, 4) == (2, 4, 2)
    tape = qml.tape.make_qscript(lambda: ansatz.apply_layer(torch.zeros(4, 2), [0, 1, 2, 3], 0))()
    names = [op.name for op in tape.operations]
    assert names.count("RY") == names.count("RZ") == 4
    assert [tuple(op.wires) for op in tape.operations if op.name == "CNOT"] == [(0, 1), (1, 2), (2, 3), (3, 0)]


def test_unknown_ansatz():
    with pytest.raises(UserError, match="valid names: hardware_efficient, strongly_entangling"):
        get_ansatz("strong")
