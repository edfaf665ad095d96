import numpy as np
import pytest
import torch
from sklearn import metrics as sk

from qmtl import metrics


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 4, 200)
    prediction = np.where(rng.random(200) < 0.7, target, rng.integers(0, 4, 200))
    p, t = torch.from_numpy(prediction), torch.from_numpy(target)
    assert metrics.accuracy(p, t) == pytest.approx(sk.accuracy_score(target, prediction))
    assert metrics.macro_f1(p, t, 4) == pytest.approx(sk.f1_score(target, prediction, average="macro"))


def test_regression_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(100, 2))
    prediction = target + 0.3 * rng.normal(size=(100, 2))
    p, t = torch.from_numpy(prediction), torch.from_numpy(target)
    assert metrics.mean_squared_error(p, t) == pytest.approx(sk.mean_squared_error(target, prediction))
    assert metrics.mean_absolute_error(p, t) == pytest.approx(sk.mean_absolute_error(target, prediction))
    assert metrics.r2_score(p, t) == pytest.approx(sk.r2_score(target, prediction))
