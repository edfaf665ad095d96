"""F1: multi-task (hard sharing) vs single-task training, per task, mean and 95 % interval over seeds.

For each data set (digits, multidigits, quantum-teacher) the same config trains twice:
``hard_sharing`` (one encoder and circuit shared by all tasks, an affine head each) and
``single_task`` (one independent encoder + circuit + head per task, the same circuit).
Bars: each task's test accuracy, mean with its 95 % t-interval over seeds; above each
pair, the p-value of a paired t-test across seeds (the same seed gives both architectures
the same split and batch order).  The CSV holds the per-seed values, the paired mean
difference (hard sharing minus single-task) with its interval, and how every run ended
(best and last epoch: early stopping ends a run once its validation loss is flat).  This
is the multi-task-vs-single-task comparison of Caruana, *Multitask Learning* (Machine
Learning 28, 1997), asked of a shared variational circuit.

    python experiments/figures/f1_mtl_vs_stl.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from common import (
    arguments,
    by_seed,
    convergence,
    interval_columns,
    paired_columns,
    read_config,
    report,
    run_grid,
    save,
)

NAME = "f1_mtl_vs_stl"
ARCHITECTURES = {"hard_sharing": "multi-task (hard sharing)", "single_task": "single-task"}
WORDS4 = ["Z0", "Z1", "Z2", "Z3"]
STOPPING = {"training.epochs": 60, "training.patience": 5}  # early stopping ends every run
# Per data set: the example config and the overrides of the full and the quick runs.
DATASETS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "digits": ("digits.yaml",
               {"data.limit": 600, "model.n_qubits": 4, **STOPPING,
                **{f"tasks.{i}.observables": WORDS4 for i in range(3)}},
               {"data.limit": 200, "model.n_qubits": 4, "model.ansatz.layers": 1, "training.epochs": 1,
                **{f"tasks.{i}.observables": WORDS4 for i in range(3)}}),
    "multidigits": ("multidigits.yaml",
                    {"data.limit": 600, **STOPPING},
                    {"data.limit": 200, "model.n_qubits": 4, "model.ansatz.layers": 1, "training.epochs": 1,
                     **{f"tasks.{i}.observables": WORDS4 for i in range(2)}}),
    "quantum-teacher": ("quantum-teacher.yaml",
                        STOPPING,
                        {"data.options.n_samples": 200, "training.epochs": 1}),
}


def main() -> None:
    args = arguments(__doc__, NAME)
    seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    rows: list[dict[str, Any]] = []
    for dataset, (file, full, quick) in DATASETS.items():
        base = read_config(file)
        common = {**(quick if args.quick else full), "training.conflict_diagnostic": False}
        settings = {arch: {**common, "model.architecture": arch} for arch in ARCHITECTURES}
        results = run_grid(base, settings, seeds, Path(args.runs) / dataset)
        report(results)
        runs = {arch: by_seed(results, arch) for arch in ARCHITECTURES}
        for task in (task["name"] for task in base["tasks"]):
            accuracy = {arch: [runs[arch][seed].final["test"][task]["accuracy"] for seed in seeds]
                        for arch in ARCHITECTURES}
            for arch in ARCHITECTURES:
                rows.append({"kind": "mean", "dataset": dataset, "task": task, "architecture": arch,
                             "metric": "accuracy", **interval_columns(accuracy[arch]),
                             **convergence([runs[arch][seed] for seed in seeds])})
            rows.append({"kind": "paired", "dataset": dataset, "task": task,
                         "architecture": "hard_sharing - single_task", "metric": "accuracy",
                         **paired_columns(accuracy["hard_sharing"], accuracy["single_task"])})
    figure, axes = plt.subplots(1, len(DATASETS), figsize=(3.4 * len(DATASETS), 3.4))
    for axis, dataset in zip(axes, DATASETS):
        tasks = list(dict.fromkeys(row["task"] for row in rows if row["dataset"] == dataset))
        x = np.arange(len(tasks))
        for offset, (arch, label) in zip((-0.2, 0.2), ARCHITECTURES.items()):
            cells = [next(r for r in rows if (r["kind"], r["dataset"], r["task"], r["architecture"])
                          == ("mean", dataset, t, arch)) for t in tasks]
            axis.bar(x + offset, [c["mean"] for c in cells], 0.4, capsize=3, label=label,
                     yerr=[(c["ci95_high"] - c["ci95_low"]) / 2 for c in cells])
        for position, task in zip(x, tasks):
            paired = next(r for r in rows if (r["kind"], r["dataset"], r["task"]) == ("paired", dataset, task))
            axis.text(position, 1.01, f"p={paired['p_value']:.2g}", ha="center", va="bottom", fontsize=7)
        axis.set_xticks(x, tasks)
        axis.set_title(dataset, pad=14)
        axis.set_ylim(0, 1)
        axis.set_ylabel("test accuracy")
    figure.legend(*axes[0].get_legend_handles_labels(), loc="upper right", ncol=2)
    figure.suptitle(f"Multi-task vs single-task ({len(seeds)} seed{'s' * (len(seeds) > 1)}, mean, 95% CI; "
                    "paired t-test p)", x=0.3)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
