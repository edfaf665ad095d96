"""Basis heads: trainable measurement bases on top of the shared circuit.

Task *t* rotates every wire its Pauli words touch by its own general rotation
:math:`R(\\phi,\\theta,\\omega) = R_Z(\\omega) R_Y(\\theta) R_Z(\\phi)` (``qml.Rot``) and then
measures its words: it reads
:math:`\\langle \\psi | R_t^\\dagger \\mathbf{P}_t R_t | \\psi \\rangle`, its Pauli words in a
learnt basis.  The rotations start at zero, where the model IS hard sharing (Caruana
1997) with the same weights; each task adds ``3 x (wires it measures)`` angles.  The
rotations are the task blocks of :mod:`qmtl.architectures.task_blocks`, so on simulators
the shared state is computed once and all tasks' rotations run in one broadcast execution.
No single paper defines this variant: it is hard sharing with a learnt readout basis per
task, the cheapest task block that can change what a task sees of the shared state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures.options import read_options
from qmtl.architectures.parts import build_encoder, build_readouts
from qmtl.architectures.task_blocks import TaskBlock, TaskBlockCircuit, TaskBlockModel
from qmtl.config import RunConfig
from qmtl.observables import word_wires

NAME = "basis_heads"


class BasisBlock(TaskBlock):
    """``qml.Rot`` on each wire the task measures; zero angles (identity) elsewhere.

    The block layout covers every wire any task measures, so that all tasks' blocks queue
    the same gates and run in one broadcast execution.
    """

    def __init__(self, own_wires: Sequence[int], all_wires: Sequence[int]) -> None:
        super().__init__()
        self.all_wires = list(all_wires)
        self.register_buffer("rows", torch.tensor([self.all_wires.index(w) for w in own_wires]))
        self.rotations = nn.Parameter(torch.zeros(len(own_wires), 3))

    def angles(self) -> torch.Tensor:
        full = self.rotations.new_zeros(len(self.all_wires), 3)
        return full.index_copy(0, self.rows, self.rotations)

    def apply(self, weights: torch.Tensor, angles: torch.Tensor) -> None:
        for index, wire in enumerate(self.all_wires):
            qml.Rot(weights[..., index, 0], weights[..., index, 1], weights[..., index, 2], wires=wire)


def build_basis_heads(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str,
    shared_prefix: bool | None = None,
) -> TaskBlockModel:
    read_options(NAME, config.model.options, {})
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
