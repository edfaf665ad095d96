"""Equal weighting: the plain sum of the task losses.

.. math:: L = \\sum_{i=1}^{K} L_i

The baseline every multi-task method is compared against (called EW in Lin et al., "Reasonable
Effectiveness of Random Weighting", TMLR 2022, and in LibMTL); torchjd's ``Sum`` scalarizer.
"""

from __future__ import annotations

from typing import Any

from torchjd.scalarization import Scalarizer, Sum

from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class EqualWeighting(ScalarizedWeighting):
    """:math:`w_i = 1` for every task."""

    name = "equal"
    paper = ("baseline EW, as in Lin et al., Reasonable Effectiveness of Random Weighting: A Litmus "
             "Test for Multi-Task Learning, TMLR 2022, https://arxiv.org/abs/2111.10603")

    def _build(self, options: Any) -> Scalarizer:
        return Sum()
