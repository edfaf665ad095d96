"""Two scikit-learn 8x8 digits side by side: the small, offline cousin of MultiMNIST.

MultiMNIST (Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NeurIPS 2017)
overlays two shifted MNIST digits and asks for both; it became a standard two-task
benchmark (Sener and Koltun, NeurIPS 2018).  Here example ``i`` is the 8x16 image
``[A | B]`` of two digits from scikit-learn's bundled set (no download), so the digits do
not overlap and each task must attend to its own half:

* ``left`` — the class of A (multiclass, 10 classes);
* ``right`` — the class of B (multiclass, 10 classes).

Pairing is seeded by ``options.seed`` (default 0), independent of the run's seed, so
every run seed sees the same image pairs and only the split and initialisation change:
``n`` left indices are a permutation of the 1,797 digits (drawn with replacement when
``options.n_samples`` exceeds 1,797) and the right indices an independent permutation,
so the two labels are independent.  ``options.modalities: true`` gives the halves as two
modalities ``left`` and ``right`` (64 pixels each), one encoder each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import Field
from sklearn.datasets import load_digits

from qmtl.data.base import RawData
from qmtl.data.options import DataOptions, parse_data_options

NAME = "multidigits"


class MultidigitsOptions(DataOptions):
    """Options of ``multidigits``."""

    n_samples: int | None = Field(
        None, ge=10, description="image pairs (default: one per bundled digit, 1,797; more draw with replacement)")
    seed: int = Field(0, ge=0, description="pairing seed, independent of the run seed")
    modalities: bool = Field(False, description="give the halves as two modalities left and right (64 pixels each)")


def _indices(rng: np.random.Generator, pool: int, n: int) -> np.ndarray:
    return rng.permutation(pool)[:n] if n <= pool else rng.integers(0, pool, size=n)


def load_multidigits(given: Mapping[str, Any]) -> RawData:
    options = parse_data_options(NAME, MultidigitsOptions, given)
    images, labels = load_digits(return_X_y=True)
    n = len(labels) if options.n_samples is None else options.n_samples
    rng = np.random.default_rng(options.seed)
    left, right = _indices(rng, len(labels), n), _indices(rng, len(labels), n)
    targets = {"left": labels[left], "right": labels[right]}
    source = f"data set '{NAME}'"
    if options.modalities:
        side_names = {side: [f"{side}_pixel_{r}_{c}" for r in range(8) for c in range(8)] for side in ("left", "right")}
        return RawData({"left": images[left], "right": images[right]}, targets, side_names, source)
    # Row-major 8x16 image: row r is left row r followed by right row r.
    pairs = np.concatenate([images[left].reshape(n, 8, 8), images[right].reshape(n, 8, 8)], axis=2)
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(16)]
    return RawData(pairs.reshape(n, 128), targets, names, source)
