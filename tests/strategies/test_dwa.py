"""Dynamic Weight Average (Liu et al., CVPR 2019, eq. 7) through torchjd's DWA scalarizer."""

from __future__ import annotations

import math

import torch

from qmtl.strategies import build_strategy


def _epoch(dwa, batches: list[list[float]]) -> torch.Tensor:
    """Backpropagate each batch's losses, end the epoch; the weights used in that epoch."""
    used = []
    for values in batches:
        theta = torch.nn.Parameter(torch.ones(len(values)))
        losses = theta * torch.tensor(values)
        used.append(dwa.backward(losses, [theta], [[] for _ in values]))
    dwa.end_epoch(torch.tensor(batches).mean(0))
    return used[-1]


def _reference(history: list[list[float]], temperature: float) -> torch.Tensor:
    """eq. (7): K softmax(r / T), r = mean loss of epoch t-1 over that of epoch t-2."""
    ratios = torch.tensor(history[-1], dtype=torch.float64) / torch.tensor(history[-2], dtype=torch.float64)
    return len(ratios) * torch.softmax(ratios / temperature, 0)


def test_equal_weights_until_two_epochs_of_history() -> None:
    dwa = build_strategy("dwa", n_tasks=2)
    assert torch.equal(_epoch(dwa, [[1.0, 1.0]]), torch.ones(2))
    assert torch.equal(_epoch(dwa, [[0.5, 1.0]]), torch.ones(2))


def test_stalled_task_gets_larger_weight_as_in_the_paper() -> None:
    dwa = build_strategy("dwa", n_tasks=3, options={"temperature": 2.0})
    _epoch(dwa, [[1.0, 1.0, 1.0]])
    _epoch(dwa, [[0.5, 1.0, 0.8]])  # task 1 stopped falling, task 0 halved
    weights = _epoch(dwa, [[1.0, 1.0, 1.0]])
    assert weights[1] > weights[2] > weights[0]
    assert math.isclose(float(weights.sum()), 3.0, rel_tol=1e-6)
    torch.testing.assert_close(weights.double(), _reference([[1, 1, 1], [0.5, 1.0, 0.8]], 2.0))


def test_epoch_mean_is_over_mini_batches_and_matches_the_reference() -> None:
    """torchjd averages the epoch's mini-batch losses (LibMTL's convention): same weights as the
    previous qmtl implementation fed with the per-batch mean."""
    dwa = build_strategy("dwa", n_tasks=2, options={"temperature": 0.5})
    epochs = [[[1.0, 2.0], [3.0, 2.0]], [[1.0, 2.5], [1.0, 1.5]], [[0.5, 0.5], [0.5, 0.5]]]
    for batches in epochs[:2]:
        _epoch(dwa, batches)
    history = [torch.tensor(b).mean(0).tolist() for b in epochs[:2]]  # [2, 2], [1, 2]
    torch.testing.assert_close(_epoch(dwa, epochs[2]).double(), _reference(history, 0.5))


def test_weights_follow_the_latest_two_epochs() -> None:
    dwa = build_strategy("dwa", n_tasks=2)
    for losses in ([1.0, 1.0], [0.5, 1.0], [0.5, 0.25]):  # now task 1 falls faster
        _epoch(dwa, [losses])
    weights = _epoch(dwa, [[1.0, 1.0]])
    assert weights[0] > weights[1]
