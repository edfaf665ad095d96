import numpy as np
import pytest

from qmtl.data.synthetic_correlated import load_synthetic_correlated, task_weights
from qmtl.errors import UserError


@pytest.mark.parametrize("k, correlation", [(2, 0.9), (2, -1.0), (2, 0.0), (3, 0.3), (4, -1 / 3), (5, 1.0)])
def test_weight_cosines_equal_the_correlation(k, correlation):
    weights = task_weights(k, 50, correlation, 2.0, np.random.default_rng(0))
    norms = np.linalg.norm(weights, axis=1)
    assert np.allclose(norms, 2.0, atol=1e-9)
    cosines = (weights @ weights.T) / np.outer(norms, norms)
    off_diagonal = cosines[~np.eye(k, dtype=bool)]
    assert np.allclose(off_diagonal, correlation, atol=1e-9)


def test_target_correlation_falls_with_the_weight_correlation():
    empirical = []
    for correlation in (1.0, 0.7, 0.3, 0.0, -0.5):
        raw = load_synthetic_correlated({"correlation": correlation, "n_samples": 4000, "n_features": 20})
        empirical.append(np.corrcoef(raw.targets["t0"], raw.targets["t1"])[0, 1])
    assert empirical[0] > 0.99
    assert all(a > b for a, b in zip(empirical, empirical[1:])), empirical


def test_tasks_option_makes_k_targets_and_impossible_correlations_are_refused():
    raw = load_synthetic_correlated({"tasks": 3, "n_samples": 50, "n_features": 5})
    assert sorted(raw.targets) == ["t0", "t1", "t2"] and raw.features.shape == (50, 5)
    with pytest.raises(UserError, match=r"lowest possible is -1/\(k-1\) = -0.5000"):
        load_synthetic_correlated({"tasks": 3, "correlation": -0.8})
    with pytest.raises(UserError, match="did you mean 'correlation'"):
        load_synthetic_correlated({"corelation": 0.5})


def test_label_correlation_is_the_pearson_correlation_of_the_labels():
    from qmtl.data.synthetic_correlated import label_correlation

    raw = load_synthetic_correlated({"correlation": 0.5, "n_samples": 500, "n_features": 16})
    assert label_correlation(raw.targets) == pytest.approx(np.corrcoef(raw.targets["t0"], raw.targets["t1"])[0, 1])
    three = load_synthetic_correlated({"tasks": 3, "correlation": 0.2, "n_samples": 300, "n_features": 8})
    pairs = [np.corrcoef(three.targets[a], three.targets[b])[0, 1] for a, b in (("t0", "t1"), ("t0", "t2"), ("t1", "t2"))]
    assert label_correlation(three.targets) == pytest.approx(np.mean(pairs))


def test_label_correlation_differs_from_the_weight_cosine_and_between_draws():
    """The x-axis problem F2 must avoid: one draw of alpha, beta moves the labels away from p."""
    from qmtl.data.synthetic_correlated import label_correlation

    measured = [label_correlation(load_synthetic_correlated(
        {"correlation": -0.5, "n_samples": 2000, "n_features": 16, "seed": seed}).targets) for seed in range(4)]
    assert max(measured) - min(measured) > 0.05
    assert all(abs(value - (-0.5)) > 1e-3 for value in measured)
