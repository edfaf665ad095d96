"""Shared fixtures: small configs that train in seconds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tiny_configs import TINY


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
