"""Uncertainty weighting (homoscedastic task uncertainty), torchjd's ``UW`` scalarizer.

Kendall, Gal, Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
Geometry and Semantics", CVPR 2018 (https://arxiv.org/abs/1705.07115).  Each task gets a learnt
log-variance :math:`s_i = \\log \\sigma_i^2`.  Option ``form`` chooses the objective:

* ``kendall`` (default): the paper's Gaussian-likelihood form, as LibMTL's ``UW`` and torchjd's
  ``UW`` compute it,

  .. math:: L = \\sum_{i=1}^{K} \\frac{1}{2\\sigma_i^2} L_i + \\log \\sigma_i
              = \\sum_{i=1}^{K} \\tfrac12 e^{-s_i} L_i + \\tfrac12 s_i ;

* ``doubled``: twice that, :math:`\\sum_i e^{-s_i} L_i + s_i` (the form qmtl used before; common
  in re-implementations).  torchjd has no such option; qmtl multiplies torchjd's ``UW`` by 2,
  which is exactly this form.  Same stationary point, twice the gradient on every parameter,
  so at one learning rate it takes steps twice as large.

qmtl uses the form for every task, classification included (the paper's classification form
differs only by the approximation it makes, and LibMTL's UW does the same).  At the optimum in
:math:`s_i`, :math:`e^{-s_i} = L_i` in both forms.  :math:`s_i` starts at 0 (LibMTL starts at
-0.5).  The :math:`s_i` are trained by the trainer's optimizer: they are returned by
:meth:`UncertaintyWeighting.parameters`.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torchjd.scalarization import UW, Scalarizer

from qmtl.strategies.options import StrategyOptions
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting

#: The multiplier of torchjd's ``UW`` (``½ e^{-s} L + ½ s``) in each form.
FORMS = {"kendall": 1.0, "doubled": 2.0}


class UncertaintyOptions(StrategyOptions):
    form: Literal["kendall", "doubled"] = Field(
        default="kendall", description="kendall: L/(2σ²) + log σ (the paper); doubled: e^{-s} L + s")


class UncertaintyWeighting(ScalarizedWeighting):
    """Learnt weights :math:`c\\,e^{-s_i}` (``c`` = 1/2 in Kendall's form), :math:`s_i` from 0."""

    name = "uncertainty"
    paper = ("Kendall, Gal, Cipolla, Multi-Task Learning Using Uncertainty to Weigh Losses for Scene "
             "Geometry and Semantics, CVPR 2018, https://arxiv.org/abs/1705.07115")
    Options = UncertaintyOptions
    scalarizer: UW

    def _build(self, options: UncertaintyOptions) -> Scalarizer:
        return UW(self.n_tasks)

    @property
    def log_variances(self) -> torch.nn.Parameter:
        """:math:`s_i = \\log \\sigma_i^2`, one per task."""
        return self.scalarizer.log_var

    def objective(self, losses: torch.Tensor) -> torch.Tensor:
        return FORMS[self.options.form] * self.scalarizer(losses)
