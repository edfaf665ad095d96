"""FAMO: Fast Adaptive Multitask Optimization.

Liu, Liu, Jin, Stone, Liu, "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023.
FAMO keeps logits :math:`\\xi \\in \\mathbb R^K`, :math:`z = \\operatorname{softmax}(\\xi)`, and
descends along the :math:`z`-weighted gradient of the *log* losses, normalised:

.. math::

    d = \\sum_i w_i \\nabla L_i, \\qquad
    w_i = \\frac{z_i / L_i}{\\sum_j z_j / L_j} \\quad (\\textstyle\\sum_i w_i = 1).

After the step, with :math:`\\delta_i = \\log L_i(\\theta_t) - \\log L_i(\\theta_{t+1})` the
decrease of each log loss, the logits take one Adam step (learning rate ``lr``, weight decay
``gamma``) along :math:`\\nabla_\\xi\\, z(\\xi)^\\top \\delta`.  Tasks whose log loss fell the
most lose weight and the slowest gain it, so the log-loss decrease rates equalise.

The update needs :math:`L(\\theta_{t+1})`.  As in the authors' code, the exact version
recomputes the *same* mini-batch after ``optimizer.step()`` and passes it to
:meth:`FAMOWeighting.after_step` (``wants_losses_after_step`` is True).  If the trainer skips
that extra forward pass (expensive on quantum hardware), the update is applied at the next
:meth:`backward` with that batch's losses in place of :math:`L(\\theta_{t+1})`, a noisier
estimate of the same decrease.  Losses must be positive; :math:`10^{-8}` is added before the
logarithm as in the reference implementation.

Gradient clipping: the authors' code (``FAMO.backward`` in the FAMO repository's
``weight_methods.py``, default ``max_norm=1.0``) rescales the gradient of the *shared*
parameters to norm at most 1.0 after the backward pass
(``torch.nn.utils.clip_grad_norm_(shared_parameters, max_norm)``).  Because the weights sum to
1 and divide by the losses, FAMO's raw step can be large when a loss is small; the clip is
part of the method as published.  Option ``max_grad_norm`` (default 1.0, as the official
code; 0 turns clipping off) sets it; task-specific parameters are not clipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from qmtl.strategies.base import LossWeighting
from qmtl.strategies.options import non_negative_float, positive_float

_EPS = 1e-8


class FAMOWeighting(LossWeighting):
    """Loss weights from softmax logits updated on the change of the log losses."""

    wants_losses_after_step: ClassVar[bool] = True

    def __init__(self, n_tasks: int, *, lr: float = 0.025, gamma: float = 0.01,
                 max_grad_norm: float = 1.0) -> None:
        super().__init__(n_tasks)
        self.max_grad_norm = non_negative_float("famo", "max_grad_norm", max_grad_norm)
        self._logits = torch.zeros(n_tasks, requires_grad=True)
        self._optimizer = torch.optim.Adam(
            [self._logits],
            lr=positive_float("famo", "lr", lr),
            weight_decay=non_negative_float("famo", "gamma", gamma),
        )
        self._losses_before_step: torch.Tensor | None = None

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        weights = super().backward(losses, shared_parameters, task_parameters)
        if self.max_grad_norm > 0 and shared_parameters:
            torch.nn.utils.clip_grad_norm_(shared_parameters, self.max_grad_norm)
        return weights

    def weights(self, losses: torch.Tensor) -> torch.Tensor:
        if self._losses_before_step is not None:
            self._update(self._losses_before_step, losses)
        self._losses_before_step = losses.clone()
        z = torch.softmax(self._logits.detach(), dim=0)
        scaled = z / (losses.to(z.dtype) + _EPS)
        return scaled / scaled.sum()

    def after_step(self, losses_after_step: torch.Tensor) -> None:
        self._check_losses(losses_after_step)
        if self._losses_before_step is None:
            raise RuntimeError("FAMO.after_step called before backward")
        self._update(self._losses_before_step, losses_after_step.detach())
        self._losses_before_step = None

    def _update(self, losses_before: torch.Tensor, losses_after: torch.Tensor) -> None:
        decrease = torch.log(losses_before + _EPS) - torch.log(losses_after + _EPS)
        with torch.enable_grad():
            z = torch.softmax(self._logits, dim=0)
            (gradient,) = torch.autograd.grad(z, self._logits, grad_outputs=decrease.to(z.dtype))
        self._optimizer.zero_grad()
        self._logits.grad = gradient
        self._optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {
            "logits": self._logits.detach().clone(),
            "optimizer": self._optimizer.state_dict(),
            "losses_before_step": self._losses_before_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self._logits.copy_(state["logits"])
        self._optimizer.load_state_dict(state["optimizer"])
        self._losses_before_step = state["losses_before_step"]
