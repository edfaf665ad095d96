"""Classical multi-task baseline with the quantum model's parameter budget.

Hard parameter sharing without a circuit (Caruana, "Multitask Learning", Machine Learning
28, 41 (1997)): the shared trunk is the configured encoder MLP (``model.encoder``) with a
``width``-wide ``tanh`` output layer, and task *t* has a linear head,
:math:`y_t = W_t \\tanh(\\mathrm{MLP}(x)) + b_t`.  With ``match_parameters: true`` (the
default) ``width`` is chosen so that the total parameter count is as close as possible to
that of the hard-sharing model the same config builds (the count is affine in ``width``),
and must land within 10% of it; otherwise give ``match_parameters: false`` and ``width``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pennylane as qml
import torch
from pydantic import Field
from torch import nn

from qmtl.architectures.hard_sharing import build_hard_sharing
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features, make_angle_encoder
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel

NAME = "classical"
TOLERANCE = 0.10


class ClassicalOptions(ArchitectureOptions):
    """Options of ``classical``: a matched parameter count (the default) or a given ``width``."""

    match_parameters: bool = Field(
        True, description="choose width so that the total parameter count is the hard-sharing model's (within 10%)")
    width: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="width of the shared tanh layer; needs match_parameters: false")


class ClassicalModel(MultiTaskModel):
    """Shared MLP trunk -> per-task linear heads."""

    def __init__(self, trunk: AngleEncoder, heads: dict[str, nn.Linear]) -> None:
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleDict(heads)
        self.task_names = list(heads)

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        hidden = self.trunk(features)
        return {name: self.heads[name](hidden) for name in self.task_names}

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [list(self.heads[name].parameters()) for name in self.task_names]


def _classical(config: RunConfig, input_dims: int | Mapping[str, int], width: int) -> ClassicalModel:
    encoder = config.model.encoder
    # scale 1: the trunk's output is a tanh layer, not rotation angles.
    trunk = make_angle_encoder(input_dims, width, encoder, scale=1.0)
    return ClassicalModel(trunk, {task.name: nn.Linear(width, task.output_size) for task in config.tasks})


def _total(model: MultiTaskModel) -> int:
    return sum(p.numel() for p in model.parameters())


def quantum_parameter_count(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> int:
    """Total parameters of the hard-sharing model this config would build."""
    model = config.model.model_copy(update={"architecture": "hard_sharing", "options": {}})
    hard = config.model_copy(update={"model": model})
    with torch.random.fork_rng(devices=[]):
        return _total(build_hard_sharing(hard, input_dims, device, diff_method))


def matched_width(config: RunConfig, input_dims: int | Mapping[str, int], target: int) -> int:
    """The trunk width whose total parameter count is nearest ``target`` (at least 1)."""
    with torch.random.fork_rng(devices=[]):
        one, two = (_total(_classical(config, input_dims, width)) for width in (1, 2))
    return max(1, round((target - one) / (two - one)) + 1)


def build_classical(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> ClassicalModel:
    options = parse_options(NAME, ClassicalOptions, config.model.options)
    if options.match_parameters is (options.width is not None):
        raise UserError(
            "architecture 'classical' takes either model.options.match_parameters: true (the "
            "default) or match_parameters: false with a width, e.g. width: 16"
        )
    if options.width is not None:
        return _classical(config, input_dims, options.width)
    target = quantum_parameter_count(config, input_dims, device, diff_method)
    model = _classical(config, input_dims, matched_width(config, input_dims, target))
    if abs(_total(model) - target) > TOLERANCE * target:
        raise UserError(
            f"the classical model cannot match the quantum model's {target} parameters within 10% "
            f"(nearest: {_total(model)}); shrink model.encoder.hidden or set "
            f"model.options: {{match_parameters: false, width: ...}}"
        )
    return model
