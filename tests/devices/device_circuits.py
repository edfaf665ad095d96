"""Shared circuits for the device tests: the model's encoding + templates + task observables."""

from __future__ import annotations

import pennylane as qml
import torch

N_QUBITS = 3


def hardware_efficient(weights: torch.Tensor, wires) -> None:
    """Per layer RY and RZ on every wire, then a CNOT ring."""
    for layer in weights:
        for i, wire in enumerate(wires):
            qml.RY(layer[i, 0], wires=wire)
            qml.RZ(layer[i, 1], wires=wire)
        for i in range(len(wires)):
            qml.CNOT(wires=[wires[i], wires[(i + 1) % len(wires)]])


TEMPLATES = {
    "strongly_entangling": (qml.StronglyEntanglingLayers, 3),
    "hardware_efficient": (hardware_efficient, 2),
}

TASK_OBSERVABLES = {
    "one_task": lambda: [qml.Z(0)],
    "three_tasks": lambda: [qml.Z(0), qml.Z(0) @ qml.Z(1), qml.X(2)],
    "pauli_sums": lambda: [0.5 * qml.Z(0) + qml.Y(1) @ qml.X(2), qml.Z(1) - 0.3 * qml.X(0)],
}


def make_circuit(template: str, observables: str, reupload: bool = False):
    """``circuit(inputs, weights)`` as qmtl's model builds it."""
    apply, _ = TEMPLATES[template]
    wires = list(range(N_QUBITS))

    def circuit(inputs, weights):
        for i in wires:
            qml.RY(inputs[..., i], wires=i)
        for layer, w in enumerate(weights):
            if reupload and layer > 0:
                for i in wires:
                    qml.RY(inputs[..., i], wires=i)
            apply(w[None], wires=wires)
        return tuple(qml.expval(o) for o in TASK_OBSERVABLES[observables]())

    return circuit


def random_inputs(template: str, batch: int | None, layers: int = 2, seed: int = 0):
    """Trainable float64 inputs (shape ``(batch, n)`` or ``(n,)``) and weights."""
    generator = torch.Generator().manual_seed(seed)
    _, per_wire = TEMPLATES[template]
    shape = (batch, N_QUBITS) if batch else (N_QUBITS,)
    inputs = torch.rand(shape, generator=generator, dtype=torch.float64) * 3
    weights = torch.rand((layers, N_QUBITS, per_wire), generator=generator,
                         dtype=torch.float64) * 6
    return inputs.requires_grad_(), weights.requires_grad_()


def value_and_grads(qnode, inputs, weights):
    """Forward values and d(sum of squares + sum)/d(inputs, weights) via torch backward."""
    inputs.grad = weights.grad = None
    values = torch.stack(list(qnode(inputs, weights)))
    (values.pow(2).sum() + values.sum()).backward()
    return values.detach(), inputs.grad.clone(), weights.grad.clone()
