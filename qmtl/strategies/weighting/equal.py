"""Equal weighting: the plain sum of the task losses.

.. math:: L = \\sum_{i=1}^{K} L_i

The baseline every multi-task method is compared against (called EW in Lin et al., "Reasonable
Effectiveness of Random Weighting", TMLR 2022, and in LibMTL).
"""

from __future__ import annotations

import torch

from qmtl.strategies.base import LossWeighting


class EqualWeighting(LossWeighting):
    """:math:`w_i = 1` for every task."""

    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        return torch.ones(self.n_tasks)
