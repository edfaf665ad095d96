"""Fixtures for the device tests."""

import pennylane as qml
import pytest
from device_circuits import N_QUBITS


@pytest.fixture
def reference_device():
    """The ground truth: default.qubit, differentiated by backprop."""
    return qml.device("default.qubit", wires=N_QUBITS)
