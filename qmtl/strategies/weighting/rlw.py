"""Random Loss Weighting (torchjd's ``Random`` scalarizer).

Lin, Ye, Xu, Shi, Zhang, "Reasonable Effectiveness of Random Weighting: A Litmus Test for
Multi-Task Learning", TMLR 2022 (https://arxiv.org/abs/2111.10603), Algorithm 2.  At every step,

.. math:: \\lambda = \\operatorname{softmax}(\\epsilon), \\quad \\epsilon \\sim
    \\mathcal N(0, I_K), \\qquad L = \\sum_i \\lambda_i L_i

so the weights are positive and sum to 1, as in the paper (the step is therefore :math:`1/K`
of an equal-weighting step at the same learning rate).  torchjd draws :math:`\\epsilon` from
torch's global generator; qmtl runs it on a private generator state seeded by the run seed and
saved in :meth:`RandomLossWeighting.state_dict`, so a resumed run draws the same sequence and
the rest of the program's randomness is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torchjd.scalarization import Random, Scalarizer

from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class RandomLossWeighting(ScalarizedWeighting):
    """Fresh softmax-of-Gaussian weights at every step."""

    name = "rlw"
    paper = ("Lin et al., Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task "
             "Learning, TMLR 2022, https://arxiv.org/abs/2111.10603")

    def __init__(self, n_tasks: int, options: Mapping[str, Any] | None = None, *, seed: int = 0) -> None:
        super().__init__(n_tasks, options, seed=seed)
        self._rng_state = torch.Generator().manual_seed(seed).get_state()

    def _build(self, options: Any) -> Scalarizer:
        return Random()

    def objective(self, losses: torch.Tensor) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self._rng_state)
            objective = self.scalarizer(losses)
            self._rng_state = torch.get_rng_state()
        return objective

    def state_dict(self) -> dict[str, Any]:
        return {"rng_state": self._rng_state.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._rng_state = state["rng_state"].clone()
