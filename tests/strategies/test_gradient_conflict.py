"""task_gradient_cosines: identical gradients give 1, opposite ones -1."""

from __future__ import annotations

import torch
from strategy_toys import linear_losses, make_tiny_hybrid

from qmtl.strategies import task_gradient_cosines


def test_identical_and_opposite_gradients() -> None:
    g = torch.tensor([1.0, -2.0, 0.5])
    orthogonal = torch.tensor([2.0, 1.0, 0.0])
    theta, losses = linear_losses(torch.stack([g, 3 * g, -g, orthogonal]))
    cosines = task_gradient_cosines(losses, [theta])
    expected = torch.tensor(
        [[1.0, 1.0, -1.0, 0.0], [1.0, 1.0, -1.0, 0.0], [-1.0, -1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    )
    torch.testing.assert_close(cosines, expected)
    assert theta.grad is None  # a diagnostic: it must not touch the gradients


def test_runs_through_a_parameter_shift_qnode_and_keeps_the_graph() -> None:
    model = make_tiny_hybrid("parameter-shift")
    losses = model.losses()
    cosines = task_gradient_cosines(losses, model.shared)
    assert cosines.shape == (3, 3)
    torch.testing.assert_close(cosines, cosines.T)
    torch.testing.assert_close(torch.diagonal(cosines), torch.ones(3))
    losses.sum().backward()  # graph still usable by the training step
