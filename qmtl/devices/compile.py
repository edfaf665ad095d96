"""Compile PennyLane tapes to parametrised Qiskit circuits, once per circuit *structure*.

A structure is the sequence of (operation name, wires) plus the measured observables; the
gate angles are not part of it.  Every angle becomes an element of one ``ParameterVector``,
so all tapes that share a structure -- broadcast rows, parameter-shift rows, the same circuit
at the next training step -- bind different values into the same ISA circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import pennylane as qml
from pennylane.measurements import ExpectationMP
from pennylane.tape import QuantumScript
from pennylane.wires import Wires
from qiskit import QuantumCircuit
from qiskit.circuit import Gate, ParameterVector
from qiskit.circuit import library as lib
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import PassManager

from qmtl.devices.refusal import DeviceRefusal

# One-angle Pauli rotations (up to a global phase for PhaseShift = e^{i phi/2} RZ(phi)): the
# gates whose angles the two-term parameter-shift rule differentiates (see shift.py).
ROTATIONS: dict[str, Callable[..., Gate]] = {
    "RX": lib.RXGate, "RY": lib.RYGate, "RZ": lib.RZGate, "PhaseShift": lib.PhaseGate,
}
FIXED_GATES: dict[str, Callable[[], Gate]] = {
    "PauliX": lib.XGate, "PauliY": lib.YGate, "PauliZ": lib.ZGate, "Hadamard": lib.HGate,
    "S": lib.SGate, "Adjoint(S)": lib.SdgGate, "T": lib.TGate, "Adjoint(T)": lib.TdgGate,
    "SX": lib.SXGate, "Adjoint(SX)": lib.SXdgGate, "CNOT": lib.CXGate, "CZ": lib.CZGate,
    "CY": lib.CYGate, "SWAP": lib.SwapGate, "Toffoli": lib.CCXGate,
}
# Operations without effect on expectation values; kept so decompositions may emit them.
NO_OPS = frozenset({"Identity", "GlobalPhase"})
SUPPORTED_OPERATIONS = frozenset(ROTATIONS) | frozenset(FIXED_GATES) | NO_OPS


def is_supported(op: qml.operation.Operator) -> bool:
    """Stopping condition for ``decompose``: the gate maps one-to-one onto a Qiskit gate."""
    return op.name in SUPPORTED_OPERATIONS


def pauli_sentence(mp: qml.measurements.MeasurementProcess) -> qml.pauli.PauliSentence:
    """The Pauli sum measured by ``mp``; only expectation values of Pauli words/sums qualify."""
    rep = mp.obs.pauli_rep if isinstance(mp, ExpectationMP) and mp.obs is not None else None
    if rep is None:
        raise DeviceRefusal(
            f"measurement {mp} is not supported on a Qiskit Estimator: only qml.expval of Pauli "
            "words or sums of them (e.g. qml.expval(qml.Z(0) @ qml.Z(1))) are supported")
    return rep


def structure_key(tape: QuantumScript) -> Hashable:
    """Operation names and wires plus observables: what fixes a compiled circuit."""
    ops = tuple((op.name, tuple(op.wires)) for op in tape.operations)
    observables = tuple(
        tuple((word, complex(coeff)) for word, coeff in pauli_sentence(mp).items())
        for mp in tape.measurements)
    return ops, observables


def angle_slots(tape: QuantumScript) -> np.ndarray:
    """For each operation parameter of ``tape`` (in tape order), its index in the angle
    vector, or -1 for parameters without effect (a global phase)."""
    slots, n_angles = [], 0
    for op in tape.operations:
        for _ in op.data:
            if op.name in ROTATIONS:
                slots.append(n_angles)
                n_angles += 1
            else:
                slots.append(-1)
    return np.asarray(slots, dtype=int)


def tape_angles(tape: QuantumScript) -> np.ndarray:
    """The angle vector: every rotation angle of ``tape`` in operation order."""
    return np.array([float(op.data[0]) for op in tape.operations if op.name in ROTATIONS],
                    dtype=float)


def to_sparse_pauli_op(sentence: qml.pauli.PauliSentence, index: dict, n_qubits: int
                       ) -> SparsePauliOp:
    """A PennyLane Pauli sum as a ``SparsePauliOp`` on qubits ``index[wire]``."""
    terms = [("".join(word.values()), [index[w] for w in word], complex(coeff))
             for word, coeff in sentence.items()]
    return SparsePauliOp.from_sparse_list(terms or [("", [], 0.0)], num_qubits=n_qubits)


@dataclass(frozen=True)
class CompiledCircuit:
    """One circuit structure compiled for one target.

    ``columns[j]`` is the angle-vector index bound to ``isa.parameters[j]`` (the transpiler may
    drop parameters it proves irrelevant); ``observables`` already follow the ISA layout.
    """

    circuit: QuantumCircuit
    isa: QuantumCircuit
    observables: tuple[SparsePauliOp, ...]
    columns: np.ndarray


def compile_tape(tape: QuantumScript, wires: Wires, pass_manager: PassManager
                 ) -> CompiledCircuit:
    """Build the parametrised circuit of ``tape``'s structure and transpile it once."""
    index = {w: i for i, w in enumerate(wires)}
    n_angles = int(sum(op.name in ROTATIONS for op in tape.operations))
    theta = ParameterVector("theta", n_angles)
    circuit = QuantumCircuit(len(wires))
    angle = 0
    for op in tape.operations:
        qubits = [index[w] for w in op.wires]
        if op.name in ROTATIONS:
            circuit.append(ROTATIONS[op.name](theta[angle]), qubits)
            angle += 1
        elif op.name in FIXED_GATES:
            circuit.append(FIXED_GATES[op.name](), qubits)
    isa = pass_manager.run(circuit)
    observables = tuple(
        to_sparse_pauli_op(pauli_sentence(mp), index, len(wires))
        .apply_layout(isa.layout, num_qubits=None if isa.layout else isa.num_qubits)
        for mp in tape.measurements)
    position = {p: i for i, p in enumerate(theta)}
    columns = np.array([position[p] for p in isa.parameters], dtype=int)
    return CompiledCircuit(circuit, isa, observables, columns)

