"""Hard parameter sharing with observable heads — the core qmtl model.

Caruana, "Multitask Learning", Machine Learning 28, 41 (1997): every task shares the
encoder and the variational circuit; each task owns only its readout.  Task *t* reads
the expectation values :math:`\\langle P \\rangle` of its Pauli words from the one shared
state and maps them through its head, :math:`y_t = W_t\\,\\langle \\mathbf{P}_t\\rangle + b_t`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures.options import ArchitectureOptions, parse_options
from qmtl.circuit import SharedCircuit
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features, make_angle_encoder
from qmtl.model import MultiTaskModel, Readout, split_by_task
from qmtl.observables import canonical_word

NAME = "hard_sharing"


class HardSharingOptions(ArchitectureOptions):
    """``hard_sharing`` takes no options: every task reads its words from the one shared circuit."""


class HardSharingModel(MultiTaskModel):
    """Encoder -> shared circuit (all tasks' observables, one execution) -> per-task heads."""

    def __init__(
        self, encoder: AngleEncoder, circuit: SharedCircuit, heads: Mapping[str, Readout],
        columns: Mapping[str, list[int]],
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.circuit = circuit
        self.heads = nn.ModuleDict(dict(heads))
        self.columns = dict(columns)
        self.task_names = list(heads)

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        values = self.circuit(self.encoder(features))
        per_task = split_by_task(values, self.columns)
        return {name: self.heads[name](per_task[name]) for name in self.task_names}

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [list(self.heads[name].parameters()) for name in self.task_names]


def build_hard_sharing(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> HardSharingModel:
    parse_options(NAME, HardSharingOptions, config.model.options)
    observables: list[str] = []
    columns: dict[str, list[int]] = {}
    for task in config.tasks:
        words = [canonical_word(word) for word in task.observables]
        observables += [word for word in dict.fromkeys(words) if word not in observables]
        columns[task.name] = [observables.index(word) for word in words]
    model_cfg = config.model
    encoder = make_angle_encoder(input_dims, model_cfg.n_qubits, model_cfg.encoder, model_cfg.encoding.scale)
    circuit = SharedCircuit(
        model_cfg.n_qubits, get_ansatz(model_cfg.ansatz.name), model_cfg.ansatz.layers,
        observables, device, diff_method, model_cfg.encoding.rotation, model_cfg.encoding.reupload,
    )
    heads = {
        task.name: Readout(len(task.observables), task.output_size, task.readout == "affine")
        for task in config.tasks
    }
    return HardSharingModel(encoder, circuit, heads, columns)
