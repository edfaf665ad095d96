"""Multi-task data: raw arrays from a loader -> checked, split, standardised tensors.

Loaders only read; everything a user can get wrong about data is checked here, once,
for every loader: non-finite features (the column is named), tasks missing from the
data, labels outside a task's range (the bad values are named), length mismatches,
empty splits and classes missing from the training split.  Splits are seeded and the
standardisation is fitted on the training split only, so nothing leaks from val/test.

Regression targets are left in their units by default, so reported MSE/MAE mean what the
user's data means.  ``standardise_targets`` (``data.options.standardise_targets: true``)
rescales each regression target to zero mean and unit variance on the training split:
tasks in different units (pounds and beats per minute) then contribute comparable losses
under equal weighting, and an affine head starts near the right scale.  Metrics are then
in training-standard-deviation units (R² is unchanged); the means and standard deviations
are recorded as ``target.<task>.mean`` / ``.std`` in ``standardisation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from qmtl.errors import UserError
from qmtl.tasks import TaskConfig

ArrayFeatures = np.ndarray | dict[str, np.ndarray]
TensorFeatures = torch.Tensor | dict[str, torch.Tensor]


@dataclass
class RawData:
    """What a loader returns: features (one array or one per modality) and targets by task."""

    features: ArrayFeatures
    targets: dict[str, np.ndarray]
    feature_names: list[str] | dict[str, list[str]]
    source: str


@dataclass
class Split:
    """One split as tensors: ``features`` and ``targets[task]`` share their first axis."""

    features: TensorFeatures
    targets: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return len(next(iter(self.targets.values())))

    def subset(self, index: torch.Tensor) -> "Split":
        if isinstance(self.features, dict):
            features: TensorFeatures = {k: v[index] for k, v in self.features.items()}
        else:
            features = self.features[index]
        return Split(features, {k: v[index] for k, v in self.targets.items()})


@dataclass
class MultiTaskData:
    train: Split
    val: Split
    test: Split
    input_dims: int | dict[str, int]
    feature_names: list[str] | dict[str, list[str]]
    standardisation: dict[str, list[float]] = field(default_factory=dict)


def _modalities(raw: RawData) -> dict[str, tuple[np.ndarray, list[str]]]:
    if isinstance(raw.features, dict):
        names = raw.feature_names if isinstance(raw.feature_names, dict) else {}
        return {k: (v, list(names.get(k, [f"{k}[{i}]" for i in range(v.shape[1])]))) for k, v in raw.features.items()}
    names = raw.feature_names if isinstance(raw.feature_names, list) else []
    return {"features": (raw.features, names)}


def check_features(raw: RawData) -> None:
    """Finite, two-dimensional, non-empty features of one length across modalities."""
    lengths = set()
    for modality, (array, names) in _modalities(raw).items():
        if array.ndim != 2 or array.shape[0] == 0:
            raise UserError(f"{raw.source}: features '{modality}' must be a non-empty 2-D table, got shape {array.shape}")
        bad = ~np.isfinite(array)
        if bad.any():
            column = int(np.argwhere(bad.any(axis=0))[0, 0])
            row = int(np.argwhere(bad[:, column])[0, 0])
            name = names[column] if column < len(names) else f"column {column}"
            raise UserError(
                f"{raw.source}: feature '{name}' has a NaN or infinite value (row {row}); "
                f"clean or drop it before training"
            )
        lengths.add(array.shape[0])
    if len(lengths) > 1:
        raise UserError(f"{raw.source}: modalities have different numbers of rows {sorted(lengths)}; align them")


def check_targets(raw: RawData, tasks: Sequence[TaskConfig]) -> None:
    """Every configured task has finite targets of the right length and range."""
    n_rows = next(iter(_modalities(raw).values()))[0].shape[0]
    for task in tasks:
        if task.name not in raw.targets:
            raise UserError(
                f"task '{task.name}' is not in {raw.source}; its tasks are: {', '.join(sorted(raw.targets))}"
            )
        values = np.asarray(raw.targets[task.name])
        if len(values) != n_rows:
            raise UserError(
                f"{raw.source}: task '{task.name}' has {len(values)} labels for {n_rows} feature rows; "
                f"give one label per row"
            )
        if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values.astype(float)).all():
            raise UserError(f"{raw.source}: task '{task.name}' has non-numeric, NaN or infinite labels; clean them")
        if task.kind == "regression":
            width = 1 if values.ndim == 1 else values.shape[1]
            if width != task.outputs:
                raise UserError(f"task '{task.name}' declares outputs: {task.outputs} but the data has {width}; fix outputs")
            continue
        n_classes = task.classes if task.kind == "multiclass" else 2
        assert n_classes is not None
        bad = values[(values != np.round(values)) | (values < 0) | (values >= n_classes)]
        if bad.size:
            shown = ", ".join(str(v) for v in np.unique(bad)[:5])
            raise UserError(
                f"task '{task.name}' ({task.kind}) needs labels 0..{n_classes - 1} but has {shown}; "
                f"fix the labels or the task's kind/classes"
            )


def _stratify_labels(raw: RawData, tasks: Sequence[TaskConfig]) -> np.ndarray | None:
    for task in tasks:
        if task.kind != "regression":
            labels = np.asarray(raw.targets[task.name]).astype(int)
            if np.bincount(labels).min(initial=0) >= 3 or len(np.unique(labels)) == 1:
                return labels
    return None


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


def prepare(raw: RawData, tasks: Sequence[TaskConfig], val_fraction: float, test_fraction: float, seed: int,
            limit: int | None = None, standardise_targets: bool = False) -> MultiTaskData:
    """Check, split (seeded) and standardise (fitted on train) a loader's raw data."""
    check_features(raw)
    check_targets(raw, tasks)
    modalities = _modalities(raw)
    n = next(iter(modalities.values()))[0].shape[0]
    if limit is not None and limit < n:
        keep = np.sort(np.random.default_rng(seed).permutation(n)[:limit])
        modalities = {k: (v[keep], names) for k, (v, names) in modalities.items()}
        raw = RawData(
            {k: v for k, (v, _) in modalities.items()}, {k: np.asarray(v)[keep] for k, v in raw.targets.items()},
            raw.feature_names, raw.source,
        )
        n = limit
    train, val, test = split_indices(n, val_fraction, test_fraction, seed, _stratify_labels(raw, tasks))
    for name, index in (("train", train), ("validation", val), ("test", test)):
        if len(index) == 0:
            raise UserError(f"{raw.source}: the {name} split is empty ({n} examples); use more data or other fractions")
    for task in tasks:
        if task.kind == "multiclass":
            assert task.classes is not None
            missing = sorted(set(range(task.classes)) - set(np.asarray(raw.targets[task.name])[train].astype(int)))
            if missing:
                raise UserError(
                    f"task '{task.name}': class(es) {missing} never occur in the training split; "
                    f"add examples or lower 'classes'"
                )
    scaled: dict[str, np.ndarray] = {}
    stats: dict[str, list[float]] = {}
    for name, (array, _) in modalities.items():
        array = array.astype(np.float64)
        mean, std = array[train].mean(axis=0), array[train].std(axis=0)
        std = np.where(std < 1e-8, 1.0, std)
        scaled[name] = ((array - mean) / std).astype(np.float32)
        stats[f"{name}.mean"], stats[f"{name}.std"] = mean.tolist(), std.tolist()
    targets_by_task = {task.name: np.asarray(raw.targets[task.name]) for task in tasks}
    if standardise_targets:
        for task in tasks:
            if task.kind == "regression":
                values = targets_by_task[task.name].astype(np.float64)
                mean, std = values[train].mean(axis=0), values[train].std(axis=0)
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
        return Split(features, targets)

    input_dims: int | dict[str, int] = (
        {k: v.shape[1] for k, v in scaled.items()} if isinstance(raw.features, dict) else scaled["features"].shape[1]
    )
    return MultiTaskData(make(train), make(val), make(test), input_dims, raw.feature_names, stats)
