"""Noise from a wide fake backend on Aer: only the qubits the circuit acts on after layout
are simulated (Aer truncates idle qubits), and only that count is limited."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from pennylane.exceptions import DeviceError

from qmtl.devices import DeviceConfig, build_device
from qmtl.devices.sampling import active_qubits
from qmtl.devices.targets import MAX_DENSITY_MATRIX_QUBITS


def chain(n_wires: int, device):
    """RY on every wire, then a CNOT chain; <Z> of the last wire."""

    @qml.qnode(device)
    def circuit(x):
        for wire in range(n_wires):
            qml.RY(x, wires=wire)
        for wire in range(n_wires - 1):
            qml.CNOT(wires=[wire, wire + 1])
        return qml.expval(qml.Z(n_wires - 1))

    return circuit


def test_small_circuit_on_a_27_qubit_backend_simulates_its_active_qubits():
    device, _ = build_device(DeviceConfig(name="aer", noise="fake_kolkata", precision=1e-6),
                             3, seed=0)
    noisy = chain(3, device)(0.6)
    (compiled,) = device._compiled.values()
    assert compiled.isa.num_qubits == 27 and len(active_qubits(compiled.isa)) == 3
    exact = chain(3, qml.device("default.qubit", wires=3))(0.6)
    assert 1e-3 < abs(noisy - exact) < 0.1  # the backend's noise (shot noise: 1e-6)


def test_circuit_acting_on_too_many_qubits_is_refused_when_compiled():
    wires = MAX_DENSITY_MATRIX_QUBITS + 1
    device, _ = build_device(DeviceConfig(name="aer", noise="fake_kolkata", shots=100),
                             wires, seed=0)
    with pytest.raises(DeviceError, match=rf"acts on {wires} qubits.*at most "
                                          rf"{MAX_DENSITY_MATRIX_QUBITS}.*Runtime local mode"):
        chain(wires, device)(np.float64(0.6))
