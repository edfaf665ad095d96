"""Static weighting: fixed user-chosen weights (torchjd's ``Constant`` scalarizer).

.. math:: L = \\sum_{i=1}^{K} w_i L_i, \\qquad w \\text{ given in the config}

The classical hand-tuned linear scalarisation (Kendall et al. 2018 use it as their
grid-searched baseline).  YAML: ``weighting: static, weighting_options: {weights: [1.0, 0.5, 2.0]}``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torchjd.scalarization import Constant, Scalarizer

from qmtl.errors import UserError
from qmtl.strategies.options import StrategyOptions, preference_tensor
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class StaticOptions(StrategyOptions):
    weights: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=1, description="one non-negative weight per task, not all zero")


class StaticWeighting(ScalarizedWeighting):
    """:math:`w` is the ``weights`` option: ``n_tasks`` non-negative numbers, not all zero."""

    name = "static"
    paper = ("linear scalarisation with hand-tuned weights, the baseline of Kendall, Gal, Cipolla, "
             "CVPR 2018, https://arxiv.org/abs/1705.07115")
    Options = StaticOptions

    def _build(self, options: StaticOptions) -> Scalarizer:
        if len(options.weights) != self.n_tasks:
            raise UserError(f"static option 'weights' needs one weight per task ({self.n_tasks}), "
                            f"got {len(options.weights)}")
        if sum(options.weights) == 0:
            raise UserError("static option 'weights' must not be all zero")
        return Constant(preference_tensor("weights", "static", options.weights, self.n_tasks, 1.0))
