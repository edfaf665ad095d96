"""Uncertainty weighting (homoscedastic task uncertainty).

Kendall, Gal, Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
Geometry and Semantics", CVPR 2018.  Each task gets a learnt log-variance
:math:`s_i = \\log \\sigma_i^2`.  Option ``form`` chooses the objective:

* ``kendall`` (default): the paper's Gaussian-likelihood form, as LibMTL's ``UW`` computes it,

  .. math:: L = \\sum_{i=1}^{K} \\frac{1}{2\\sigma_i^2} L_i + \\log \\sigma_i
              = \\sum_{i=1}^{K} \\tfrac12 e^{-s_i} L_i + \\tfrac12 s_i ;

* ``doubled``: twice that, :math:`\\sum_i e^{-s_i} L_i + s_i` (the form qmtl used before; common
  in re-implementations).  Same stationary point, twice the gradient on every parameter, so
  at one learning rate it takes steps twice as large.

qmtl uses the form for every task, classification included (the paper's classification form
differs only by the approximation it makes, and LibMTL's UW does the same).  At the optimum in
:math:`s_i`, :math:`e^{-s_i} = L_i` in both forms: for a mean-squared error with residual
noise :math:`\\sigma_i`, the loss weight tends to :math:`1/(2\\sigma_i^2)` (``kendall``) or
:math:`1/\\sigma_i^2` (``doubled``).  :math:`s_i` starts at 0 (LibMTL starts at -0.5).

The :math:`s_i` are trained by the trainer's optimizer: they are returned by
:meth:`UncertaintyWeighting.parameters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from qmtl.errors import UserError
from qmtl.strategies.base import MultiTaskStrategy

#: The multiplier of ``e^{-s} L + s`` in each form.
FORMS = {"kendall": 0.5, "doubled": 1.0}


class UncertaintyWeighting(MultiTaskStrategy):
    """Learnt weights :math:`c\\,e^{-s_i}` (``c`` = 1/2 in Kendall's form), :math:`s_i` from 0."""

    def __init__(self, n_tasks: int, *, form: str = "kendall") -> None:
        super().__init__(n_tasks)
        if form not in FORMS:
            raise UserError(
                f"uncertainty option 'form' must be one of {', '.join(FORMS)} "
                f"(kendall: L/(2σ²) + log σ, the default), got {form!r}"
            )
        self.form = form
        self.log_variances = torch.nn.Parameter(torch.zeros(n_tasks))

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        s, scale = self.log_variances, FORMS[self.form]
        (scale * (torch.exp(-s) * losses + s)).sum().backward()
        return (scale * torch.exp(-s)).detach()

    def parameters(self) -> list[torch.nn.Parameter]:
        return [self.log_variances]

    def state_dict(self) -> dict[str, Any]:
        return {"log_variances": self.log_variances.detach().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # In place, so an optimizer already holding the Parameter keeps training it.
        with torch.no_grad():
            self.log_variances.copy_(state["log_variances"])
