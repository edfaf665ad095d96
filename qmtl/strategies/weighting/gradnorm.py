"""GradNorm: balance the task gradient norms on the shared parameters.

Chen, Badrinarayanan, Lee, Rabinovich, "GradNorm: Gradient Normalization for Adaptive Loss
Balancing in Deep Multitask Networks", ICML 2018 (https://arxiv.org/abs/1711.02257).  With :math:`W` the shared parameters
(all of qmtl's shared parameters: encoders and circuit), weights :math:`w_i(t)`,

.. math::

    G_i = \\|\\nabla_W\\, w_i L_i\\| = w_i \\|\\nabla_W L_i\\|, \\quad
    \\bar G = \\tfrac1K \\sum_i G_i, \\quad
    r_i = \\frac{L_i(t)/L_i(0)}{\\tfrac1K\\sum_j L_j(t)/L_j(0)},

    L_{\\text{grad}} = \\sum_i \\big| G_i - \\bar G\\, r_i^{\\alpha} \\big|

The network is trained on :math:`\\sum_i w_i L_i`; the weights take one optimizer step on
:math:`L_{\\text{grad}}` with the target :math:`\\bar G r_i^\\alpha` held constant (as in the
paper), then are renormalised to :math:`\\sum_i w_i = K`.  Because the target is constant,
:math:`\\partial L_{\\text{grad}} / \\partial w_i = \\operatorname{sign}(G_i - \\bar G
r_i^\\alpha)\\,\\|\\nabla_W L_i\\|` needs no second-order derivative, so it works through
parameter-shift QNodes.

:math:`L_i(0)`, option ``initial_loss``:

* ``first_batch`` (default): the losses of the first mini-batch, the paper's "loss at
  :math:`t = 0`" (Chen et al., Sec. 3.2);
* ``first_epoch``: the mean training loss of the first epoch, as LibMTL's ``GradNorm`` (its
  ``train_loss_buffer[:, 0]``); as there, the first epoch trains with equal weights and the
  weights start to adapt in the second.  The mean arrives through :meth:`end_epoch`.

Options: ``alpha`` (asymmetry, default 1.5 as in LibMTL), ``lr`` (Adam learning rate of the
weights, default 0.025), ``initial_loss``.  The weights have their own optimizer: they are not returned by
:meth:`GradNormWeighting.parameters`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

import torch
from pydantic import Field

from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.jacobian import task_jacobians
from qmtl.strategies.options import StrategyOptions, validate_options

# Keeps every weight strictly positive if one Adam step overshoots below zero.
_MIN_WEIGHT = 1e-6


class GradNormOptions(StrategyOptions):
    alpha: float = Field(default=1.5, ge=0, description="asymmetry α (LibMTL's 1.5)")
    lr: float = Field(default=0.025, gt=0, description="Adam learning rate of the weights")
    initial_loss: Literal["first_batch", "first_epoch"] = Field(
        default="first_batch", description="L(0): the first mini-batch (the paper) or the first epoch's mean (LibMTL)")


class GradNormWeighting(MultiTaskStrategy):
    """Loss weights adapted every step so the weighted gradient norms follow the train rates.

    qmtl's own implementation: torchjd has no GradNorm.
    """

    name: ClassVar[str] = "gradnorm"
    paper: ClassVar[str] = ("Chen et al., GradNorm: Gradient Normalization for Adaptive Loss Balancing "
                            "in Deep Multitask Networks, ICML 2018, https://arxiv.org/abs/1711.02257")
    Options: ClassVar[type[StrategyOptions]] = GradNormOptions

    def __init__(self, n_tasks: int, options: Mapping[str, Any] | None = None, *, seed: int = 0) -> None:
        super().__init__(n_tasks)
        self.options = validate_options(self.name, self.Options, options)
        self.initial_loss = self.options.initial_loss
        self.alpha = self.options.alpha
        self._weights = torch.ones(n_tasks, requires_grad=True)
        self._optimizer = torch.optim.Adam([self._weights], lr=self.options.lr)
        self._initial_losses: torch.Tensor | None = None

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor:
        self._check_losses(losses)
        weights = self._weights.detach().clone()
        if self.initial_loss == "first_epoch" and self._initial_losses is None:
            (weights.to(losses.dtype) * losses).sum().backward()  # equal weights until L(0) exists
            return weights
        jacobians = task_jacobians(losses, shared_parameters)
        # Shared grads from the Jacobian already computed; task heads need their own pass.
        for parameter, jacobian in zip(shared_parameters, jacobians, strict=True):
            _accumulate(parameter, torch.tensordot(weights.to(jacobian.dtype), jacobian, dims=1))
        heads = [p for params in task_parameters for p in params]
        if heads:
            torch.autograd.backward((weights.to(losses.dtype) * losses).sum(), inputs=heads)
        self._update_weights(losses.detach(), jacobians)
        return weights

    def _update_weights(self, losses: torch.Tensor, jacobians: Sequence[torch.Tensor]) -> None:
        if self._initial_losses is None:
            self._initial_losses = losses.clone()
        squared = cast(torch.Tensor, sum(j.reshape(j.shape[0], -1).pow(2).sum(1) for j in jacobians))  # >= 1 jacobian
        norms = squared.sqrt().detach()
        norms = norms.to(self._weights.dtype)
        relative = (losses / self._initial_losses).to(self._weights.dtype)
        rates = relative / relative.mean()
        weighted_norms = self._weights.detach() * norms
        target = weighted_norms.mean() * rates.pow(self.alpha)
        self._optimizer.zero_grad()
        self._weights.grad = torch.sign(weighted_norms - target) * norms
        self._optimizer.step()
        with torch.no_grad():
            self._weights.clamp_(min=_MIN_WEIGHT)
            self._weights.mul_(self.n_tasks / self._weights.sum())

    def end_epoch(self, mean_train_losses: torch.Tensor) -> None:
        self._check_losses(mean_train_losses)
        if self.initial_loss == "first_epoch" and self._initial_losses is None:
            self._initial_losses = mean_train_losses.detach().clone()

    def state_dict(self) -> dict[str, Any]:
        return {
            "weights": self._weights.detach().clone(),
            "optimizer": self._optimizer.state_dict(),
            "initial_losses": self._initial_losses,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self._weights.copy_(state["weights"])
        self._optimizer.load_state_dict(state["optimizer"])
        self._initial_losses = state["initial_losses"]


def _accumulate(parameter: torch.nn.Parameter, gradient: torch.Tensor) -> None:
    """Add ``gradient`` to ``parameter.grad`` the way ``backward()`` would."""
    if parameter.grad is None:
        parameter.grad = gradient.detach().clone()
    else:
        parameter.grad.add_(gradient.detach())
