"""F9: every registered architecture on related and unrelated tasks, against single-task and hard sharing.

Every name in :data:`qmtl.architectures.ARCHITECTURES` (read when the script runs, so a
new architecture joins the figure without an edit) trains with its default options on

* ``synthetic-correlated`` (Ma et al., KDD 2018: two regression tasks whose weight vectors
  have cosine ``correlation``; targets standardised) at several correlations, with 10
  features instead of the paper's 100 (with a few hundred examples, 100 features left every
  model at the MSE of the mean);
* ``quantum-teacher`` (two binary tasks labelled by a random 3-qubit teacher circuit whose
  first half the tasks share; the student has the teacher's form, on 3 qubits).

Small settings, so that the full figure trains in about half an hour on 2 cores: 4 qubits
(synthetic), 300 examples, batches of 128, early stopping (``training.patience`` 3) within
10 epochs.  The data generation seed is the run seed, so each seed is a fresh
draw of the data, and a seed gives every architecture the same data, split and batch
order: the comparisons are paired by seed.  Reported per setting and architecture:

* each task's test loss and primary metric (MSE; accuracy), mean with a 95 % Student-t
  interval over seeds;
* Δm% against ``single_task`` of the same seed (:func:`qmtl.evaluation.delta_m_against`,
  LibMTL's convention: the mean relative gain over the tasks' metrics, higher is better) on
  MSE and MAE, or accuracy and macro-F1, mean with its 95 % interval; R² is left out, since
  a relative gain over a baseline R² near 0 (a weak single-task fit) is unbounded;
* the trainable parameter count (total and shared) from ``final.json``;
* a paired t-test against ``hard_sharing`` of the per-seed test loss averaged over the
  tasks (difference = architecture - hard sharing, so negative is better), with its
  p-value and the Benjamini-Hochberg adjusted q-value over the architectures of the setting
  (:func:`scipy.stats.false_discovery_control`), since one setting makes many comparisons.

The plot shows Δm% per architecture and setting; the CSV holds everything above, per-seed
values included, and how each run ended (best and last epoch).

    python experiments/figures/f9_architectures.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from common import (
    Trained,
    arguments,
    by_seed,
    convergence,
    interval_columns,
    paired_columns,
    read_config,
    report,
    run_runs,
    save,
    t_interval,
)
from qmtl.architectures import ARCHITECTURES
from qmtl.evaluation import delta_m_against

NAME = "f9_architectures"
BASELINE, REFERENCE = "single_task", "hard_sharing"
DELTA_M_METRICS = ("mse", "mae", "accuracy", "macro_f1")
# Few, large batches: a step's cost is mostly per-execution overhead at 4 qubits.
TRAINING = {"training.epochs": 10, "training.patience": 3, "training.batch_size": 128, "training.lr": 0.05}
# The teacher's labels are <Z0> after each task's own layers; the student reads the 7 Z words
# of its 3 wires (not the config's 63 Pauli words, 9x the measurements of every step).
TEACHER_WORDS = {f"tasks.{i}.observables": ["Z0", "Z1", "Z2", "Z0 Z1", "Z0 Z2", "Z1 Z2", "Z0 Z1 Z2"]
                 for i in range(2)}
FULL: dict[str, Any] = {
    "correlations": [0.9, 0.0], "seeds": [0, 1, 2, 3, 4],
    "synthetic": {"data.options.n_samples": 300, "data.options.n_features": 10, **TRAINING},
    "teacher": {"data.options.n_samples": 300, **TEACHER_WORDS, **TRAINING},
}
QUICK: dict[str, Any] = {
    "correlations": [0.5], "seeds": [0, 1],
    "synthetic": {"data.options.n_samples": 60, "model.ansatz.layers": 1, "training.epochs": 1},
    "teacher": {"data.options.n_samples": 60, **TEACHER_WORDS, "model.ansatz.layers": 1, "training.epochs": 1},
}


def settings(grid: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Setting label -> (example config, overrides shared by every architecture)."""
    found = {f"correlation={rho}": ("synthetic-correlated.yaml",
                                    {**grid["synthetic"], "data.options.correlation": rho})
             for rho in grid["correlations"]}
    found["quantum-teacher"] = ("quantum-teacher.yaml", grid["teacher"])
    return found


def train_setting(config: str, overrides: dict[str, Any], seeds: list[int], root: Any) -> list[Trained]:
    """Every registered architecture x seed on one setting; the data are drawn from the seed."""
    runs = [(architecture, {**overrides, "model.architecture": architecture, "data.options.seed": seed,
                            "training.conflict_diagnostic": False}, seed)
            for seed in seeds for architecture in sorted(ARCHITECTURES)]
    return run_runs(read_config(config), runs, root)


def delta_m_metrics(run: Trained) -> dict[str, dict[str, float]]:
    """The run's test metrics that enter Δm%, per task."""
    return {task: {k: v for k, v in values.items() if k in DELTA_M_METRICS}
            for task, values in run.final["test"].items()}


def task_loss(run: Trained) -> float:
    """The run's test loss averaged over its tasks."""
    return float(np.mean([values["loss"] for values in run.final["test"].values()]))


def setting_rows(setting: str, results: list[Trained]) -> list[dict[str, Any]]:
    """The CSV rows of one setting: per task, Δm% and the paired test against hard sharing."""
    baseline, reference = by_seed(results, BASELINE), by_seed(results, REFERENCE)
    rows: list[dict[str, Any]] = []
    paired: list[dict[str, Any]] = []
    for architecture in sorted(ARCHITECTURES):
        runs = by_seed(results, architecture)
        seeds = sorted(runs)
        counts = runs[seeds[0]].final["parameters"]
        common = {"setting": setting, "architecture": architecture, "params_total": counts["total"],
                  "params_shared": counts["shared"]}
        for task, first in runs[seeds[0]].final["test"].items():
            primary = "accuracy" if "accuracy" in first else "mse"
            for metric in ("loss", primary):
                rows.append({**common, "kind": "task", "task": task, "metric": metric,
                             **interval_columns([runs[s].final["test"][task][metric] for s in seeds])})
        gains = [delta_m_against(delta_m_metrics(runs[s]), delta_m_metrics(baseline[s])) for s in seeds]
        rows.append({**common, "kind": "delta_m", "task": "all", "metric": "delta_m_percent",
                     **interval_columns(gains), **convergence([runs[s] for s in seeds])})
        if architecture != REFERENCE:
            paired.append({**common, "kind": f"vs_{REFERENCE}", "task": "all", "metric": "mean_test_loss",
                           **paired_columns([task_loss(runs[s]) for s in seeds],
                                            [task_loss(reference[s]) for s in seeds])})
    tested = [row for row in paired if not math.isnan(row["p_value"])]
    adjusted = stats.false_discovery_control([row["p_value"] for row in tested]) if tested else []
    for row in paired:
        row["q_value"] = math.nan
    for row, q in zip(tested, adjusted):
        row["q_value"] = float(q)
    return rows + paired


def plot(rows: list[dict[str, Any]], labels: list[str], seeds: int) -> plt.Figure:
    """One panel per setting: Δm% of every architecture with its 95 % interval, labelled with
    its parameter count and a star where its test loss differs from hard sharing's at q < 0.05."""
    architectures = sorted(ARCHITECTURES)
    figure, axes = plt.subplots(1, len(labels), figsize=(2.6 * len(labels) + 1.4, 0.32 * len(architectures) + 1.4),
                                sharey=True, squeeze=False)
    for axis, setting in zip(axes[0], labels):
        cells = {r["architecture"]: r for r in rows if r["setting"] == setting and r["kind"] == "delta_m"}
        tests = {r["architecture"]: r for r in rows if r["setting"] == setting and r["kind"] == f"vs_{REFERENCE}"}
        means = [cells[a]["mean"] for a in architectures]
        errors = [t_interval([float(v) for v in cells[a]["values"].split()]).half_width for a in architectures]
        axis.errorbar(means, range(len(architectures)), xerr=errors, fmt="o", capsize=2, markersize=4)
        for y, architecture in enumerate(architectures):
            star = "*" if tests.get(architecture, {}).get("q_value", math.nan) < 0.05 else ""
            axis.annotate(f"{cells[architecture]['params_total']}{star}", (means[y], y), textcoords="offset points",
                          xytext=(0, 4), ha="center", fontsize=6)
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_title(setting)
        axis.set_xlabel("Δm% vs single-task")
    axes[0][0].set_yticks(range(len(architectures)), architectures)
    figure.suptitle(f"Architectures compared ({seeds} seed{'s' * (seeds > 1)}, 95 % intervals)\nnumbers: trainable "
                    f"parameters; *: test loss differs from {REFERENCE}'s at q < 0.05")
    return figure


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    rows: list[dict[str, Any]] = []
    everything: list[Trained] = []
    chosen = settings(grid)
    for setting, (config, overrides) in chosen.items():
        results = train_setting(config, overrides, grid["seeds"], args.runs / setting.replace("=", "-"))
        everything += results
        rows += setting_rows(setting, results)
    report(everything)
    save(plot(rows, list(chosen), len(grid["seeds"])), rows, args.out, NAME)


if __name__ == "__main__":
    main()
