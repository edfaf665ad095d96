r"""The ceiling: the reference model as a hand-written torch statevector (no PennyLane).

The circuit of issue 2's reference model, written gate by gate the way one would by hand:
an MLP encoder gives the angles :math:`x = \pi \tanh(\mathrm{MLP}(f))`; the angle encoding
:math:`\bigotimes_w R_Y(x_w)|0\rangle` is built as a product state; each of the ``layers``
strongly-entangling layers (Schuld et al., Phys. Rev. A 101, 032308 (2020)) applies
:math:`\mathrm{Rot}(\phi,\theta,\omega) = R_Z(\omega)R_Y(\theta)R_Z(\phi)` to every wire, one
2x2 matrix per wire, then CNOTs from wire *i* to *i + r* (mod n), *r* = (layer mod (n-1)) + 1,
one basis-state permutation per CNOT; :math:`\langle Z_w\rangle = \sum_s |\psi_s|^2 (1 - 2 s_w)`.
The state is ``complex64`` (float32 angles), ``(batch, 2**n)``, wire 0 the most significant
bit (PennyLane's order), so every angle maps to qmtl's ``(layer, wire, rotation)`` layout.

It is what the statevector costs without any framework, used by ``bench_core_step.py`` as
the ceiling of qmtl's step; ``tests/test_statevector_ceiling.py`` checks that it computes
exactly qmtl's outputs.
"""

from __future__ import annotations

import torch
from torch import nn


def rot_matrices(angles: torch.Tensor) -> torch.Tensor:
    r"""``(..., 3)`` angles :math:`(\phi, \theta, \omega)` -> ``(..., 2, 2)`` matrices of
    :math:`R_Z(\omega)R_Y(\theta)R_Z(\phi)` (PennyLane's ``qml.Rot``)."""
    phi, theta, omega = angles.to(torch.complex64 if angles.dtype == torch.float32 else torch.complex128).unbind(-1)
    cos, sin = torch.cos(theta / 2), torch.sin(theta / 2)
    plus, minus = torch.exp(-0.5j * (phi + omega)), torch.exp(0.5j * (phi - omega))
    return torch.stack([
        torch.stack([plus * cos, -minus * sin], dim=-1),
        torch.stack([minus.conj() * sin, plus.conj() * cos], dim=-1),
    ], dim=-2)


def cnot_permutation(n_qubits: int, control: int, target: int) -> torch.Tensor:
    """Index map of CNOT on ``(batch, 2**n)`` states: ``new[:, s] = old[:, perm[s]]``."""
    states = torch.arange(2**n_qubits)
    control_bit, target_bit = 1 << (n_qubits - 1 - control), 1 << (n_qubits - 1 - target)
    return torch.where(states & control_bit != 0, states ^ target_bit, states)


class StatevectorCeiling(nn.Module):
    """Encoder -> hand-written statevector of the strongly-entangling circuit -> heads."""

    def __init__(self, features: int, hidden: int, n_qubits: int, layers: int, classes: tuple[int, ...]) -> None:
        super().__init__()
        self.n_qubits = n_qubits
        self.encoder = nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, n_qubits))
        self.weights = nn.Parameter(2 * torch.pi * torch.rand(layers, n_qubits, 3))
        self.heads = nn.ModuleList(nn.Linear(n_qubits, k) for k in classes)
        ranges = [(layer % (n_qubits - 1)) + 1 for layer in range(layers)]
        self.cnots = [[cnot_permutation(n_qubits, i, (i + r) % n_qubits) for i in range(n_qubits)] for r in ranges]
        bits = (torch.arange(2**n_qubits)[:, None] >> torch.arange(n_qubits - 1, -1, -1)) & 1
        self.signs = (1 - 2 * bits).float()

    def encoded_state(self, angles: torch.Tensor) -> torch.Tensor:
        r""":math:`\bigotimes_w R_Y(x_w)|0\rangle = \bigotimes_w (\cos\frac{x_w}{2}, \sin\frac{x_w}{2})`."""
        state = torch.ones(angles.shape[0], 1, dtype=torch.complex64)
        for wire in range(self.n_qubits):
            half = angles[:, wire, None] / 2
            factor = torch.cat([torch.cos(half), torch.sin(half)], dim=-1).to(torch.complex64)
            state = (state[:, :, None] * factor[:, None, :]).flatten(1)
        return state

    def expectations(self, angles: torch.Tensor) -> torch.Tensor:
        """``(batch, n)`` angles -> ``(batch, n)`` values of ``<Z_w>``."""
        n, batch = self.n_qubits, angles.shape[0]
        state = self.encoded_state(angles)
        matrices = rot_matrices(self.weights)
        for layer, cnots in enumerate(self.cnots):
            for wire in range(n):
                view = state.reshape(batch, 2**wire, 2, 2 ** (n - wire - 1))
                state = torch.einsum("ij,bljr->blir", matrices[layer, wire], view).reshape(batch, -1)
            for permutation in cnots:
                state = state[:, permutation]
        return (state.real**2 + state.imag**2) @ self.signs

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        values = self.expectations(torch.pi * torch.tanh(self.encoder(x)))
        return [head(values) for head in self.heads]
