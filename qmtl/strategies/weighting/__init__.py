"""Loss-weighting strategies, one module each, registered by config name."""

from __future__ import annotations

from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.weighting.dwa import DynamicWeightAverage
from qmtl.strategies.weighting.equal import EqualWeighting
from qmtl.strategies.weighting.famo import FAMOWeighting
from qmtl.strategies.weighting.gradnorm import GradNormWeighting
from qmtl.strategies.weighting.rlw import RandomLossWeighting
from qmtl.strategies.weighting.static import StaticWeighting
from qmtl.strategies.weighting.uncertainty import UncertaintyWeighting

WEIGHTINGS: dict[str, type[MultiTaskStrategy]] = {
    "equal": EqualWeighting,
    "static": StaticWeighting,
    "uncertainty": UncertaintyWeighting,
    "dwa": DynamicWeightAverage,
    "gradnorm": GradNormWeighting,
    "rlw": RandomLossWeighting,
    "famo": FAMOWeighting,
}

__all__ = [
    "WEIGHTINGS",
    "DynamicWeightAverage",
    "EqualWeighting",
    "FAMOWeighting",
    "GradNormWeighting",
    "RandomLossWeighting",
    "StaticWeighting",
    "UncertaintyWeighting",
]
