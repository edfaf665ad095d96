r"""The shared variational circuit, as a torch module around a PennyLane QNode.

Angles of shape ``(batch, n_qubits)`` are encoded as one rotation per wire and followed
by ``layers`` variational layers (the encoding is repeated before every layer when
``reupload`` is set — data re-uploading, Pérez-Salinas et al., Quantum 4, 226 (2020)).
The QNode returns the expectation values of every Pauli word any task reads, from ONE
execution, and broadcasts over the batch: the batch is one tape, not a Python loop.
Only the live variational angles are parameters (:mod:`qmtl.lightcone`): ``weights`` is
the vector of the angles that can change a measured value, in ``(layer, wire, rotation)``
order, and a dead angle's gate is not queued.

On a backprop simulator, when every word is a product of Z's, the QNode returns the
computational-basis probabilities once and the expectation values follow as
:math:`\langle Z_W \rangle = \sum_s p(s) \prod_{w \in W} (1 - 2 s_w)` — one matrix product
instead of one measurement pass over the state per word.  On the same simulators the
first encoding, a product state, enters as one ``StatePrep`` computed in closed form in
the precision of the angles (single precision by default), instead of one gate per wire
applied to a double-precision state.
"""

from __future__ import annotations

from collections.abc import Sequence

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import Ansatz
from qmtl.lightcone import data_angles, expand, live_angles, refuse_other_layouts
from qmtl.observables import parse_pauli_word, to_observable

_ROTATIONS = {"X": qml.RX, "Y": qml.RY, "Z": qml.RZ}
# Above this width the 2^n x n_words sign matrix costs more memory than it saves time.
MAX_DIAGONAL_QUBITS = 16


def z_word_signs(words: Sequence[str], n_qubits: int) -> torch.Tensor:
    """``(2**n, len(words))`` matrix of the eigenvalues of each Z word on each basis state.

    Basis states are indexed as PennyLane orders them: wire 0 is the most significant bit.
    """
    states = torch.arange(2**n_qubits)
    columns = []
    for word in words:
        sign = torch.ones(2**n_qubits, dtype=torch.float64)
        for wire in parse_pauli_word(word):
            sign = sign * (1 - 2 * ((states >> (n_qubits - 1 - wire)) & 1))
        columns.append(sign)
    return torch.stack(columns, dim=1)


class SharedCircuit(nn.Module):
    """Encoding + variational layers; ``forward(angles)`` -> ``(batch, len(observables))``."""

    # Buffers, registered in __init__; declared so that type checkers know them as tensors.
    signs: torch.Tensor | None
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
        diagonal = (
            diff_method == "backprop"
            and n_qubits <= MAX_DIAGONAL_QUBITS
            and all(set(parse_pauli_word(w).values()) == {"Z"} for w in self.observables)
        )
        self.register_buffer(
            "signs", z_word_signs(self.observables, n_qubits) if diagonal else None, persistent=False
        )
        self.product_state_encoding = diff_method == "backprop"
        (live,) = live_angles(
            lambda markers, masks: self._queue(data_angles(n_qubits), markers[0], masks[0], gates=True),
            [ansatz.shape(layers, n_qubits)], self.observables,
        )
        self.register_buffer("live", live, persistent=False)
        # Uniform in [0, 2π): the rotation period, as PennyLane's TorchLayer initialises.
        self.weights = nn.Parameter(2 * torch.pi * torch.rand(int(live.sum())))
        self.qnode = qml.QNode(self._circuit, device, interface="torch", diff_method=diff_method)
        refuse_other_layouts(self)

    def _encode(self, angles: torch.Tensor) -> None:
        for wire in range(self.n_qubits):
            self.rotation(angles[..., wire], wires=wire)

    def encoded_state(self, angles: torch.Tensor) -> torch.Tensor:
        r"""The state :math:`\bigotimes_w R(x_w)|0\rangle`, shape ``(..., 2**n)``.

        :math:`R_Y(x)|0\rangle = (\cos\tfrac{x}{2}, \sin\tfrac{x}{2})`,
        :math:`R_X(x)|0\rangle = (\cos\tfrac{x}{2}, -i\sin\tfrac{x}{2})`,
        :math:`R_Z(x)|0\rangle = (e^{-ix/2}, 0)`; wire 0 is the most significant bit.
        """
        dtype = torch.complex64 if angles.dtype == torch.float32 else torch.complex128
        half = angles.to(dtype) / 2
        if self.rotation is qml.RY:
            factors = torch.stack([torch.cos(half), torch.sin(half)], dim=-1)
        elif self.rotation is qml.RX:
            factors = torch.stack([torch.cos(half), -1j * torch.sin(half)], dim=-1)
        else:
            factors = torch.stack([torch.exp(-1j * half), torch.zeros_like(half)], dim=-1)
        state = factors[..., 0, :]
        for wire in range(1, self.n_qubits):
            state = (state[..., :, None] * factors[..., wire, None, :]).flatten(-2)
        return state

    def _queue(self, angles: torch.Tensor, weights: torch.Tensor, live: torch.Tensor,
               gates: bool) -> None:
        """Encoding and layers for full-layout ``weights``, queueing the ``live`` rotations."""
        wires = list(range(self.n_qubits))
        for layer in range(self.layers):
            if layer == 0 and self.product_state_encoding and not gates:
                qml.StatePrep(self.encoded_state(angles), wires=wires, validate_norm=False)
            elif layer == 0 or self.reupload:
                self._encode(angles)
            self.ansatz.apply_layer(weights[layer], wires, layer, live[layer])

    def _circuit(self, angles: torch.Tensor, weights: torch.Tensor, gates: bool = False) -> list:
        """The circuit for the live angles ``weights``; ``gates=True`` gives its textbook
        form (encoding gates, one expectation value per word), as drawn and as hardware runs it."""
        self._queue(angles, expand(weights, self.live), self.live, gates)
        if self.signs is not None and not gates:
            return qml.probs(wires=list(range(self.n_qubits)))
        return [qml.expval(to_observable(word)) for word in self.observables]

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        values = self.qnode(angles, self.weights)
        if self.signs is not None:
            return (values @ self.signs.to(values.dtype)).to(angles.dtype)
        return torch.stack(list(values), dim=-1).to(angles.dtype)

    def draw(self, angles: torch.Tensor) -> str:
        """Text drawing of the circuit for one example."""
        return qml.draw(self.qnode, decimals=2, max_length=120)(angles, self.weights.detach(), gates=True)

    def draw_figure(self, angles: torch.Tensor):  # -> (Figure, Axes)
        return qml.draw_mpl(self.qnode, decimals=2)(angles, self.weights.detach(), gates=True)
