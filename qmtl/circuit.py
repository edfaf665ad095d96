"""The shared variational circuit, as a torch module around a PennyLane QNode.

Angles of shape ``(batch, n_qubits)`` are encoded as one rotation per wire and followed
by ``layers`` variational layers (the encoding is repeated before every layer when
``reupload`` is set — data re-uploading, Pérez-Salinas et al., Quantum 4, 226 (2020)).
The QNode returns the expectation values of every Pauli word any task reads, from ONE
execution, and broadcasts over the batch: the batch is one tape, not a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import Ansatz
from qmtl.observables import to_observable

_ROTATIONS = {"X": qml.RX, "Y": qml.RY, "Z": qml.RZ}


class SharedCircuit(nn.Module):
    """Encoding + variational layers; ``forward(angles)`` -> ``(batch, len(observables))``."""

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
        # Uniform in [0, 2π): the rotation period, as PennyLane's TorchLayer initialises.
        self.weights = nn.Parameter(2 * torch.pi * torch.rand(ansatz.shape(layers, n_qubits)))
        self.qnode = qml.QNode(self._circuit, device, interface="torch", diff_method=diff_method)

    def _encode(self, angles: torch.Tensor) -> None:
        for wire in range(self.n_qubits):
            self.rotation(angles[..., wire], wires=wire)

    def _circuit(self, angles: torch.Tensor, weights: torch.Tensor) -> list:
        wires = list(range(self.n_qubits))
        for layer in range(self.layers):
            if layer == 0 or self.reupload:
                self._encode(angles)
            self.ansatz.apply_layer(weights[layer], wires, layer)
        return [qml.expval(to_observable(word)) for word in self.observables]

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        values = self.qnode(angles, self.weights)
        return torch.stack(list(values), dim=-1).to(angles.dtype)

    def draw(self, angles: torch.Tensor) -> str:
        """Text drawing of the circuit for one example."""
        return qml.draw(self.qnode, decimals=2, max_length=120)(angles, self.weights.detach())

    def draw_figure(self, angles: torch.Tensor):  # -> (Figure, Axes)
        return qml.draw_mpl(self.qnode, decimals=2)(angles, self.weights.detach())
