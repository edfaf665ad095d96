"""Build any registered architecture from a raw config on ``default.qubit``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pennylane as qml
import pytest
import torch

from qmtl.architectures import ARCHITECTURES
from qmtl.config import validate_config
from qmtl.model import MultiTaskModel

FEATURES = 64


@pytest.fixture
def make_model(tiny_config: dict[str, Any]) -> Callable[..., MultiTaskModel]:
    """``make_model(architecture, options=None, seed=0, raw=None, **builder_kwargs)``."""

    def make(architecture: str, options: dict[str, Any] | None = None, seed: int = 0,
             raw: dict[str, Any] | None = None, **kwargs: Any) -> MultiTaskModel:
        raw = copy.deepcopy(raw or tiny_config)
        raw["model"]["architecture"] = architecture
        raw["model"]["options"] = options or {}
        config = validate_config(raw)
        device = qml.device("default.qubit", wires=config.model.n_qubits)
        torch.manual_seed(seed)
        return ARCHITECTURES[architecture](config, FEATURES, device, "backprop", **kwargs)

    return make
