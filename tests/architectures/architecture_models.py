"""Build any registered architecture from a raw config on ``default.qubit``."""

from __future__ import annotations

import copy
from typing import Any

import pennylane as qml
import torch

from qmtl.architectures import ARCHITECTURES
from qmtl.config import validate_config
from qmtl.model import MultiTaskModel

FEATURES = 64


def build(raw: dict[str, Any], architecture: str, options: dict[str, Any] | None = None,
          seed: int = 0, **kwargs: Any) -> MultiTaskModel:
    """``architecture`` with ``options`` on ``raw``; builder keyword arguments pass through."""
    raw = copy.deepcopy(raw)
    raw["model"]["architecture"] = architecture
    raw["model"]["options"] = options or {}
    config = validate_config(raw)
    device = qml.device("default.qubit", wires=config.model.n_qubits)
    torch.manual_seed(seed)
    return ARCHITECTURES[architecture](config, FEATURES, device, "backprop", **kwargs)
