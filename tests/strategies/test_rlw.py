"""RLW (Lin et al. 2022): softmax of Gaussian samples, reproducible from the seed."""

from __future__ import annotations

import torch

from qmtl.strategies import build_strategy


def _sequence(seed: int, steps: int = 5) -> torch.Tensor:
    rlw = build_strategy("rlw", n_tasks=4, seed=seed)
    return torch.stack([rlw.weights(torch.ones(4)) for _ in range(steps)])


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
