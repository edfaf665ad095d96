"""Toy problems whose task gradients on the shared parameters are known in closed form."""

from __future__ import annotations

import torch


def linear_losses(gradients: torch.Tensor) -> tuple[torch.nn.Parameter, torch.Tensor]:
    """A shared parameter theta and losses L_i = g_i . theta, so grad L_i = g_i exactly."""
    theta = torch.nn.Parameter(torch.zeros(gradients.shape[1]))
    return theta, gradients @ theta
