import numpy as np
import torch
from sklearn.datasets import load_digits

from qmtl.config import DataConfig
from qmtl.data import load_data
from qmtl.data.multidigits import load_multidigits
from qmtl.tasks import TaskConfig

TASKS = [
    TaskConfig(name="left", kind="multiclass", classes=10, observables=["Z0"]),
    TaskConfig(name="right", kind="multiclass", classes=10, observables=["Z0"]),
]


def _match(half: np.ndarray, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of the bundled digit each 8x8 half is an exact copy of."""
    index = {image.tobytes(): label for image, label in zip(images, labels)}
    return np.array([index[h.tobytes()] for h in half])


def test_halves_are_the_labelled_digits_side_by_side():
    raw = load_multidigits({"n_samples": 200})
    images, labels = load_digits(return_X_y=True)
    pairs = raw.features.reshape(200, 8, 16)
    left, right = pairs[:, :, :8].reshape(200, 64), pairs[:, :, 8:].reshape(200, 64)
    assert np.array_equal(_match(left, images, labels), raw.targets["left"])
    assert np.array_equal(_match(right, images, labels), raw.targets["right"])
    # Independent pairing: the two labels agree about one time in ten, not always.
    assert (raw.targets["left"] == raw.targets["right"]).mean() < 0.3


def test_pairing_is_seeded_by_its_own_option():
    a, b = load_multidigits({"seed": 1}), load_multidigits({"seed": 1})
    c = load_multidigits({"seed": 2})
    assert np.array_equal(a.features, b.features)
    assert not np.array_equal(a.features, c.features)


def test_modalities_give_each_half_its_own_encoder_input():
    data = load_data(DataConfig(name="multidigits", options={"modalities": True}, limit=400), TASKS, seed=0)
    assert data.input_dims == {"left": 64, "right": 64}
    assert set(data.train.features) == {"left", "right"}
    assert data.train.targets["left"].dtype == torch.int64
