"""Several circuits of one layout, each with its own weights, in ONE broadcast execution.

Circuit *k* maps its angles :math:`a_k` to
:math:`\\langle 0| S(a_k)^\\dagger U(\\theta_k)^\\dagger P\\, U(\\theta_k) S(a_k) |0\\rangle` for
every Pauli word *P*.  The circuits' batches are stacked along PennyLane's broadcast
dimension (rows ``k * batch + i``) with each row carrying its circuit's weights, so *K*
circuits cost one device execution of *K x batch* rows rather than *K* executions.  Each
circuit's weights are a separate parameter, so they can belong to different tasks.

Circuit *k* keeps only its live angles (:mod:`qmtl.lightcone`): those that can change one
of the words it is read for (``read_words[k]``, default all of them).  A gate is queued
when it is live in any circuit; circuits where it is dead carry angle 0 (the identity).
"""

from __future__ import annotations

from collections.abc import Sequence

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import Ansatz
from qmtl.architectures.parts import uniform_angles, variational_layers
from qmtl.lightcone import data_angles, expand, live_angles, refuse_other_layouts
from qmtl.observables import canonical_word, to_observable


class StackedCircuits(nn.Module):
    """``forward(angles)``: ``(K, batch, n_qubits)`` -> ``(K, batch, len(observables))``."""

    # Buffers, registered in __init__; declared so that type checkers know them as tensors.
    live: torch.Tensor
    queued: torch.Tensor

    def __init__(
        self, n_circuits: int, n_qubits: int, ansatz: Ansatz, layers: int, observables: Sequence[str],
        device: qml.devices.Device, diff_method: str, rotation: str = "Y", reupload: bool = False,
        read_words: Sequence[Sequence[str]] | None = None,
    ) -> None:
        super().__init__()
        self.wires = list(range(n_qubits))
        self.ansatz = ansatz
        self.observables = list(observables)
        self.rotation = rotation
        self.reupload = reupload
        shape = ansatz.shape(layers, n_qubits)
        read = [self.observables] * n_circuits if read_words is None else read_words
        live = torch.stack([
            live_angles(lambda markers, masks: variational_layers(
                ansatz, markers[0], data_angles(n_qubits), self.wires, rotation, reupload, live=masks[0]),
                [shape], [canonical_word(word) for word in words])[0]
            for words in read
        ])
        self.register_buffer("live", live, persistent=False)
        self.register_buffer("queued", live.any(dim=0), persistent=False)
        self.weights = nn.ParameterList(nn.Parameter(uniform_angles(int(mask.sum()))) for mask in live)
        self.qnode = qml.QNode(self._circuit, device, interface="torch", diff_method=diff_method)
        refuse_other_layouts(self)

    def full_weights(self) -> list[torch.Tensor]:
        """Per circuit, its angles in the full ``(layer, wire, rotation)`` layout, 0 where dead."""
        return [expand(weights, mask) for weights, mask in zip(self.weights, self.live)]

    def _circuit(self, angles: torch.Tensor, weights: torch.Tensor) -> list:
        variational_layers(self.ansatz, weights, angles, self.wires, self.rotation, self.reupload,
                           live=self.queued)
        return [qml.expval(to_observable(word)) for word in self.observables]

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        n_circuits, batch = angles.shape[:2]
        rows = torch.stack(self.full_weights()).repeat_interleave(batch, dim=0)
        values = self.qnode(angles.reshape(n_circuits * batch, -1), rows)
        return torch.stack(list(values), dim=-1).to(angles.dtype).reshape(n_circuits, batch, -1)
