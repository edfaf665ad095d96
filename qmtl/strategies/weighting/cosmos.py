"""COSMOS: linear scalarisation with a cosine-similarity reward (torchjd's ``COSMOS``).

Ruchte & Grabocka, "Scalable Pareto Front Approximation for Deep Multi-Objective Learning",
ICDM 2021 (https://arxiv.org/abs/2103.13392), eq. (4):

.. math:: L = \\sum_i r_i L_i - \\lambda \\cos(r, L)
    = \\sum_i r_i L_i - \\lambda \\frac{r^\\top L}{\\|r\\|\\,\\|L\\|}

which rewards a loss vector aligned with the preference :math:`r`.  The full method also feeds
:math:`r` to the network and resamples it every step to learn the whole Pareto front; qmtl
keeps one fixed preference (option ``preference``, default :math:`1/K` each), so this trains
the one trade-off :math:`r` asks for.  ``lambda_`` (default 1, within the paper's 0.01-8) sets the
alignment reward; 0 is the plain linear scalarisation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torchjd.scalarization import COSMOS, Scalarizer

from qmtl.strategies.options import StrategyOptions, preference_tensor
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class COSMOSOptions(StrategyOptions):
    lambda_: float = Field(default=1.0, ge=0,
                           description="cosine-similarity reward λ (0: linear scalarisation)")
    preference: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, min_length=1, description="preference r, one per task (null: 1/K each)")


class COSMOSWeighting(ScalarizedWeighting):
    """Preference-weighted sum minus λ times its cosine with the preference."""

    name = "cosmos"
    paper = ("Ruchte & Grabocka, Scalable Pareto Front Approximation for Deep Multi-Objective "
             "Learning, ICDM 2021, https://arxiv.org/abs/2103.13392")
    Options = COSMOSOptions

    def _build(self, options: COSMOSOptions) -> Scalarizer:
        k = self.n_tasks
        return COSMOS(options.lambda_,
                      weights=preference_tensor("preference", "cosmos", options.preference, k, 1.0 / k))
