import numpy as np
import pytest
import torch

from qmtl.config import DataConfig
from qmtl.data import load_data
from qmtl.errors import UserError
from qmtl.tasks import TaskConfig

DIGIT_TASKS = [
    TaskConfig(name="digit", kind="multiclass", classes=10, observables=["Z0"]),
    TaskConfig(name="parity", kind="binary", observables=["Z0"]),
]


def test_digits_split_is_seeded_and_disjoint():
    a = load_data(DataConfig(), DIGIT_TASKS, seed=3)
    b = load_data(DataConfig(), DIGIT_TASKS, seed=3)
    c = load_data(DataConfig(), DIGIT_TASKS, seed=4)
    assert len(a.train) + len(a.val) + len(a.test) == 1797
    assert torch.equal(a.test.features, b.test.features)
    assert not torch.equal(a.test.features, c.test.features)
    train_rows = {tuple(r.tolist()) for r in a.train.features}
    assert not any(tuple(r.tolist()) in train_rows for r in a.test.features[:50])
    assert torch.equal(a.train.targets["parity"], a.train.targets["digit"] % 2)


def test_standardisation_is_fitted_on_train_only():
    data = load_data(DataConfig(), DIGIT_TASKS, seed=0)
    mean, std = data.train.features.mean(0), data.train.features.std(0, unbiased=False)
    varying = std > 0
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-5)
    assert torch.allclose(std[varying], torch.ones_like(std[varying]), atol=1e-4)
    assert not torch.allclose(data.test.features.mean(0), torch.zeros(64), atol=1e-3)


def test_digits_modalities_give_one_tensor_per_modality():
    data = load_data(DataConfig(options={"modalities": True}), DIGIT_TASKS, seed=0)
    assert data.input_dims == {"left": 32, "right": 32}
    assert set(data.train.features) == {"left", "right"}


def _write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return str(path)


def _csv_rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return [[round(float(rng.normal()), 4), round(float(rng.normal()), 4), i % 3, round(float(rng.normal()), 3)] for i in range(n)]


CSV_TASKS = [
    TaskConfig(name="label", kind="multiclass", classes=3, observables=["Z0"]),
    TaskConfig(name="target", kind="regression", observables=["Z1"]),
]


def test_csv_loader_reads_features_and_tasks(tmp_path):
    path = _write_csv(tmp_path / "d.csv", ["a", "b", "label", "target"], _csv_rows())
    data = load_data(DataConfig(name="csv", path=path), CSV_TASKS, seed=0)
    assert data.input_dims == 2 and data.feature_names == ["a", "b"]
    assert data.train.targets["target"].dtype == torch.float32


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: rows[5].__setitem__(1, "nan"), "feature 'b' has a NaN or infinite value"),
        (lambda rows: rows[7].__setitem__(2, 5), "task 'label' (multiclass) needs labels 0..2 but has 5"),
        (lambda rows: rows[3].__setitem__(0, "abc"), "column 'a' line 5 holds 'abc'"),
        (lambda rows: rows[2].pop(), "line 4 has 3 fields, the header has 4"),
    ],
)
def test_csv_mistakes_name_the_problem(tmp_path, edit, message):
    rows = _csv_rows()
    edit(rows)
    path = _write_csv(tmp_path / "d.csv", ["a", "b", "label", "target"], rows)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_data(DataConfig(name="csv", path=path), CSV_TASKS, seed=0)


def test_missing_task_and_missing_class(tmp_path):
    path = _write_csv(tmp_path / "d.csv", ["a", "b", "label", "other"], _csv_rows())
    with pytest.raises(UserError, match="task 'target' is not in"):
        load_data(DataConfig(name="csv", path=path), CSV_TASKS, seed=0)
    rows = [r for r in _csv_rows(90) if r[2] != 2]
    path = _write_csv(tmp_path / "e.csv", ["a", "b", "label", "target"], rows)
    with pytest.raises(UserError, match=r"class\(es\) \[2\] never occur"):
        load_data(DataConfig(name="csv", path=path), CSV_TASKS, seed=0)


def test_unknown_data_set_lists_valid_names():
    with pytest.raises(UserError, match="unknown data set 'digitz' \\(did you mean 'digits'\\?\\); valid names: "):
        load_data(DataConfig(name="digitz"), DIGIT_TASKS, seed=0)
