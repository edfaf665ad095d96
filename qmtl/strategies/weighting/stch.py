"""Smooth Tchebycheff scalarisation (torchjd's ``STCH`` scalarizer).

Lin, Zhang, Hu, Chen, Liu, Zhang, "Smooth Tchebycheff Scalarization for Multi-Objective
Optimization", ICML 2024 (https://arxiv.org/abs/2402.19078), eq. (9):

.. math:: L = \\mu \\log \\sum_{i=1}^{K} \\exp\\!\\Big(\\frac{\\lambda_i (L_i - z_i)}{\\mu}\\Big)

a smooth upper bound of the weighted worst task :math:`\\max_i \\lambda_i (L_i - z_i)`, within
:math:`\\mu \\log K` of it.  Its weights are a softmax,
:math:`w_i = \\lambda_i\\,\\operatorname{softmax}(\\lambda (L - z)/\\mu)_i`, so the worst task
gets almost all the weight as :math:`\\mu \\to 0`.  Options: ``mu`` (default 0.1, one of the
paper's values: "a small μ works reasonably well"), ``preference`` :math:`\\lambda` (default
:math:`1/K` each) and ``reference`` :math:`z` (the ideal point, default 0: losses are >= 0).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torchjd.scalarization import STCH, Scalarizer

from qmtl.strategies.options import StrategyOptions, preference_tensor
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class STCHOptions(StrategyOptions):
    mu: float = Field(default=0.1, gt=0, description="smoothing μ; smaller is closer to the max")
    preference: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, min_length=1, description="preference λ, one per task (null: 1/K each)")
    reference: list[float] | None = Field(
        default=None, min_length=1, description="ideal point z, one per task (null: 0)")


class SmoothTchebycheffWeighting(ScalarizedWeighting):
    """Softmax weights that concentrate on the worst (preference-weighted) task."""

    name = "stch"
    paper = ("Lin et al., Smooth Tchebycheff Scalarization for Multi-Objective Optimization, ICML 2024, "
             "https://arxiv.org/abs/2402.19078")
    Options = STCHOptions

    def _build(self, options: STCHOptions) -> Scalarizer:
        k = self.n_tasks
        return STCH(options.mu,
                    weights=preference_tensor("preference", "stch", options.preference, k, 1.0 / k),
                    reference=preference_tensor("reference", "stch", options.reference, k, 0.0))
