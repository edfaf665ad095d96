"""Multi-task data: raw arrays from a loader -> checked, split, standardised tensors.

Loaders only read; everything a user can get wrong about data is checked here, once,
for every loader: non-numeric, complex or non-finite features (the column and row are
named), features too large to standardise, tasks missing from the data, labels of the
wrong shape or outside a task's range (the bad values are named), length mismatches, too
few examples for the splits, and classes missing from the training split (a binary task
whose labels are all one class would otherwise score accuracy 1.0).  Splits are seeded
and the standardisation is fitted on the training split only, so nothing leaks from
val/test; ``MultiTaskData.split`` records which examples went where.

Missing labels: a NaN target is a missing label (loaders turn an empty CSV cell into
one).  Each split carries a boolean mask per task of its labelled rows
(``Split.labelled``); a missing label's target is a placeholder 0 that no loss or metric
reads.  With missing labels the split is stratified by label pattern
(:mod:`qmtl.data.partial_labels`), and a task without a labelled row in some split, or
without any label at all, is refused.  Class and standardisation checks use the labelled
rows of each task only.

Regression targets are left in their units by default, so reported MSE/MAE mean what the
user's data means.  ``standardise_targets`` (``data.options.standardise_targets: true``)
rescales each regression target to zero mean and unit variance on the training split:
tasks in different units (pounds and beats per minute) then contribute comparable losses
under equal weighting, and an affine head starts near the right scale.  Metrics are then
in training-standard-deviation units (R² is unchanged); the means and standard deviations
are recorded as ``target.<task>.mean`` / ``.std`` in ``standardisation``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from qmtl.data.partial_labels import check_labelled_in_every_split, has_missing_labels, label_patterns
from qmtl.errors import UserError
from qmtl.tasks import TaskConfig

ArrayFeatures = np.ndarray | dict[str, np.ndarray]
TensorFeatures = torch.Tensor | dict[str, torch.Tensor]


@dataclass
class RawData:
    """What a loader returns: features (one array or one per modality) and targets by task.

    ``row_lines`` maps a row index to the line a user sees in an editor (files with a
    header); without it rows are named by their 0-based index, as NumPy names them.
    """

    features: ArrayFeatures
    targets: dict[str, np.ndarray]
    feature_names: list[str] | dict[str, list[str]]
    source: str
    row_lines: list[int] | None = None

    def row(self, index: int) -> str:
        """How a message names row ``index``."""
        return f"line {self.row_lines[index]}" if self.row_lines is not None else f"row index {index}"


@dataclass
class Split:
    """One split as tensors: ``features``, ``targets[task]`` and ``labelled[task]`` share their first axis.

    ``labelled[task]`` is a boolean mask of the rows that carry a label for ``task``; the
    target of any other row is a placeholder 0 that losses and metrics never read
    (:func:`qmtl.evaluation.task_losses`).  A task left out of ``labelled`` is labelled on
    every row, so a split built without masks is fully labelled.
    """

    features: TensorFeatures
    targets: dict[str, torch.Tensor]
    labelled: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for task, target in self.targets.items():
            if task not in self.labelled:
                self.labelled[task] = torch.ones(len(target), dtype=torch.bool)

    def __len__(self) -> int:
        return len(next(iter(self.targets.values())))

    def subset(self, index: torch.Tensor | slice) -> Split:
        if isinstance(self.features, dict):
            features: TensorFeatures = {k: v[index] for k, v in self.features.items()}
        else:
            features = self.features[index]
        return Split(features, {k: v[index] for k, v in self.targets.items()},
                     {k: v[index] for k, v in self.labelled.items()})


@dataclass
class MultiTaskData:
    train: Split
    val: Split
    test: Split
    input_dims: int | dict[str, int]
    feature_names: list[str] | dict[str, list[str]]
    standardisation: dict[str, list[float]] = field(default_factory=dict)
    #: Which examples went where: sizes and a hash of the split indices (see ``split_identity``).
    split: dict[str, Any] = field(default_factory=dict)


def check_data_file(path: Path, kind: str) -> None:
    """``data.path`` names an existing regular file (not a folder, device or pipe)."""
    if path.is_dir():
        raise UserError(f"data.path '{path}' is a directory; point data.path at the {kind} file itself")
    if not path.exists():
        raise UserError(f"data file '{path}' does not exist; check data.path")
    if not path.is_file():
        raise UserError(f"data.path '{path}' is not a regular file (a device, pipe or socket); save the data to a {kind} file")


def _modalities(raw: RawData) -> dict[str, tuple[np.ndarray, list[str]]]:
    if isinstance(raw.features, dict):
        named = raw.feature_names if isinstance(raw.feature_names, dict) else {}
        return {k: (v, list(named.get(k, [f"{k}[{i}]" for i in range(v.shape[1])]))) for k, v in raw.features.items()}
    names = raw.feature_names if isinstance(raw.feature_names, list) else []
    return {"features": (raw.features, names)}


def _column_name(names: list[str], column: int) -> str:
    return names[column] if column < len(names) else f"column {column}"


def check_features(raw: RawData) -> None:
    """Real, finite, two-dimensional, non-empty features of one length across modalities."""
    lengths = set()
    for modality, (array, names) in _modalities(raw).items():
        array = np.asarray(array)
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
            raise UserError(
                f"{raw.source}: features '{modality}' must be a non-empty 2-D table (examples x features), "
                f"got shape {array.shape}; reshape it to (n_examples, n_features)"
            )
        if np.iscomplexobj(array):
            raise UserError(f"{raw.source}: features '{modality}' are complex numbers; give real parts and "
                            f"imaginary parts as separate real features")
        if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.number):
            raise UserError(f"{raw.source}: features '{modality}' hold {array.dtype} values, not numbers; encode them numerically")
        bad = ~np.isfinite(array.astype(np.float64))
        if bad.any():
            column = int(np.argwhere(bad.any(axis=0))[0, 0])
            row = int(np.argwhere(bad[:, column])[0, 0])
            raise UserError(
                f"{raw.source}: feature '{_column_name(names, column)}' has a NaN or infinite value "
                f"({raw.row(row)}); clean or drop it before training"
            )
        lengths.add(array.shape[0])
    if len(lengths) > 1:
        raise UserError(f"{raw.source}: modalities have different numbers of rows {sorted(lengths)}; align them")


#: Largest magnitude a target may have: targets become float32 tensors (max about 3.4e38).
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_targets(raw: RawData, tasks: Sequence[TaskConfig]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every configured task has real, finite targets of the right shape and range.

    A NaN target is a missing label (an empty CSV cell, a NaN in an ``.npz``; a
    multi-output target is missing whole or not at all).  Returns the targets by task as
    plain arrays (booleans become 0/1, a ``(n, 1)`` column of class labels becomes
    ``(n,)``, a missing label becomes a placeholder 0) and the boolean mask of labelled
    rows by task.
    """
    n_rows = next(iter(_modalities(raw).values()))[0].shape[0]
    checked: dict[str, np.ndarray] = {}
    labelled_by_task: dict[str, np.ndarray] = {}
    for task in tasks:
        if task.name not in raw.targets:
            raise UserError(
                f"task '{task.name}' is not in {raw.source}; its tasks are: {', '.join(sorted(raw.targets)) or 'none'}"
            )
        values = np.asarray(raw.targets[task.name])
        if values.ndim == 0 or len(values) != n_rows:
            count = 1 if values.ndim == 0 else len(values)
            raise UserError(
                f"{raw.source}: task '{task.name}' has {count} labels for {n_rows} feature rows; "
                f"give one label per row"
            )
        if values.dtype == np.bool_:
            values = values.astype(np.int64)
        if np.iscomplexobj(values):
            raise UserError(f"{raw.source}: task '{task.name}' has complex labels; give real numbers")
        if not np.issubdtype(values.dtype, np.number):
            raise UserError(f"{raw.source}: task '{task.name}' holds {values.dtype} labels, not numbers; encode them numerically")
        by_row = values.astype(np.float64).reshape(n_rows, -1)
        infinite = np.isinf(by_row).any(axis=1)
        if infinite.any():
            row = int(np.argmax(infinite))
            raise UserError(f"{raw.source}: task '{task.name}' has an infinite label ({raw.row(row)}); fix it "
                            f"(a missing label is NaN in an array, an empty cell in a CSV)")
        missing = np.isnan(by_row)
        partial = missing.any(axis=1) & ~missing.all(axis=1)
        if partial.any():
            raise UserError(
                f"{raw.source}: task '{task.name}' misses some but not all outputs ({raw.row(int(np.argmax(partial)))}); "
                f"give every output of a row, or none to mark the label missing"
            )
        labelled = np.asarray(~missing.any(axis=1))
        if not labelled.any():
            raise UserError(
                f"{raw.source}: task '{task.name}' has no label at all (every value is missing); "
                f"fill its labels or remove the task"
            )
        if not labelled.all():
            values = np.asarray(np.where(np.isnan(values.astype(np.float64)), 0.0, values))  # placeholder, never read
        labelled_by_task[task.name] = labelled
        if task.kind == "regression":
            if values.ndim > 2:
                raise UserError(
                    f"{raw.source}: task '{task.name}' has targets of shape {values.shape}; "
                    f"give (n,) or (n, outputs)"
                )
            width = 1 if values.ndim == 1 else values.shape[1]
            if width != task.outputs:
                raise UserError(f"task '{task.name}' declares outputs: {task.outputs} but the data has {width}; fix outputs")
            largest = float(np.abs(values.astype(np.float64)).max())
            if largest > FLOAT32_MAX:
                raise UserError(
                    f"{raw.source}: task '{task.name}' has targets up to {largest:.3g}, beyond the float32 range "
                    f"training uses; rescale them (e.g. to other units)"
                )
            checked[task.name] = values
            continue
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise UserError(
                f"{raw.source}: task '{task.name}' ({task.kind}) needs one class label per row, shape ({n_rows},), "
                f"got shape {values.shape}; give class indices, not one-hot or multi-column labels"
            )
        n_classes = task.classes if task.kind == "multiclass" else 2
        assert n_classes is not None
        bad = values[(values != np.round(values)) | (values < 0) | (values >= n_classes)]
        if bad.size:
            shown = ", ".join(str(v) for v in np.unique(bad)[:5])
            raise UserError(
                f"task '{task.name}' ({task.kind}) needs labels 0..{n_classes - 1} but has {shown}; "
                f"fix the labels or the task's kind/classes"
            )
        checked[task.name] = values.astype(np.int64)
    return checked, labelled_by_task


def _stratify_labels(targets: dict[str, np.ndarray], labelled: dict[str, np.ndarray],
                     tasks: Sequence[TaskConfig]) -> np.ndarray | None:
    if has_missing_labels(labelled):
        # Each way of being labelled (each source of per-task data) in every split in proportion,
        # and within it the classes of the first classification task where there are enough.
        patterns = label_patterns(labelled)
        for task in tasks:
            if task.kind != "regression":
                classes = np.where(labelled[task.name], targets[task.name], -1)
                _, strata = np.unique(np.stack([patterns, classes], axis=1), axis=0, return_inverse=True)
                strata = strata.reshape(-1)
                return strata if np.bincount(strata).min() >= 3 else patterns
        return patterns
    for task in tasks:
        if task.kind != "regression":
            labels = targets[task.name]
            if np.bincount(labels).min(initial=0) >= 3 or len(np.unique(labels)) == 1:
                return labels
    return None


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """``(train, val, test)`` sizes of :func:`split_indices` for ``n`` examples.

    The test split takes ``ceil(test_fraction * n)`` examples and validation
    ``ceil(val_fraction / (1 - test_fraction) * rest)`` of the rest, as scikit-learn's
    ``train_test_split`` rounds.
    """
    n_test = math.ceil(test_fraction * n)
    rest = n - n_test
    n_val = math.ceil(val_fraction / (1 - test_fraction) * rest)
    return rest - n_val, n_val, n_test


def check_split_sizes(n: int, val_fraction: float, test_fraction: float, source: str) -> None:
    """Refuse data too small to give every split at least one example."""
    sizes = split_sizes(n, val_fraction, test_fraction)
    if min(sizes) >= 1:
        return
    empty = ("train", "validation", "test")[sizes.index(min(sizes))]
    needed = next(m for m in range(n + 1, 100 * n + 1000) if min(split_sizes(m, val_fraction, test_fraction)) >= 1)
    raise UserError(
        f"{source}: {n} example(s) are too few for val_fraction {val_fraction} and test_fraction "
        f"{test_fraction} (the {empty} split would be empty); use at least {needed} examples"
    )


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int, stratify: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Seeded (stratified where possible) train/val/test index split."""
    index = np.arange(n)
    try:
        rest, test = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=stratify)
        train, val = train_test_split(
            rest, test_size=val_fraction / (1 - test_fraction), random_state=seed + 1,
            stratify=None if stratify is None else stratify[rest],
        )
    except ValueError:
        # Too few examples of some class to stratify: fall back to a plain seeded split.
        rest, test = train_test_split(index, test_size=test_fraction, random_state=seed)
        train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), random_state=seed + 1)
    return np.sort(train), np.sort(val), np.sort(test)


def split_digest(n: int, train: np.ndarray, val: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    """Sizes and a SHA-256 of the split indices (into the loader's rows): the split's identity.

    Two runs whose digests agree trained, validated and tested on the same examples of
    the same data; a checkpoint is only evaluated on the split it was trained beside.
    """
    digest = hashlib.sha256(f"{n}:{len(train)}:{len(val)}:{len(test)}:".encode())
    for index in (train, val, test):
        digest.update(np.ascontiguousarray(index, dtype="<i8").tobytes())
    return {"examples": n, "train": len(train), "val": len(val), "test": len(test),
            "indices_sha256": digest.hexdigest()}


def _check_classes(source: str, tasks: Sequence[TaskConfig], targets: dict[str, np.ndarray],
                   labelled: dict[str, np.ndarray], train: np.ndarray) -> None:
    """Every class of every classification task occurs in its labelled training rows.

    A task with one class in training can only learn to predict that class, and it then
    scores as if it had learnt something (accuracy 1.0 when the test split agrees).
    """
    for task in tasks:
        if task.kind == "regression":
            continue
        n_classes = task.classes if task.kind == "multiclass" else 2
        assert n_classes is not None
        labels = targets[task.name][labelled[task.name]]
        train_labels = targets[task.name][train[labelled[task.name][train]]]
        missing = sorted(set(range(n_classes)) - set(train_labels.tolist()))
        if not missing:
            continue
        present = sorted(set(labels.tolist()))
        if len(present) == 1:
            raise UserError(
                f"{source}: every label of task '{task.name}' ({task.kind}) is {present[0]}; a task with one "
                f"class cannot be learnt or scored: fix the labels or drop the task"
            )
        shown = f"{missing[:10]}"[:-1] + (f", ... ({len(missing)} in all)]" if len(missing) > 10 else "]")
        raise UserError(
            f"task '{task.name}': class(es) {shown} never occur in the training split; "
            f"add examples or lower 'classes'"
        )


def _standardise(source: str, array: np.ndarray, names: list[str], train: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(array - mean) / std`` with mean and std of the training rows; refuses overflow."""
    array = array.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = array[train].mean(axis=0), array[train].std(axis=0)
        std = np.where(std < 1e-8, 1.0, std)
        scaled = (array - mean) / std
    overflow = ~(np.isfinite(mean) & np.isfinite(std) & np.isfinite(scaled).all(axis=0))
    if overflow.any():
        column = int(np.argmax(overflow))
        largest = float(np.abs(array[:, column]).max())
        raise UserError(
            f"{source}: feature '{_column_name(names, column)}' has values up to {largest:.3g}, too large to "
            f"standardise in floating point; rescale that column (e.g. other units or a logarithm)"
        )
    return scaled.astype(np.float32), mean, std


def prepare(raw: RawData, tasks: Sequence[TaskConfig], val_fraction: float, test_fraction: float, seed: int,
            limit: int | None = None, standardise_targets: bool = False) -> MultiTaskData:
    """Check, split (seeded) and standardise (fitted on train) a loader's raw data."""
    check_features(raw)
    targets_by_task, labelled = check_targets(raw, tasks)
    modalities = _modalities(raw)
    n_total = n = next(iter(modalities.values()))[0].shape[0]
    keep = np.arange(n)
    if limit is not None and limit < n:
        keep = np.sort(np.random.default_rng(seed).permutation(n)[:limit])
        modalities = {k: (v[keep], names) for k, (v, names) in modalities.items()}
        targets_by_task = {k: v[keep] for k, v in targets_by_task.items()}
        labelled = {k: v[keep] for k, v in labelled.items()}
        n = limit
    check_split_sizes(n, val_fraction, test_fraction, raw.source)
    train, val, test = split_indices(n, val_fraction, test_fraction, seed,
                                     _stratify_labels(targets_by_task, labelled, tasks))
    check_labelled_in_every_split(raw.source, labelled, {"train": train, "val": val, "test": test})
    _check_classes(raw.source, tasks, targets_by_task, labelled, train)
    scaled: dict[str, np.ndarray] = {}
    stats: dict[str, list[float]] = {}
    for name, (array, names) in modalities.items():
        scaled[name], mean, std = _standardise(raw.source, array, names, train)
        stats[f"{name}.mean"], stats[f"{name}.std"] = mean.tolist(), std.tolist()
    if standardise_targets:
        for task in tasks:
            if task.kind == "regression":
                values = targets_by_task[task.name].astype(np.float64)
                fitted = values[train[labelled[task.name][train]]]  # labelled training rows only
                mean, std = fitted.mean(axis=0), fitted.std(axis=0)
                std = np.where(std < 1e-8, 1.0, std)
                targets_by_task[task.name] = (values - mean) / std
                stats[f"target.{task.name}.mean"] = np.atleast_1d(mean).tolist()
                stats[f"target.{task.name}.std"] = np.atleast_1d(std).tolist()

    def make(index: np.ndarray) -> Split:
        features: TensorFeatures
        if isinstance(raw.features, dict):
            features = {k: torch.from_numpy(v[index]) for k, v in scaled.items()}
        else:
            features = torch.from_numpy(scaled["features"][index])
        targets = {}
        for task in tasks:
            values = targets_by_task[task.name][index]
            targets[task.name] = (
                torch.from_numpy(values.astype(np.float32)) if task.kind == "regression" else torch.from_numpy(values.astype(np.int64))
            )
        return Split(features, targets, {task.name: torch.from_numpy(labelled[task.name][index]) for task in tasks})

    input_dims: int | dict[str, int] = (
        {k: v.shape[1] for k, v in scaled.items()} if isinstance(raw.features, dict) else scaled["features"].shape[1]
    )
    return MultiTaskData(make(train), make(val), make(test), input_dims, raw.feature_names, stats,
                         split_digest(n_total, keep[train], keep[val], keep[test]))
