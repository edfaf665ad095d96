import numpy as np
import pytest
import torch

from qmtl.config import DataConfig
from qmtl.data import load_data
from qmtl.errors import UserError
from qmtl.tasks import TaskConfig

TASKS = [
    TaskConfig(name="label", kind="binary", observables=["Z0"]),
    TaskConfig(name="value", kind="regression", outputs=2, observables=["Z0", "Z1"]),
]


def _arrays(n: int = 80) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"y_label": np.arange(n) % 2, "y_value": rng.normal(size=(n, 2))}


def test_npz_reads_features_and_one_array_per_task(tmp_path):
    path = tmp_path / "d.npz"
    x = np.random.default_rng(1).normal(size=(80, 5))
    np.savez(path, X=x, **_arrays())
    data = load_data(DataConfig(name="npz", path=str(path)), TASKS, seed=0)
    assert data.input_dims == 5 and data.feature_names == [f"X[{i}]" for i in range(5)]
    assert data.train.targets["value"].shape[1] == 2 and data.train.targets["label"].dtype == torch.int64


def test_npz_modalities(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X_image=np.ones((80, 4)) * np.arange(80)[:, None], X_text=np.arange(160.0).reshape(80, 2), **_arrays())
    data = load_data(DataConfig(name="npz", path=str(path)), TASKS, seed=0)
    assert data.input_dims == {"image": 4, "text": 2}


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"X": np.ones((80, 3)), "y_label": np.zeros(80)}, "task 'value' needs the array 'y_value' in .*; keys present: X, y_label"),
        ({"features": np.ones((80, 3)), **_arrays()}, "no features: expected 'X' or 'X_<modality>'; keys present: features, y_label"),
        ({"X": np.ones((80, 3)), "X_a": np.ones((80, 1)), **_arrays()}, "has both 'X' and per-modality arrays"),
        ({"X": np.array([["a"]] * 80), **_arrays()}, "array 'X' in .* holds <U1 values, not numbers"),
    ],
)
def test_npz_mistakes_name_the_keys(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=message):
        load_data(DataConfig(name="npz", path=str(path)), TASKS, seed=0)


def test_npz_needs_an_existing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist; check data.path"):
        load_data(DataConfig(name="npz", path=str(tmp_path / "missing.npz")), TASKS, seed=0)
    with pytest.raises(UserError, match="set data.path"):
        load_data(DataConfig(name="npz"), TASKS, seed=0)
