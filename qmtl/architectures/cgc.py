"""Customized Gate Control (CGC) over quantum experts.

Tang, Liu, Zhao, Gong, "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning
(MTL) Model for Personalized Recommendations", RecSys 2020, section 4.1.  A shared encoder
maps *x* to angles *a*.  There are :math:`m_s` shared expert circuits :math:`f^s_e` and, for
every task *t*, :math:`m_t` task-specific expert circuits :math:`f^t_e` (``expert_layers``
layers of the configured ansatz on ``expert_qubits`` wires, each with its own weights), each
returning the expectation values of the Pauli words the tasks read.  Task *t*'s gate mixes
the shared experts and *its own* experts only,

.. math:: S_t(a) = [f^s_1(a), \\dots, f^s_{m_s}(a), f^t_1(a), \\dots, f^t_{m_t}(a)], \\qquad
          g_t(a) = \\mathrm{softmax}(W_t a + b_t) \\in \\Delta^{m_s + m_t - 1},

.. math:: y_t = h_t\\big(g_t(a)^\\top S_t(a)[\\mathbf{P}_t]\\big),

with :math:`h_t` the task's readout over its words :math:`\\mathbf{P}_t`.  Another task's
specific experts never enter :math:`y_t`, so task *t*'s loss sends them no gradient: unlike
MMoE (:mod:`qmtl.architectures.qmoe`), where every expert is shared and the gates alone
separate the tasks, CGC keeps capacity that no other task can pull towards its own
optimum (the paper's answer to the "seesaw" phenomenon).

``task_experts: 0`` is allowed: it leaves only the shared experts, and CGC is then exactly
MMoE with ``shared_experts`` experts (the same outputs for the same weights); the option
makes that ablation one key away.  All experts, shared and specific, run in one broadcast
execution.  A task's own experts keep only the angles that reach its own words
(:mod:`qmtl.lightcone`).  Shared: the encoder and the shared experts; task *t*: its gate,
its experts and its readout.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
from pydantic import Field

from qmtl.architectures._extraction import ExtractionModel, build_extraction
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.config import RunConfig

NAME = "cgc"


class CGCOptions(ArchitectureOptions):
    """Options of ``cgc``: shared and task-specific expert circuits, one softmax gate per task."""

    shared_experts: int = Field(2, ge=1, le=MAX_COUNT, description="expert circuits every task's gate mixes")
    task_experts: int = Field(
        1, ge=0, le=MAX_COUNT,
        description="expert circuits of each task, mixed by its gate only (0: CGC is MMoE over the shared experts)")
    expert_layers: int = Field(1, ge=1, le=MAX_COUNT, description="ansatz layers of each expert")
    expert_qubits: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="wires of each expert (default: model.n_qubits)")


def build_cgc(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> ExtractionModel:
    options = parse_options(NAME, CGCOptions, config.model.options)
    return build_extraction(config, input_dims, device, diff_method, 1, options.shared_experts,
                            options.task_experts, options.expert_layers, options.expert_qubits)
