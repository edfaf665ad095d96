"""``--mitigation`` techniques mapped onto Runtime ``EstimatorV2`` options.

* ``none`` -- ``resilience_level = 0``: Runtime's default level 1 would silently apply
  readout mitigation, so "unmitigated" must be asked for.
* ``readout`` -- ``resilience.measure_mitigation`` (TREX, twirled readout error extinction).
* ``zne`` -- ``resilience.zne_mitigation`` (zero-noise extrapolation, default noise factors).
* ``dd`` -- ``dynamical_decoupling.enable`` (pulse sequences in idle periods).

Techniques combine (``--mitigation readout --mitigation dd``); each starts from level 0 so
only the named ones apply.  Runtime *local testing mode* applies none of them: its local
service turns the Estimator into ``BackendEstimatorV2`` and warns ``Options {...} have no
effect in local testing mode`` (qiskit_ibm_runtime/fake_provider/local_service.py); qmtl
records that warning and reports the variant as not mitigated.
See https://quantum.cloud.ibm.com/docs/guides/configure-error-mitigation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TECHNIQUES = ("readout", "zne", "dd")


def variant_name(techniques: Sequence[str]) -> str:
    return "+".join(techniques) if techniques else "none"


def variants(requested: Sequence[str]) -> list[tuple[str, ...]]:
    """What to run: always the unmitigated baseline, plus the requested combination."""
    chosen = tuple(t for t in TECHNIQUES if t in requested)
    return [()] + ([chosen] if chosen else [])


def apply_mitigation(options: Any, techniques: Sequence[str]) -> None:
    """Set Runtime ``EstimatorOptions`` for exactly ``techniques``."""
    options.resilience_level = 0
    if "readout" in techniques:
        options.resilience.measure_mitigation = True
    if "zne" in techniques:
        options.resilience.zne_mitigation = True
    if "dd" in techniques:
        options.dynamical_decoupling.enable = True
