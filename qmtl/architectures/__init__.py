"""Multi-task architectures, registered by the name ``model.architecture`` takes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pennylane as qml

from qmtl.architectures.ansatz_heads import AnsatzHeadsOptions, build_ansatz_heads
from qmtl.architectures.basis_heads import BasisHeadsOptions, build_basis_heads
from qmtl.architectures.cgc import CGCOptions, build_cgc
from qmtl.architectures.classical import ClassicalOptions, build_classical
from qmtl.architectures.cross_stitch import CrossStitchOptions, build_cross_stitch
from qmtl.architectures.dselect_k import DSelectKOptions, build_dselect_k
from qmtl.architectures.hard_sharing import HardSharingOptions, build_hard_sharing
from qmtl.architectures.options import ArchitectureOptions
from qmtl.architectures.ple import PLEOptions, build_ple
from qmtl.architectures.qmoe import QMoEOptions, build_qmoe
from qmtl.architectures.single_task import SingleTaskOptions, build_single_task
from qmtl.architectures.soft_sharing import SoftSharingOptions, build_soft_sharing
from qmtl.architectures.task_attention import TaskAttentionOptions, build_task_attention
from qmtl.config import RunConfig
from qmtl.errors import unknown_name
from qmtl.model import MultiTaskModel

ArchitectureBuilder = Callable[
    [RunConfig, "int | Mapping[str, int]", qml.devices.Device, str], MultiTaskModel
]

ARCHITECTURES: dict[str, ArchitectureBuilder] = {
    "hard_sharing": build_hard_sharing,
    "ansatz_heads": build_ansatz_heads,
    "basis_heads": build_basis_heads,
    "qmoe": build_qmoe,
    "cgc": build_cgc,
    "ple": build_ple,
    "dselect_k": build_dselect_k,
    "soft_sharing": build_soft_sharing,
    "single_task": build_single_task,
    "classical": build_classical,
    "cross_stitch": build_cross_stitch,
    "task_attention": build_task_attention,
}

#: Each architecture's option model (``model.options``), by the same names as ARCHITECTURES.
ARCHITECTURE_OPTIONS: dict[str, type[ArchitectureOptions]] = {
    "hard_sharing": HardSharingOptions,
    "ansatz_heads": AnsatzHeadsOptions,
    "basis_heads": BasisHeadsOptions,
    "qmoe": QMoEOptions,
    "cgc": CGCOptions,
    "ple": PLEOptions,
    "dselect_k": DSelectKOptions,
    "cross_stitch": CrossStitchOptions,
    "task_attention": TaskAttentionOptions,
    "soft_sharing": SoftSharingOptions,
    "single_task": SingleTaskOptions,
    "classical": ClassicalOptions,
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
