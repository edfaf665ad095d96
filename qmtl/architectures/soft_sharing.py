r"""Soft parameter sharing: one circuit per task, pulled together by a penalty.

Duong, Cohn, Bird, Cook, "Low Resource Dependency Parsing: Cross-lingual Parameter
Sharing in a Neural Network Parser", ACL 2015.  Each task has its own encoder, circuit
angles :math:`\theta_t` and readout (as in the single-task baseline); instead of sharing
the circuit, the training objective adds a penalty :math:`R(\theta)` on the differences
between every pair of tasks' circuit angles, with :math:`\lambda` = ``model.options.penalty``
(default 0.01) and its form chosen by ``model.options.penalty_kind``:

* ``circular`` (default): circuit angles are angles, defined modulo :math:`2\pi`, so the
  penalty is periodic,

  .. math:: R(\theta) = \lambda \sum_{s<t} \sum_i \big(1 - \cos(\theta_{s,i} - \theta_{t,i})\big),

  the negative log-likelihood (up to a constant) of a von Mises prior of concentration
  :math:`\lambda` on each difference (Mardia & Jupp, *Directional Statistics*, Wiley 2000,
  Sec. 3.5).  It is zero exactly for circuits equal modulo :math:`2\pi`, and
  :math:`\partial R / \partial \theta_{t,i} = \lambda \sum_{s \ne t} \sin(\theta_{t,i} -
  \theta_{s,i})` pulls two angles together along the shorter arc: 0.1 and
  :math:`2\pi - 0.1` meet at 0, not at :math:`\pi`.  Near agreement
  :math:`1 - \cos d \approx d^2/2`, half the ``l2`` penalty.
* ``l2``: the squared Euclidean distance of Duong et al.,
  :math:`R(\theta) = \lambda \sum_{s<t} \lVert \theta_s - \theta_t \rVert_2^2`, which treats
  angles as reals (a difference of :math:`2\pi` is penalised although the circuits agree).

Angles are compared where both circuits have a live angle (:mod:`qmtl.lightcone`); a dead
angle can take any value without changing its circuit, so it is not pulled.  The model
exposes :math:`R` as ``regularization()``; the trainer adds it to the objective.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import pennylane as qml
import torch
from pydantic import Field

from qmtl.architectures.independent import IndependentTasksModel, independent_parts
from qmtl.architectures.options import ArchitectureOptions, parse_options
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder
from qmtl.model import Readout

NAME = "soft_sharing"

PenaltyKind = Literal["circular", "l2"]

#: Penalty on the angle differences ``d`` of one pair of tasks, by ``penalty_kind``.
PENALTIES: dict[PenaltyKind, Callable[[torch.Tensor], torch.Tensor]] = {
    "circular": lambda d: (1 - torch.cos(d)).sum(),
    "l2": lambda d: d.pow(2).sum(),
}


class SoftSharingOptions(ArchitectureOptions):
    """Options of ``soft_sharing``."""

    penalty: float = Field(0.01, ge=0, description="λ, the weight of the penalty on the tasks' circuit-angle "
                                                   "differences (0: independent tasks)")
    penalty_kind: PenaltyKind = Field("circular", description="circular: λ Σ (1 - cos d), periodic in 2π; "
                                                              "l2: λ Σ d², angles as reals")


class SoftSharingModel(IndependentTasksModel):
    """Independent per-task models plus the pairwise penalty on their circuit angles."""

    def __init__(self, encoders: dict[str, AngleEncoder], circuits: StackedCircuits,
                 heads: dict[str, Readout], columns: dict[str, list[int]], penalty: float,
                 penalty_kind: PenaltyKind = "circular") -> None:
        super().__init__(encoders, circuits, heads, columns)
        self.penalty = penalty
        self.penalty_kind = penalty_kind

    def regularization(self) -> torch.Tensor:
        angles, live = self.circuits.full_weights(), self.circuits.live
        pair_penalty = PENALTIES[self.penalty_kind]
        total = angles[0].new_zeros(())
        for s in range(len(angles)):
            for t in range(s + 1, len(angles)):
                both = live[s] & live[t]
                total = total + pair_penalty(angles[s][both] - angles[t][both])
        return self.penalty * total


def build_soft_sharing(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> SoftSharingModel:
    options = parse_options(NAME, SoftSharingOptions, config.model.options)
    return SoftSharingModel(*independent_parts(config, input_dims, device, diff_method), options.penalty,
                            options.penalty_kind)
