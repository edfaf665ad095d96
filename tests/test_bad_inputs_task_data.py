"""Bad task data (missing labels, one source per task): exit code 2, one line, nothing written.

Each case writes its CSV/NPZ files and a config into a temporary directory and runs
``qmtl train`` in-process, as ``tests/test_bad_inputs_data.py`` does for single data sets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from folder_state import folder_state
from tiny_configs import TINY

from qmtl.cli import main

Case = Callable[[Path], list[str]]

TASKS = [{"name": "a", "kind": "binary", "observables": ["Z0"]},
         {"name": "b", "kind": "regression", "observables": ["Z1"]}]
ROWS = 40


def _table(task: str, rows: int = ROWS, columns: tuple[str, ...] = ("x", "y"),
           label: Callable[[int], str] | None = None) -> str:
    label = label or (lambda i: str(i % 2))
    lines = [",".join(f"{(i * (k + 3)) % 11 * 0.1:.1f}" for k in range(len(columns))) + f",{label(i)}"
             for i in range(rows)]
    return ",".join([*columns, task]) + "\n" + "\n".join(lines) + "\n"


def _train(tmp: Path, data: dict[str, Any], tasks: list[dict[str, Any]] | None = None) -> list[str]:
    raw = copy.deepcopy(TINY)
    raw["data"] = data
    raw["tasks"] = tasks or TASKS
    raw["training"]["epochs"] = 1
    (tmp / "config.yaml").write_text(yaml.safe_dump(raw))
    return ["train", str(tmp / "config.yaml"), "--out", str(tmp / "run"), "--quiet"]


def per_task(files: dict[str, str], sources: dict[str, Any] | None = None, tasks: list[dict[str, Any]] | None = None,
             **options: Any) -> Case:
    """CSV files by name, and ``per_task`` sources (default: task ``t`` reads ``t.csv``)."""
    def build(tmp: Path) -> list[str]:
        for name, content in files.items():
            (tmp / name).write_text(content)
        given = sources if sources is not None else {t: {"name": "csv", "path": f"{t}.csv"} for t in ("a", "b")}
        return _train(tmp, {"name": "per_task", "options": {"sources": given, **options}}, tasks)
    return build


def one_csv(content: str, tasks: list[dict[str, Any]] | None = None) -> Case:
    def build(tmp: Path) -> list[str]:
        (tmp / "data.csv").write_text(content)
        return _train(tmp, {"name": "csv", "path": "data.csv"}, tasks)
    return build


def npz(**arrays: np.ndarray) -> Case:
    def build(tmp: Path) -> list[str]:
        np.savez(tmp / "data.npz", **arrays)
        return _train(tmp, {"name": "npz", "path": "data.npz"},
                      [{"name": "v", "kind": "regression", "outputs": 2, "observables": ["Z0", "Z1"]}])
    return build


GOOD = {"a.csv": _table("a"), "b.csv": _table("b", label=lambda i: f"{i * 0.05:.2f}")}
BOTH = "x,y,a,b\n" + "".join(f"{i % 7 * 0.1:.1f},{i % 5 * 0.2:.1f},{i % 2},{'' if i % 20 else i * 0.1}\n"
                             for i in range(ROWS))
EMPTY_COLUMN = "x,y,a,b\n" + "".join(f"{i % 7 * 0.1:.1f},{i % 5 * 0.2:.1f},{i % 2},\n" for i in range(ROWS))
HALF_ROW = np.arange(2.0 * ROWS).reshape(ROWS, 2)
HALF_ROW[5, 1] = np.nan

CASES: dict[str, tuple[Case, str]] = {
    # Missing labels
    "task without labelled example in a split": (one_csv(BOTH), "task 'b' has no labelled example in the"),
    "label column entirely empty": (one_csv(EMPTY_COLUMN), "task 'b' has no label at all (every value is missing)"),
    "multi-output label half missing": (npz(X=np.random.default_rng(0).normal(size=(ROWS, 3)), y_v=HALF_ROW),
                                        "task 'v' misses some but not all outputs (row index 5)"),
    # One source per task
    "source of another feature width": (per_task({**GOOD, "b.csv": _table("b", columns=("x", "y", "z"))}),
                                        "the source of task 'b' (data file"),
    "source of other feature columns": (per_task({**GOOD, "b.csv": _table("b", columns=("x", "w"))}),
                                        "feature 2 of the source of task 'b'"),
    "unknown source loader": (per_task(GOOD, {"a": {"name": "cvs", "path": "a.csv"}, "b": {"name": "csv", "path": "b.csv"}}),
                              "the source of task 'a': unknown data set 'cvs' (did you mean 'csv'?)"),
    "source for a task not configured": (per_task({**GOOD, "c.csv": _table("c")}, {
        t: {"name": "csv", "path": f"{t}.csv"} for t in ("a", "b", "c")}), "has a source for 'c', which is not a task"),
    "task without a source": (per_task(GOOD, {"a": {"name": "csv", "path": "a.csv"}}), "task 'b' has no data source"),
    "source label column empty": (per_task({**GOOD, "b.csv": _table("b", label=lambda i: "")}),
                                  "task 'b' has no label at all"),
    "source missing its task column": (per_task({**GOOD, "b.csv": _table("c")}), "the source of task 'b': task 'b' is not in data file"),
    "source file missing": (per_task({"a.csv": GOOD["a.csv"]}), "does not exist; check data.options.sources.b.path"),
    "source key misspelt": (per_task(GOOD, {"a": {"name": "csv", "pth": "a.csv"}, "b": {"name": "csv", "path": "b.csv"}}),
                            "unknown key 'data.options.sources.a.pth' (did you mean 'path'?)"),
    "source path not a string": (per_task(GOOD, {"a": {"name": "csv", "path": 3}, "b": {"name": "csv", "path": "b.csv"}}),
                                 "data.options.sources.a.path"),
    "source without a name": (per_task(GOOD, {"a": {"path": "a.csv"}, "b": {"name": "csv", "path": "b.csv"}}),
                              "data.options.sources.a.name is required"),
    "source not a mapping": (per_task(GOOD, {"a": "a.csv", "b": {"name": "csv", "path": "b.csv"}}),
                             "data.options.sources.a must be a data source"),
    "sources missing": (per_task(GOOD, {}), "data.options.sources for 'per_task' must map each task"),
    "unknown per_task option": (per_task(GOOD, sourcse={}), "data.options.sourcse is not known to 'per_task' (did you mean 'sources'?)"),
    "nested per_task": (per_task(GOOD, {"a": {"name": "per_task"}, "b": {"name": "csv", "path": "b.csv"}}),
                        "data.options.sources.a.name is 'per_task'"),
    "standardise_targets per source": (per_task(GOOD, {"a": {"name": "csv", "path": "a.csv"}, "b": {
        "name": "csv", "path": "b.csv", "options": {"standardise_targets": True}}}), "set data.options.standardise_targets once"),
    "source with too few rows for its task's splits": (per_task({**GOOD, "b.csv": _table("b", rows=2)}),
                                                       "task 'b' has no labelled example in the"),
    "source option unknown to its loader": (per_task(GOOD, {"a": {"name": "csv", "path": "a.csv", "options": {"x": 1}},
                                                            "b": {"name": "csv", "path": "b.csv"}}),
                                            "the source of task 'a': data.options.sources.a.options.x is not known to 'csv'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_task_data_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    build, expected = CASES[case]
    argv = build(tmp_path)
    before = folder_state(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err
    assert folder_state(tmp_path) == before
    assert not (tmp_path / "run").exists()


def test_the_good_variants_train(tmp_path):
    """The files the cases above spoil train as they are (so each case fails for its own reason)."""
    for name, build in (("per-task", per_task(GOOD)), ("partial", one_csv(BOTH.replace(",\n", ",0.5\n", 10)))):
        folder = tmp_path / name
        folder.mkdir()
        assert main(build(folder)) == 0
