"""A derived multi-task benchmark from scikit-learn's Wisconsin breast-cancer data.

569 tumours, 30 real-valued cell-nucleus measurements (Street, Wolberg and Mangasarian,
1993; bundled with scikit-learn, no download).  The original data has one task; this
view derives more, and is a construction of ours, not a published benchmark:

* ``malignant`` (binary): 1 for malignant, 0 for benign (scikit-learn codes benign as 1);
* any measurement as a regression task, named as scikit-learn names it with spaces
  replaced by underscores — e.g. ``mean_radius``, ``mean_texture``, ``worst_area``.

Every measurement configured as a task is removed from the features, so it is predicted
from the others and never seen as input.  The auxiliary tasks vary in difficulty:
``mean_radius`` is nearly determined by ``mean_perimeter`` and ``mean_area`` (easy);
``mean_texture`` is only loosely related to the shape measurements (hard).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.datasets import load_breast_cancer as _sklearn_breast_cancer

from qmtl.data.base import RawData
from qmtl.data.options import DataOptions, parse_data_options

NAME = "breast-cancer"


class BreastCancerOptions(DataOptions):
    """``breast-cancer`` takes no options: its tasks choose the measurements left out of the features."""


def load_breast_cancer(options: dict[str, Any], task_names: Sequence[str]) -> RawData:
    parse_data_options(NAME, BreastCancerOptions, options)
    bunch = _sklearn_breast_cancer()
    columns = [name.replace(" ", "_") for name in bunch.feature_names]
    targets = {"malignant": 1 - bunch.target, **{name: bunch.data[:, i] for i, name in enumerate(columns)}}
    keep = [i for i, name in enumerate(columns) if name not in task_names]
    return RawData(bunch.data[:, keep], targets, [columns[i] for i in keep], f"data set '{NAME}'")
