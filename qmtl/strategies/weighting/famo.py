"""FAMO: Fast Adaptive Multitask Optimization.

Liu, Liu, Jin, Stone, Liu, "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023
(https://arxiv.org/abs/2306.03792); torchjd's ``FAMO`` scalarizer.
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
part of the method as published.  torchjd's scalarizer only produces the objective and has
no clip, so qmtl applies it after the backward pass.  Option ``max_grad_norm`` (default 1.0,
as the official code; 0 turns clipping off) sets it; task-specific parameters are not clipped.

Weight decay: option ``gamma`` is torchjd's ``weight_decay`` on the logits; qmtl keeps its
default 0.01 (torchjd defaults to 1e-3 as the paper's Algorithm 2; the official code 1e-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from pydantic import Field
from torchjd.scalarization import FAMO, Scalarizer

from qmtl.strategies.options import StrategyOptions
from qmtl.strategies.weighting.scalarized import ScalarizedWeighting


class FAMOOptions(StrategyOptions):
    lr: float = Field(default=0.025, gt=0, description="Adam learning rate of the logits (the paper's 0.025)")
    gamma: float = Field(default=0.01, ge=0, description="Adam weight decay of the logits")
    max_grad_norm: float = Field(default=1.0, ge=0, description="clip the shared gradient to this norm; 0 = off")


class FAMOWeighting(ScalarizedWeighting):
    """Loss weights from softmax logits updated on the change of the log losses."""

    name = "famo"
    paper = ("Liu, Liu, Jin, Stone, Liu, FAMO: Fast Adaptive Multitask Optimization, NeurIPS 2023, "
             "https://arxiv.org/abs/2306.03792")
    Options = FAMOOptions
    wants_losses_after_step: ClassVar[bool] = True
    scalarizer: FAMO

    def _build(self, options: FAMOOptions) -> Scalarizer:
        self._update_pending = False  # backward ran and after_step has not
        return FAMO(self.n_tasks, lr=options.lr, weight_decay=options.gamma)

    def parameters(self) -> list[torch.nn.Parameter]:
        return []  # the logits have FAMO's own Adam: the trainer must not step them

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        if self._update_pending:  # no after_step: this batch's losses stand in for L(θ_{t+1})
            self.scalarizer.update(losses.detach())
        weights = super().backward(losses, shared_parameters, task_parameters)
        self._update_pending = True
        if self.options.max_grad_norm > 0 and shared_parameters:
            torch.nn.utils.clip_grad_norm_(shared_parameters, self.options.max_grad_norm)
        return weights

    def after_step(self, losses_after_step: torch.Tensor) -> None:
        self._check_losses(losses_after_step)
        if not self._update_pending:
            raise RuntimeError("FAMO.after_step called before backward")
        self.scalarizer.update(losses_after_step.detach())
        self._update_pending = False

    # torchjd's FAMO creates its Adam lazily and keeps it and the last losses outside
    # nn.Module.state_dict; both are needed to resume exactly.
    def state_dict(self) -> dict[str, Any]:
        famo = self.scalarizer
        return {
            "logits": famo._w.detach().clone(),
            "optimizer": None if famo._optimizer is None else famo._optimizer.state_dict(),
            "losses_before_step": famo._prev_losses,
            "update_pending": self._update_pending,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        famo = self.scalarizer
        with torch.no_grad():
            famo._w.copy_(state["logits"])
        if state["optimizer"] is not None:
            famo._optimizer = torch.optim.Adam([famo._w], lr=famo.lr, weight_decay=famo.weight_decay)
            famo._optimizer.load_state_dict(state["optimizer"])
        famo._prev_losses = state["losses_before_step"]
        self._update_pending = state["update_pending"]
