"""IMTL-L: impartial loss balancing (torchjd's ``IMTLL`` scalarizer).

Liu, Li, Kuang, Xue, Chen, Yang, Liao, Zhang, "Towards Impartial Multi-task Learning", ICLR 2021
(https://openreview.net/forum?id=IMPnRXEWpvr), Sec. 3.1.  Each task gets a learnt scale
:math:`s_i` (from 0) and

.. math:: L = \\sum_{i=1}^{K} e^{s_i} L_i - s_i ,

whose optimum in :math:`s_i` is :math:`e^{s_i} L_i = 1`: every scaled loss is driven to the
same value, so no task dominates by its loss scale.  The :math:`s_i` are trained by the
trainer's optimizer (:meth:`ImpartialLossWeighting.parameters`).
"""

from __future__ import annotations

from typing import Any

from torchjd.scalarization import IMTLL, Scalarizer

from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class ImpartialLossWeighting(ScalarizedWeighting):
    """Learnt weights :math:`e^{s_i}`, regularised by :math:`-s_i`."""

    name = "imtl_l"
    paper = ("Liu et al., Towards Impartial Multi-task Learning, ICLR 2021, "
             "https://openreview.net/forum?id=IMPnRXEWpvr")

    def _build(self, options: Any) -> Scalarizer:
        return IMTLL(self.n_tasks)
