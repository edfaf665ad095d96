"""What every multi-task model exposes to training, evaluation and the strategies.

A model maps features to a dict of per-task outputs and splits its parameters into the
shared ones (encoder and shared circuit) and the task-specific ones (heads), so
weighting and gradient-aggregation methods receive exactly what they need.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

import torch
from torch import nn

from qmtl.encoders import Features


class MultiTaskModel(nn.Module, abc.ABC):
    """Base class: ``forward(features) -> {task: output}`` plus the parameter split."""

    task_names: list[str]

    @abc.abstractmethod
    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        """Per-task outputs (logits or regression values) for a batch."""

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss depends on."""
        task_ids = {id(p) for group in self.task_parameters() for p in group}
        return [p for p in self.parameters() if id(p) not in task_ids]

    @abc.abstractmethod
    def task_parameters(self) -> list[list[nn.Parameter]]:
        """Per task, in ``task_names`` order, the parameters only that task uses."""

    def regularization(self) -> torch.Tensor:
        """A penalty the trainer adds to the objective (alongside the task losses); 0 here."""
        return torch.zeros(())

    def parameter_counts(self) -> dict[str, int | dict[str, int]]:
        """Trainable parameter counts: shared, per head, and total."""
        heads = {
            name: sum(p.numel() for p in group)
            for name, group in zip(self.task_names, self.task_parameters())
        }
        shared = sum(p.numel() for p in self.shared_parameters())
        return {"shared": shared, "heads": heads, "total": shared + sum(heads.values())}


class Readout(nn.Module):
    """A task head over the circuit's expectation values: affine map or identity."""

    def __init__(self, n_inputs: int, n_outputs: int, affine: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs) if affine else None

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        return self.linear(values) if self.linear is not None else values


def split_by_task(values: torch.Tensor, columns: Mapping[str, list[int]]) -> dict[str, torch.Tensor]:
    """Pick each task's expectation-value columns out of one ``(batch, n_obs)`` tensor."""
    return {name: values[..., index] for name, index in columns.items()}
