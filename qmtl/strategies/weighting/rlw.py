"""Random Loss Weighting.

Lin, Ye, Xu, Shi, Zhang, "Reasonable Effectiveness of Random Weighting: A Litmus Test for
Multi-Task Learning", TMLR 2022.  At every step,

.. math:: \\lambda = \\operatorname{softmax}(\\epsilon), \\quad \\epsilon \\sim
    \\mathcal N(0, I_K), \\qquad L = \\sum_i \\lambda_i L_i

so the weights are positive and sum to 1, as in the paper (the step is therefore :math:`1/K`
of an equal-weighting step at the same learning rate).  The samples come from a private
generator seeded by the run seed; its state is part of :meth:`RandomLossWeighting.state_dict`
so a resumed run draws the same sequence.
"""

from __future__ import annotations

from typing import Any

import torch

from qmtl.strategies.base import LossWeighting


class RandomLossWeighting(LossWeighting):
    """Fresh softmax-of-Gaussian weights at every call of :meth:`weights`."""

    def __init__(self, n_tasks: int, *, seed: int = 0) -> None:
        super().__init__(n_tasks)
        self._generator = torch.Generator().manual_seed(seed)

    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        return torch.softmax(torch.randn(self.n_tasks, generator=self._generator), dim=0)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._generator.set_state(state["generator"])
