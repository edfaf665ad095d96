"""DWA (Liu et al. 2019): weights from the last two epochs' loss ratios, summing to K."""

from __future__ import annotations

import math

import torch

from qmtl.strategies import build_strategy


def test_equal_weights_until_two_epochs_of_history() -> None:
    dwa = build_strategy("dwa", n_tasks=2)
    assert torch.equal(dwa.weights(torch.ones(2)), torch.ones(2))
    dwa.end_epoch(torch.tensor([1.0, 1.0]))
    assert torch.equal(dwa.weights(torch.ones(2)), torch.ones(2))


def test_stalled_task_gets_larger_weight() -> None:
    dwa = build_strategy("dwa", n_tasks=3, options={"temperature": 2.0})
    dwa.end_epoch(torch.tensor([1.0, 1.0, 1.0]))
    dwa.end_epoch(torch.tensor([0.5, 1.0, 0.8]))  # task 1 stopped falling, task 0 halved
    weights = dwa.weights(torch.ones(3))
    assert weights[1] > weights[2] > weights[0]
    assert math.isclose(float(weights.sum()), 3.0, rel_tol=1e-6)
    ratios = torch.tensor([0.5, 1.0, 0.8], dtype=torch.float64)
    torch.testing.assert_close(weights, 3 * torch.softmax(ratios / 2.0, 0))


def test_weights_follow_the_latest_two_epochs() -> None:
    dwa = build_strategy("dwa", n_tasks=2)
    for losses in ([1.0, 1.0], [0.5, 1.0], [0.5, 0.25]):  # now task 1 falls faster
        dwa.end_epoch(torch.tensor(losses))
    weights = dwa.weights(torch.ones(2))
    assert weights[0] > weights[1]
