"""Multi-task architectures, registered by the name ``model.architecture`` takes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pennylane as qml

from qmtl.architectures.hard_sharing import build_hard_sharing
from qmtl.config import RunConfig
from qmtl.errors import unknown_name
from qmtl.model import MultiTaskModel

ArchitectureBuilder = Callable[
    [RunConfig, "int | Mapping[str, int]", qml.devices.Device, str], MultiTaskModel
]

ARCHITECTURES: dict[str, ArchitectureBuilder] = {
    "hard_sharing": build_hard_sharing,
}


def build_model(
    config: RunConfig,
    input_dims: int | Mapping[str, int],
    device: qml.devices.Device,
    diff_method: str,
) -> MultiTaskModel:
    """Instantiate the configured architecture (initialisation uses torch's global RNG)."""
    name = config.model.architecture
    if name not in ARCHITECTURES:
        raise unknown_name("architecture", name, ARCHITECTURES)
    return ARCHITECTURES[name](config, input_dims, device, diff_method)
