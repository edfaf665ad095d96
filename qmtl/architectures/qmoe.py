"""Quantum multi-gate mixture of experts (MMoE with variational-circuit experts).

Ma, Zhao, Yi, Chen, Hong, Chi, "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts", KDD 2018.  A shared encoder maps *x* to angles *a*;
``experts`` variational circuits :math:`f_e` (``expert_layers`` layers of the configured
ansatz on ``expert_qubits`` wires, each with its own weights) each return the expectation
values of every Pauli word any task reads.  Task *t* owns a softmax gate over the experts,

.. math:: g_t(x) = \\mathrm{softmax}(W_t a + b_t), \\qquad
          y_t = h_t\\Big(\\textstyle\\sum_e g_{t,e}(x)\\, f_e(a)[\\mathbf{P}_t]\\Big),

and its readout :math:`h_t` (affine or none) over its own words' mixed values.  All
experts run in one broadcast execution (:class:`~qmtl.architectures.stacked.StackedCircuits`).
Shared: encoder and experts; task *t*: its gate and readout.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch
from pydantic import Field
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures._extraction import expert_width
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, build_readouts, observable_columns
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features
from qmtl.model import MultiTaskModel, Readout
from qmtl.protocols import AttentionMaps

NAME = "qmoe"


class QMoEOptions(ArchitectureOptions):
    """Options of ``qmoe``."""

    experts: int = Field(3, ge=1, le=MAX_COUNT, description="number of expert circuits")
    expert_layers: int = Field(1, ge=1, le=MAX_COUNT, description="ansatz layers of each expert")
    expert_qubits: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="wires of each expert (default: model.n_qubits)")


class QuantumMoEModel(MultiTaskModel):
    """Encoder -> experts (one execution) -> per-task softmax gate mix -> per-task readout."""

    def __init__(self, encoder: AngleEncoder, experts: StackedCircuits, heads: dict[str, Readout],
                 columns: dict[str, list[int]]) -> None:
        super().__init__()
        self.encoder = encoder
        self.experts = experts
        self.task_names = list(heads)
        n_angles, n_experts = len(experts.wires), len(experts.weights)
        self.gates = nn.ModuleDict({name: nn.Linear(n_angles, n_experts) for name in self.task_names})
        self.heads = nn.ModuleDict(heads)
        self.columns = columns

    def expert_outputs(self, angles: torch.Tensor) -> torch.Tensor:
        """``(n_experts, batch, n_words)``: every expert's expectation values."""
        return self.experts(angles.expand(len(self.experts.weights), *angles.shape))

    def _gates(self, angles: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: torch.softmax(self.gates[name](angles), dim=-1) for name in self.task_names}

    def gate_weights(self, features: Features) -> dict[str, torch.Tensor]:
        """Per task, the ``(batch, n_experts)`` mixing weights (rows sum to 1), for inspection."""
        return self._gates(self.encoder(features))

    def attention_maps(self, features: Features) -> AttentionMaps:
        """Each task's mean gate weight per expert over the batch, as ``expert_gates``
        (the same map name as :mod:`~qmtl.architectures.cgc` records)."""
        with torch.no_grad():
            gates = self.gate_weights(features)
        return {"expert_gates": {name: {f"expert{e}": float(w) for e, w in enumerate(gate.mean(dim=0))}
                                 for name, gate in gates.items()}}

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        angles = self.encoder(features)
        experts = self.expert_outputs(angles)
        outputs = {}
        for name, gate in self._gates(angles).items():
            mixed = torch.einsum("be,ebw->bw", gate, experts[..., self.columns[name]])
            outputs[name] = self.heads[name](mixed)
        return outputs

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [[*self.gates[name].parameters(), *self.heads[name].parameters()] for name in self.task_names]


def build_qmoe(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> QuantumMoEModel:
    model = config.model
    options = parse_options(NAME, QMoEOptions, model.options)
    n_experts, layers = options.experts, options.expert_layers
    words, columns = observable_columns(config.tasks)
    n_qubits = expert_width(config, options.expert_qubits, words)
    experts = StackedCircuits(
        n_experts, n_qubits, get_ansatz(model.ansatz.name), layers, words, device, diff_method,
        model.encoding.rotation, model.encoding.reupload,
    )
    encoder = build_encoder(model, input_dims, n_qubits)
    return QuantumMoEModel(encoder, experts, build_readouts(config.tasks), columns)
