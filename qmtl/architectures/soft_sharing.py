"""Soft parameter sharing: one circuit per task, pulled together by an L2 penalty.

Duong, Cohn, Bird, Cook, "Low Resource Dependency Parsing: Cross-lingual Parameter
Sharing in a Neural Network Parser", ACL 2015.  Each task has its own encoder, circuit
weights :math:`\\theta_t` and readout (as in the single-task baseline); instead of sharing
the circuit, the training objective adds

.. math:: R(\\theta) = \\lambda \\sum_{s < t} \\lVert \\theta_s - \\theta_t \\rVert_2^2,

the squared distance between every pair of tasks' circuit weights, with
:math:`\\lambda` = ``model.options.penalty`` (default 0.01).  :math:`\\partial R /
\\partial \\theta_t = 2\\lambda \\sum_{s \\ne t} (\\theta_t - \\theta_s)` pulls each task's
circuit towards the others'.  The model exposes :math:`R` as ``regularization()``; the
trainer adds it to the objective.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch

from qmtl.architectures.independent import IndependentTasksModel, independent_parts
from qmtl.architectures.options import non_negative_float, read_options
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder
from qmtl.model import Readout

NAME = "soft_sharing"


class SoftSharingModel(IndependentTasksModel):
    """Independent per-task models plus the pairwise L2 penalty on their circuit weights."""

    def __init__(self, encoders: dict[str, AngleEncoder], circuits: StackedCircuits,
                 heads: dict[str, Readout], columns: dict[str, list[int]], penalty: float) -> None:
        super().__init__(encoders, circuits, heads, columns)
        self.penalty = penalty

    def regularization(self) -> torch.Tensor:
        weights = torch.stack([w.flatten() for w in self.circuit_weights()])
        # Explicit differences (each pair counted twice): the closed form K sum|w|^2 - |sum w|^2
        # cancels catastrophically in float32 once the circuits have been pulled together.
        differences = weights[:, None, :] - weights[None, :, :]
        return self.penalty * differences.pow(2).sum() / 2


def build_soft_sharing(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> SoftSharingModel:
    options = read_options(NAME, config.model.options, {"penalty": 0.01})
    penalty = non_negative_float(NAME, options, "penalty")
    return SoftSharingModel(*independent_parts(config, input_dims, device, diff_method), penalty)
