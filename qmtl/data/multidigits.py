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

from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from qmtl.data.base import RawData
from qmtl.data.options import check_known, number
from qmtl.errors import UserError

NAME = "multidigits"


def _indices(rng: np.random.Generator, pool: int, n: int) -> np.ndarray:
    return rng.permutation(pool)[:n] if n <= pool else rng.integers(0, pool, size=n)


def load_multidigits(options: dict[str, Any]) -> RawData:
    check_known(NAME, options, {"modalities", "n_samples", "seed"})
    images, labels = load_digits(return_X_y=True)
    n = number(NAME, options, "n_samples", len(labels), low=10, integer=True)
    rng = np.random.default_rng(number(NAME, options, "seed", 0, low=0, integer=True))
    left, right = _indices(rng, len(labels), n), _indices(rng, len(labels), n)
    targets = {"left": labels[left], "right": labels[right]}
    source = f"data set '{NAME}'"
    if not isinstance(options.get("modalities", False), bool):
        raise UserError(f"data.options.modalities for '{NAME}' must be true or false, got {options['modalities']!r}")
    if options.get("modalities"):
        side_names = {side: [f"{side}_pixel_{r}_{c}" for r in range(8) for c in range(8)] for side in ("left", "right")}
        return RawData({"left": images[left], "right": images[right]}, targets, side_names, source)
    # Row-major 8x16 image: row r is left row r followed by right row r.
    pairs = np.concatenate([images[left].reshape(n, 8, 8), images[right].reshape(n, 8, 8)], axis=2)
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(16)]
    return RawData(pairs.reshape(n, 128), targets, names, source)
