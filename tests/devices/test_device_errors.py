"""User mistakes raise one-line UserErrors that name the problem and the fix."""

from __future__ import annotations

import pennylane as qml
import pydantic
import pytest
import torch

from qmtl.devices import DeviceConfig, build_device, device_names
from qmtl.errors import UserError


@pytest.mark.parametrize(("config", "n_wires", "match"), [
    (DeviceConfig(name="aer_simulator"), 2, r"unknown device 'aer_simulator'.*valid names:.*aer"),
    (DeviceConfig(name="fake_manilla"), 2, r"did you mean 'fake_manila'.*fake_manila"),
    (DeviceConfig(name="aer", shots=1000, noise="fake_nowhere"), 2,
     r"unknown fake backend 'fake_nowhere'.*fake_manila"),
    (DeviceConfig(name="fake_manila"), 7, r"needs 7 qubits but backend fake_manila has 5"),
    (DeviceConfig(name="aer", shots=1000, noise="fake_manila"), 6,
     r"needs 6 qubits but backend .*fake_manila has 5"),
    (DeviceConfig(name="aer", shots=0), 2, r"device.shots must be a positive integer, got 0"),
    (DeviceConfig(name="fake_manila", shots=-5), 2, r"positive integer, got -5"),
    (DeviceConfig(name="aer", precision=-0.1), 2, r"device.precision must be > 0"),
    (DeviceConfig(name="aer", shots=10, precision=0.1), 2, r"either device.shots or"),
    (DeviceConfig(name="aer", noise="fake_manila"), 2, r"noise model needs shot-based.*shots"),
    (DeviceConfig(name="aer", noise="missing/noise.pkl", shots=10), 2, r"'missing/noise.pkl' not found"),
    (DeviceConfig(name="fake_manila", noise="fake_manila"), 2, r"device.noise applies to.*aer"),
    (DeviceConfig(name="default.qubit", shots=100), 2, r"device.shots applies to Qiskit"),
])
def test_config_mistakes(config, n_wires, match):
    with pytest.raises(UserError, match=match) as error:
        build_device(config, n_wires, seed=0)
    assert "\n" not in str(error.value)


def test_noise_model_object_needs_shots():
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error(0.01, 1), ["rx", "ry", "rz"])
    with pytest.raises(UserError, match="noise model needs shot-based"):
        build_device(DeviceConfig(name="aer"), 2, seed=0, noise_model=model)


def test_unknown_config_key_is_rejected():
    with pytest.raises(pydantic.ValidationError):
        DeviceConfig(name="aer", shotz=10)


@pytest.mark.parametrize("measurement", [
    lambda: qml.var(qml.Z(0)),
    lambda: qml.probs(wires=[0, 1]),
    lambda: qml.expval(qml.Hermitian(torch.eye(2, dtype=torch.float64), wires=0)),
    lambda: qml.sample(wires=0),
])
def test_measurements_the_estimator_cannot_express(measurement):
    device, diff_method = build_device(DeviceConfig(name="aer"), 2, seed=0)

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def circuit(x):
        qml.RX(x, wires=0)
        return measurement()

    with pytest.raises(UserError, match="only qml.expval of Pauli words"):
        circuit(torch.tensor(0.3, requires_grad=True))


def test_device_names_list_every_target():
    names = device_names()
    assert {"default.qubit", "aer", "fake_manila", "ibm:<backend_name>"} <= set(names)


def test_default_qubit_is_differentiated_by_backprop():
    device, diff_method = build_device(DeviceConfig(), 3, seed=0)
    assert device.name == "default.qubit" and diff_method == "backprop"


def test_registered_as_pennylane_plugin():
    """``qml.device('qmtl.estimator', ...)`` finds the device through its entry point
    (registered by the editable install that ``make test`` performs)."""
    device = qml.device("qmtl.estimator", wires=2)
    assert device.name == "qmtl.estimator" and device.target.label == "aer"
