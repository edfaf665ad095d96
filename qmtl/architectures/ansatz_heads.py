"""Ansatz heads: a shared circuit, then one small variational block per task.

Cowlessur, Thapa, Alpcan, Camtepe, "Parameter-efficient Quantum Multi-task Learning"
(2026).  The encoding :math:`S(x)` and the shared layers :math:`U(\\theta)` are common to
all tasks; task *t* appends ``head_layers`` layers of the ``head_ansatz``,
:math:`V(\\phi_t)`, and measures its Pauli words,

.. math:: y_t = W_t \\langle \\psi_t | \\mathbf{P}_t | \\psi_t \\rangle + b_t, \\qquad
          |\\psi_t\\rangle = V(\\phi_t)\\,U(\\theta)\\,S(x)\\,|0\\rangle,

with an affine readout over the task's few expectation values (or none).  The quantum head
has at most ``head_layers x n_qubits x k`` angles: only those that can change the task's
measured words are parameters (:mod:`qmtl.lightcone`; e.g. the last ``hardware_efficient``
layer's RZ angles before Z-basis measurements are not), so head parameters grow linearly in
the number of tasks while the shared part stays fixed.  Head layers are numbered after the shared ones
(for ansatze whose entangling range depends on the layer) and re-upload the encoding when
``model.encoding.reupload`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch
from pydantic import Field

from qmtl.ansatz import Ansatz, AnsatzName, get_ansatz
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, build_readouts, uniform_angles, variational_layers
from qmtl.architectures.task_blocks import TaskBlock, TaskBlockCircuit, TaskBlockModel
from qmtl.config import RunConfig

NAME = "ansatz_heads"


class AnsatzHeadsOptions(ArchitectureOptions):
    """Options of ``ansatz_heads``."""

    head_layers: int = Field(1, ge=1, le=MAX_COUNT, description="ansatz layers of each task's head block")
    head_ansatz: AnsatzName = Field("hardware_efficient", description="ansatz of the head blocks")


class AnsatzBlock(TaskBlock):
    """``head_layers`` layers of an ansatz on every wire, numbered from ``first_layer``."""

    def __init__(self, ansatz: Ansatz, layers: int, n_qubits: int, first_layer: int,
                 rotation: str, reupload: bool) -> None:
        super().__init__(ansatz.shape(layers, n_qubits))
        self.ansatz = ansatz
        self.first_layer = first_layer
        self.rotation = rotation
        self.reupload = reupload
        self.wires = list(range(n_qubits))

    def initial(self, n_angles: int) -> torch.Tensor:
        return uniform_angles(n_angles)

    def queue_gates(self, weights: torch.Tensor, angles: torch.Tensor, live: torch.Tensor) -> None:
        variational_layers(self.ansatz, weights, angles, self.wires, self.rotation, self.reupload,
                           first_layer=self.first_layer, live=live)


def build_ansatz_heads(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str,
    shared_prefix: bool | None = None,
) -> TaskBlockModel:
    """``shared_prefix`` forces (True) or forbids (False) the one-prefix evaluation; by
    default it is used on ``default.qubit``."""
    options = parse_options(NAME, AnsatzHeadsOptions, config.model.options)
    head_layers = options.head_layers
    head_ansatz = get_ansatz(options.head_ansatz)
    model = config.model
    n, layers = model.n_qubits, model.ansatz.layers
    encoder = build_encoder(model, input_dims, n)
    blocks = [
        AnsatzBlock(head_ansatz, head_layers, n, layers, model.encoding.rotation, model.encoding.reupload)
        for _ in config.tasks
    ]
    circuit = TaskBlockCircuit(
        n, get_ansatz(model.ansatz.name), layers, blocks, [task.observables for task in config.tasks],
        device, diff_method, model.encoding.rotation, model.encoding.reupload, shared_prefix,
    )
    return TaskBlockModel(encoder, circuit, build_readouts(config.tasks))
