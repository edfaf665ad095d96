"""GradNorm (Chen et al. 2018) pulls the weighted task-gradient norms together."""

from __future__ import annotations

import torch

from qmtl.strategies import build_strategy
from qmtl.strategies.jacobian import flat_jacobian, task_jacobians


def _log_norm_spread(losses: torch.Tensor, theta: torch.Tensor, weights: torch.Tensor) -> float:
    """log(max_i G_i / min_i G_i) with G_i = w_i ||grad_theta L_i||."""
    norms = flat_jacobian(task_jacobians(losses, [theta])).norm(dim=1)
    weighted = weights * norms
    return float((weighted.max() / weighted.min()).log())


def test_weighted_gradient_norms_converge() -> None:
    # Two least-squares tasks on a shared parameter, one scaled by 100: the gradient norms
    # start two orders of magnitude apart (log-spread ~ 4.8).
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 8, 4, generator=generator), torch.randn(2, 8, generator=generator)
    scales = torch.tensor([100.0, 1.0])
    theta = torch.nn.Parameter(torch.zeros(4))

    def losses() -> torch.Tensor:
        return scales * ((a @ theta - b) ** 2).mean(1)

    strategy = build_strategy("gradnorm", n_tasks=2, options={"alpha": 1.5})
    optimizer = torch.optim.SGD([theta], lr=1e-3)
    initial = _log_norm_spread(losses(), theta, torch.ones(2))
    for _ in range(300):
        optimizer.zero_grad()
        weights = strategy.backward(losses(), [theta], [[], []])
        optimizer.step()
        torch.testing.assert_close(weights.sum(), torch.tensor(2.0))
    final = _log_norm_spread(losses(), theta, strategy.state_dict()["weights"])
    assert initial > 4.0
    assert final < 0.25 * initial
    assert weights[0] < weights[1]  # the large-gradient task is down-weighted


def test_first_step_uses_unit_weights_and_fills_the_weighted_gradient() -> None:
    theta = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    losses = torch.stack([10 * theta.pow(2).sum(), (theta * torch.tensor([1.0, 3.0])).sum()])
    strategy = build_strategy("gradnorm", n_tasks=2)
    weights = strategy.backward(losses, [theta], [[], []])
    torch.testing.assert_close(weights, torch.ones(2))
    torch.testing.assert_close(theta.grad, torch.tensor([20.0 + 1.0, -20.0 + 3.0]))


def test_initial_loss_is_the_first_batch_or_the_first_epoch_mean() -> None:
    """L(0) as the paper (the first batch) or as LibMTL (train_loss_buffer[:, 0], the first
    epoch's mean, with equal weights during that epoch)."""
    import pytest

    from qmtl.errors import UserError

    theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))

    def losses(scale: float) -> torch.Tensor:
        return scale * torch.stack([theta.pow(2).sum(), (3 * theta).abs().sum()])

    paper = build_strategy("gradnorm", n_tasks=2)
    paper.backward(losses(1.0), [theta], [[], []])
    torch.testing.assert_close(paper.state_dict()["initial_losses"], losses(1.0).detach())

    libmtl = build_strategy("gradnorm", n_tasks=2, options={"initial_loss": "first_epoch"})
    for scale in (1.0, 2.0):  # first epoch: no update, unit weights
        torch.testing.assert_close(libmtl.backward(losses(scale), [theta], [[], []]), torch.ones(2))
    assert libmtl.state_dict()["initial_losses"] is None
    epoch_mean = (losses(1.0) + losses(2.0)).detach() / 2
    libmtl.end_epoch(epoch_mean)
    torch.testing.assert_close(libmtl.state_dict()["initial_losses"], epoch_mean)
    libmtl.end_epoch(epoch_mean / 10)  # later epochs do not move L(0)
    torch.testing.assert_close(libmtl.state_dict()["initial_losses"], epoch_mean)
    libmtl.backward(losses(1.0), [theta], [[], []])
    assert not torch.equal(libmtl.state_dict()["weights"], torch.ones(2))  # now adapting
    with pytest.raises(UserError, match="gradnorm option 'initial_loss' is 'epoch'; choose one of first_batch, first_epoch"):
        build_strategy("gradnorm", n_tasks=2, options={"initial_loss": "epoch"})
