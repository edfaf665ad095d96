"""Single-task baseline: one independent model per task, trained in one run.

The standard multi-task-learning control (Caruana, "Multitask Learning", Machine Learning
28, 41 (1997), compares every MTL net with one single-task net per task): task *t* gets the
encoder, circuit (``model.n_qubits`` qubits, ``model.ansatz.layers`` layers) and readout
that it sees in the hard-sharing model, but shares none of them, so
:math:`\\min \\sum_t L_t(\\theta_t)` splits into independent problems.  With ``equal``
weighting (gradient of the sum) the run IS independent single-task training; Adam's
per-parameter steps do not couple the tasks either.  No options.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml

from qmtl.architectures.independent import IndependentTasksModel, independent_parts
from qmtl.architectures.options import ArchitectureOptions, parse_options
from qmtl.config import RunConfig

NAME = "single_task"


class SingleTaskOptions(ArchitectureOptions):
    """``single_task`` takes no options: each task's model has the hard-sharing model's layout."""


def build_single_task(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> IndependentTasksModel:
    parse_options(NAME, SingleTaskOptions, config.model.options)
    return IndependentTasksModel(*independent_parts(config, input_dims, device, diff_method))
