r"""The shared variational circuit, as a torch module around a PennyLane QNode.

Angles of shape ``(batch, n_qubits)`` are encoded as one rotation per wire and followed
by ``layers`` variational layers (the encoding is repeated before every layer when
``reupload`` is set — data re-uploading, Pérez-Salinas et al., Quantum 4, 226 (2020)).
The circuit returns the expectation values of every Pauli word any task reads, from ONE
execution, and broadcasts over the batch: the batch is one tape, not a Python loop.
Only the live variational angles are parameters (:mod:`qmtl.lightcone`): ``weights`` is
the vector of the angles that can change a measured value, in ``(layer, wire, rotation)``
order, and a dead angle's gate is not queued.

On ``default.qubit`` with backprop the circuit is compiled once into a torch statevector
program (:mod:`qmtl.statevector`: no tape, transform program or device dispatch per step;
the same values and gradients) and the device's ``qml.Tracker`` still counts each
execution.  Every other device runs the QNode, which is also what drawing, OpenQASM export
and hardware submission read.
"""

from __future__ import annotations

from collections.abc import Sequence

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import Ansatz
from qmtl.lightcone import data_angles, expand, live_angles, refuse_other_layouts
from qmtl.observables import to_observable
from qmtl.statevector import compile_program, track_simulation

_ROTATIONS = {"X": qml.RX, "Y": qml.RY, "Z": qml.RZ}
#: The device the statevector program replaces (with ``diff_method="backprop"``).
SIMULATOR = "default.qubit"


class SharedCircuit(nn.Module):
    """Encoding + variational layers; ``forward(angles)`` -> ``(batch, len(observables))``."""

    # Buffer, registered in __init__; declared so that type checkers know it as a tensor.
    live: torch.Tensor

    def __init__(
        self,
        n_qubits: int,
        ansatz: Ansatz,
        layers: int,
        observables: Sequence[str],
        device: qml.devices.Device,
        diff_method: str,
        rotation: str = "Y",
        reupload: bool = False,
    ) -> None:
        super().__init__()
        self.n_qubits = n_qubits
        self.ansatz = ansatz
        self.layers = layers
        self.observables = list(observables)
        self.rotation = _ROTATIONS[rotation]
        self.reupload = reupload
        (live,) = live_angles(
            lambda markers, masks: self._queue(data_angles(n_qubits), markers[0], masks[0]),
            [ansatz.shape(layers, n_qubits)], self.observables,
        )
        self.register_buffer("live", live, persistent=False)
        # Uniform in [0, 2π): the rotation period, as PennyLane's TorchLayer initialises.
        self.weights = nn.Parameter(2 * torch.pi * torch.rand(int(live.sum())))
        self.qnode = qml.QNode(self._circuit, device, interface="torch", diff_method=diff_method)
        self.program = (
            compile_program(lambda inputs, weights: self._queue(inputs, expand(weights, live), live),
                            n_qubits, n_qubits, int(live.sum()), self.observables)
            if device.name == SIMULATOR and diff_method == "backprop" else None
        )
        refuse_other_layouts(self)

    def _encode(self, angles: torch.Tensor) -> None:
        for wire in range(self.n_qubits):
            self.rotation(angles[..., wire], wires=wire)

    def _queue(self, angles: torch.Tensor, weights: torch.Tensor, live: torch.Tensor) -> None:
        """Encoding and layers for full-layout ``weights``, queueing the ``live`` rotations."""
        wires = list(range(self.n_qubits))
        for layer in range(self.layers):
            if layer == 0 or self.reupload:
                self._encode(angles)
            self.ansatz.apply_layer(weights[layer], wires, layer, live[layer])

    def _circuit(self, angles: torch.Tensor, weights: torch.Tensor) -> list:
        """The circuit for the live angles ``weights``: one expectation value per word."""
        self._queue(angles, expand(weights, self.live), self.live)
        return [qml.expval(to_observable(word)) for word in self.observables]

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        if self.program is not None:
            values = self.program(angles, self.weights)
            track_simulation(self.qnode.device)
            return values.to(angles.dtype)
        return torch.stack(list(self.qnode(angles, self.weights)), dim=-1).to(angles.dtype)

    def draw(self, angles: torch.Tensor) -> str:
        """Text drawing of the circuit for one example."""
        return qml.draw(self.qnode, decimals=2, max_length=120)(angles, self.weights.detach())

    def draw_figure(self, angles: torch.Tensor):  # -> (Figure, Axes)
        return qml.draw_mpl(self.qnode, decimals=2)(angles, self.weights.detach())
