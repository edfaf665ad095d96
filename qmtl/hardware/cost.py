r"""Circuit resources and the QPU-time estimate, computed before anything is sent.

The model (an estimate for budgeting, not IBM's billing formula)::

    QPU seconds ~= jobs * JOB_OVERHEAD_S
                 + sum over PUBs of  rows * bases * shots * m_exec
                                     * (rep_delay + m_dur * circuit_duration)

* ``rows`` -- parameter sets in the PUB; every row is one bound circuit.
* ``bases`` -- measurement settings: the Estimator measures qubit-wise commuting Pauli
  terms together, so all-Z observables cost one basis.
* ``shots`` -- per circuit; Runtime's default precision 1/64 means 4096 shots.
* ``rep_delay`` -- the backend's delay between shots (``configuration().default_rep_delay``,
  typically 250 us), which dominates for shallow circuits.
* ``circuit_duration`` -- the ISA circuit's critical path from the backend's instruction
  durations (``QuantumCircuit.estimate_duration(backend.target)``).
* ``m_exec`` / ``m_dur`` -- mitigation overheads: readout (TREX) adds calibration
  executions (x2); ZNE runs noise factors (1, 3, 5) (x3 executions, x3 mean duration);
  dynamical decoupling only fills idle time (x1).
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

JOB_OVERHEAD_S = 2.0
DEFAULT_REP_DELAY_S = 250e-6
RUNTIME_DEFAULT_SHOTS = 4096  # Runtime Estimator default precision 0.015625 = 1/sqrt(4096)
MITIGATION_OVERHEAD = {  # (m_exec, m_dur) per technique; see the module docstring
    "readout": (2.0, 1.0),
    "zne": (3.0, 3.0),
    "dd": (1.0, 1.0),
}
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


def estimate_qpu_seconds(pubs: Sequence[tuple[int, int, float | None]], shots: int, jobs: int,
                         backend: Any, mitigation: Sequence[str] = ()) -> float:
    """QPU seconds of ``jobs`` jobs holding ``pubs`` = (rows, bases, circuit duration).

    An unknown circuit duration counts as zero: the rep delay still bounds the estimate.
    """
    m_exec = math.prod(MITIGATION_OVERHEAD[m][0] for m in mitigation)
    m_dur = math.prod(MITIGATION_OVERHEAD[m][1] for m in mitigation)
    delay = rep_delay(backend)
    per_shot = sum(rows * bases * (delay + m_dur * (duration or 0.0))
                   for rows, bases, duration in pubs)
    return jobs * JOB_OVERHEAD_S + shots * m_exec * per_shot
