"""Variational layers of the shared circuit, registered by name.

Each ansatz declares the rotations every wire gets in one layer (so the weight shape of a
layer is ``(n_qubits, rotations)``) and the entangler that follows them, so the circuit can
interleave layers with re-uploaded encodings.  A layer takes an optional ``live`` mask of
the same shape: a rotation whose angle is not live (one that cannot reach any measured
value, :mod:`qmtl.lightcone`) is not queued at all, so it is neither a gate nor a parameter.

* ``strongly_entangling`` — Schuld, Bocharov, Svore, Wiebe, "Circuit-centric quantum
  classifiers", Phys. Rev. A 101, 032308 (2020): a general rotation
  :math:`R(\\phi,\\theta,\\omega)=R_Z(\\omega)R_Y(\\theta)R_Z(\\phi)` on every wire (one
  ``qml.Rot`` when all three angles are live), then CNOTs from wire *i* to *i + r* (mod n)
  with range *r* = (layer mod (n-1)) + 1.
* ``hardware_efficient`` — Kandala et al., "Hardware-efficient variational quantum
  eigensolver for small molecules and quantum magnets", Nature 549, 242 (2017):
  :math:`R_Y` and :math:`R_Z` on every wire, then a ring of CNOTs; only native-friendly
  gates and nearest-neighbour entanglers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pennylane as qml
import torch

from qmtl.errors import unknown_name

Entangler = Callable[[Sequence[int], int], None]


@dataclass(frozen=True)
class Ansatz:
    """A layered template: per wire the ``rotations`` in the order they act, then
    ``entangle(wires, layer)``; ``fused`` is one gate equal to all the rotations in order."""

    name: str
    rotations: tuple[type[qml.operation.Operation], ...]
    entangle: Entangler
    fused: type[qml.operation.Operation] | None = None

    def layer_shape(self, n_qubits: int) -> tuple[int, int]:
        return (n_qubits, len(self.rotations))

    def shape(self, layers: int, n_qubits: int) -> tuple[int, ...]:
        return (layers, *self.layer_shape(n_qubits))

    def apply_layer(self, weights: torch.Tensor, wires: Sequence[int], layer: int,
                    live: torch.Tensor | None = None) -> None:
        """Queue one layer; ``weights[..., wire, k]`` (leading broadcast dimensions allowed),
        ``live`` the ``(n_wires, k)`` mask of the rotations to queue (default: all)."""
        keep = [[True] * len(self.rotations)] * len(wires) if live is None else live.tolist()
        for i, wire in enumerate(wires):
            if self.fused is not None and all(keep[i]):
                self.fused(*(weights[..., i, k] for k in range(len(self.rotations))), wires=wire)
                continue
            for k, rotation in enumerate(self.rotations):
                if keep[i][k]:
                    rotation(weights[..., i, k], wires=wire)
        self.entangle(wires, layer)


def _entangling_ring(wires: Sequence[int], distance: int) -> None:
    n = len(wires)
    if n < 2:
        return
    for i in range(n):
        qml.CNOT(wires=[wires[i], wires[(i + distance) % n]])


def _strongly_entangling_cnots(wires: Sequence[int], layer: int) -> None:
    distance = (layer % (len(wires) - 1)) + 1 if len(wires) > 1 else 1
    _entangling_ring(wires, distance)


def _nearest_neighbour_ring(wires: Sequence[int], layer: int) -> None:
    _entangling_ring(wires, 1)


ANSATZE: dict[str, Ansatz] = {
    # qml.Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi): RZ(phi) acts first.
    "strongly_entangling": Ansatz(
        "strongly_entangling", (qml.RZ, qml.RY, qml.RZ), _strongly_entangling_cnots, fused=qml.Rot
    ),
    "hardware_efficient": Ansatz("hardware_efficient", (qml.RY, qml.RZ), _nearest_neighbour_ring),
}


#: The names of :data:`ANSATZE`, as option models declare a choice of ansatz (a test keeps them equal).
AnsatzName = Literal["strongly_entangling", "hardware_efficient"]


def get_ansatz(name: str) -> Ansatz:
    """Look an ansatz up by its config name."""
    if name not in ANSATZE:
        raise unknown_name("ansatz", name, ANSATZE)
    return ANSATZE[name]
