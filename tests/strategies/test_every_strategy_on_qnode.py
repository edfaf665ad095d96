"""Every registered strategy runs through a PennyLane QNode and resumes from its state_dict."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from strategy_toys import TinyHybrid, make_tiny_hybrid

from qmtl.strategies import AGGREGATORS, WEIGHTINGS, MultiTaskStrategy, build_strategy

OPTIONS: dict[str, dict[str, Any]] = {"static": {"weights": [1.0, 0.5, 2.0]}}
# Their running statistics live in torchjd objects without a state API (documented caveat).
RESTART_ON_RESUME = {"gradvac", "nash_mtl", "pcd", "excess_mtl", "cr_mogm"}
#: Aggregators whose update is not a weighted sum of the task gradients: they report no weights.
UNWEIGHTED = {"graddrop", "config", "trimmed_mean"}

CASES = [("weighting", name) for name in WEIGHTINGS] + [("aggregator", n) for n in AGGREGATORS]


def _build(kind: str, name: str) -> MultiTaskStrategy:
    if kind == "weighting":
        return build_strategy(name, n_tasks=3, options=OPTIONS.get(name), seed=3)
    return build_strategy(aggregator=name, n_tasks=3, seed=3)


def _step(strategy: MultiTaskStrategy, model: TinyHybrid) -> torch.Tensor:
    for p in [*model.all_parameters(), *strategy.parameters()]:
        p.grad = None
    weights = strategy.backward(model.losses(), model.shared, model.per_task)
    if strategy.wants_losses_after_step:
        with torch.no_grad():
            strategy.after_step(model.losses())
    strategy.end_epoch(torch.rand(3) + 0.5)
    return weights


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[n for _, n in CASES])
def test_backward_fills_every_grad(kind: str, name: str, tiny_hybrid: TinyHybrid) -> None:
    strategy = _build(kind, name)
    weights = _step(strategy, tiny_hybrid)
    if name in UNWEIGHTED:
        assert weights is None
    else:
        assert weights.shape == (3,)
        assert not weights.requires_grad
    for p in [*tiny_hybrid.all_parameters(), *strategy.parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all()
    assert any(p.grad.abs().sum() > 0 for p in tiny_hybrid.shared)
    assert all(p.grad.abs().sum() > 0 for p in tiny_hybrid.heads)


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[n for _, n in CASES])
def test_state_dict_round_trip(kind: str, name: str) -> None:
    original = _build(kind, name)
    for _ in range(3):
        _step(original, make_tiny_hybrid("backprop"))
    resumed = _build(kind, name)
    resumed.load_state_dict(original.state_dict())
    model_a, model_b = make_tiny_hybrid("backprop", seed=1), make_tiny_hybrid("backprop", seed=1)
    weights_a, weights_b = _step(original, model_a), _step(resumed, model_b)
    if name in RESTART_ON_RESUME:
        return
    if name not in UNWEIGHTED:
        torch.testing.assert_close(weights_a, weights_b)
    for p, q in zip(model_a.all_parameters(), model_b.all_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad)
