"""Config errors raise UserError naming the valid choices."""

from __future__ import annotations

import pytest
import torch

from qmtl.errors import UserError
from qmtl.strategies import AGGREGATORS, WEIGHTINGS, build_strategy


def test_unknown_weighting_lists_valid_names() -> None:
    with pytest.raises(UserError, match="did you mean 'dwa'") as error:
        build_strategy("dwaa", n_tasks=2)
    assert all(name in str(error.value) for name in WEIGHTINGS)


def test_unknown_aggregator_lists_valid_names() -> None:
    with pytest.raises(UserError, match="unknown aggregator 'upgrd'") as error:
        build_strategy(aggregator="upgrd", n_tasks=2)
    assert all(name in str(error.value) for name in AGGREGATORS)


@pytest.mark.parametrize(
    ("weighting", "options", "message"),
    [
        ("dwa", {"temprature": 2.0}, "valid options: temperature"),
        ("dwa", {"temperature": 0}, "positive"),
        ("gradnorm", {"alpha": "high"}, "must be a number"),
        ("static", None, "weights"),
        ("static", {"weights": [1.0]}, "one weight per task"),
        ("equal", {"alpha": 1.0}, "valid options: none"),
    ],
)
def test_bad_weighting_options(weighting: str, options: dict | None, message: str) -> None:
    with pytest.raises(UserError, match=message):
        build_strategy(weighting, n_tasks=2, options=options)


def test_bad_aggregator_options() -> None:
    with pytest.raises(UserError, match="valid options: epsilon, max_iters"):
        build_strategy(aggregator="mgda", n_tasks=2, options={"bogus": 1})
    with pytest.raises(UserError, match="aggregator 'cagrad'"):
        build_strategy(aggregator="cagrad", n_tasks=2, options={"c": -1.0})


def test_yaml_list_options_reach_torchjd_as_tensors() -> None:
    strategy = build_strategy(aggregator="upgrad", n_tasks=2, options={"pref_vector": [1, 3]})
    theta = torch.nn.Parameter(torch.zeros(2))
    losses = torch.eye(2) @ theta  # orthogonal gradients: UPGrad returns the preference weights
    torch.testing.assert_close(strategy.backward(losses, [theta], [[], []]), torch.tensor([1.0, 3.0]))


def test_weighting_and_aggregator_together_is_an_error() -> None:
    with pytest.raises(UserError, match="set only one"):
        build_strategy("dwa", aggregator="upgrad", n_tasks=2)
