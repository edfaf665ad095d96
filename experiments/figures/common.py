"""Shared helpers of the figure scripts: arguments, runs through :mod:`qmtl.sweep`, output.

Every figure script is ``python experiments/figures/<name>.py [--quick] [--out DIR]
[--runs DIR]``.  It trains (or counts, or times) what it plots, writes ``<name>.png``,
``<name>.pdf`` and ``<name>.csv`` (the numbers behind the plot) into ``--out``
(default ``docs/figures/``), and keeps its run directories under ``--runs`` (default
``runs/figures/<name>``).  A run directory that already holds a complete run of the same
resolved config is reused, so re-plotting costs nothing; one holding another config is
refused, as ``qmtl sweep`` refuses it.  Runs and their mean ± std over seeds come from
:mod:`qmtl.sweep` (:func:`qmtl.sweep.mean_std`: the std of a single seed is NaN, drawn as
no error bar and written as ``nan`` in the CSV).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from qmtl.config import read_yaml  # noqa: E402
from qmtl.rundir import RunDir  # noqa: E402
from qmtl.sweep import mean_std, run_sweep, sweep_of_runs  # noqa: E402
from qmtl.sweep_executors import LocalExecutor  # noqa: E402

__all__ = ["ROOT", "Trained", "arguments", "mean_std", "read_config", "run_grid", "run_runs", "save"]

ROOT = Path(__file__).resolve().parents[2]
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


def save(figure: plt.Figure, rows: Sequence[dict[str, Any]], out: Path, name: str) -> None:
    """Write ``name.png``, ``name.pdf`` and ``name.csv`` (one row per plotted value) to ``out``."""
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
    print(f"wrote {out / name}.png/.pdf/.csv ({len(rows)} rows)")
