"""User data from a CSV file: feature columns plus one column per task.

The header (line 1) names the columns.  Task columns are the configured task names;
features are ``data.features`` or every other column.  ``options: {modalities: {name:
[cols]}}`` groups feature columns into modalities, each with its own encoder (instead
of ``data.features``).  Multi-output regression tasks use columns ``<task>[0]``,
``<task>[1]``, ...

The file is UTF-8 (a byte-order mark is skipped); the separator is the one of ``,``,
``;`` and tab that occurs most often in the header (``,`` when none does).  Blank lines
are skipped.  Only the columns in use are parsed, so other columns may hold text.  Every
message names the line as an editor shows it: the header is line 1.  Refused, with the
fix: a header with a nameless or repeated column, a task column also given as a feature
(the model would read its own answer), rows of the wrong length, and cells that are
not numbers, NaN or infinite, or empty feature cells.  An empty cell in a task's column
is a missing label: the task is not trained or scored on that row (a multi-output task's
cells of one row are all empty or all filled).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from qmtl.data.base import RawData, check_data_file
from qmtl.data.options import DataOptions, parse_data_options
from qmtl.errors import UserError

NAME = "csv"
SEPARATORS = (",", ";", "\t")
#: Characters read to find the separator: enough for any header line in practice.
SNIFF_CHARACTERS = 1 << 16


def _separator(sample: str) -> str:
    header = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])  # ties: the earliest, ","
    return best if counts[best] else ","


@contextmanager
def _reading(file: Path) -> Iterator[None]:
    """Turn the ways reading a file fails into one-line errors naming the file."""
    try:
        yield
    except UnicodeDecodeError:
        raise UserError(f"data file '{file}' is not UTF-8 text; export it as a UTF-8 CSV") from None
    except csv.Error as error:
        raise UserError(f"data file '{file}' is not a readable CSV ({error}); export it as CSV") from None
    except OSError as error:
        raise UserError(f"cannot read data file '{file}' ({error.strerror}); check its permissions") from None


def _records(file: Path, separator: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank record; the first is the header."""
    with _reading(file), file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=separator)
        line = 1
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                yield line, record
            line = reader.line_num + 1


def _check_header(file: Path, header: list[str]) -> None:
    if all(_is_number(name) for name in header):
        raise UserError(
            f"line 1 of '{file}' holds numbers, not column names; add a header row naming the columns "
            f"(each task's column by the task's name)"
        )
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if not name:
            raise UserError(f"column {number} of the header of '{file}' has no name; name every column")
        if name in seen:
            raise UserError(
                f"column '{name}' appears twice in the header of '{file}' (columns {seen[name]} and {number}); "
                f"rename one"
            )
        seen[name] = number


def _task_columns(file: Path, header: list[str], task: str) -> list[str]:
    """The task's column, or its ``task[0]``, ``task[1]``, ... columns in output order."""
    indexed = {}
    for name in header:
        match = re.fullmatch(rf"{re.escape(task)}\[(\d+)\]", name)
        if match:
            indexed[int(match.group(1))] = name
    if task in header:
        if indexed:
            raise UserError(f"'{file}' has both a column '{task}' and columns '{task}[i]'; keep one form")
        return [task]
    if indexed and sorted(indexed) != list(range(len(indexed))):
        raise UserError(
            f"task '{task}' columns in '{file}' are numbered {sorted(indexed)}; number them 0..{len(indexed) - 1}"
        )
    if not indexed:
        raise UserError(
            f"task '{task}' is not in data file '{file}'; its columns are: {', '.join(header)}; "
            f"name a column after each task"
        )
    return [indexed[i] for i in range(len(indexed))]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvOptions(DataOptions):
    """Options of ``csv``."""

    modalities: Annotated[dict[str, Annotated[list[str], Field(min_length=1)]], Field(min_length=1)] | None = Field(
        None, description="feature columns grouped into modalities, one encoder each, instead of data.features; "
                          "e.g. {image: [a, b], text: [c]}")


def _modalities(options: CsvOptions, columns: list[str] | None) -> dict[str, list[str]] | None:
    if options.modalities is not None and columns is not None:
        raise UserError("set data.features or data.options.modalities for 'csv', not both")
    return options.modalities


def _check_features(file: Path, header: list[str], groups: dict[str, list[str]], task_of: dict[str, str],
                    key: str) -> None:
    owner: dict[str, str] = {}
    for group, names in groups.items():
        for name in names:
            if name not in header:
                raise UserError(f"feature column '{name}' is not in '{file}'; its columns are: {', '.join(header)}")
            if name in task_of:
                raise UserError(
                    f"column '{name}' is the target of task '{task_of[name]}' and is also listed in {key}; remove it "
                    f"from {key} (the model would read its own answer)"
                )
            if name in owner:
                where = "twice" if owner[name] == group else f"in both '{owner[name]}' and '{group}'"
                raise UserError(f"feature column '{name}' is listed {where} in {key}; list each column once")
            owner[name] = group


def _value(file: Path, line: int, column: str, task: str | None, text: str, decimal_comma_hint: bool) -> float:
    """The number in one cell; ``task`` names the task whose target the column is, if any.

    An empty cell of a task's column is a missing label: NaN, which ``prepare`` turns
    into the task's mask of labelled rows.
    """
    if not text.strip() and task is not None:
        return math.nan
    if not text.strip():
        raise UserError(f"data file '{file}' column '{column}' line {line} is empty; fill the cell or drop the row")
    try:
        value = float(text)
    except ValueError:
        hint = "; use '.' as the decimal mark" if decimal_comma_hint and "," in text else ""
        raise UserError(
            f"data file '{file}' column '{column}' line {line} holds {text[:40]!r}, not a number; "
            f"encode it numerically{hint}"
        ) from None
    if not math.isfinite(value):
        what = f"task '{task}' has a NaN or infinite label" if task else f"feature '{column}' has a NaN or infinite value"
        fix = "fix the cell, or leave it empty for a missing label" if task else "fill the cell or drop the row"
        raise UserError(f"data file '{file}': {what} (line {line}: {text.strip()!r}); {fix}")
    return value


def load_csv(path: str | None, columns: list[str] | None, given: Mapping[str, Any], task_names: Sequence[str]) -> RawData:
    options = parse_data_options(NAME, CsvOptions, given)
    if path is None:
        raise UserError("data set 'csv' needs a file; set data.path: path/to/data.csv")
    file = Path(path)
    check_data_file(file, "CSV")
    groups_option = _modalities(options, columns)
    with _reading(file), file.open(encoding="utf-8-sig") as handle:
        separator = _separator(handle.read(SNIFF_CHARACTERS))
    records = _records(file, separator)
    header_line = next(records, None)
    if header_line is None:
        raise UserError(f"data file '{file}' is empty; it needs a header row and at least one data row")
    header = [name.strip() for name in header_line[1]]
    _check_header(file, header)
    task_columns = {task: _task_columns(file, header, task) for task in task_names}
    task_of = {column: task for task, found in task_columns.items() for column in found}
    if groups_option is not None:
        groups, key = groups_option, "data.options.modalities"
    else:
        features = columns if columns is not None else [c for c in header if c not in task_of]
        groups, key = {"features": features}, "data.features"
    _check_features(file, header, groups, task_of, key)
    if not any(groups.values()):
        raise UserError(f"data file '{file}' has no feature columns besides the task columns")
    used = list(dict.fromkeys([*task_of, *(c for names in groups.values() for c in names)]))
    positions = [header.index(name) for name in used]
    rows: list[list[float]] = []
    lines: list[int] = []
    for line, record in records:
        if len(record) != len(header):
            raise UserError(
                f"data file '{file}' line {line} has {len(record)} fields, the header has {len(header)}; fix that line"
            )
        rows.append([_value(file, line, name, task_of.get(name), record[at], separator != ",")
                     for name, at in zip(used, positions)])
        lines.append(line)
    if not rows:
        raise UserError(f"data file '{file}' has a header but no data rows; it needs at least one data row")
    table = np.array(rows, dtype=np.float64)
    column = {name: table[:, i] for i, name in enumerate(used)}
    targets = {
        task: column[found[0]] if found == [task] else np.stack([column[c] for c in found], axis=1)
        for task, found in task_columns.items()
    }
    arrays = {group: np.stack([column[c] for c in names], axis=1) for group, names in groups.items()}
    source = f"data file '{file}'"
    if groups_option is not None:
        return RawData(arrays, targets, groups, source, lines)
    return RawData(arrays["features"], targets, groups["features"], source, lines)
