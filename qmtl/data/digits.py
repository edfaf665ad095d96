"""A multi-task view of scikit-learn's bundled 8x8 handwritten digits (1,797 images).

Tasks: ``digit`` (multiclass, 0-9), ``parity`` (binary, digit is odd) and ``ge5``
(binary, digit >= 5).  With ``options: {modalities: true}`` the image is given as two
modalities — the left and right halves (32 pixels each) — which exercises the
one-encoder-per-modality path.  No download: the data ship inside scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import Field
from sklearn.datasets import load_digits as _sklearn_digits

from qmtl.data.base import RawData
from qmtl.data.options import DataOptions, parse_data_options

NAME = "digits"


class DigitsOptions(DataOptions):
    """Options of ``digits``."""

    modalities: bool = Field(
        False, description="give the image as two modalities, its left and right halves (32 pixels each)")


def load_digits(given: Mapping[str, Any]) -> RawData:
    options = parse_data_options(NAME, DigitsOptions, given)
    images, labels = _sklearn_digits(return_X_y=True)
    targets = {"digit": labels, "parity": labels % 2, "ge5": (labels >= 5).astype(np.int64)}
    names = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
    if options.modalities:
        left = [8 * row + col for row in range(8) for col in range(4)]
        right = [8 * row + col for row in range(8) for col in range(4, 8)]
        return RawData(
            {"left": images[:, left], "right": images[:, right]}, targets,
            {"left": [names[i] for i in left], "right": [names[i] for i in right]}, "data set 'digits'",
        )
    return RawData(images, targets, names, "data set 'digits'")
