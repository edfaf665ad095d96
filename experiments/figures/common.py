"""Shared helpers of the figure scripts: arguments, runs through :mod:`qmtl.sweep`, output.

Every figure script is ``python experiments/figures/<name>.py [--quick] [--out DIR]
[--runs DIR]``.  It trains (or counts, or times) what it plots, writes ``<name>.png``,
``<name>.pdf`` and ``<name>.csv`` (the numbers behind the plot) into ``--out``
(default ``docs/figures/``), and keeps its run directories under ``--runs`` (default
``runs/figures/<name>``).  A run directory that already holds a complete run of the same
resolved config is reused, so re-plotting costs nothing; one holding another config is
refused, as ``qmtl sweep`` refuses it.  Runs come from :mod:`qmtl.sweep`.

Statistics (every figure alike):

* a value over seeds is its mean with a two-sided 95 % Student-t interval,
  :func:`t_interval` (one seed: no interval, NaN bounds, no error bar);
* two settings are compared by a paired t-test across seeds, :func:`paired_test`: the same
  seed gives both the same split, batch order and (where the data are generated) data, so
  the per-seed differences are what is tested; the CSV records the mean difference with
  its 95 % interval and the two-sided p-value;
* every trained run is checked for convergence, :func:`convergence`: a run whose best
  validation epoch is its last one was still improving when it stopped.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from qmtl.config import read_yaml  # noqa: E402
from qmtl.rundir import RunDir  # noqa: E402
from qmtl.sweep import mean_std, run_sweep, sweep_of_runs  # noqa: E402
from qmtl.sweep_executors import LocalExecutor  # noqa: E402

__all__ = ["ROOT", "Interval", "PairedTest", "Trained", "arguments", "by_seed", "convergence", "interval_columns",
           "mean_std", "paired_columns", "paired_test", "read_config", "report", "run_grid", "run_runs", "save", "still_improving", "t_interval"]

ROOT = Path(__file__).resolve().parents[2]
CONFIDENCE = 0.95
STARTED = time.perf_counter()  # a figure's wall time runs from the import of this module
FIGURES = ROOT / "docs" / "figures"
STYLE = {
    "figure.dpi": 120, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.grid": True,
    "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
}
plt.rcParams.update(STYLE)


def arguments(doc: str | None, name: str) -> argparse.Namespace:
    """``--quick``, ``--out`` and ``--runs`` (the latter defaulting to ``runs/figures/<name>``)."""
    parser = argparse.ArgumentParser(description=(doc or name).splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (CI): seconds, not minutes")
    parser.add_argument("--out", type=Path, default=FIGURES, help="where the PNG, PDF and CSV go")
    parser.add_argument("--runs", type=Path, default=Path("runs") / "figures" / name,
                        help="where the run directories go")
    return parser.parse_args()


def read_config(name: str) -> dict[str, Any]:
    """The raw example config ``experiments/configs/<name>``."""
    return read_yaml(ROOT / "experiments" / "configs" / name)


@dataclass(frozen=True)
class Trained:
    """One trained run of a figure: its setting's label, seed, directory, ``final.json``
    content, and the ``summary.csv`` entry of its setting (mean/std over its seeds)."""

    label: str
    seed: int
    path: Path
    final: dict[str, Any]
    summary: dict[str, Any]


def run_grid(base: dict[str, Any], settings: dict[str, dict[str, Any]], seeds: Iterable[int],
             root: Path) -> list[Trained]:
    """Every labelled setting x seed, run as a ``qmtl sweep`` in ``root`` (one worker).

    ``settings`` maps a label to ``key.path`` overrides of ``base``; a run lives in
    ``root/<label>,seed=<seed>``, and ``root`` gets the sweep's ``results.csv`` and
    ``summary.csv``.
    """
    return run_runs(base, [(label, overrides, seed) for label, overrides in settings.items() for seed in seeds],
                    root)


def run_runs(base: dict[str, Any], runs: Sequence[tuple[str, dict[str, Any], int]], root: Path) -> list[Trained]:
    """Like :func:`run_grid`, for runs listed as ``(label, overrides, seed)``.

    Complete runs of the same config are reused; a directory holding another config is
    refused (choose another ``--runs``).  A failed run ends the script with its error,
    since a figure with a missing run would silently plot fewer seeds.
    """
    sweep = sweep_of_runs(root.name, base, runs, root)
    with LocalExecutor(workers=1) as executor:
        result = run_sweep(sweep, executor, retries=0, progress=False)
    failed = [row for row in result.rows if row["status"] == "failed"]
    if failed:
        raise SystemExit(f"run {failed[0]['run']} failed: {failed[0]['error']}")
    # ``summarise`` lists one entry per override set, in the order the runs first use them.
    groups = list(dict.fromkeys(spec.group for spec in sweep.runs))
    summaries = dict(zip(groups, result.summary))
    print(f"  {root}: {result.trained} trained, {result.skipped} reused", flush=True)
    return [Trained(label, spec.seed, Path(spec.path),
                    json.loads(RunDir(spec.path).final.read_text(encoding="utf-8")), summaries[spec.group])
            for (label, _, _), spec in zip(runs, sweep.runs)]


@dataclass(frozen=True)
class Interval:
    """The mean of ``n`` values with the bounds of its two-sided confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width (an error bar); NaN for one value."""
        return (self.high - self.low) / 2

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (False when there is none)."""
        return self.low <= value <= self.high


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    r"""Mean and Student-t confidence interval of ``values``, seeds taken as i.i.d. draws:
    :math:`\bar x \pm t_{(1+c)/2,\,n-1}\, s/\sqrt n` with the sample standard deviation
    :math:`s` (quantile from :data:`scipy.stats.t`).  One value has no interval (NaN bounds)."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return Interval(mean, math.nan, math.nan, len(array))
    half = float(stats.t.ppf((1 + confidence) / 2, len(array) - 1) * stats.sem(array))
    return Interval(mean, mean - half, mean + half, len(array))


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of ``a`` and ``b``: the mean difference ``a - b`` with its interval,
    and the two-sided p-value of "the mean difference is zero"."""

    difference: Interval
    p_value: float


def paired_test(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> PairedTest:
    r"""Student's paired t-test (:func:`scipy.stats.ttest_rel`) of ``a[i]`` against ``b[i]``.

    With :math:`d_i = a_i - b_i`, :math:`t = \bar d / (s_d / \sqrt n)` on :math:`n - 1`
    degrees of freedom; the interval is :func:`t_interval` of the :math:`d_i`.  Identical
    pairs (every :math:`d_i` equal) give no p-value (NaN), as scipy does; so does one pair.
    """
    if len(a) != len(b):
        raise ValueError(f"a paired test needs as many values in a as in b, got {len(a)} and {len(b)}")
    difference = t_interval(np.subtract(a, b), confidence)
    if len(a) < 2 or np.ptp(np.subtract(a, b)) == 0:
        return PairedTest(difference, math.nan)
    return PairedTest(difference, float(stats.ttest_rel(a, b).pvalue))


def interval_columns(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """CSV columns of a value over seeds: mean, 95 % interval, number of seeds, the values."""
    interval = t_interval(values)
    return {"mean": interval.mean, "ci95_low": interval.low, "ci95_high": interval.high, "seeds": interval.n,
            "values": " ".join(f"{v:.{digits}f}" for v in values)}


def paired_columns(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """CSV columns of a paired test of ``a`` against ``b`` (difference ``a - b``)."""
    test = paired_test(a, b)
    return {"difference": test.difference.mean, "difference_ci95_low": test.difference.low,
            "difference_ci95_high": test.difference.high, "p_value": test.p_value, "pairs": test.difference.n}


def by_seed(runs: Iterable[Trained], label: str) -> dict[int, Trained]:
    """The runs of setting ``label`` by seed: paired tests compare two settings seed by seed."""
    return {run.seed: run for run in runs if run.label == label}


def still_improving(run: Trained) -> bool:
    """Whether the run's best validation epoch was its last one (its curve had not flattened)."""
    return bool(run.final["best_epoch"] == run.final["epochs_run"])


def convergence(runs: Sequence[Trained]) -> dict[str, Any]:
    """CSV columns on how the runs ended: their best and last epochs, and how many were still
    improving at their last epoch."""
    return {"best_epochs": " ".join(str(run.final["best_epoch"]) for run in runs),
            "epochs_run": " ".join(str(run.final["epochs_run"]) for run in runs),
            "still_improving": sum(still_improving(run) for run in runs)}


def report(runs: Sequence[Trained]) -> None:
    """Print how many runs were still improving and their summed training time."""
    improving = sum(still_improving(run) for run in runs)
    training = sum(run.final["wall_time_s"] for run in runs)
    print(f"  {len(runs)} runs, {improving} still improving at their last epoch, {training:.0f} s of training "
          "(as recorded by each run)", flush=True)


def save(figure: plt.Figure, rows: Sequence[dict[str, Any]], out: Path, name: str) -> None:
    """Write ``name.png``, ``name.pdf`` and ``name.csv`` (one row per plotted value) to ``out``,
    and print the figure's wall time so far (runs reused from earlier calls cost nothing)."""
    out.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out / f"{name}.png")
    figure.savefig(out / f"{name}.pdf")
    plt.close(figure)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out / name}.png/.pdf/.csv ({len(rows)} rows); wall time {time.perf_counter() - STARTED:.0f} s")
