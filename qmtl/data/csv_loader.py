"""User data from a CSV file: feature columns plus one column per task.

The header names the columns.  Task columns are the configured task names; features
are ``data.features`` or every other column.  ``options: {modalities: {name: [cols]}}``
groups feature columns into modalities, each with its own encoder.  Multi-output
regression tasks use columns ``<task>[0]``, ``<task>[1]``, ...
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from qmtl.data.base import RawData
from qmtl.errors import UserError


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.exists():
        raise UserError(f"data file '{path}' does not exist; check data.path")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"data file '{path}' is not a readable UTF-8 CSV ({error}); export it as CSV") from None
    rows = [row for row in rows if row]
    if len(rows) < 2:
        raise UserError(f"data file '{path}' needs a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UserError(f"data file '{path}' line {number} has {len(row)} fields, the header has {len(header)}; fix that line")
    return header, rows[1:]


def _column(path: Path, header: list[str], rows: list[list[str]], name: str) -> np.ndarray:
    index = header.index(name)
    values = np.empty(len(rows))
    for number, row in enumerate(rows, start=2):
        try:
            values[number - 2] = float(row[index])
        except ValueError:
            raise UserError(
                f"data file '{path}' column '{name}' line {number} holds '{row[index]}', not a number; "
                f"encode it numerically"
            ) from None
    return values


def load_csv(path: str | None, columns: list[str] | None, options: dict[str, Any], task_names: list[str]) -> RawData:
    if path is None:
        raise UserError("data set 'csv' needs a file; set data.path: path/to/data.csv")
    file = Path(path)
    header, rows = _read_table(file)
    task_columns = {
        name: [c for c in header if c == name or (c.startswith(f"{name}[") and c.endswith("]"))] for name in task_names
    }
    targets: dict[str, np.ndarray] = {}
    for name, found in task_columns.items():
        if not found:
            continue
        stacked = np.stack([_column(file, header, rows, c) for c in found], axis=1)
        targets[name] = stacked[:, 0] if found == [name] else stacked
    used = {c for found in task_columns.values() for c in found}
    modalities = options.get("modalities")
    unknown = set(options) - {"modalities"}
    if unknown:
        raise UserError(f"data.options {sorted(unknown)} are not known to 'csv'; valid: modalities")
    features = columns if columns is not None else [c for c in header if c not in used]
    groups: dict[str, list[str]] = dict(modalities) if modalities else {"features": features}
    for group in groups.values():
        for name in group:
            if name not in header:
                raise UserError(f"feature column '{name}' is not in '{file}'; its columns are: {', '.join(header)}")
    if not any(groups.values()):
        raise UserError(f"data file '{file}' has no feature columns besides the task columns")
    arrays = {k: np.stack([_column(file, header, rows, c) for c in v], axis=1) for k, v in groups.items()}
    source = f"data file '{file}'"
    if modalities:
        return RawData(arrays, targets, groups, source)
    return RawData(arrays["features"], targets, groups["features"], source)
