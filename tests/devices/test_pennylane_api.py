"""``qmtl.estimator`` as PennyLane sees it: shots, repr, specs, autograd, Tracker, keywords,
shot vectors, and refusals raised as PennyLane ``DeviceError``."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
import torch
from pennylane import numpy as pnp
from pennylane.exceptions import DeviceError
from pennylane.measurements import Shots

from qmtl.devices import DeviceConfig, build_device
from qmtl.errors import UserError

ANGLE = 0.7


def rx_circuit(device, **qnode_options):
    """``<Z0>`` after RX(x): cos(x)."""

    @qml.qnode(device, **qnode_options)
    def circuit(x):
        qml.RX(x, wires=0)
        return qml.expval(qml.Z(0))

    return circuit


def test_exact_device_is_analytic_and_reports_it():
    device = qml.device("qmtl.estimator", wires=2)
    assert device.shots == Shots(None)
    assert repr(device).startswith("<qmtl.estimator device (wires=2) at ")
    specs = qml.specs(rx_circuit(device))(ANGLE)
    assert specs.shots == Shots(None) and specs.device_name == "qmtl.estimator"
    assert specs.resources.gate_types == {"RX": 1}


def test_configured_shots_are_pennylane_shots():
    device, _ = build_device(DeviceConfig(name="aer", shots=1000), 2, seed=0)
    assert device.shots == Shots(1000) and device.estimator_shots == 1000
    assert "shots=1000" in repr(device)
    assert qml.specs(rx_circuit(device))(ANGLE).shots == Shots(1000)
    precision_device, _ = build_device(DeviceConfig(name="aer", precision=0.1), 2, seed=0)
    assert precision_device.shots == Shots(100)  # precision p measures ceil(1/p**2) shots


def test_autograd_grad_and_jacobian():
    def two_outputs(x, y):
        qml.RX(x, wires=0)
        qml.RY(y, wires=1)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Z(1)), qml.expval(qml.Y(0) @ qml.X(1) + 0.5 * qml.X(1))

    device = qml.device("qmtl.estimator", wires=2)
    x = pnp.array(ANGLE, requires_grad=True)
    np.testing.assert_allclose(qml.grad(rx_circuit(device))(x), -np.sin(ANGLE), atol=1e-12)
    args = (x, pnp.array(0.4, requires_grad=True))
    jacobians = [qml.jacobian(lambda *v, dev=dev: qml.math.stack(qml.QNode(two_outputs, dev)(*v)))(*args)
                 for dev in (device, qml.device("default.qubit", wires=2))]
    np.testing.assert_allclose(jacobians[0], jacobians[1], atol=1e-12)
    assert np.abs(jacobians[1]).min() > 0.1  # every entry is a real check


def spread(circuit, rows: int = 2000) -> np.ndarray:
    """Values of ``circuit`` at ``rows`` identical broadcast angles (independent noise)."""
    return np.asarray(circuit(np.full(rows, ANGLE)))


def test_set_shots_sets_the_estimate_spread():
    device = qml.device("qmtl.estimator", wires=1)
    circuit = rx_circuit(device)
    exact = spread(circuit)  # analytic: exact, every row
    np.testing.assert_allclose(exact, np.cos(ANGLE), atol=1e-14, rtol=0)
    single_shot_std = np.sin(ANGLE)  # sqrt(1 - <Z>^2)
    for shots in (100, 10_000):
        values = spread(qml.set_shots(circuit, shots=shots))
        assert values.std() == pytest.approx(single_shot_std / np.sqrt(shots), rel=0.1)
        assert values.mean() == pytest.approx(np.cos(ANGLE), abs=5 * values.std() / 40)


def test_analytic_call_on_a_shot_device_is_exact():
    device, _ = build_device(DeviceConfig(name="aer", shots=100), 1, seed=0)
    circuit = rx_circuit(device)
    np.testing.assert_allclose(spread(qml.set_shots(circuit, shots=None)), np.cos(ANGLE),
                               atol=1e-14, rtol=0)
    assert spread(circuit).std() > 0.02


def test_shot_vector_gives_one_estimate_per_entry_in_one_call():
    device = qml.device("qmtl.estimator", wires=1)
    circuit = qml.set_shots(rx_circuit(device, diff_method="device"), shots=[100, 10_000, 10_000])
    values = circuit(np.full(2000, ANGLE))
    assert len(values) == 3 and device.primitive_calls == 1
    stds = [np.std(v) for v in values]
    expected = [np.sin(ANGLE) / np.sqrt(n) for n in (100, 10_000, 10_000)]
    np.testing.assert_allclose(stds, expected, rtol=0.1)
    assert not np.array_equal(values[1], values[2])  # copies are independent estimates
    x = pnp.array(ANGLE, requires_grad=True)
    jacobian = qml.jacobian(lambda v: qml.math.stack(circuit(v)))(x)
    assert jacobian.shape == (3,) and device.primitive_calls == 2
    # Shift-rule std per entry: sqrt(2 * 0.5**2 * (1 - <Z>^2 at x +- pi/2) / shots) < 0.71/sqrt(N)
    np.testing.assert_array_less(np.abs(jacobian + np.sin(ANGLE)),
                                 5 * 0.71 / np.sqrt([100, 10_000, 10_000]))


def test_runtime_target_honours_pennylane_shots():
    """Runtime's Estimator takes one precision per call: one call per shot count."""
    device = qml.device("qmtl.estimator", wires=1, backend="fake_manila", shots=100, seed=3)
    few, many = qml.set_shots(rx_circuit(device), shots=[50, 5000])(np.full(40, ANGLE))
    assert device.primitive_calls == 2
    assert np.std(few) > 4 * np.std(many) > 0  # expected ratio sqrt(5000/50) = 10


def test_training_step_with_pennylane_shots_is_one_call():
    device = qml.device("qmtl.estimator", wires=1)
    circuit = qml.set_shots(rx_circuit(device, interface="torch", diff_method="device"), 500)
    x = torch.full((8,), ANGLE, dtype=torch.float64, requires_grad=True)
    circuit(x).sum().backward()
    assert device.primitive_calls == 1
    torch.testing.assert_close(x.grad, torch.full((8,), -np.sin(ANGLE), dtype=torch.float64),
                               atol=0.2, rtol=0)


def test_tracker_counts_batches_shots_and_primitive_calls():
    device = qml.device("qmtl.estimator", wires=1)
    circuit = rx_circuit(device, diff_method="device")
    with qml.Tracker(device) as tracker:
        qml.set_shots(circuit, shots=300)(np.full(4, ANGLE))
        qml.grad(circuit)(pnp.array(ANGLE, requires_grad=True))
    assert tracker.totals["primitive_calls"] == 2 == device.primitive_calls
    assert tracker.totals["rows"] == 4 + 3  # 4 forward rows; 1 forward + 2 shifted rows
    assert tracker.totals["batches"] == 1 and tracker.totals["executions"] == 5
    assert tracker.totals["shots"] == 4 * 300
    assert tracker.totals["execute_and_derivative_batches"] == 1


@pytest.mark.parametrize(("make", "match"), [
    (lambda: qml.var(qml.Z(0)), "only qml.expval of Pauli"),
    (lambda: qml.probs(wires=[0]), "only qml.expval of Pauli"),
    (lambda: qml.expval(pnp.array(0.5, requires_grad=True) * qml.Z(0)),
     "trainable observable coefficients"),
])
def test_unsupported_measurements_are_device_errors(make, match):
    device = qml.device("qmtl.estimator", wires=1)

    @qml.qnode(device, diff_method="device")
    def circuit(x):
        qml.RX(x, wires=0)
        return make()

    with pytest.raises(DeviceError, match=match) as error:
        qml.grad(circuit)(pnp.array(ANGLE, requires_grad=True))
    assert isinstance(error.value, UserError) and "\n" not in str(error.value)


def test_analytic_call_on_a_sampling_target_is_refused():
    device = qml.device("qmtl.estimator", wires=1, backend="aer", shots=100, noise="fake_manila")
    with pytest.raises(DeviceError, match=r"aer\+fake_manila samples shots.*qml.set_shots"):
        qml.set_shots(rx_circuit(device), shots=None)(ANGLE)


def test_keyword_route_builds_the_configured_target():
    keyword = qml.device("qmtl.estimator", wires=2, backend="aer", shots=1000,
                         noise="fake_manila", seed=1)
    configured, _ = build_device(DeviceConfig(name="aer", shots=1000, noise="fake_manila"), 2,
                                 seed=1)
    assert keyword.target.label == "aer+fake_manila" and keyword.shots == Shots(1000)
    assert rx_circuit(keyword)(ANGLE) == rx_circuit(configured)(ANGLE)  # same seed, same draw
    runtime = qml.device("qmtl.estimator", wires=2, backend="fake_manila", shots=100,
                         mitigation=["readout"])
    assert runtime.target.mitigation.techniques == ("readout",)


@pytest.mark.parametrize(("options", "match"), [
    ({"shots": 0}, r"shots must be a positive integer, got 0"),
    ({"shots": -3}, r"shots must be a positive integer, got -3"),
    ({"shots": [100, 200]}, r"shots must be one positive integer.*qml.set_shots"),
    ({"shotz": 100}, r"unknown keyword 'shotz'.*did you mean 'shots'"),
    ({"noise": "fake_manila"}, r"noise model needs shot-based"),
    ({"precision": "fine"}, r"keyword 'precision': .*valid number"),
    ({"backend": "fake_manila", "wires": 6}, r"needs 6 qubits but backend fake_manila has 5"),
    ({"config": DeviceConfig(name="aer"), "shots": 10}, r"config=DeviceConfig.*or keywords"),
])
def test_bad_device_options_are_one_line_device_errors(options, match):
    from qmtl.devices.estimator import EstimatorDevice

    options = {"wires": 2} | options
    # ``config`` is reserved by qml.device, so that route goes through the class itself.
    make = EstimatorDevice if "config" in options else lambda **kw: qml.device(
        "qmtl.estimator", **kw)
    with pytest.raises(DeviceError, match=match) as error:
        make(**options)
    assert isinstance(error.value, UserError) and "\n" not in str(error.value)
