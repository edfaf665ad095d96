"""Loss weightings that minimise a torchjd scalarizer of the loss vector.

A :class:`torchjd.scalarization.Scalarizer` maps the vector of task losses :math:`L` to one
scalar :math:`S(L)`; backpropagating it gives :math:`\\sum_i w_i \\nabla L_i` with
:math:`w_i = \\partial S / \\partial L_i` (chain rule).  :class:`ScalarizedWeighting` runs that
backward pass and returns :math:`w` (what the trainer records per epoch), so a weighting whose
weights are not explicit (a smooth maximum, a geometric mean, a penalty) still reports the
weights it effectively applied at this step.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torchjd.scalarization import Scalarizer

from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.options import NoOptions, StrategyOptions, validate_options


class ScalarizedWeighting(MultiTaskStrategy):
    """A weighting defined by ``scale * scalarizer(losses)``; subclasses build the scalarizer."""

    #: The config name (``training.weighting``).
    name: ClassVar[str]
    #: The paper the method implements, with venue, year and a link.
    paper: ClassVar[str]
    Options: ClassVar[type[StrategyOptions]] = NoOptions

    def __init__(self, n_tasks: int, options: Mapping[str, Any] | None = None, *, seed: int = 0) -> None:
        super().__init__(n_tasks)
        self.options = validate_options(self.name, self.Options, options)
        self.scalarizer = self._build(self.options)

    @abstractmethod
    def _build(self, options: Any) -> Scalarizer:
        """The torchjd scalarizer for these validated options."""

    def objective(self, losses: torch.Tensor) -> torch.Tensor:
        """The scalar that is backpropagated."""
        return self.scalarizer(losses)

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        objective = self.objective(losses)
        # w = dS/dL on the scalarizer's part of the graph only (cheap), before the full backward.
        (weights,) = torch.autograd.grad(objective, losses, retain_graph=True)
        objective.backward()
        return weights.detach()

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.scalarizer.parameters())

    def state_dict(self) -> dict[str, Any]:
        return {"scalarizer": {k: v.detach().clone() for k, v in self.scalarizer.state_dict().items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # In place, so an optimizer already holding the parameters keeps training them.
        with torch.no_grad():
            self.scalarizer.load_state_dict(state.get("scalarizer", {}))
