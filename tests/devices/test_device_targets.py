"""Shot noise, seeds, noise models, Runtime local testing mode and the IBM code path."""

from __future__ import annotations

import json
import pickle

import pennylane as qml
import pytest
import torch
from device_circuits import N_QUBITS, make_circuit, random_inputs
from qiskit_aer.noise import NoiseModel
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmtl.devices import DeviceConfig, build_device, targets


def run(config: DeviceConfig, seed: int, batch: int = 4, noise_model=None):
    """Values and weight gradients of the three-task circuit on ``config``."""
    device, diff_method = build_device(config, N_QUBITS, seed, noise_model=noise_model)
    qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"), device,
                      interface="torch", diff_method=diff_method)
    inputs, weights = random_inputs("hardware_efficient", batch)
    values = torch.stack(list(qnode(inputs, weights)))
    values.sum().backward()
    assert device.primitive_calls == 1
    return values.detach(), weights.grad


def exact(batch: int = 4):
    qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"),
                      qml.device("default.qubit", wires=N_QUBITS), interface="torch")
    inputs, weights = random_inputs("hardware_efficient", batch)
    return torch.stack(list(qnode(inputs, weights))).detach()


@pytest.mark.parametrize("config", [DeviceConfig(name="aer", shots=2500),
                                    DeviceConfig(name="aer", precision=0.02)])
def test_shot_estimates_within_four_standard_errors(config):
    values, _ = run(config, seed=5, batch=8)
    standard_error = 0.02  # 1/sqrt(2500): the Estimator's precision, an upper bound
    deviation = (values - exact(batch=8)).abs()
    assert deviation.max() < 4 * standard_error
    assert deviation.max() > 1e-4  # the estimate is noisy, not exact


@pytest.mark.parametrize("config", [
    DeviceConfig(name="aer", shots=1000),
    DeviceConfig(name="aer", shots=1000, noise="fake_manila"),
    DeviceConfig(name="fake_manila", shots=500),
])
def test_same_seed_same_result_different_seed_different(config):
    first, first_grad = run(config, seed=11, batch=2)
    again, again_grad = run(config, seed=11, batch=2)
    other, _ = run(config, seed=12, batch=2)
    assert torch.equal(first, again) and torch.equal(first_grad, again_grad)
    assert not torch.equal(first, other)


def test_config_seed_overrides_run_seed():
    config = DeviceConfig(name="fake_manila", shots=500, seed=0)  # 0: a falsy seed still counts
    assert torch.equal(run(config, seed=1, batch=2)[0], run(config, seed=2, batch=2)[0])


def test_fake_backend_noise_biases_the_estimate():
    """Noise from fake_manila shrinks <Z0> towards 0 beyond what shot noise explains."""
    noisy, _ = run(DeviceConfig(name="aer", precision=1e-6, noise="fake_manila"), seed=3)
    ideal = exact()
    assert (noisy - ideal).abs().max() > 0.01
    assert noisy.abs().sum() < ideal.abs().sum()


@pytest.mark.parametrize("suffix", [".json", ".pkl"])
def test_noise_model_from_file_and_object(tmp_path, suffix):
    model = NoiseModel.from_backend(FakeManilaV2())
    path = tmp_path / f"noise{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(model.to_dict(serializable=True)))
    else:
        path.write_bytes(pickle.dumps(model))
    from_file, _ = run(DeviceConfig(name="aer", precision=1e-6, noise=str(path)), seed=3)
    from_object, _ = run(DeviceConfig(name="aer", precision=1e-6), seed=3, noise_model=model)
    torch.testing.assert_close(from_file, from_object, atol=1e-5, rtol=0)
    assert (from_file - exact()).abs().max() > 0.01


@pytest.mark.parametrize("mode", ["job", "batch", "session"])
def test_ibm_backend_modes_with_a_stand_in_backend(monkeypatch, mode):
    """``ibm:<name>`` opens the backend through QiskitRuntimeService; a fake stands in."""
    opened = []
    monkeypatch.setattr(targets, "ibm_backend", lambda name: opened.append(name) or
                        FakeManilaV2())
    values, grad = run(DeviceConfig(name="ibm:ibm_manila", mode=mode, shots=4000), seed=0)
    assert opened == ["ibm_manila"]
    assert (values - exact()).abs().max() < 0.3  # noisy hardware-like estimate, but close
    assert grad.abs().sum() > 0


def test_runtime_local_mode_is_transpiled_for_the_backend():
    device, _ = build_device(DeviceConfig(name="fake_manila", shots=100), N_QUBITS, 0)
    qnode = qml.QNode(make_circuit("strongly_entangling", "one_task"), device,
                      interface="torch", diff_method="device")
    qnode(*random_inputs("strongly_entangling", 2))
    (compiled,) = device._compiled.values()
    assert compiled.isa.num_qubits == 5
    assert set(compiled.isa.count_ops()) <= set(FakeManilaV2().operation_names)
    assert all(obs.num_qubits == 5 for obs in compiled.observables)


@pytest.mark.parametrize("config", [DeviceConfig(name="aer", shots=1000),
                                    DeviceConfig(name="fake_manila", shots=500)])
def test_every_call_draws_fresh_reproducible_shot_noise(config):
    """Two calls on the same inputs differ (fresh noise); a new device repeats the sequence."""

    def two_calls():
        device, diff_method = build_device(config, N_QUBITS, 7)
        qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"), device,
                          interface="torch", diff_method=diff_method)
        inputs, weights = random_inputs("hardware_efficient", 2)
        with torch.no_grad():
            return [torch.stack(list(qnode(inputs, weights))) for _ in range(2)]

    first, second = two_calls()
    assert not torch.equal(first, second)
    again_first, again_second = two_calls()
    assert torch.equal(first, again_first) and torch.equal(second, again_second)
