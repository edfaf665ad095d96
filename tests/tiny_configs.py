"""Small configs that train in seconds (shared by the test modules)."""

from __future__ import annotations

from typing import Any

TINY: dict[str, Any] = {
    "seed": 0,
    "data": {"name": "digits", "limit": 300},
    "tasks": [
        {"name": "digit", "kind": "multiclass", "classes": 10, "observables": ["Z0", "Z1", "Z2", "Z3"]},
        {"name": "parity", "kind": "binary", "observables": ["Z0", "Z1", "Z2", "Z3"]},
        {"name": "ge5", "kind": "binary", "observables": ["Z0 Z1", "Z2 Z3"]},
    ],
    "model": {"n_qubits": 4, "encoder": {"hidden": [16]}, "ansatz": {"layers": 1}},
    "training": {"epochs": 2, "batch_size": 64, "lr": 0.05, "conflict_diagnostic": True},
}

