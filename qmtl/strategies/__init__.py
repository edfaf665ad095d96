"""Multi-task strategies: loss weightings and gradient aggregators, selected by name.

``build_strategy(weighting=..., aggregator=..., n_tasks=..., options=..., seed=...)`` returns a
:class:`MultiTaskStrategy` whose ``backward(losses, shared_parameters, task_parameters)``
replaces ``loss.backward()``.  ``docs/strategies.md`` lists every method with its paper.
"""

from __future__ import annotations

from qmtl.strategies.aggregation import AGGREGATORS, AggregatorSpec, AggregatorStrategy
from qmtl.strategies.base import LossWeighting, MultiTaskStrategy
from qmtl.strategies.build import build_strategy
from qmtl.strategies.conflict import task_gradient_cosines
from qmtl.strategies.delta_m import delta_m, delta_m_label
from qmtl.strategies.weighting import WEIGHTINGS

__all__ = [
    "AGGREGATORS",
    "WEIGHTINGS",
    "AggregatorSpec",
    "AggregatorStrategy",
    "LossWeighting",
    "MultiTaskStrategy",
    "build_strategy",
    "delta_m",
    "delta_m_label",
    "task_gradient_cosines",
]
