"""Labels from a random teacher circuit whose tasks share a tunable part of the circuit.

A student-teacher benchmark with task relatedness as a knob.  The teacher, with seeded
fixed weights (``options.seed``, independent of the run seed), maps features to labels:

1. ``x ~ N(0, I_f)`` (``f = n_features``); angles ``theta = pi * tanh(x A)`` with a fixed
   ``A ~ N(0, 1/f)`` of shape ``(f, n)`` — exactly the form of qmtl's encoder with
   ``encoder.hidden: []`` (``scale * tanh`` of an affine map; the train-split
   standardisation of x is affine and absorbed by it);
2. ``R_Y(theta_w)`` on every wire ``w`` of ``n = n_qubits`` wires, then the first
   ``s = round(shared_fraction * layers)`` layers of the ansatz with weights common to all
   tasks: the shared state ``|psi_s(x)>``;
3. per task ``t``, its own continuation ``U_t``: ansatz layers ``s .. layers-1`` with
   weights ``b_l + delta_{t,l}``, a base layer ``b_l`` (uniform in [0, 2 pi), as the
   shared layers) plus a task's own perturbation ``delta_{t,l} ~ N(0, spread^2)``;
4. ``v_t(x) = <psi_s(x)| U_t^dag Z_0 U_t |psi_s(x)>`` in [-1, 1]; the label is
   ``v_t > 0`` (``kind: binary``) or ``v_t`` plus ``N(0, noise^2)`` (``kind: regression``).

``shared_fraction = 1`` gives every task the same circuit, hence identical labels; lower
fractions leave more layers task-specific and the tasks agree less.  Why perturbed copies
and not fresh random layers: one fresh uniformly random layer already scrambles ``Z_0``
(the tasks' Heisenberg observables become nearly orthogonal), so relatedness would be
all-or-nothing — measured: mean pairwise target correlation 1.0 at fraction 1 and about
0 at every lower fraction.  With ``spread = 0.3`` (the default; 3 qubits, 4 layers,
4 tasks, 5 seeds) it falls gradually: about 1.0, 0.83, 0.6, 0.4 and 0.3 at fractions 1,
0.75, 0.5, 0.25 and 0.  A large ``spread`` recovers independent random layers.

Representability: ``U_t^dag Z_0 U_t`` is a linear combination of n-qubit Pauli words,
so ``v_t`` is an affine function of Pauli expectation values on the shared state.  A qmtl
model with the same ansatz, ``layers >= s`` shared layers, ``encoding.rotation: Y``,
``encoder.hidden: []`` and an affine head over all ``4^n - 1`` Pauli words can represent
every task exactly (extra layers are harmless: their CNOT rings are Clifford and map Pauli
words to Pauli words).  Fewer observables give an approximation.

Tasks: ``t0``, ``t1``, ...  Options: ``tasks`` (default 2), ``shared_fraction``
(default 0.5), ``kind`` (binary | regression), ``n_qubits`` (3), ``layers`` (4),
``spread`` (0.3), ``ansatz`` (strongly_entangling), ``n_features`` (6), ``n_samples``
(1000), ``noise`` (regression only, default 0) and ``seed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pennylane as qml
from pydantic import Field

from qmtl.ansatz import Ansatz, AnsatzName, get_ansatz
from qmtl.data.base import RawData
from qmtl.data.options import DataOptions, parse_data_options

NAME = "quantum-teacher"


class QuantumTeacherOptions(DataOptions):
    """Options of ``quantum-teacher``."""

    tasks: int = Field(2, ge=1, description="tasks t0, t1, ...")
    shared_fraction: float = Field(0.5, ge=0, le=1, description="share of the teacher's layers common to all tasks "
                                                                "(1: identical labels)")
    kind: Literal["binary", "regression"] = Field("binary", description="labels: the sign of <Z0>, or <Z0> plus noise")
    n_qubits: int = Field(3, ge=1, le=12, description="wires of the teacher circuit")
    layers: int = Field(4, ge=1, description="ansatz layers of the teacher circuit")
    ansatz: AnsatzName = Field("strongly_entangling", description="ansatz of the teacher circuit")
    spread: float = Field(0.3, ge=0, description="standard deviation of each task's perturbation of the "
                                                 "task-specific layers")
    n_features: int = Field(6, ge=1, description="input width")
    n_samples: int = Field(1000, ge=10, description="examples")
    noise: float = Field(0.0, ge=0, description="standard deviation of the regression label noise")
    seed: int = Field(0, ge=0, description="teacher seed, independent of the run seed")


def teacher_values(angles: np.ndarray, ansatz: Ansatz, shared: np.ndarray, own: list[np.ndarray]) -> np.ndarray:
    """``(n_samples, tasks)`` values ``<Z_0>`` of each task's continuation of the shared circuit."""
    n_qubits = angles.shape[1]
    wires = list(range(n_qubits))
    device = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(device)
    def circuit(x: np.ndarray, layers: np.ndarray):
        for wire in wires:
            qml.RY(x[:, wire], wires=wire)
        for layer, weights in enumerate(layers):
            ansatz.apply_layer(weights, wires, layer)
        return qml.expval(qml.PauliZ(0))

    return np.stack([np.asarray(circuit(angles, np.concatenate([shared, task]))) for task in own], axis=1)


def load_quantum_teacher(given: Mapping[str, Any]) -> RawData:
    options = parse_data_options(NAME, QuantumTeacherOptions, given)
    k, fraction, kind = options.tasks, options.shared_fraction, options.kind
    n_qubits, layers, ansatz = options.n_qubits, options.layers, get_ansatz(options.ansatz)
    f, n, noise, spread = options.n_features, options.n_samples, options.noise, options.spread
    rng = np.random.default_rng(options.seed)
    n_shared = round(fraction * layers)
    shape = ansatz.shape(layers, n_qubits)
    base = rng.uniform(0, 2 * np.pi, shape)
    own = [base[n_shared:] + spread * rng.standard_normal(base[n_shared:].shape) for _ in range(k)]
    projection = rng.standard_normal((f, n_qubits)) / np.sqrt(f)
    x = rng.standard_normal((n, f))
    values = teacher_values(np.pi * np.tanh(x @ projection), ansatz, base[:n_shared], own)
    targets: dict[str, np.ndarray]
    if kind == "binary":
        targets = {f"t{t}": (values[:, t] > 0).astype(np.int64) for t in range(k)}
    else:
        targets = {f"t{t}": values[:, t] + noise * rng.standard_normal(n) for t in range(k)}
    return RawData(x, targets, [f"x{i}" for i in range(f)], f"data set '{NAME}'")
