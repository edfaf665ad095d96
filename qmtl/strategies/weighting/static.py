"""Static weighting: fixed user-chosen weights.

.. math:: L = \\sum_{i=1}^{K} w_i L_i, \\qquad w \\text{ given in the config}

The classical hand-tuned scalarisation (e.g. Kendall et al. 2018 use it as their grid-searched
baseline).  YAML: ``weighting: static, weighting_options: {weights: [1.0, 0.5, 2.0]}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from qmtl.errors import UserError
from qmtl.strategies.base import LossWeighting
from qmtl.strategies.options import non_negative_float


class StaticWeighting(LossWeighting):
    """:math:`w` is the ``weights`` option: ``n_tasks`` non-negative numbers, not all zero."""

    def __init__(self, n_tasks: int, *, weights: Sequence[float]) -> None:
        super().__init__(n_tasks)
        if isinstance(weights, str) or not isinstance(weights, Sequence):
            raise UserError(f"static option 'weights' must be a list of numbers, got {weights!r}")
        if len(weights) != n_tasks:
            raise UserError(
                f"static option 'weights' needs one weight per task ({n_tasks}), got {len(weights)}"
            )
        values = [non_negative_float("static", "weights", w) for w in weights]
        if sum(values) == 0:
            raise UserError("static option 'weights' must not be all zero")
        self._weights = torch.tensor(values)

    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        return self._weights.clone()
