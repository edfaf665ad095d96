"""From a trained model and a split to ISA circuits and parameter rows.

The forward pass of a hard-sharing model is encoder (torch) -> angles -> circuit expectation
values -> heads (torch).  Here the encoder runs in torch, the circuit's tape is built by the
model's own QNode and preprocessed by the model's own :class:`EstimatorDevice` (the same
decomposition as training), and every circuit structure is compiled once by
:func:`qmtl.devices.compile.compile_tape` with the target backend's pass manager.  What is
left is data: per structure, one ISA circuit, its observables and one parameter row per
example -- exactly the PUBs the device would send, so the job granularity is ours to pick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pennylane as qml
import torch
from qiskit import qasm3
from qiskit.transpiler import PassManager

from qmtl.circuit import SharedCircuit
from qmtl.devices.compile import CompiledCircuit, compile_tape, structure_key, tape_angles
from qmtl.devices.cost import Resources, circuit_resources, measurement_bases
from qmtl.errors import UserError
from qmtl.protocols import SharedCircuitModel

EXACT_AER = ["device.name=aer", "device.shots=null", "device.precision=null",
             "device.noise=null", "device.qpu_budget_seconds=null", "device.mitigation=null"]
"""``load_run`` overrides: the run's model on exact Aer, whose QNode measures the
task observables as Estimator expectation values (whatever device the run trained on)."""
EXACT_REFERENCE = ["device.name=default.qubit", *EXACT_AER[1:]]


@dataclass(frozen=True)
class CircuitPlan:
    """One circuit structure: its ISA circuit and the rows of the examples using it."""

    structure: str
    """Hash of the ISA circuit and observables."""
    compiled: CompiledCircuit
    rows: np.ndarray
    """``(len(examples), len(isa.parameters))`` parameter values."""
    examples: np.ndarray
    """Index into the split of each row's example."""
    resources: Resources
    bases: int


def shared_circuit_model(model: Any, architecture: str) -> SharedCircuitModel:
    """``model`` (built for ``architecture``) as a model with one shared circuit whose
    columns per-task heads read; refuse architectures without one."""
    if not isinstance(model, SharedCircuitModel):
        raise UserError(
            f"architecture '{architecture}' has no single shared circuit read by per-task heads, which "
            "hardware submission and circuit export need (hard_sharing has one); evaluate this run on a "
            "Qiskit target with 'qmtl eval RUN --set device.name=fake_<backend>' instead")
    return model


def shared_circuit(model: Any, architecture: str) -> SharedCircuit:
    """The model's one shared circuit; refuse architectures without one."""
    return shared_circuit_model(model, architecture).circuit


def circuit_tapes(circuit: Any, angles: torch.Tensor, weights: torch.Tensor | None = None
                  ) -> list[qml.tape.QuantumScript]:
    """The device-ready tapes (one per example) of the model's QNode for ``angles`` and
    ``weights`` (default: the circuit's own)."""
    weights = circuit.weights.detach() if weights is None else weights
    tape = qml.workflow.construct_tape(circuit.qnode)(angles, weights)
    tapes, _ = circuit.qnode.device.preprocess_transforms()((tape,))
    return list(tapes)


def plan_circuits(circuit: Any, angles: torch.Tensor, pass_manager: PassManager,
                  backend: Any = None) -> list[CircuitPlan]:
    """Group ``angles``' examples by circuit structure and compile each structure once."""
    if backend is not None:
        check_width(circuit, backend)
    groups: dict[Hashable, list[int]] = {}
    tapes = circuit_tapes(circuit, angles)
    for i, tape in enumerate(tapes):
        groups.setdefault(structure_key(tape), []).append(i)
    plans = []
    for members in groups.values():
        compiled = compile_tape(tapes[members[0]], circuit.qnode.device.wires, pass_manager)
        rows = np.stack([tape_angles(tapes[i]) for i in members])[:, compiled.columns]
        plans.append(CircuitPlan(
            structure_hash(compiled), compiled, rows, np.asarray(members),
            circuit_resources(compiled.isa, backend), measurement_bases(compiled.observables)))
    return plans


def check_width(circuit: Any, backend: Any) -> None:
    """Refuse a circuit wider than ``backend`` before the transpiler fails on it."""
    width = len(circuit.qnode.device.wires)
    if width > backend.num_qubits:
        where = ("'qmtl backends' lists the fake ones with their qubits"
                 if backend.name.startswith("fake_") else
                 "QiskitRuntimeService().backends() lists yours")
        raise UserError(f"the run's circuit needs {width} qubits but {backend.name} has "
                        f"{backend.num_qubits}; choose a backend with at least {width} qubits "
                        f"({where})")


def structure_hash(compiled: CompiledCircuit) -> str:
    text = qasm3.dumps(compiled.isa) + "".join(str(o) for o in compiled.observables)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def work_key(plan: CircuitPlan, start: int, stop: int, shots: int, variant: str) -> str:
    """What a job computes, as a hash: reuse a recorded job only for identical work."""
    digest = hashlib.sha256(f"{plan.structure}|{shots}|{variant}|{start}:{stop}|".encode())
    digest.update(np.ascontiguousarray(plan.rows[start:stop]).tobytes())
    return digest.hexdigest()[:20]


def chunks(plans: list[CircuitPlan], rows_per_job: int | None) -> list[tuple[int, int, int]]:
    """``(plan index, start, stop)`` of each job: at most ``rows_per_job`` rows, one PUB."""
    out = []
    for p, plan in enumerate(plans):
        step = rows_per_job or len(plan.rows)
        out += [(p, a, min(a + step, len(plan.rows))) for a in range(0, len(plan.rows), step)]
    return out


def assemble(plans: list[CircuitPlan], evs: list[np.ndarray], n_examples: int) -> np.ndarray:
    """``(n_examples, n_obs)`` values from each plan's ``(n_obs, rows)`` expectation values."""
    values = np.zeros((n_examples, evs[0].shape[0]))
    for plan, block in zip(plans, evs):
        values[plan.examples] = block.T
    return values
