"""Exact Aer through the device matches default.qubit backprop in values and gradients."""

from __future__ import annotations

import pennylane as qml
import pytest
import torch
from device_circuits import N_QUBITS, TEMPLATES, make_circuit, random_inputs, value_and_grads

from qmtl.ansatz import ANSATZE
from qmtl.devices import DeviceConfig, build_device


def assert_matches_backprop(circuit, inputs, weights, reference_device, msg: str | None = None) -> tuple:
    """Values and gradients on exact Aer equal ``default.qubit`` backprop to 1e-6."""
    device, diff_method = build_device(DeviceConfig(name="aer"), N_QUBITS, seed=1)
    assert diff_method == "device"
    ours = value_and_grads(qml.QNode(circuit, device, interface="torch",
                                     diff_method=diff_method), inputs, weights)
    expected = value_and_grads(qml.QNode(circuit, reference_device, interface="torch",
                                         diff_method="backprop"), inputs, weights)
    for got, want in zip(ours, expected):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0, msg=msg)
    return expected


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("observables", ["one_task", "three_tasks", "pauli_sums"])
@pytest.mark.parametrize("batch", [None, 1, 5])
def test_matches_backprop(template, observables, batch, reference_device):
    circuit = make_circuit(template, observables, reupload=batch == 5)
    inputs, weights = random_inputs(template, batch)
    expected = assert_matches_backprop(circuit, inputs, weights, reference_device)
    assert expected[2].abs().max() > 1e-3  # gradients are not trivially zero


def test_gates_outside_the_set_are_decomposed(reference_device):
    """CRX, IsingZZ, Rot and a basis-state preparation go through ``decompose``."""

    def circuit(inputs, weights):
        qml.BasisState(torch.tensor([1, 0, 1]), wires=range(3))
        qml.RY(inputs[..., 0], wires=0)
        qml.CRX(weights[0], wires=[0, 1])
        qml.IsingZZ(weights[1], wires=[1, 2])
        qml.Rot(weights[2], weights[0], inputs[..., 1], wires=2)
        qml.Toffoli(wires=[0, 1, 2])
        return qml.expval(qml.X(1) @ qml.Y(2)), qml.expval(qml.Z(0))

    inputs = torch.tensor([[0.3, 1.1], [2.0, -0.4]], dtype=torch.float64, requires_grad=True)
    weights = torch.tensor([0.7, -1.2, 2.5], dtype=torch.float64, requires_grad=True)
    assert_matches_backprop(circuit, inputs, weights, reference_device)


def test_qmtl_ansatz_registry(reference_device):
    """Every template registered in ``qmtl.ansatz.ANSATZE`` runs and differentiates exactly."""
    wires = list(range(N_QUBITS))
    for name, template in ANSATZE.items():

        def circuit(inputs, weights, template=template):
            for i in wires:
                qml.RY(inputs[..., i], wires=i)
            for layer, w in enumerate(weights):
                template.apply_layer(w, wires, layer)
            return qml.expval(qml.Z(0)), qml.expval(qml.Z(1) @ qml.Z(2))

        generator = torch.Generator().manual_seed(3)
        inputs = torch.rand((4, N_QUBITS), generator=generator, dtype=torch.float64)
        weights = torch.rand(template.shape(2, N_QUBITS), generator=generator,
                             dtype=torch.float64) * 6
        inputs.requires_grad_()
        weights.requires_grad_()
        assert_matches_backprop(circuit, inputs, weights, reference_device, msg=name)


def test_circuit_without_angles_and_single_scalar_parameter():
    device, diff_method = build_device(DeviceConfig(name="aer"), 2, seed=0)

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def bell():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.expval(qml.X(0) @ qml.X(1)), qml.expval(qml.Z(0))

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def rotation(x):
        qml.PhaseShift(0.4, wires=0)
        qml.RX(x, wires=0)
        return qml.expval(qml.Z(0))

    assert [float(v) for v in bell()] == pytest.approx([1.0, 0.0], abs=1e-9)
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    rotation(x).backward()
    assert float(x.grad) == pytest.approx(-torch.sin(x).item(), abs=1e-9)
