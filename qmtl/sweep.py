"""Sweeps: one YAML file expands into many ordinary runs, executed and aggregated.

A sweep file::

    name: lr-vs-layers                   # default: the file's stem
    base: ../configs/digits.yaml         # or an inline `config:` mapping
    grid:                                # every combination of these values
      training.lr: [0.01, 0.05]
      model.ansatz.layers: [1, 2]
    list:                                # and/or explicit override sets
      - {training.weighting: equal}
      - {training.weighting: dwa}
    seeds: [0, 1, 2]                     # every override set runs once per seed

Runs = (list entries, or one empty set) x (grid combinations) x seeds.  Overrides are
``key.path`` assignments with the meaning of ``qmtl train --set``.  Each run is a normal
run directory ``OUT/<name from its overrides>`` holding its resolved config; a run whose
directory is complete with the same resolved config is skipped, an incomplete one
(interrupted, failed) is resumed from its checkpoint or retrained, and a directory that
holds a different config is an error — so re-running a sweep finishes only what is
missing.  Results: ``results.csv`` (one row per run) and ``summary.csv`` (mean and
sample standard deviation over seeds per override set).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from tqdm import tqdm

from qmtl.checkpoint import atomic_write_text
from qmtl.config import (
    RunConfig,
    apply_override,
    dump_config,
    explain_validation_error,
    read_yaml,
    validate_config,
    with_absolute_data_path,
)
from qmtl.errors import UserError, nearest
from qmtl.rundir import RunDir
from qmtl.runlock import run_lock
from qmtl.sweep_executors import Executor, Outcome, check_retries, run_all

NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,-]")


class SweepFile(BaseModel):
    """The schema of a sweep file."""

    # strict: a seed is an integer, not ``true`` or ``"1"`` (the run config is strict too)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    name: str | None = Field(default=None, description="folder name under runs/sweeps/ (letters, digits, ._+=,-)")
    base: str | None = Field(default=None, description="run config to start from (relative to the sweep file or cwd)")
    config: dict[str, Any] | None = Field(default=None, description="inline run config instead of base")
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    runs: list[dict[str, Any]] = Field(default_factory=list, alias="list")
    seeds: list[int] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SweepFile:
        if self.name is not None and (_UNSAFE.search(self.name) or self.name in ("", ".", "..")):
            raise ValueError(f"name '{self.name}' must be a plain folder name (letters, digits and ._+=,-); "
                             "rename it")
        if (self.base is None) == (self.config is None):
            raise ValueError("a sweep needs exactly one of 'base: path/to/config.yaml' or an inline 'config:'")
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid key '{key}' has no values; give a non-empty list")
        keys = set(self.grid) | {key for entry in self.runs for key in entry}
        if "seed" in keys:
            raise ValueError("set seeds with 'seeds: [0, 1, 2]', not as an override")
        both = sorted(set(self.grid) & {key for entry in self.runs for key in entry})
        if both:
            raise ValueError(f"'{both[0]}' is in both grid and list; keep it in one")
        return self


SWEEP_KEYS = ("name", "base", "config", "grid", "list", "seeds")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its overrides, seed, resolved config and directory."""

    name: str
    overrides: dict[str, Any]
    seed: int
    config: RunConfig
    path: str
    cwd: str

    @property
    def group(self) -> str:
        """The override set, as a key shared by the seeds of one setting."""
        return json.dumps(self.overrides, sort_keys=True, default=str)


@dataclass
class Sweep:
    name: str
    runs: list[RunSpec]
    override_keys: list[str]


def _value_text(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def run_name(overrides: dict[str, Any], seed: int) -> str:
    """A stable, filesystem-safe directory name: ``key=value,...,seed=N``.

    Characters outside ``[A-Za-z0-9._+=,-]`` become ``_``; when that (or shortening to
    :data:`NAME_CHARS`) loses information, a hash of the exact overrides is appended so
    distinct runs never share a directory.
    """
    return _safe_name(",".join(f"{key}={_value_text(value)}" for key, value in [*overrides.items(), ("seed", seed)]))


def _safe_name(exact: str) -> str:
    safe = _UNSAFE.sub("_", exact)
    if safe == exact and len(safe) <= NAME_CHARS:
        return safe
    digest = hashlib.sha1(exact.encode()).hexdigest()[:8]
    return f"{safe[:NAME_CHARS]}-{digest}"


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
        key, valid = str(first["loc"][0]), list(SWEEP_KEYS)
        return f"unknown sweep key '{key}'{nearest(key, valid) or ''}; valid keys: {', '.join(valid)}"
    return explain_validation_error(error, SweepFile).replace("config key", "sweep key")


def _base_config(spec: SweepFile, sweep_path: Path) -> dict[str, Any]:
    if spec.config is not None:
        return spec.config
    assert spec.base is not None
    candidates = [sweep_path.parent / spec.base, Path(spec.base)]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        raise UserError(
            f"sweep '{sweep_path}': base config '{spec.base}' is neither next to the sweep file nor in the current "
            f"directory; fix 'base:'"
        )
    return read_yaml(found)


def _resolve(base: dict[str, Any], overrides: dict[str, Any], seed: int | None, where: str) -> RunConfig:
    raw = copy.deepcopy(base)
    for key, value in overrides.items():
        apply_override(raw, f"{key}={_value_text(value)}")
    if seed is not None:
        raw["seed"] = seed
    try:
        # A relative data.path means the directory the sweep is started in; saved absolute,
        # so the run can be evaluated or resumed from anywhere.
        return with_absolute_data_path(validate_config(raw))
    except UserError as error:
        raise UserError(f"{where}: {error}") from None


def load_sweep(path: str | Path, out: str | Path | None = None) -> Sweep:
    """Read a sweep file and expand it into validated runs under ``out``.

    Every run's config is validated here, so a bad value anywhere in the sweep is a
    user error before anything trains.
    """
    sweep_path = Path(path)
    raw = read_yaml(sweep_path)
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as error:
        raise UserError(f"sweep '{sweep_path}': {_explain(error)}") from None
    base = _base_config(spec, sweep_path)
    name = spec.name or sweep_path.stem
    root = Path(out) if out is not None else Path("runs") / "sweeps" / name
    if root.exists() and not root.is_dir():
        raise UserError(f"sweep directory '{root}' is a file; choose a directory with --out")
    keys = list(dict.fromkeys([*(k for entry in spec.runs for k in entry), *spec.grid]))
    grid = [dict(zip(spec.grid, values)) for values in itertools.product(*spec.grid.values())]
    settings = [{**entry, **point} for entry in (spec.runs or [{}]) for point in grid]
    runs: list[RunSpec] = []
    seeds: Sequence[int | None] = spec.seeds or [None]  # None: the base config's seed
    for overrides in settings:
        for seed in seeds:
            resolved_seed = seed if seed is not None else int(base.get("seed", 0))
            label = run_name(overrides, resolved_seed)
            config = _resolve(base, overrides, seed, f"sweep '{sweep_path}', run {label}")
            runs.append(RunSpec(label, overrides, config.seed, config, str((root / label).resolve()), os.getcwd()))
    _refuse_duplicates(runs, f"sweep '{sweep_path}'")
    return Sweep(name, runs, keys)


def _refuse_duplicates(runs: Sequence[RunSpec], where: str) -> None:
    names = [run.name for run in runs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise UserError(f"{where} expands to run '{duplicate}' twice; remove the repeated entry")


def sweep_of_runs(name: str, base: dict[str, Any], runs: Sequence[tuple[str, dict[str, Any], int]],
                  out: str | Path) -> Sweep:
    """A sweep without a sweep file: ``(label, overrides, seed)`` per run, from the config ``base``.

    For Python callers (the figure scripts) whose runs are not a plain grid.  Each run is
    ``out/<label>,seed=<seed>`` (made filesystem-safe as :func:`run_name` does); overrides
    mean what they mean in a sweep file, and :func:`run_sweep` runs, resumes, skips and
    summarises these runs exactly as it does those of ``qmtl sweep``.
    """
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise UserError(f"sweep directory '{root}' is a file; choose another directory")
    specs = []
    for label, overrides, seed in runs:
        run = _safe_name(f"{label},seed={seed}")
        config = _resolve(base, overrides, seed, f"sweep '{name}', run {run}")
        specs.append(RunSpec(run, overrides, config.seed, config, str((root / run).resolve()), os.getcwd()))
    _refuse_duplicates(specs, f"sweep '{name}'")
    keys = list(dict.fromkeys(key for _, overrides, _ in runs for key in overrides))
    return Sweep(name, specs, keys)


def plan(runs: Sequence[RunSpec]) -> tuple[list[RunSpec], list[RunSpec]]:
    """Split runs into (already complete, still to run); refuse directories of other configs.

    Every run to do gets its resolved ``config.yaml`` now, so even a run that fails
    before training starts leaves the exact config it was given.
    """
    done: list[RunSpec] = []
    todo: list[RunSpec] = []
    for run in runs:
        run_dir = RunDir(run.path)
        if run_dir.path.exists() and not run_dir.path.is_dir():
            raise UserError(f"'{run_dir.path}' (run '{run.name}') is a file; move it away or choose another --out")
        if run_dir.config.exists() and run_dir.config.read_text(encoding="utf-8") != dump_config(run.config):
            raise UserError(
                f"'{run_dir.path}' holds a run with a different config than this sweep's run '{run.name}'; "
                f"choose another --out (or delete that directory)"
            )
        (done if run_dir.is_complete() else todo).append(run)
    for run in todo:
        run_dir = RunDir(run.path)
        if not run_dir.config.exists():
            run_dir.path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_dir.config, dump_config(run.config))
    return done, todo


def execute_run(run: RunSpec, attempt: int) -> dict[str, Any]:
    """Train one run in a worker, as its directory's only writer; returns its ``final.json`` content.

    The first attempt resumes an interrupted run of the same config from its last
    checkpoint; a retry starts afresh, since a failed resume may be what failed.  A run
    another process is writing is refused (an error for this run, never counted as done).
    """
    from qmtl.training import resume, train

    if os.path.isdir(run.cwd):
        # Relative paths in the config (data.path) mean what they meant where the sweep
        # was started, whatever directory the pool or Ray started this worker in.
        os.chdir(run.cwd)
    run_dir = RunDir(run.path)
    with run_lock(run_dir.path, f"qmtl sweep, run {run.name}", create=True):
        if run_dir.is_complete():
            return _final(run)  # completed by another writer since ``plan`` looked
        if attempt == 0 and run_dir.last_checkpoint.exists():
            return resume(run_dir, run.config, progress=False)
        # ``plan`` has checked the directory holds nothing or this same config.
        return train(run.config, run_dir, progress=False, force=True)


def _final(run: RunSpec) -> dict[str, Any]:
    return json.loads(RunDir(run.path).final.read_text(encoding="utf-8"))


def _row(run: RunSpec, keys: Sequence[str], status: str, attempts: int, error: str | None,
         final: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"run": run.name, **{key: _value_text(run.overrides[key]) if key in run.overrides else ""
                                               for key in keys}}
    row.update(seed=run.seed, status=status, attempts=attempts, error=error or "")
    if final is not None:
        row["wall_time_s"] = final.get("wall_time_s", "")
        for task, metrics in final["test"].items():
            row.update({f"test.{task}.{metric}": value for metric, value in metrics.items()})
    return row


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(column for row in rows for column in row))


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=_columns(rows), restval="")
        writer.writeheader()
        writer.writerows(rows)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation ``sqrt(sum((v - mean)^2) / (n - 1))`` of ``values``.

    The standard deviation of a single value is NaN, not 0: one seed says nothing about
    the spread.  The one definition used by ``summary.csv`` and the figure scripts.
    """
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarise(runs: Sequence[RunSpec], rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Per override set: run counts and mean/std over seeds of every test metric."""
    groups: dict[str, list[tuple[RunSpec, dict[str, Any]]]] = {}
    for run, row in zip(runs, rows):
        groups.setdefault(run.group, []).append((run, row))
    summary = []
    for members in groups.values():
        first = members[0][1]
        complete = [row for _, row in members if row["status"] != "failed"]
        entry: dict[str, Any] = {key: first[key] for key in keys}
        entry.update(runs=len(members), complete=len(complete), failed=len(members) - len(complete))
        for column in _columns(complete):
            if column.startswith("test."):
                values = [float(row[column]) for row in complete if column in row]
                entry[f"{column}.mean"], entry[f"{column}.std"] = mean_std(values)
        summary.append(entry)
    return summary


def _cell(mean: Any, std: Any) -> str:
    if mean is None:
        return "-"
    return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def summary_table(sweep: Sweep, summary: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Rows of the printed table: override set, runs done, each task's primary test metric."""
    tasks = [(task.name, task.primary_metric) for task in sweep.runs[0].config.tasks]
    header = [*sweep.override_keys, "complete", *(f"{name} {metric}" for name, metric in tasks)]
    rows = [header]
    for entry in summary:
        cells = [str(entry[key]) for key in sweep.override_keys]
        cells.append(f"{entry['complete']}/{entry['runs']}")
        for name, metric in tasks:
            column = f"test.{name}.{metric}"
            cells.append(_cell(entry.get(f"{column}.mean"), entry.get(f"{column}.std")))
        rows.append(cells)
    return rows


def failure_table(result: SweepResult) -> list[list[str]]:
    """Rows of the printed table of failed runs (header only when none failed)."""
    rows = [["failed run", "attempts", "error"]]
    rows += [[row["run"], str(row["attempts"]), row["error"]] for row in result.rows if row["status"] == "failed"]
    return rows


@dataclass
class SweepResult:
    """What a sweep did: per-run rows (as in ``results.csv``), the summary and the counts."""

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    trained: int
    skipped: int
    failed: int
    out: Path


def run_sweep(sweep: Sweep, executor: Executor, retries: int = 1, progress: bool = True) -> SweepResult:
    """Run every incomplete run of ``sweep``, then write ``results.csv`` and ``summary.csv``."""
    check_retries(retries)  # before ``plan`` writes anything
    done, todo = plan(sweep.runs)
    outcomes: dict[str, Outcome] = {}
    bar = tqdm(total=len(sweep.runs), initial=len(done), desc=f"sweep {sweep.name}", unit="run",
               disable=not progress, dynamic_ncols=True)

    def record(outcome: Outcome) -> None:
        outcomes[outcome.item.name] = outcome
        bar.update(1)
        failed = sum(o.error is not None for o in outcomes.values())
        if failed:
            bar.set_postfix(failed=failed)

    try:
        run_all(executor, execute_run, todo, retries, record)
    finally:
        bar.close()
    rows = []
    for run in sweep.runs:
        outcome = outcomes.get(run.name)
        if outcome is None:
            rows.append(_row(run, sweep.override_keys, "skipped", 0, None, _final(run)))
        elif outcome.error is not None:
            rows.append(_row(run, sweep.override_keys, "failed", outcome.attempts, outcome.error, None))
        else:
            rows.append(_row(run, sweep.override_keys, "trained", outcome.attempts, None, outcome.value))
    out = Path(sweep.runs[0].path).parent
    summary = summarise(sweep.runs, rows, sweep.override_keys)
    _write_csv(out / "results.csv", rows)
    _write_csv(out / "summary.csv", summary)
    failed = sum(row["status"] == "failed" for row in rows)
    return SweepResult(rows, summary, len(todo) - failed, len(done), failed, out)
