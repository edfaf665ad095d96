"""Variational layers of the shared circuit, registered by name.

Each ansatz declares the weight shape of one layer and applies one layer, so the
circuit can interleave layers with re-uploaded encodings.

* ``strongly_entangling`` — Schuld, Bocharov, Svore, Wiebe, "Circuit-centric quantum
  classifiers", Phys. Rev. A 101, 032308 (2020): a general rotation
  :math:`R(\\phi,\\theta,\\omega)=R_Z(\\omega)R_Y(\\theta)R_Z(\\phi)` on every wire, then CNOTs
  from wire *i* to *i + r* (mod n) with range *r* = (layer mod (n-1)) + 1.
* ``hardware_efficient`` — Kandala et al., "Hardware-efficient variational quantum
  eigensolver for small molecules and quantum magnets", Nature 549, 242 (2017):
  :math:`R_Y` and :math:`R_Z` on every wire, then a ring of CNOTs; only native-friendly
  gates and nearest-neighbour entanglers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pennylane as qml
import torch

from qmtl.errors import unknown_name


@dataclass(frozen=True)
class Ansatz:
    """A layered template: ``layer_shape(n)`` weights per layer, ``apply_layer`` applies one."""

    name: str
    layer_shape: Callable[[int], tuple[int, ...]]
    apply_layer: Callable[[torch.Tensor, Sequence[int], int], None]

    def shape(self, layers: int, n_qubits: int) -> tuple[int, ...]:
        return (layers, *self.layer_shape(n_qubits))


def _entangling_ring(wires: Sequence[int], distance: int) -> None:
    n = len(wires)
    if n < 2:
        return
    for i in range(n):
        qml.CNOT(wires=[wires[i], wires[(i + distance) % n]])


def _strongly_entangling_layer(weights: torch.Tensor, wires: Sequence[int], layer: int) -> None:
    for i, wire in enumerate(wires):
        qml.Rot(weights[..., i, 0], weights[..., i, 1], weights[..., i, 2], wires=wire)
    distance = (layer % (len(wires) - 1)) + 1 if len(wires) > 1 else 1
    _entangling_ring(wires, distance)


def _hardware_efficient_layer(weights: torch.Tensor, wires: Sequence[int], layer: int) -> None:
    for i, wire in enumerate(wires):
        qml.RY(weights[..., i, 0], wires=wire)
        qml.RZ(weights[..., i, 1], wires=wire)
    _entangling_ring(wires, 1)


ANSATZE: dict[str, Ansatz] = {
    "strongly_entangling": Ansatz(
        "strongly_entangling", lambda n: (n, 3), _strongly_entangling_layer
    ),
    "hardware_efficient": Ansatz("hardware_efficient", lambda n: (n, 2), _hardware_efficient_layer),
}


def get_ansatz(name: str) -> Ansatz:
    """Look an ansatz up by its config name."""
    if name not in ANSATZE:
        raise unknown_name("ansatz", name, ANSATZE)
    return ANSATZE[name]
