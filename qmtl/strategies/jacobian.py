"""Per-task gradients on the shared parameters, computed without ``torch.vmap``.

torchjd differentiates several losses at once with ``torch.vmap`` (batched gradients) unless
``parallel_chunk_size=1``.  PennyLane's torch interface with ``diff_method="parameter-shift"``
(and qmtl's custom autograd function for the Qiskit device) converts tensors to NumPy inside
``backward``, which vmap cannot trace ("Cannot access data pointer of Tensor that doesn't have
storage").  Differentiating one loss at a time costs one reverse pass per task, which is what
parameter-shift costs anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchjd.autojac import jac


def task_jacobians(
    losses: torch.Tensor, shared_parameters: Sequence[torch.nn.Parameter]
) -> tuple[torch.Tensor, ...]:
    """:math:`\\partial L_i / \\partial \\theta` for each shared parameter :math:`\\theta`,
    shape ``(n_tasks, *theta.shape)``; zeros where a loss does not depend on it.

    The autograd graph is retained so the caller can still backpropagate the losses.
    """
    return jac(losses, list(shared_parameters), retain_graph=True, parallel_chunk_size=1)


def flat_jacobian(jacobians: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-parameter Jacobians into one ``(n_tasks, n_shared_scalars)`` matrix."""
    return torch.cat([j.reshape(j.shape[0], -1) for j in jacobians], dim=1)
