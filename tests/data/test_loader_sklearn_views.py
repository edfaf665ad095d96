import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from qmtl.config import DataConfig
from qmtl.data import load_data
from qmtl.errors import UserError
from qmtl.tasks import TaskConfig


def _regression(name: str) -> TaskConfig:
    return TaskConfig(name=name, kind="regression", observables=["Z0"])


def test_linnerud_has_three_physiological_targets():
    tasks = [_regression("weight"), _regression("waist"), _regression("pulse")]
    data = load_data(DataConfig(name="linnerud", val_fraction=0.2, test_fraction=0.2), tasks, seed=0)
    assert data.feature_names == ["chins", "situps", "jumps"]
    assert len(data.train) + len(data.val) + len(data.test) == 20
    assert data.train.targets["weight"].mean() > 100  # pounds, left in their units by default


def test_breast_cancer_task_columns_leave_the_features():
    tasks = [TaskConfig(name="malignant", kind="binary", observables=["Z0"]), _regression("mean_radius")]
    data = load_data(DataConfig(name="breast-cancer"), tasks, seed=0)
    assert data.input_dims == 29
    assert "mean_radius" not in data.feature_names and "mean_texture" in data.feature_names
    bunch = load_breast_cancer()
    # 212 of 569 tumours are malignant (scikit-learn codes them 0).
    total = sum(int(split.targets["malignant"].sum()) for split in (data.train, data.val, data.test))
    assert total == int((bunch.target == 0).sum()) == 212


def test_unknown_breast_cancer_task_lists_the_columns():
    with pytest.raises(UserError, match="task 'mean_radios' is not in data set 'breast-cancer'; its tasks are: .*mean_radius"):
        load_data(DataConfig(name="breast-cancer"), [_regression("mean_radios")], seed=0)


def test_standardised_targets_are_fitted_on_train_and_recorded():
    tasks = [_regression("weight"), _regression("pulse")]
    options = {"standardise_targets": True}
    data = load_data(DataConfig(name="linnerud", options=options, val_fraction=0.2, test_fraction=0.2), tasks, seed=0)
    raw = load_data(DataConfig(name="linnerud", val_fraction=0.2, test_fraction=0.2), tasks, seed=0)
    for task in ("weight", "pulse"):
        train = data.train.targets[task].double()
        assert float(train.mean()) == pytest.approx(0.0, abs=1e-6)
        assert float(train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-6)
        mean, std = data.standardisation[f"target.{task}.mean"][0], data.standardisation[f"target.{task}.std"][0]
        assert np.allclose(data.test.targets[task].numpy() * std + mean, raw.test.targets[task].numpy(), atol=1e-3)
        assert mean == pytest.approx(float(raw.train.targets[task].double().mean()), rel=1e-6)
    with pytest.raises(UserError, match="data.options.standardise_targets for data set 'linnerud' must be true or false, got 'yes'"):
        load_data(DataConfig(name="linnerud", options={"standardise_targets": "yes"}), tasks, seed=0)
