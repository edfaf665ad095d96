"""Uncertainty weighting (homoscedastic task uncertainty).

Kendall, Gal, Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
Geometry and Semantics", CVPR 2018.  Each task gets a learnt log-variance
:math:`s_i = \\log \\sigma_i^2` and the objective is

.. math:: L = \\sum_{i=1}^{K} e^{-s_i} L_i + s_i

This is the paper's Gaussian (regression) likelihood form, :math:`\\frac{1}{2\\sigma^2}L +
\\log\\sigma`, multiplied by 2; qmtl uses it for every task, classification included (the
paper's classification form differs only by the approximation it makes, and LibMTL's UW does the
same).  At the optimum in :math:`s_i`, :math:`e^{-s_i} = 1/L_i`: for a mean-squared error
with residual noise :math:`\\sigma_i`, the weight tends to :math:`1/\\sigma_i^2`.

The :math:`s_i` are trained by the trainer's optimizer: they are returned by
:meth:`UncertaintyWeighting.parameters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from qmtl.strategies.base import MultiTaskStrategy


class UncertaintyWeighting(MultiTaskStrategy):
    """Learnt weights :math:`e^{-s_i}`, with :math:`s_i` initialised to 0 (weight 1)."""

    def __init__(self, n_tasks: int) -> None:
        super().__init__(n_tasks)
        self.log_variances = torch.nn.Parameter(torch.zeros(n_tasks))

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        s = self.log_variances
        (torch.exp(-s) * losses + s).sum().backward()
        return torch.exp(-s).detach()

    def parameters(self) -> list[torch.nn.Parameter]:
        return [self.log_variances]

    def state_dict(self) -> dict[str, Any]:
        return {"log_variances": self.log_variances.detach().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # In place, so an optimizer already holding the Parameter keeps training it.
        with torch.no_grad():
            self.log_variances.copy_(state["log_variances"])
