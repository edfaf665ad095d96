"""Dynamic Weight Average.

Liu, Johns, Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019, eq. (7).
With :math:`\\bar L_k(t)` the mean training loss of task :math:`k` over epoch :math:`t`,

.. math::

    r_k(t-1) = \\frac{\\bar L_k(t-1)}{\\bar L_k(t-2)}, \\qquad
    w_k(t) = \\frac{K \\exp(r_k(t-1)/T)}{\\sum_i \\exp(r_i(t-1)/T)}

so a task whose loss stopped falling (ratio near 1 or above) gets a larger weight; the weights
sum to :math:`K`.  :math:`w_k = 1` for the first two epochs, before two loss averages exist.
The temperature :math:`T` (option ``temperature``, default 2 as in the paper) softens the
weights; :math:`T \\to \\infty` gives equal weights.
"""

from __future__ import annotations

from typing import Any

import torch

from qmtl.strategies.base import LossWeighting
from qmtl.strategies.options import positive_float


class DynamicWeightAverage(LossWeighting):
    """Weights fixed within an epoch, recomputed in :meth:`end_epoch` from the loss history."""

    def __init__(self, n_tasks: int, *, temperature: float = 2.0) -> None:
        super().__init__(n_tasks)
        self.temperature = positive_float("dwa", "temperature", temperature)
        self._history: list[torch.Tensor] = []  # the last two epoch-mean loss vectors

    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        if len(self._history) < 2:
            return torch.ones(self.n_tasks)
        older, last = self._history
        ratios = last / older
        return self.n_tasks * torch.softmax(ratios / self.temperature, dim=0)

    def end_epoch(self, mean_train_losses: torch.Tensor) -> None:
        self._check_losses(mean_train_losses)
        self._history = [*self._history, mean_train_losses.detach().double().clone()][-2:]

    def state_dict(self) -> dict[str, Any]:
        return {"history": [h.clone() for h in self._history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._history = [h.clone() for h in state["history"]]
