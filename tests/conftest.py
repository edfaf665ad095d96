"""Shared fixtures: small configs that train in seconds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

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


@pytest.fixture
def tiny_config() -> dict[str, Any]:
    """A raw config dict: 300 digits, 4 qubits, 1 layer, 2 epochs."""
    return copy.deepcopy(TINY)


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a raw config dict to a YAML file and return its path."""

    def write(raw: dict[str, Any], name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw))
        return path

    return write
