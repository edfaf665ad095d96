"""One primitive call per training step; one transpilation per circuit structure."""

from __future__ import annotations

import pennylane as qml
import pytest
import torch
from device_circuits import N_QUBITS, make_circuit, random_inputs

from qmtl.devices import DeviceConfig, build_device


@pytest.mark.parametrize("observables", ["one_task", "three_tasks"])
def test_one_call_per_training_step(observables):
    device, diff_method = build_device(DeviceConfig(name="aer"), N_QUBITS, seed=0)
    encoder = torch.nn.Linear(2, N_QUBITS).double()
    weights = random_inputs("strongly_entangling", None)[1]
    qnode = qml.QNode(make_circuit("strongly_entangling", observables, reupload=True),
                      device, interface="torch", diff_method=diff_method)
    optimiser = torch.optim.SGD([*encoder.parameters(), weights], lr=0.1)
    features = torch.rand((6, 2), dtype=torch.float64)
    for step in range(1, 4):
        optimiser.zero_grad()
        values = torch.stack(list(qnode(encoder(features), weights)))
        assert device.primitive_calls == step  # forward: values and shift rows together
        values.square().sum().backward()
        assert device.primitive_calls == step  # backward: cached Jacobian, no new call
        assert encoder.weight.grad.abs().sum() > 0 and weights.grad.abs().sum() > 0
        optimiser.step()
    assert device.transpilations == 1


def test_one_transpilation_per_structure():
    device, diff_method = build_device(DeviceConfig(name="aer"), N_QUBITS, seed=0)
    inputs, weights = random_inputs("hardware_efficient", 4)
    for observables in ["one_task", "three_tasks", "one_task", "three_tasks"]:
        qnode = qml.QNode(make_circuit("hardware_efficient", observables), device,
                          interface="torch", diff_method=diff_method)
        qnode(inputs, weights * 2)  # new values, same structure
    assert device.transpilations == 2
    assert device.primitive_calls == 4


def test_batch_of_structures_is_one_call():
    """Tapes of different structures in one batch become PUBs of a single run call."""
    device, _ = build_device(DeviceConfig(name="aer"), N_QUBITS, seed=0)
    tapes = [qml.tape.QuantumScript([qml.RX(0.1 * k, 0), qml.CNOT([0, k])],
                                    [qml.expval(qml.Z(k))]) for k in (1, 2, 1)]
    values = qml.execute(tapes, device, diff_method=None)
    assert device.primitive_calls == 1 and device.transpilations == 2
    torch.testing.assert_close(torch.tensor(values, dtype=torch.float64),
                               torch.cos(torch.tensor([0.1, 0.2, 0.1], dtype=torch.float64)))


def test_row_limit_splits_calls():
    device, diff_method = build_device(DeviceConfig(name="aer", max_rows_per_call=50),
                                       N_QUBITS, seed=0)
    qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"), device,
                      interface="torch", diff_method=diff_method)
    inputs, weights = random_inputs("hardware_efficient", 4)
    reference = qml.QNode(make_circuit("hardware_efficient", "three_tasks"),
                          qml.device("default.qubit", wires=N_QUBITS), interface="torch")
    values = torch.stack(list(qnode(inputs, weights)))
    rows = 4 * (1 + 2 * (N_QUBITS + weights.numel()))  # forward + two shifts per angle
    assert device.primitive_calls == -(-rows // 50)
    torch.testing.assert_close(values, torch.stack(list(reference(inputs, weights))),
                               atol=1e-6, rtol=0)


def test_no_grad_evaluation_sends_only_forward_rows():
    """Under torch.no_grad() the weights still look trainable; no shift rows are sent."""
    device, diff_method = build_device(DeviceConfig(name="aer"), N_QUBITS, seed=0)
    sent = []
    run = device.target.estimator.run
    device.target.estimator.run = lambda pubs: sent.append(sum(len(p[2]) for p in pubs)) or \
        run(pubs)
    qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"), device,
                      interface="torch", diff_method=diff_method)
    inputs, weights = random_inputs("hardware_efficient", 4)
    with torch.no_grad():
        evaluated = torch.stack(list(qnode(inputs, torch.nn.Parameter(weights.detach()))))
    trained = torch.stack(list(qnode(inputs, weights)))
    assert sent == [4, 4 * (1 + 2 * (N_QUBITS + weights.numel()))]
    torch.testing.assert_close(evaluated, trained.detach())
