"""Loss-weighting strategies, one module each, registered by config name.

Every one but GradNorm minimises a torchjd scalarizer (:mod:`.scalarized`); torchjd has no
GradNorm, so it is qmtl's own.
"""

from __future__ import annotations

from qmtl.strategies.weighting.cosmos import COSMOSWeighting
from qmtl.strategies.weighting.dwa import DynamicWeightAverage
from qmtl.strategies.weighting.equal import EqualWeighting
from qmtl.strategies.weighting.famo import FAMOWeighting
from qmtl.strategies.weighting.geometric_mean import GeometricMeanWeighting
from qmtl.strategies.weighting.gradnorm import GradNormWeighting
from qmtl.strategies.weighting.imtl_l import ImpartialLossWeighting
from qmtl.strategies.weighting.pbi import PenaltyBoundaryIntersectionWeighting
from qmtl.strategies.weighting.rlw import RandomLossWeighting
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting
from qmtl.strategies.weighting.static import StaticWeighting
from qmtl.strategies.weighting.stch import SmoothTchebycheffWeighting
from qmtl.strategies.weighting.uncertainty import UncertaintyWeighting

WEIGHTINGS: dict[str, type[ScalarizedWeighting] | type[GradNormWeighting]] = {
    cls.name: cls
    for cls in (
        EqualWeighting, StaticWeighting, UncertaintyWeighting, DynamicWeightAverage, GradNormWeighting,
        RandomLossWeighting, FAMOWeighting, ImpartialLossWeighting, SmoothTchebycheffWeighting,
        GeometricMeanWeighting, PenaltyBoundaryIntersectionWeighting, COSMOSWeighting,
    )
}

__all__ = [
    "WEIGHTINGS",
    "COSMOSWeighting",
    "DynamicWeightAverage",
    "EqualWeighting",
    "FAMOWeighting",
    "GeometricMeanWeighting",
    "GradNormWeighting",
    "ImpartialLossWeighting",
    "PenaltyBoundaryIntersectionWeighting",
    "RandomLossWeighting",
    "ScalarizedWeighting",
    "SmoothTchebycheffWeighting",
    "StaticWeighting",
    "UncertaintyWeighting",
]
