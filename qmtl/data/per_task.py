"""One data source per task (LibMTL's multi-input mode), reduced to missing labels.

``data.name: per_task`` lists, under ``data.options.sources``, one data source for each
configured task: any other data set with its own ``name``, ``path``, ``features`` and
``options``, as a ``data`` section would give them::

    data:
      name: per_task
      options:
        sources:
          sign: {name: csv, path: sign.csv}
          level: {name: npz, path: level.npz}

Each source is loaded and checked on its own (messages name its file and line), then the
sources are stacked into one data set whose rows are labelled for their own source's task
only.  Everything else is the missing-labels machinery (:mod:`qmtl.data.partial_labels`):
the split is stratified by source, so each task is trained, validated and tested on its
own source's rows; the batches hold rows of every source; losses and metrics of a task
read its own rows only.  The tasks share one encoder, so every source must give the same
features (same modalities, widths and column names); the features are standardised over
the stacked training rows.  ``data.options.standardise_targets`` applies to every source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import Field, ValidationError

from qmtl.config import DataConfig, short_repr
from qmtl.data.base import RawData, _modalities, check_features, check_targets
from qmtl.data.options import DataOptions
from qmtl.errors import UserError, nearest
from qmtl.options import ComponentOptions, explain
from qmtl.tasks import TaskConfig

NAME = "per_task"
SOURCES = "sources"
#: A key of a ``data`` section named in a loader's message.
DATA_KEY = re.compile(r"\bdata\.(path|features|options)\b")

#: Loads one source as a ``data`` section would: the data set's raw, unchecked data.
SourceLoader = Callable[[DataConfig, Sequence[TaskConfig]], RawData]


class DataSource(ComponentOptions):
    """The data of one task: the keys of a ``data`` section that say where examples come from."""

    name: str = Field(description="registered data set, e.g. csv, npz, digits")
    path: str | None = Field(default=None, description="file for user-data loaders (csv, npz)")
    features: list[str] | None = Field(default=None, description="feature columns (csv); default: every non-task column")
    options: dict[str, Any] = Field(default_factory=dict, description="the data set's own options")


class PerTaskOptions(DataOptions):
    """Options of ``per_task``: one data source per task, stacked into one data set with missing labels."""

    sources: dict[str, DataSource] = Field(
        description="per task, its data source: {name, path, features, options} as a data section gives them, "
                    "e.g. {sign: {name: csv, path: sign.csv}}")


def parse_sources(options: Mapping[str, Any]) -> dict[str, DataSource]:
    """``data.options`` of ``per_task`` as validated sources by task, or a one-line UserError."""
    unknown = sorted(set(options) - {SOURCES}, key=str)
    if unknown:
        raise UserError(f"data.options.{unknown[0]} is not known to '{NAME}'{nearest(str(unknown[0]), [SOURCES])}; "
                        f"valid: {SOURCES}")
    given = options.get(SOURCES)
    example = "e.g. {sign: {name: csv, path: sign.csv}, level: {name: csv, path: level.csv}}"
    if not isinstance(given, dict) or not given:
        raise UserError(f"data.options.{SOURCES} for '{NAME}' must map each task to its data source, {example}; "
                        f"got {short_repr(given)}")
    sources = {}
    for task, source in given.items():
        where = f"data.options.{SOURCES}.{task}"
        if not isinstance(source, dict):
            raise UserError(f"{where} must be a data source such as {{name: csv, path: {task}.csv}}, got {short_repr(source)}")
        extra = sorted(set(source) - set(DataSource.model_fields), key=str)
        if extra:
            raise UserError(f"unknown key '{where}.{extra[0]}'{nearest(str(extra[0]), DataSource.model_fields)}; "
                            f"valid: {', '.join(DataSource.model_fields)}")
        try:
            sources[str(task)] = DataSource(**source)
        except ValidationError as error:
            raise UserError(explain(str(task), DataSource, error, f"{where}.{{name}}")) from None
        if sources[str(task)].name == NAME:
            raise UserError(f"{where}.name is '{NAME}'; a source is one data set, e.g. csv or npz")
        if "standardise_targets" in sources[str(task)].options:
            raise UserError(f"{where}.options.standardise_targets is set per source; set "
                            f"data.options.standardise_targets once, for every task")
    return sources


def _as_source_keys(message: str, task: str) -> str:
    """A loader's message, which names the keys of a ``data`` section, naming the source's keys."""
    prefix = f"data.options.{SOURCES}.{task}."
    return DATA_KEY.sub(lambda key: prefix + key.group(1), message)


def _check_tasks(sources: Mapping[str, DataSource], tasks: Sequence[TaskConfig]) -> None:
    names = [task.name for task in tasks]
    for task in sources:
        if task not in names:
            raise UserError(f"data.options.{SOURCES} has a source for '{task}', which is not a task "
                            f"(tasks: {', '.join(names)}){nearest(task, names)}; remove it or add the task")
    for task in names:
        if task not in sources:
            raise UserError(f"task '{task}' has no data source; add data.options.{SOURCES}.{task}: "
                            f"{{name: ..., path: ...}}")


def _feature_layout(raw: RawData) -> dict[str, tuple[int, list[str]]]:
    return {modality: (array.shape[1], names) for modality, (array, names) in _modalities(raw).items()}


def _check_same_features(task: str, raw: RawData, first_task: str, first: RawData) -> None:
    """The tasks share one encoder: every source gives the same modalities, widths and columns."""
    layout, reference = _feature_layout(raw), _feature_layout(first)
    if isinstance(raw.features, dict) != isinstance(first.features, dict) or set(layout) != set(reference):
        raise UserError(
            f"the source of task '{task}' ({raw.source}) has feature modalities {sorted(layout)}, the source of "
            f"'{first_task}' has {sorted(reference)}; every source must give the same features (one shared encoder)"
        )
    for modality, (width, names) in layout.items():
        first_width, first_names = reference[modality]
        what = "" if modality == "features" else f" in modality '{modality}'"
        if width != first_width:
            raise UserError(
                f"the source of task '{task}' ({raw.source}) has {width} features{what}, the source of "
                f"'{first_task}' has {first_width}; every source must give the same features (one shared encoder)"
            )
        if names != first_names:
            at = next(i for i, (a, b) in enumerate(zip(names, first_names)) if a != b)
            raise UserError(
                f"feature {at + 1}{what} of the source of task '{task}' ({raw.source}) is '{names[at]}', of "
                f"'{first_task}' '{first_names[at]}'; give every source the same feature columns in the same order"
            )


def load_per_task(options: Mapping[str, Any], tasks: Sequence[TaskConfig], load_source: SourceLoader) -> RawData:
    """Load each task's source, check it, and stack the sources into one partially labelled data set."""
    sources = parse_sources(options)
    _check_tasks(sources, tasks)
    by_name = {task.name: task for task in tasks}
    loaded: dict[str, RawData] = {}
    labels: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for task_name, source in sources.items():
        task = by_name[task_name]
        config = DataConfig(name=source.name, path=source.path, features=source.features, options=source.options)
        try:
            raw = load_source(config, [task])
        except UserError as error:
            raise UserError(f"the source of task '{task_name}': {_as_source_keys(str(error), task_name)}") from None
        check_features(raw)
        checked, labelled_rows = check_targets(raw, [task])
        loaded[task_name] = raw
        labels[task_name] = checked[task_name], labelled_rows[task_name]
    first_task, first = next(iter(loaded.items()))
    for task_name, raw in loaded.items():
        _check_same_features(task_name, raw, first_task, first)
    sizes = [len(labels[task][1]) for task in loaded]
    offsets = np.cumsum([0, *sizes])
    targets = {}  # a task's column: its source's labels on its source's rows, NaN (missing) elsewhere
    for (task_name, (values, labelled)), start, stop in zip(labels.items(), offsets[:-1], offsets[1:]):
        column = np.full((int(offsets[-1]), *values.shape[1:]), np.nan)
        column[start:stop] = np.where(labelled.reshape(-1, *[1] * (values.ndim - 1)), values, np.nan)
        targets[task_name] = column
    described = "; ".join(f"'{task}': {raw.source}" for task, raw in loaded.items())
    source_text = f"per-task data ({described})"
    if isinstance(first.features, dict):
        modalities = {m: np.concatenate([np.asarray(raw.features[m], dtype=np.float64) for raw in loaded.values()
                                         if isinstance(raw.features, dict)]) for m in first.features}
        return RawData(modalities, targets, first.feature_names, source_text)
    stacked = np.concatenate([np.asarray(raw.features, dtype=np.float64) for raw in loaded.values()])
    return RawData(stacked, targets, first.feature_names, source_text)
