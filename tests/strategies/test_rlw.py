"""Random Loss Weighting (Lin et al., TMLR 2022) through torchjd's Random scalarizer."""

from __future__ import annotations

import torch

from qmtl.strategies import build_strategy


def _sequence(seed: int, steps: int = 5) -> torch.Tensor:
    rlw = build_strategy("rlw", n_tasks=4, seed=seed)
    weights = []
    for _ in range(steps):
        theta = torch.nn.Parameter(torch.ones(4))
        weights.append(rlw.backward(theta * 1.0, [theta], [[]] * 4))
        torch.testing.assert_close(theta.grad, weights[-1])  # the gradient is the weighted sum
    return torch.stack(weights)


def test_weights_are_softmax_of_a_standard_normal_draw_from_the_seed() -> None:
    """Reference (Algorithm 2): λ = softmax(ε), ε ~ N(0, I), drawn from a generator seeded by the run seed."""
    generator = torch.Generator().manual_seed(3)
    expected = torch.stack([torch.softmax(torch.randn(4, generator=generator), 0) for _ in range(5)])
    torch.testing.assert_close(_sequence(3), expected)


def test_weights_are_a_softmax() -> None:
    weights = _sequence(0)
    assert torch.all(weights > 0)
    torch.testing.assert_close(weights.sum(1), torch.ones(5))
    assert not torch.allclose(weights[0], weights[1])  # resampled every step


def test_same_seed_same_sequence_other_seed_other_sequence() -> None:
    assert torch.equal(_sequence(7), _sequence(7))
    assert not torch.allclose(_sequence(7), _sequence(8))


def test_independent_of_global_rng() -> None:
    torch.manual_seed(1)
    first = _sequence(7)
    torch.manual_seed(2)
    assert torch.equal(first, _sequence(7))
