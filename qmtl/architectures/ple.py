"""Progressive Layered Extraction (PLE) over quantum experts.

Tang, Liu, Zhao, Gong, "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning
(MTL) Model for Personalized Recommendations", RecSys 2020, section 4.2.  PLE stacks
``levels`` extraction networks.  Level *j* has :math:`m_s` shared and, per task,
:math:`m_t` specific expert circuits (:mod:`qmtl.architectures.cgc`), a gate per task over
the shared experts and that task's own, and (below the top level) a *shared* gate over
every expert of the level:

.. math:: q^j_t = g^j_t(u^{j-1}_t)^\\top\\,
                  [E^j_s(u^{j-1}_s), E^j_t(u^{j-1}_t)], \\qquad
          q^j_s = g^j_s(u^{j-1}_s)^\\top\\,
                  [E^j_s(u^{j-1}_s), E^j_1(u^{j-1}_1), \\dots, E^j_T(u^{j-1}_T)],

where :math:`E^j_s(u)` are the level's shared experts' values at angles *u*,
:math:`E^j_t(u)` task *t*'s, :math:`g(u) = \\mathrm{softmax}(W u + b)` (each gate with its
own *W*, *b*), level 1's angles are the encoder's, :math:`u^0_t = u^0_s = a`, and
:math:`u^j = \\lambda q^j` above (see below).  As in the paper, every gate reads the same
input as the experts it mixes.  The top level *J* has no shared gate, and task *t* reads
its words from its mixture: :math:`y_t = h_t(q^J_t[\\mathbf{P}_t])`.

Quantum form (a choice this module makes).  An expert is a circuit that takes angles and
returns expectation values, so a level below the top measures :math:`Z_i` on each of its
``expert_qubits`` wires, one value in [-1, 1] per wire, and the next level encodes the
mixture :math:`q` as the angles :math:`\\lambda q` with :math:`\\lambda` =
``model.encoding.scale`` (π by default): the range :math:`(-\\lambda, \\lambda)` in which the
encoder's :math:`\\lambda \\tanh` puts level 1's angles, so every level sees angles of the
same span.  A convex mixture of values in [-1, 1] stays in [-1, 1], so no angle wraps.

Each level is one broadcast execution, so a forward pass costs ``levels`` executions (on a
Qiskit target, ``levels`` Estimator calls per step).  ``levels: 1`` is exactly CGC.
Task *t*'s own parameters are its readout, its top-level gate and experts, and its gate of
the level below (which feeds only its own top-level experts and gate); its experts further
down reach every task through the shared gates and count as shared parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
from pydantic import Field

from qmtl.architectures._extraction import ExtractionModel, build_extraction
from qmtl.architectures.cgc import CGCOptions
from qmtl.architectures.options import MAX_COUNT, parse_options
from qmtl.config import RunConfig

NAME = "ple"


class PLEOptions(CGCOptions):
    """Options of ``ple``: the number of extraction levels, and CGC's options for each level."""

    levels: int = Field(2, ge=1, le=MAX_COUNT, description="extraction levels (1: CGC)")


def build_ple(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> ExtractionModel:
    options = parse_options(NAME, PLEOptions, config.model.options)
    return build_extraction(config, input_dims, device, diff_method, options.levels, options.shared_experts,
                            options.task_experts, options.expert_layers, options.expert_qubits)
