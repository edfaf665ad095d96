"""equal is sum(losses); static is the user-weighted sum, gradients included."""

from __future__ import annotations

import torch
from strategy_toys import make_tiny_hybrid

from qmtl.strategies import build_strategy


def _reference_grads(weights: torch.Tensor) -> list[torch.Tensor]:
    model = make_tiny_hybrid("backprop")
    (weights * model.losses()).sum().backward()
    return [p.grad.clone() for p in model.all_parameters()]


def _strategy_grads(
    weighting: str, options: dict | None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model = make_tiny_hybrid("backprop")
    strategy = build_strategy(weighting, n_tasks=3, options=options)
    weights = strategy.backward(model.losses(), model.shared, model.per_task)
    return weights, [p.grad.clone() for p in model.all_parameters()]


def test_equal_matches_sum_of_losses() -> None:
    weights, grads = _strategy_grads("equal", None)
    torch.testing.assert_close(weights, torch.ones(3))
    for got, expected in zip(grads, _reference_grads(torch.ones(3)), strict=True):
        torch.testing.assert_close(got, expected)


def test_static_matches_weighted_sum() -> None:
    user = torch.tensor([1.0, 0.5, 2.0])
    weights, grads = _strategy_grads("static", {"weights": user.tolist()})
    torch.testing.assert_close(weights, user)
    for got, expected in zip(grads, _reference_grads(user), strict=True):
        torch.testing.assert_close(got, expected)


def test_backward_accumulates_like_loss_backward() -> None:
    model = make_tiny_hybrid("backprop")
    strategy = build_strategy("equal", n_tasks=3)
    strategy.backward(model.losses(), model.shared, model.per_task)
    once = [p.grad.clone() for p in model.all_parameters()]
    strategy.backward(model.losses(), model.shared, model.per_task)
    for p, g in zip(model.all_parameters(), once, strict=True):
        torch.testing.assert_close(p.grad, 2 * g)
