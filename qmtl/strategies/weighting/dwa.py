"""Dynamic Weight Average (torchjd's ``DWA`` scalarizer).

Liu, Johns, Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019
(https://arxiv.org/abs/1803.10704), eq. (7).  With :math:`\\bar L_k(t)` the mean training loss of
task :math:`k` over epoch :math:`t`,

.. math::

    r_k(t-1) = \\frac{\\bar L_k(t-1)}{\\bar L_k(t-2)}, \\qquad
    w_k(t) = \\frac{K \\exp(r_k(t-1)/T)}{\\sum_i \\exp(r_i(t-1)/T)}

so a task whose loss stopped falling (ratio near 1 or above) gets a larger weight; the weights
sum to :math:`K`.  :math:`w_k = 1` for the first two epochs, before two loss averages exist.
The temperature :math:`T` (option ``temperature``, default 2 as in the paper) softens the
weights; :math:`T \\to \\infty` gives equal weights.

torchjd's ``DWA`` accumulates the losses of every mini-batch it scalarizes and averages them
per epoch when :meth:`end_epoch` calls its ``step()``: :math:`\\bar L_k` is the mean over
*mini-batches* (as LibMTL), not over samples, so a smaller last batch counts as much as the
others.  The running sums are part of :meth:`DynamicWeightAverage.state_dict`, so a run
resumed mid-epoch averages the same batches.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torchjd.scalarization import DWA, Scalarizer

from qmtl.strategies.options import StrategyOptions
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class DWAOptions(StrategyOptions):
    temperature: float = Field(default=2.0, gt=0, description="softmax temperature T (the paper's 2)")


class DynamicWeightAverage(ScalarizedWeighting):
    """Weights fixed within an epoch, recomputed at the end of each epoch from the loss history."""

    name = "dwa"
    paper = ("Liu, Johns, Davison, End-to-End Multi-Task Learning with Attention, CVPR 2019, "
             "https://arxiv.org/abs/1803.10704")
    Options = DWAOptions
    scalarizer: DWA

    def _build(self, options: DWAOptions) -> Scalarizer:
        return DWA(temperature=options.temperature)

    def end_epoch(self, mean_train_losses: torch.Tensor) -> None:
        self._check_losses(mean_train_losses)
        self.scalarizer.step()

    # torchjd's DWA keeps its history in plain attributes, outside nn.Module.state_dict.
    def state_dict(self) -> dict[str, Any]:
        dwa = self.scalarizer
        return {
            "history": [h.clone() for h in dwa._previous_averages],
            "loss_sum": None if dwa._loss_sum is None else dwa._loss_sum.clone(),
            "n_batches": dwa._n_batches,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        dwa = self.scalarizer
        dwa._previous_averages = [h.clone() for h in state["history"]]
        dwa._loss_sum = None if state["loss_sum"] is None else state["loss_sum"].clone()
        dwa._n_batches = state["n_batches"]
