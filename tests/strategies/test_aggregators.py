"""The defining properties of PCGrad, UPGrad and MGDA, checked through AggregatorStrategy."""

from __future__ import annotations

import torch
from strategy_toys import linear_losses

from qmtl.strategies import build_strategy


def _aggregate(name: str, gradients: torch.Tensor, options: dict | None = None) -> torch.Tensor:
    theta, losses = linear_losses(gradients)
    strategy = build_strategy(aggregator=name, n_tasks=len(gradients), options=options)
    strategy.backward(losses, [theta], [[] for _ in gradients])
    return theta.grad


CONFLICTING = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])  # cosine < 0


def test_pcgrad_projects_away_conflicts() -> None:
    g1, g2 = CONFLICTING
    update = _aggregate("pcgrad", CONFLICTING)
    # Yu et al. 2020 for two tasks: each gradient loses its component along the other.
    expected = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g1 @ g2) / (g1 @ g1) * g1)
    torch.testing.assert_close(update, expected)
    assert torch.all(CONFLICTING @ update >= 0)


def test_upgrad_update_conflicts_with_no_task() -> None:
    generator = torch.Generator().manual_seed(0)
    gradients = torch.randn(5, 8, generator=generator)
    gradients[1] = -gradients[0] + 0.1 * gradients[1]  # force a strong conflict
    update = _aggregate("upgrad", gradients)
    assert torch.all(gradients @ update >= -1e-4)
    assert update.norm() > 0


def test_mgda_is_the_min_norm_point_of_the_convex_hull() -> None:
    g1, g2 = CONFLICTING
    gamma = ((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2))).clamp(0, 1)
    update = _aggregate("mgda", CONFLICTING, {"epsilon": 1e-7, "max_iters": 10_000})
    torch.testing.assert_close(update, gamma * g1 + (1 - gamma) * g2, rtol=1e-4, atol=1e-5)


def test_task_parameters_get_their_own_task_gradient() -> None:
    shared = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    heads = [torch.nn.Parameter(torch.tensor(2.0)), torch.nn.Parameter(torch.tensor(3.0))]
    losses = torch.stack([heads[0] * shared.sum(), -heads[1] * shared[0]])
    build_strategy(aggregator="upgrad", n_tasks=2).backward(losses, [shared], [[h] for h in heads])
    torch.testing.assert_close(heads[0].grad, torch.tensor(3.0))
    torch.testing.assert_close(heads[1].grad, torch.tensor(-1.0))


def test_random_aggregators_are_seeded() -> None:
    def run(seed: int) -> torch.Tensor:
        theta, losses = linear_losses(CONFLICTING)
        strategy = build_strategy(aggregator="random", n_tasks=2, seed=seed)
        strategy.backward(losses, [theta], [[], []])
        return theta.grad

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))
