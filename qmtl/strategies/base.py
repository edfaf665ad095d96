"""The interface every multi-task strategy implements, and the loss-weighting base class.

A strategy replaces ``loss.backward()`` in the training step.  It receives the vector of
per-task losses and the parameters split into the shared part (encoders and variational
circuit) and one list per task (that task's measurement head), and fills ``.grad`` of all of
them.  Nothing is read from the model behind the strategy's back: what a method needs is
passed explicitly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import torch


class MultiTaskStrategy(ABC):
    """How the per-task losses of one mini-batch become gradients.

    Training-loop protocol (in this order, every step)::

        weights = strategy.backward(losses, shared, per_task)   # fills .grad
        optimizer.step()
        if strategy.wants_losses_after_step:                     # FAMO only
            strategy.after_step(losses_of_same_batch_recomputed)  # under torch.no_grad()
        ...
        strategy.end_epoch(mean_train_losses)                    # once per epoch
    """

    #: True when :meth:`after_step` should receive the losses of the *same* mini-batch
    #: recomputed after ``optimizer.step()`` (costs one extra forward pass).
    wants_losses_after_step: ClassVar[bool] = False

    def __init__(self, n_tasks: int) -> None:
        self.n_tasks = n_tasks

    @abstractmethod
    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor | None:
        """Accumulate gradients into every parameter's ``.grad`` (like ``loss.backward()``).

        ``losses`` has shape ``(n_tasks,)``.  Returns the detached task weights actually used,
        shape ``(n_tasks,)``, for logging, or None for a method whose update is not a weighted
        sum of the task gradients (e.g. the GradDrop aggregator): it has no weights to log.
        """

    def after_step(self, losses_after_step: torch.Tensor) -> None:
        """Receive the losses of the last mini-batch recomputed after the optimizer step."""

    def end_epoch(self, mean_train_losses: torch.Tensor) -> None:
        """Receive the epoch's mean training loss per task, shape ``(n_tasks,)``."""

    def parameters(self) -> list[torch.nn.Parameter]:
        """Trainable strategy parameters the trainer must add to its optimizer."""
        return []

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (tensors and plain Python values only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if state:
            raise ValueError(f"{type(self).__name__} has no state; got keys {sorted(state)}")

    def _check_losses(self, losses: torch.Tensor) -> None:
        if losses.shape != (self.n_tasks,):
            raise ValueError(
                f"losses must have shape ({self.n_tasks},), got {tuple(losses.shape)}"
            )


class LossWeighting(MultiTaskStrategy):
    """A strategy that minimises :math:`\\sum_i w_i L_i` with weights :math:`w` treated as
    constants in the backward pass; subclasses only say how :math:`w` is chosen."""

    @abstractmethod
    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        """The detached weights for this step, shape ``(n_tasks,)``."""

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        weights = self.weights(losses.detach())
        (weights.to(losses.dtype) * losses).sum().backward()
        return weights
