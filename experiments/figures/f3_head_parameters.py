"""F3: task-head parameters vs number of tasks, classical linear heads vs quantum heads.

The parameter-scaling analysis of Cowlessur, Thapa, Alpcan, Camtepe, *Parameter-efficient
Quantum Multi-task Learning* (2026), counted here from instantiated models: for
T = 1..16 binary tasks on an ``n``-qubit register (n = 4), each model is built with
``qmtl.architectures.build_model`` and its head parameters are
``sum(model.parameter_counts()["heads"].values())`` (effective trainable parameters: every
one can change an output) — nothing is computed by formula.

Models (the same 16-feature input, encoder ``hidden: [16]``):

* **quantum ansatz heads** (``ansatz_heads``, 1 ``hardware_efficient`` head layer): each
  task owns a one-layer ansatz block on all n wires plus an affine readout of its n
  ``<Z_i>`` values.  Only effective parameters count (:mod:`qmtl.lightcone`): the block's
  RZ angles are followed only by CNOTs and Z measurements, commute with them, and are
  not parameters, so a head has n RY angles.  The shared n-qubit state is the same for
  every T.
* **quantum hard sharing** (``hard_sharing``): each task owns only its affine readout.
* **classical, fixed width** (``classical``, ``width = n``): a shared tanh feature vector
  of n entries, one linear head per task.
* **classical, capacity-matched** (``classical``, ``width = n * T``): our construction of
  "capacity-matched classical linear heads".  The quantum heads each read their own n
  expectation values off a 2^n-dimensional shared state that does not grow with T; for
  the classical trunk to give every task as many features of its own (n) it must widen
  to n * T, and a linear head over that shared vector has n * T + 1 weights, so the heads
  total T (n T + 1): quadratic in T.  The quadratic growth is a consequence of this width
  rule, which is a modelling choice, not a measurement; the fixed-width line shows the
  linear alternative.

    python experiments/figures/f3_head_parameters.py [--quick] [--out DIR]
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pennylane as qml

from common import arguments, save
from qmtl.architectures import build_model
from qmtl.config import validate_config

NAME = "f3_head_parameters"
N_QUBITS, FEATURES = 4, 16
MODELS = {
    "quantum ansatz heads": lambda t: {"architecture": "ansatz_heads",
                                       "options": {"head_layers": 1, "head_ansatz": "hardware_efficient"}},
    "quantum hard sharing": lambda t: {"architecture": "hard_sharing"},
    "classical, fixed width n": lambda t: {"architecture": "classical",
                                           "options": {"match_parameters": False, "width": N_QUBITS}},
    "classical, capacity-matched width n*T": lambda t: {"architecture": "classical",
                                                        "options": {"match_parameters": False,
                                                                    "width": N_QUBITS * t}},
}


def counts(model: dict[str, Any], n_tasks: int) -> dict[str, int]:
    """Build the model for ``n_tasks`` binary tasks and count its shared and head parameters."""
    words = [f"Z{i}" for i in range(N_QUBITS)]
    config = validate_config({
        "data": {"name": "synthetic-correlated"},
        "tasks": [{"name": f"t{i}", "kind": "binary", "observables": words} for i in range(n_tasks)],
        "model": {"n_qubits": N_QUBITS, "encoder": {"hidden": [16]}, "ansatz": {"layers": 2}, **model},
    })
    built = build_model(config, FEATURES, qml.device("default.qubit", wires=N_QUBITS), "backprop")
    parameters = built.parameter_counts()
    return {"shared": parameters["shared"], "heads": sum(parameters["heads"].values())}


def main() -> None:
    args = arguments(__doc__, NAME)
    tasks = [1, 2, 4, 8] if args.quick else list(range(1, 17))
    rows = [{"model": label, "tasks": t, "n_qubits": N_QUBITS, **counts(make(t), t)}
            for label, make in MODELS.items() for t in tasks]
    figure, axis = plt.subplots(figsize=(4.6, 3.4))
    for label, style in zip(MODELS, ("o-", "s-", "^--", "v--")):
        cells = [row for row in rows if row["model"] == label]
        axis.plot([c["tasks"] for c in cells], [c["heads"] for c in cells], style, markersize=4, label=label)
    axis.set_xlabel("number of tasks T")
    axis.set_ylabel("head parameters (all tasks)")
    axis.set_title(f"Head parameters vs tasks ({N_QUBITS} qubits, counted)")
    axis.legend()
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
