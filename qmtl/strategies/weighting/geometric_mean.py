"""Geometric mean of the losses (GLS, torchjd's ``GeometricMean`` scalarizer).

Chennupati, Sistu, Yogamani, Rawashdeh, "MultiNet++: Multi-Stream Feature Aggregation and
Geometric Loss Strategy for Multi-Task Learning", CVPR Workshops 2019
(https://arxiv.org/abs/1904.08492).

.. math:: L = \\Big(\\prod_{i=1}^{K} L_i\\Big)^{1/K}, \\qquad
    w_i = \\frac{\\partial L}{\\partial L_i} = \\frac{L}{K L_i}

Minimising it is minimising :math:`\\frac1K \\sum_i \\log L_i` (same minimisers, gradient
rescaled by :math:`L`): each task's gradient is divided by its own loss, so relative, not
absolute, improvements count and a task with a large loss scale does not dominate.  The losses
must be positive.
"""

from __future__ import annotations

from typing import Any

from torchjd.scalarization import GeometricMean, Scalarizer

from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class GeometricMeanWeighting(ScalarizedWeighting):
    """Weights :math:`L / (K L_i)`: inverse to each task's loss."""

    name = "geometric_mean"
    paper = ("Chennupati et al., MultiNet++: Multi-Stream Feature Aggregation and Geometric Loss "
             "Strategy for Multi-Task Learning, CVPR Workshops 2019, https://arxiv.org/abs/1904.08492")

    def _build(self, options: Any) -> Scalarizer:
        return GeometricMean()
