"""Δm% on a hand-computed example, as LibMTL reports it."""

from __future__ import annotations

import math

import pytest

from qmtl.errors import UserError
from qmtl.strategies import delta_m


def test_hand_computed_example() -> None:
    single = {"cls": {"accuracy": 0.80, "f1": 0.50}, "reg": {"mse": 2.0}}
    mtl = {"cls": {"accuracy": 0.88, "f1": 0.45}, "reg": {"mse": 1.5}}
    higher = {"accuracy": True, "f1": True, "mse": False}
    # cls: (+0.10 - 0.10) / 2 = 0;  reg: -(1.5 - 2) / 2 = +0.25;  mean over tasks = 0.125
    assert math.isclose(delta_m(mtl, single, higher), 12.5)


def test_missing_baseline_or_direction_is_a_user_error() -> None:
    with pytest.raises(UserError, match="baseline"):
        delta_m({"a": {"mse": 1.0}}, {}, {"mse": False})
    with pytest.raises(UserError, match="higher is better"):
        delta_m({"a": {"mse": 1.0}}, {"a": {"mse": 2.0}}, {})
