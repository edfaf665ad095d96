"""qmtl.metrics against scikit-learn, and the choices qmtl makes where scikit-learn leaves one open."""

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as sk
from sklearn.exceptions import UndefinedMetricWarning

from qmtl import metrics


@pytest.mark.parametrize("n_classes, seed", [(2, 0), (4, 1), (10, 2)])
def test_classification_metrics_match_scikit_learn(n_classes, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, n_classes, 200)
    prediction = np.where(rng.random(200) < 0.7, target, rng.integers(0, n_classes, 200))
    p, t = torch.from_numpy(prediction), torch.from_numpy(target)
    accuracy, f1 = metrics.accuracy(p, t), metrics.macro_f1(p, t, n_classes)
    assert type(accuracy) is float and type(f1) is float  # straight into JSON
    assert accuracy == pytest.approx(sk.accuracy_score(target, prediction), abs=1e-15)
    assert f1 == pytest.approx(sk.f1_score(target, prediction, average="macro"), abs=1e-15)


def test_binary_targets_given_as_floats_are_labels():
    """Binary tasks keep their targets as 0./1. floats; the predictions are integer labels."""
    target = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    prediction = torch.tensor([0, 1, 0, 0, 1])
    assert metrics.accuracy(prediction, target) == pytest.approx(0.8)
    # class 0: TP 2, FP 1, FN 0 -> 4/5; class 1: TP 2, FP 0, FN 1 -> 4/5
    assert metrics.macro_f1(prediction, target, 2) == pytest.approx(0.8)


def test_macro_f1_leaves_out_classes_absent_from_target_and_prediction():
    target = torch.tensor([0, 0, 1, 1])
    prediction = torch.tensor([0, 1, 1, 1])
    # class 0: TP 1, FP 0, FN 1 -> 2/3; class 1: TP 2, FP 1, FN 0 -> 4/5; classes 2, 3 never occur
    assert metrics.macro_f1(prediction, target, 4) == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert metrics.macro_f1(prediction, target, 4) != pytest.approx(
        sk.f1_score(target.numpy(), prediction.numpy(), labels=range(4), average="macro", zero_division=0)
    )


def test_macro_f1_counts_a_class_that_is_only_predicted():
    target = torch.tensor([0, 0])
    prediction = torch.tensor([0, 1])
    # class 0: TP 1, FN 1 -> 2/3; class 1 is predicted but never true: F1 0
    assert metrics.macro_f1(prediction, target, 3) == pytest.approx((2 / 3 + 0) / 2)


@pytest.mark.parametrize("shape", [(100,), (100, 1), (100, 3)])
def test_regression_metrics_match_scikit_learn(shape):
    rng = np.random.default_rng(len(shape) + shape[-1])
    target = rng.normal(size=shape)
    prediction = target + 0.3 * rng.normal(size=shape)
    p, t = torch.from_numpy(prediction).float(), torch.from_numpy(target).float()
    target32, prediction32 = t.double().numpy(), p.double().numpy()
    assert metrics.mean_squared_error(p, t) == pytest.approx(sk.mean_squared_error(target32, prediction32))
    assert metrics.mean_absolute_error(p, t) == pytest.approx(sk.mean_absolute_error(target32, prediction32))
    assert metrics.r2_score(p, t) == pytest.approx(sk.r2_score(target32, prediction32))


def test_multi_output_r2_is_the_unweighted_mean_over_outputs():
    rng = np.random.default_rng(7)
    scale = np.array([0.1, 1.0, 10.0])  # very different variances: a variance-weighted mean would differ
    target = rng.normal(size=(80, 3)) * scale
    prediction = target + rng.normal(size=(80, 3)) * np.array([0.05, 0.9, 2.0])
    per_output = [sk.r2_score(target[:, k], prediction[:, k]) for k in range(3)]
    r2 = metrics.r2_score(torch.from_numpy(prediction), torch.from_numpy(target))
    assert r2 == pytest.approx(np.mean(per_output))
    assert r2 != pytest.approx(sk.r2_score(target, prediction, multioutput="variance_weighted"))


def test_r2_of_a_constant_target_is_finite():
    """scikit-learn's force_finite default: 1.0 if predicted exactly, else 0.0 (not -inf or -1e12)."""
    constant = torch.full((6,), 2.5, dtype=torch.float64)
    assert metrics.r2_score(constant.clone(), constant) == 1.0
    assert metrics.r2_score(constant + torch.linspace(-1, 1, 6, dtype=torch.float64), constant) == 0.0
    # one constant column among two: its 0.0 enters the mean with the other column's R²
    varying = torch.linspace(0.0, 5.0, 6, dtype=torch.float64)
    target = torch.stack([varying, constant], dim=1)
    prediction = torch.stack([varying + 0.5, constant + 0.1], dim=1)
    expected = sk.r2_score(varying.numpy(), (varying + 0.5).numpy()) / 2
    assert metrics.r2_score(prediction, target) == pytest.approx(expected)


def test_r2_of_a_single_example_is_undefined():
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(metrics.r2_score(torch.tensor([1.0]), torch.tensor([2.0])))
