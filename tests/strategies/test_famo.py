"""FAMO (Liu et al. 2023) favours the task whose log loss falls slowest."""

from __future__ import annotations

import torch

from qmtl.strategies import build_strategy

CURVATURES = torch.tensor([4.0, 0.25])  # task 0 converges fast, task 1 slowly


def _train(lr: float, steps: int = 40, exact: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-batch SGD under FAMO; returns the per-step log-loss decreases and softmax(logits)."""
    theta = torch.nn.Parameter(torch.tensor([3.0, 3.0]))

    def losses() -> torch.Tensor:
        return CURVATURES * theta**2 + 0.01

    strategy = build_strategy("famo", n_tasks=2, options={"lr": lr})
    optimizer = torch.optim.SGD([theta], lr=0.1)
    decreases = []
    for _ in range(steps):
        optimizer.zero_grad()
        before = losses()
        weights = strategy.backward(before, [theta], [[], []])
        torch.testing.assert_close(weights.sum(), torch.tensor(1.0))
        optimizer.step()
        with torch.no_grad():
            after = losses()
            if exact:
                strategy.after_step(after)
        decreases.append(before.detach().log() - after.log())
    logits = strategy.state_dict()["logits"]
    return torch.stack(decreases), torch.softmax(logits, 0)


def _relative_rate_gap(decreases: torch.Tensor) -> float:
    window = decreases[10:]
    return float((window[:, 0] - window[:, 1]).abs().mean() / window.mean())


def test_log_loss_decrease_rates_equalise() -> None:
    # Baseline: the same normalised log-loss weighting with logits that cannot move.
    frozen_decreases, frozen_z = _train(lr=1e-12)
    famo_decreases, famo_z = _train(lr=0.025)
    torch.testing.assert_close(frozen_z, torch.full((2,), 0.5))
    assert famo_z[1] > 0.5 > famo_z[0]  # the slow task is favoured
    assert _relative_rate_gap(famo_decreases) < 0.25 * _relative_rate_gap(frozen_decreases)


def test_without_after_step_the_update_uses_the_next_losses() -> None:
    # Full batch: the next backward sees exactly the after-step losses, so both paths agree.
    exact, exact_z = _train(lr=0.025, exact=True)
    deferred, deferred_z = _train(lr=0.025, exact=False)
    torch.testing.assert_close(exact[:-1], deferred[:-1])
    assert not torch.allclose(deferred_z, torch.full((2,), 0.5))


def test_shared_gradient_is_clipped_to_norm_one_as_in_the_official_code() -> None:
    """FAMO.backward of the authors' code: clip_grad_norm_(shared_parameters, max_norm=1.0)
    after the backward pass; the direction is kept and task parameters are not clipped."""
    import pytest

    from qmtl.errors import UserError

    def step(options: dict) -> tuple[torch.Tensor, torch.Tensor]:
        theta = torch.nn.Parameter(torch.tensor([3.0, -4.0]))
        head = torch.nn.Parameter(torch.tensor([5.0]))
        losses = torch.stack([(theta**2).sum() * head.squeeze(), (10 * theta).pow(2).sum()])
        build_strategy("famo", n_tasks=2, options=options).backward(losses, [theta], [[head], []])
        return theta.grad, head.grad

    raw, raw_head = step({"max_grad_norm": 0})
    clipped, clipped_head = step({})
    assert raw.norm() > 1
    torch.testing.assert_close(clipped.norm(), torch.tensor(1.0))
    torch.testing.assert_close(clipped, raw / raw.norm())
    torch.testing.assert_close(clipped_head, raw_head)
    loose, _ = step({"max_grad_norm": 1e6})
    torch.testing.assert_close(loose, raw)
    with pytest.raises(UserError, match="famo option 'max_grad_norm' must be >= 0"):
        build_strategy("famo", n_tasks=2, options={"max_grad_norm": -1.0})
