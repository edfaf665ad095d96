"""``build_strategy``: from config names and options to a :class:`MultiTaskStrategy`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qmtl.errors import UserError, unknown_name
from qmtl.strategies.aggregation import AGGREGATORS, AggregatorStrategy
from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.weighting import WEIGHTINGS


def build_strategy(
    weighting: str = "equal",
    aggregator: str | None = None,
    n_tasks: int = 2,
    options: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> MultiTaskStrategy:
    """The strategy named by the config.

    ``aggregator`` replaces loss weighting altogether, so it combines only with
    ``weighting="equal"``; ``options`` go to whichever of the two is selected and are validated
    against its option model (``docs/strategies.md`` lists them).  ``seed`` seeds the random
    methods (``rlw`` and the random aggregators).
    """
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
        raise UserError(f"n_tasks must be a positive integer, got {n_tasks!r}")
    if aggregator is not None:
        if weighting != "equal":
            raise UserError(
                f"weighting '{weighting}' cannot be combined with aggregator '{aggregator}': an "
                "aggregator replaces loss weighting; set only one of them"
            )
        if aggregator not in AGGREGATORS:
            raise unknown_name("aggregator", aggregator, AGGREGATORS)
        built = AGGREGATORS[aggregator].build(aggregator, n_tasks, options)
        return AggregatorStrategy(n_tasks, built, seed=seed)
    if weighting not in WEIGHTINGS:
        raise unknown_name("weighting", weighting, WEIGHTINGS)
    return WEIGHTINGS[weighting](n_tasks, options, seed=seed)
