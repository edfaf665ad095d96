"""One complete model per task — encoder, circuit, readout — trained side by side.

Task *t* predicts :math:`y_t = h_t(f_{\\theta_t}(E_{\\omega_t}(x)))` with its own encoder
:math:`E_{\\omega_t}`, its own circuit weights :math:`\\theta_t` (the same layout as the
multi-task model's shared circuit) and its own readout :math:`h_t`; no parameter is
shared, so ``shared_parameters()`` is empty.  All tasks' circuits run in one broadcast
execution (:class:`~qmtl.architectures.stacked.StackedCircuits`), measuring the union of
the tasks' words, of which each task reads its own; task *t*'s circuit keeps only the
angles that can change task *t*'s words.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures.parts import build_encoder, build_readouts, observable_columns
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features
from qmtl.model import MultiTaskModel, Readout


class IndependentTasksModel(MultiTaskModel):
    """Per task: encoder -> circuit -> readout, with nothing shared between tasks."""

    def __init__(self, encoders: dict[str, AngleEncoder], circuits: StackedCircuits,
                 heads: dict[str, Readout], columns: dict[str, list[int]]) -> None:
        super().__init__()
        self.task_names = list(heads)
        self.encoders = nn.ModuleDict(encoders)
        self.circuits = circuits
        self.heads = nn.ModuleDict(heads)
        self.columns = columns

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        angles = torch.stack([self.encoders[name](features) for name in self.task_names])
        values = self.circuits(angles)
        return {
            name: self.heads[name](values[t][:, self.columns[name]])
            for t, name in enumerate(self.task_names)
        }

    def circuit_weights(self) -> list[nn.Parameter]:
        """Per task, in ``task_names`` order, its circuit's live angles."""
        return list(self.circuits.weights)

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [
            [*self.encoders[name].parameters(), weights, *self.heads[name].parameters()]
            for name, weights in zip(self.task_names, self.circuits.weights)
        ]


def independent_parts(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> tuple[dict[str, AngleEncoder], StackedCircuits, dict[str, Readout], dict[str, list[int]]]:
    """The constructor arguments of :class:`IndependentTasksModel` for a config."""
    model = config.model
    words, columns = observable_columns(config.tasks)
    encoders = {task.name: build_encoder(model, input_dims, model.n_qubits) for task in config.tasks}
    circuits = StackedCircuits(
        len(config.tasks), model.n_qubits, get_ansatz(model.ansatz.name), model.ansatz.layers, words,
        device, diff_method, model.encoding.rotation, model.encoding.reupload,
        read_words=[task.observables for task in config.tasks],
    )
    return encoders, circuits, build_readouts(config.tasks), columns
