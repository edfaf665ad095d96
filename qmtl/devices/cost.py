r"""Circuit resources and the QPU-time estimate, computed before anything is sent.

The model (an estimate for budgeting, not IBM's billing formula)::

    QPU seconds ~= jobs * (JOB_OVERHEAD_S + calibration_shots * rep_delay)
                 + sum over PUBs of  rows * bases * executions
                                     * (rep_delay + m_dur * circuit_duration)

* ``rows`` -- parameter sets in the PUB; every row is one bound circuit.
* ``bases`` -- measurement settings: the Estimator measures qubit-wise commuting Pauli
  terms together, so all-Z observables cost one basis.
* ``shots`` -- per circuit; Runtime's default precision 1/64 means 4096 shots.
* ``rep_delay`` -- the backend's delay between shots (``configuration().default_rep_delay``,
  typically 250 us), which dominates for shallow circuits.
* ``circuit_duration`` -- the ISA circuit's critical path from the backend's instruction
  durations (``QuantumCircuit.estimate_duration(backend.target)``).
* ``executions`` -- shots each (row, basis) configuration really executes under the
  mitigation (:func:`mitigation_overhead`): twirling (``readout``/``twirling``) splits the
  shots over randomizations, rounding up (e.g. 4000 -> 32 x 125); ZNE runs every noise
  factor (x3 for the default 1, 3, 5).  ``calibration_shots``: TREX's readout-calibration
  circuit, once per job.  ``m_dur``: ZNE's folded circuits last the mean noise factor times
  longer; dynamical decoupling only fills idle time (x1).  These counts are resolved by
  the Estimator's own option logic, and a test checks them against the shots of the
  program it builds.
* ``JOB_OVERHEAD_S`` -- per-job QPU time outside the shots (loading, compilation of the
  control pulses, readout transfer); an assumed constant.

IBM bills "quantum seconds" (time the QPU is locked for the job); see
https://quantum.cloud.ibm.com/docs/guides/estimate-job-run-time and
https://quantum.cloud.ibm.com/docs/guides/execution-modes for how jobs, batches and
sessions are charged.  On real hardware the device replaces estimates by the job's
reported ``usage()`` once a job has run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qiskit import QuantumCircuit
from qiskit.quantum_info import PauliList, SparsePauliOp

from qmtl.devices.spec import MitigationConfig

JOB_OVERHEAD_S = 2.0
DEFAULT_REP_DELAY_S = 250e-6
RUNTIME_DEFAULT_SHOTS = 4096  # Runtime Estimator default precision 0.015625 = 1/sqrt(4096)
_NON_GATES = frozenset({"barrier", "delay", "measure"})


@dataclass(frozen=True)
class Resources:
    """What one ISA circuit asks of the backend."""

    qubits: int
    depth: int
    two_qubit_gates: int
    layout: tuple[int, ...]
    """Physical qubit of each virtual qubit (circuit wire) in order."""
    duration_s: float | None
    """Critical-path duration from the backend's instruction durations; ``None`` unknown."""


def circuit_resources(isa: QuantumCircuit, backend: Any = None) -> Resources:
    """Resources of a transpiled circuit; ``backend`` supplies durations when given."""
    active = {isa.find_bit(q).index for inst in isa.data if inst.operation.name not in _NON_GATES
              for q in inst.qubits}
    two_qubit = sum(1 for inst in isa.data
                    if len(inst.qubits) == 2 and inst.operation.name not in _NON_GATES)
    layout = tuple(isa.layout.final_index_layout()) if isa.layout is not None else tuple(
        range(isa.num_qubits))
    return Resources(len(active), isa.depth(), two_qubit, layout, circuit_duration(isa, backend))


def circuit_duration(isa: QuantumCircuit, backend: Any) -> float | None:
    """Seconds along the critical path, or ``None`` without instruction durations."""
    if backend is None or getattr(backend, "target", None) is None:
        return None
    try:
        return float(isa.estimate_duration(backend.target, unit="s"))
    except Exception:  # a target without durations (e.g. a bare simulator): unknown
        return None


def rep_delay(backend: Any) -> float:
    """The backend's default delay between shots, in seconds."""
    try:
        return float(backend.configuration().default_rep_delay)
    except Exception:  # BackendV2 without a V1-style configuration
        return float(getattr(backend, "default_rep_delay", None) or DEFAULT_REP_DELAY_S)


def measurement_bases(observables: Iterable[SparsePauliOp]) -> int:
    """Qubit-wise commuting groups over every Pauli term of ``observables``."""
    terms = [label for obs in observables for label in obs.paulis.to_labels()]
    return len(PauliList(sorted(set(terms))).group_qubit_wise_commuting()) if terms else 1


def shots_for(shots: int | None, precision: float | None) -> int:
    """Shots per circuit the Estimator will measure for a shots/precision setting."""
    if shots is not None:
        return shots
    if precision is not None:
        return math.ceil(1.0 / precision**2)
    return RUNTIME_DEFAULT_SHOTS


@dataclass(frozen=True)
class MitigationOverhead:
    """What mitigation adds to ``shots`` per (row, basis) configuration."""

    executions: int
    """Shots each configuration executes: randomizations x shots per randomization x
    noise factors."""
    calibration_shots: int
    """Shots of TREX's readout-calibration circuit, once per job (0 without readout)."""
    duration_factor: float
    """How much longer the executed circuits are (ZNE folding: the mean noise factor)."""


def mitigation_overhead(mitigation: MitigationConfig | None, shots: int) -> MitigationOverhead:
    """Executions of one configuration under ``mitigation``, resolved by the Estimator's own
    option logic (``finalize_estimator_options``, twirling shot split, noise factors)."""
    if mitigation is None or not mitigation.techniques:
        return MitigationOverhead(shots, 0, 1.0)
    # Imported here: qmtl.devices imports this module on every Qiskit step.
    from qiskit_ibm_runtime.executor.calculate_twirling_shots import calculate_twirling_shots
    from qiskit_ibm_runtime.executor_estimator.finalize_options import finalize_estimator_options
    from qiskit_ibm_runtime.executor_estimator.trex import resolve_trex_num_randomizations
    from qiskit_ibm_runtime.executor_estimator.utils import resolve_noise_factors

    from qmtl.devices.mitigation import estimator_options

    options = finalize_estimator_options(estimator_options(mitigation, shots))
    randomizations, per_randomization = 1, shots
    if options.twirling.enable_gates or options.twirling.enable_measure:
        randomizations, per_randomization = calculate_twirling_shots(
            shots, options.twirling.num_randomizations, options.twirling.shots_per_randomization)
    factors = [1.0]
    if options.resilience.zne_mitigation:
        factors = list(resolve_noise_factors(options.resilience.zne)[0])
    calibration = 0
    if options.resilience.measure_mitigation:
        calibration = per_randomization * resolve_trex_num_randomizations(
            options.resilience.measure_noise_learning, randomizations)
    return MitigationOverhead(randomizations * per_randomization * len(factors), calibration,
                              sum(factors) / len(factors))


def executed_shots(pubs: Sequence[tuple[int, int]], shots: int, jobs: int,
                   mitigation: MitigationConfig | None = None) -> int:
    """Shots the Estimator executes for ``jobs`` jobs holding ``pubs`` = (rows, bases)."""
    overhead = mitigation_overhead(mitigation, shots)
    return (sum(rows * bases for rows, bases in pubs) * overhead.executions
            + jobs * overhead.calibration_shots)


def estimate_qpu_seconds(pubs: Sequence[tuple[int, int, float | None]], shots: int, jobs: int,
                         backend: Any, mitigation: MitigationConfig | None = None) -> float:
    """QPU seconds of ``jobs`` jobs holding ``pubs`` = (rows, bases, circuit duration).

    An unknown circuit duration counts as zero: the rep delay still bounds the estimate.
    """
    overhead = mitigation_overhead(mitigation, shots)
    delay = rep_delay(backend)
    per_shot = sum(rows * bases * (delay + overhead.duration_factor * (duration or 0.0))
                   for rows, bases, duration in pubs)
    return (jobs * (JOB_OVERHEAD_S + overhead.calibration_shots * delay)
            + overhead.executions * per_shot)
