"""Penalty-based Boundary Intersection (torchjd's ``PBI`` scalarizer).

Zhang & Li, "MOEA/D: A Multiobjective Evolutionary Algorithm Based on Decomposition", IEEE
Transactions on Evolutionary Computation 11(6), 2007 (https://doi.org/10.1109/TEVC.2007.892759).
With :math:`\\hat w = w / \\|w\\|` the preference direction and :math:`z` the reference point,

.. math::

    d_1 = (L - z)^\\top \\hat w, \\qquad d_2 = \\| (L - z) - d_1 \\hat w \\|, \\qquad
    L_{\\text{PBI}} = d_1 + \\theta\\, d_2 :

progress along the preference direction, plus a penalty :math:`\\theta` on the distance from
it, which pulls the loss vector onto the ray :math:`z + t \\hat w`.  Options: ``theta``
(default 5, the paper's value), ``preference`` (default equal: the diagonal), ``reference``
(default 0).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torchjd.scalarization import PBI, Scalarizer

from qmtl.strategies.options import StrategyOptions, preference_tensor
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class PBIOptions(StrategyOptions):
    theta: float = Field(default=5.0, ge=0, description="penalty θ on the distance to the preference ray")
    preference: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, min_length=1, description="preference direction w, one per task (null: equal)")
    reference: list[float] | None = Field(
        default=None, min_length=1, description="reference point z, one per task (null: 0)")


class PenaltyBoundaryIntersectionWeighting(ScalarizedWeighting):
    """Distance along the preference ray plus θ times the distance from it."""

    name = "pbi"
    paper = ("Zhang & Li, MOEA/D: A Multiobjective Evolutionary Algorithm Based on Decomposition, "
             "IEEE TEVC 2007, https://doi.org/10.1109/TEVC.2007.892759")
    Options = PBIOptions

    def _build(self, options: PBIOptions) -> Scalarizer:
        k = self.n_tasks
        return PBI(options.theta,
                   weights=preference_tensor("preference", "pbi", options.preference, k, 1.0),
                   reference=preference_tensor("reference", "pbi", options.reference, k, 0.0))
