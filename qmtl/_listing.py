"""Names the config accepts for ``training.weighting`` and ``training.aggregator``."""

from __future__ import annotations


def strategy_names() -> dict[str, list[str]]:
    """Every registered strategy: ``{"weighting": [...], "aggregator": [...]}``, sorted.

    ``docs/strategies.md`` describes each with its paper and options.
    """
    from qmtl.strategies import AGGREGATORS, WEIGHTINGS

    return {"weighting": sorted(WEIGHTINGS), "aggregator": sorted(AGGREGATORS)}
