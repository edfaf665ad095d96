"""Gradient-conflict diagnostic: pairwise cosine similarity of task gradients.

Two tasks conflict on the shared parameters :math:`\\theta` when their gradients
:math:`g_i = \\nabla_\\theta L_i` point in opposing directions, :math:`\\cos(g_i, g_j) < 0`
(Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020).  The trainer logs the
matrix once per epoch on one batch; it costs one reverse pass per task.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from qmtl.strategies.jacobian import flat_jacobian, task_jacobians


def task_gradient_cosines(
    losses: torch.Tensor, shared_parameters: Sequence[torch.nn.Parameter]
) -> torch.Tensor:
    """The ``(n_tasks, n_tasks)`` matrix :math:`C_{ij} = g_i^\\top g_j / (\\|g_i\\|\\|g_j\\|)`.

    A task whose gradient is zero has cosine 0 with every task (itself included).  The graph
    of ``losses`` is retained and no ``.grad`` is touched, so the call can sit anywhere in a
    training step.
    """
    gradients = flat_jacobian(task_jacobians(losses, shared_parameters)).detach()
    unit = torch.nn.functional.normalize(gradients, dim=1)
    return unit @ unit.T
