"""Basis heads: trainable measurement bases on top of the shared circuit.

Task *t* rotates every wire its Pauli words touch by its own general rotation
:math:`R(\\phi,\\theta,\\omega) = R_Z(\\omega) R_Y(\\theta) R_Z(\\phi)` (``qml.Rot``) and then
measures its words: it reads
:math:`\\langle \\psi | R_t^\\dagger \\mathbf{P}_t R_t | \\psi \\rangle`, its Pauli words in a
learnt basis.  The rotations start at zero, where the model IS hard sharing (Caruana
1997) with the same weights; each task adds at most ``3 x (wires it measures)`` angles.
Only the angles that can change the task's words are parameters (:mod:`qmtl.lightcone`):
before a Z measurement the last :math:`R_Z(\\omega)` commutes with Z and is dropped, so a
wire measured in Z costs 2 angles, one measured in X or Y all 3.  The
rotations are the task blocks of :mod:`qmtl.architectures.task_blocks`, so on simulators
the shared state is computed once and all tasks' rotations run in one broadcast execution.
No single paper defines this variant: it is hard sharing with a learnt readout basis per
task, the cheapest task block that can change what a task sees of the shared state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pennylane as qml
import torch

from qmtl.ansatz import Ansatz, get_ansatz
from qmtl.architectures.options import ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, build_readouts
from qmtl.architectures.task_blocks import TaskBlock, TaskBlockCircuit, TaskBlockModel
from qmtl.config import RunConfig
from qmtl.observables import word_wires

NAME = "basis_heads"


class BasisHeadsOptions(ArchitectureOptions):
    """``basis_heads`` takes no options: each task's rotations cover the wires it measures."""


# One layer of general rotations R_Z(omega) R_Y(theta) R_Z(phi) (qml.Rot), no entangler.
ROTATION_LAYER = Ansatz("rotations", (qml.RZ, qml.RY, qml.RZ), lambda wires, layer: None, fused=qml.Rot)


class BasisBlock(TaskBlock):
    """``qml.Rot`` on each wire the task measures; zero angles (identity) elsewhere.

    The block layout covers every wire any task measures, so that all tasks' blocks queue
    the same gates and run in one broadcast execution; the task's own wires are its
    candidate angles.
    """

    def __init__(self, own_wires: Sequence[int], all_wires: Sequence[int]) -> None:
        self.all_wires = list(all_wires)
        candidates = torch.zeros(len(self.all_wires), 3, dtype=torch.bool)
        candidates[[self.all_wires.index(w) for w in own_wires]] = True
        super().__init__(candidates.shape, candidates)

    def initial(self, n_angles: int) -> torch.Tensor:
        return torch.zeros(n_angles)

    def queue_gates(self, weights: torch.Tensor, angles: torch.Tensor, live: torch.Tensor) -> None:
        ROTATION_LAYER.apply_layer(weights, self.all_wires, 0, live)


def build_basis_heads(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str,
    shared_prefix: bool | None = None,
) -> TaskBlockModel:
    parse_options(NAME, BasisHeadsOptions, config.model.options)
    model = config.model
    task_wires = [
        sorted({wire for word in task.observables for wire in word_wires(word)}) for task in config.tasks
    ]
    all_wires = sorted({w for wires in task_wires for w in wires})
    circuit = TaskBlockCircuit(
        model.n_qubits, get_ansatz(model.ansatz.name), model.ansatz.layers,
        [BasisBlock(wires, all_wires) for wires in task_wires],
        [task.observables for task in config.tasks], device, diff_method,
        model.encoding.rotation, model.encoding.reupload, shared_prefix,
    )
    encoder = build_encoder(model, input_dims, model.n_qubits)
    return TaskBlockModel(encoder, circuit, build_readouts(config.tasks))
