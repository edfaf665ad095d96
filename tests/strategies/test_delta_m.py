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


def test_conventions_follow_their_reference_formulas() -> None:
    single = {"cls": {"accuracy": 0.80, "f1": 0.50}, "reg": {"mse": 2.0}}
    mtl = {"cls": {"accuracy": 0.88, "f1": 0.45}, "reg": {"mse": 1.5}}
    higher = {"accuracy": True, "f1": True, "mse": False}
    # LibMTL: per task first -> (0 + 0.25) / 2 = +12.5 (positive: better)
    assert math.isclose(delta_m(mtl, single, higher, "libmtl"), 12.5)
    # Nash-MTL / FAMO: (1/K) sum_k (-1)^{delta_k} (M_m - M_b) / M_b over the K = 3 metrics,
    # delta_k = 1 when higher is better: (-0.10 + 0.10 - 0.25) / 3 (negative: better)
    expected = 100 * (-(0.88 - 0.80) / 0.80 - (0.45 - 0.50) / 0.50 + (1.5 - 2.0) / 2.0) / 3
    assert math.isclose(delta_m(mtl, single, higher, "nash_mtl"), expected)
    assert delta_m(mtl, single, higher, "nash_mtl") < 0 < delta_m(mtl, single, higher)


def test_one_metric_per_task_gives_opposite_signs() -> None:
    single, mtl = {"a": {"mse": 2.0}, "b": {"accuracy": 0.5}}, {"a": {"mse": 1.0}, "b": {"accuracy": 0.6}}
    higher = {"mse": False, "accuracy": True}
    assert math.isclose(delta_m(mtl, single, higher, "nash_mtl"), -delta_m(mtl, single, higher, "libmtl"))


def test_labels_name_the_convention_and_unknown_ones_are_refused() -> None:
    from qmtl.strategies import delta_m_label

    assert delta_m_label() == "Δm% (LibMTL, higher is better)"
    assert delta_m_label("nash_mtl") == "Δm% (Nash-MTL/FAMO, lower is better)"
    with pytest.raises(UserError, match="unknown Δm% convention 'famo'; use one of libmtl, nash_mtl"):
        delta_m({"a": {"mse": 1.0}}, {"a": {"mse": 2.0}}, {"mse": False}, "famo")
