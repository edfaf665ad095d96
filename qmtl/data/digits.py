"""A multi-task view of scikit-learn's bundled 8x8 handwritten digits (1,797 images).

Tasks: ``digit`` (multiclass, 0-9), ``parity`` (binary, digit is odd) and ``ge5``
(binary, digit >= 5).  With ``options: {modalities: true}`` the image is given as two
modalities — the left and right halves (32 pixels each) — which exercises the
one-encoder-per-modality path.  No download: the data ship inside scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.datasets import load_digits as _sklearn_digits

from qmtl.data.base import RawData
from qmtl.data.options import check_known
from qmtl.errors import UserError


def load_digits(options: dict[str, Any]) -> RawData:
    check_known("digits", options, {"modalities"})
    if not isinstance(options.get("modalities", False), bool):
        raise UserError(f"data.options.modalities for 'digits' must be true or false, got {options['modalities']!r}")
    images, labels = _sklearn_digits(return_X_y=True)
    targets = {"digit": labels, "parity": labels % 2, "ge5": (labels >= 5).astype(np.int64)}
    names = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
    if options.get("modalities"):
        left = [8 * row + col for row in range(8) for col in range(4)]
        right = [8 * row + col for row in range(8) for col in range(4, 8)]
        return RawData(
            {"left": images[:, left], "right": images[:, right]}, targets,
            {"left": [names[i] for i in left], "right": [names[i] for i in right]}, "data set 'digits'",
        )
    return RawData(images, targets, names, "data set 'digits'")
