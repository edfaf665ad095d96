"""Error mitigation: a :class:`MitigationConfig` mapped onto the options of Runtime's
client-side Estimator (``qiskit_ibm_runtime.executor_estimator.Estimator``).

That Estimator prepares every circuit and post-processes every result on the client, so
the same mitigation runs on real hardware (``ibm:<backend>``) and in Runtime local testing
mode on a fake backend (``fake_<backend>``), where its effect can be measured offline.

* ``none`` -- ``resilience_level = 0``: the Estimator's default level 1 would silently apply
  readout mitigation, so every variant starts from level 0 and adds only what it names.
* ``readout`` -- ``resilience.measure_mitigation``: TREX, twirled readout error extinction
  (van den Berg et al., PRA 105, 032620 (2022)); it twirls the measurements and divides each
  expectation value by the readout fidelity measured on extra calibration circuits.
* ``zne`` -- ``resilience.zne_mitigation`` with gate folding: each circuit runs at noise
  factors ``lambda_k >= 1`` (two-qubit gates G replaced by G (G^dagger G)^((lambda_k-1)/2)) and
  ``<O>(lambda)`` is extrapolated to ``lambda = 0`` (Temme, Bravyi, Gambetta, PRL 119,
  180509 (2017)).
* ``twirling`` -- ``twirling.enable_gates``: Pauli twirling of the two-qubit gates turns
  coherent errors into stochastic Pauli noise (averaged over randomizations).
* ``dd`` -- ``dynamical_decoupling.enable``: pulse sequences in idle periods.  The local
  simulator models idle noise only on explicit delays, so offline its effect is small.
* ``pec`` -- refused: probabilistic error cancellation (and ZNE by PEA) needs a learned
  layer noise model (``NoiseLearnerV3``), which qmtl does not run.

See https://quantum.cloud.ibm.com/docs/guides/estimator-noise-management.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from qmtl.devices.spec import MitigationConfig, MitigationTechnique
from qmtl.errors import UserError

TECHNIQUES: tuple[MitigationTechnique, ...] = ("readout", "zne", "twirling", "dd", "pec")
UNMITIGATED = MitigationConfig()
_DEFAULTS = MitigationConfig()
PEC_REFUSAL = ("mitigation 'pec' needs a learned layer noise model (Runtime's NoiseLearnerV3, "
               "a separate noise-learning job), which qmtl does not run; use readout, zne, "
               "twirling or dd")


def check_supported(config: MitigationConfig | None) -> None:
    """Refuse what the Estimator cannot apply from a qmtl config (one line, exit 2)."""
    if config is None:
        return
    if "pec" in config.techniques:
        raise UserError(PEC_REFUSAL)
    if "zne" in config.techniques and config.zne_amplifier == "pea":
        raise UserError(PEC_REFUSAL.replace("mitigation 'pec'", "ZNE amplifier 'pea'")
                        .replace("use readout, zne,", "use zne with gate_folding, or readout,"))
    if "zne" in config.techniques:
        from qiskit_ibm_runtime.exceptions import IBMInputValueError
        from qiskit_ibm_runtime.executor_estimator.utils import validate_noise_factors

        try:
            validate_noise_factors(config.zne_noise_factors, config.zne_extrapolator)
        except IBMInputValueError as error:
            raise UserError(f"ZNE noise factors {list(config.zne_noise_factors)}: {error}; add "
                            "noise factors or choose e.g. the linear extrapolator") from None


def variant_name(config: MitigationConfig | None) -> str:
    """``none``, ``readout``, ``readout+zne``, ...; non-default settings in brackets."""
    if config is None or not config.techniques:
        return "none"
    name = "+".join(config.techniques)
    settings = []
    if "zne" in config.techniques:
        for field in ("zne_noise_factors", "zne_extrapolator", "zne_amplifier"):
            value = getattr(config, field)
            if value != getattr(_DEFAULTS, field):
                text = ",".join(f"{v:g}" if isinstance(v, float) else str(v)
                                for v in (value if isinstance(value, tuple) else (value,)))
                settings.append(f"{field.removeprefix('zne_')}={text}")
    if config.randomizations != _DEFAULTS.randomizations and {
            "readout", "twirling"} & set(config.techniques):
        settings.append(f"randomizations={config.randomizations}")
    if "dd" in config.techniques and config.dd_sequence != _DEFAULTS.dd_sequence:
        settings.append(f"dd={config.dd_sequence}")
    return name + (f"[{';'.join(settings)}]" if settings else "")


def variants(requested: MitigationConfig | None) -> list[MitigationConfig]:
    """What ``qmtl submit`` runs: the unmitigated baseline, each requested technique on its
    own and, for more than one, all of them together -- so the comparison shows what each
    technique does and what they do combined."""
    check_supported(requested)
    if requested is None or not requested.techniques:
        return [UNMITIGATED]
    ordered = tuple(t for t in TECHNIQUES if t in requested.techniques)
    singles = [requested.model_copy(update={"techniques": (t,)}) for t in ordered]
    combined = [requested.model_copy(update={"techniques": ordered})] if len(ordered) > 1 else []
    return [UNMITIGATED, *singles, *combined]


def apply_mitigation(options: Any, config: MitigationConfig | None) -> None:
    """Set the client-side Estimator's ``EstimatorOptions`` for exactly ``config``."""
    check_supported(config)
    options.resilience_level = 0
    techniques = () if config is None else config.techniques
    options.resilience.measure_mitigation = "readout" in techniques
    options.resilience.zne_mitigation = "zne" in techniques
    options.twirling.enable_gates = "twirling" in techniques
    options.twirling.enable_measure = "readout" in techniques
    options.dynamical_decoupling.enable = "dd" in techniques
    if config is None:
        return
    if "zne" in techniques:
        options.resilience.zne.noise_factors = list(config.zne_noise_factors)
        options.resilience.zne.extrapolator = list(config.zne_extrapolator)
        options.resilience.zne.amplifier = config.zne_amplifier
    options.twirling.num_randomizations = config.randomizations
    options.dynamical_decoupling.sequence_type = config.dd_sequence


def estimator_options(config: MitigationConfig | None, shots: int) -> Any:
    """Standalone ``EstimatorOptions`` for ``shots`` per circuit and ``config``."""
    from qiskit_ibm_runtime.options_models import EstimatorOptions

    options = EstimatorOptions(default_shots=shots)
    apply_mitigation(options, config)
    return options


def parse_noise_factors(text: str) -> tuple[float, ...]:
    """``--zne-noise-factors 1,3,5`` as distinct finite numbers (their range >= 1 is checked by the config).

    Extrapolating to zero noise fits a curve through one point per factor, so a repeated
    factor adds no information and an infinite one cannot be folded into a circuit.
    """
    try:
        factors = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--zne-noise-factors '{text}' is not a comma-separated list of "
                        "numbers; write e.g. --zne-noise-factors 1,3,5") from None
    if not all(math.isfinite(factor) for factor in factors):
        raise UserError(f"--zne-noise-factors '{text}' holds a value that is not a finite number; "
                        "write e.g. --zne-noise-factors 1,3,5")
    if len(set(factors)) < len(factors):
        raise UserError(f"--zne-noise-factors '{text}' repeats a factor; give each factor once, "
                        "e.g. --zne-noise-factors 1,3,5")
    return factors


def build_config(techniques: Sequence[str], **settings: Any) -> MitigationConfig | None:
    """A :class:`MitigationConfig` from CLI values, every mistake one line."""
    from pydantic import ValidationError

    chosen = [t for t in dict.fromkeys(techniques) if t != "none"]
    given = {k: v for k, v in settings.items() if v is not None}
    if not chosen:
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise UserError(f"{flags} set without a mitigation to tune; add e.g. "
                            "--mitigation zne (or --mitigation readout for --randomizations)")
        return None
    try:
        config = MitigationConfig.model_validate({"techniques": chosen, **given})
    except ValidationError as error:
        first = error.errors()[0]
        flag = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "--mitigation"
        raise UserError(f"{flag} {first['input']!r}: {first['msg'].lower()}") from None
    check_supported(config)
    return config
