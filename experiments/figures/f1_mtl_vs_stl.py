"""F1: multi-task (hard sharing) vs single-task training, per task, mean ± std over seeds.

For each data set (digits, multidigits, quantum-teacher) the same config trains twice:
``hard_sharing`` (one encoder and circuit shared by all tasks, an affine head each) and
``single_task`` (one independent encoder + circuit + head per task, the same circuit).
Bars: each task's test primary metric (accuracy), mean ± sample std over seeds.  This is
the multi-task-vs-single-task comparison of Caruana, *Multitask Learning* (Machine
Learning 28, 1997), asked of a shared variational circuit.

    python experiments/figures/f1_mtl_vs_stl.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from common import arguments, read_config, run_grid, save

NAME = "f1_mtl_vs_stl"
ARCHITECTURES = {"hard_sharing": "multi-task (hard sharing)", "single_task": "single-task"}
WORDS4 = ["Z0", "Z1", "Z2", "Z3"]
# Per data set: the example config and the overrides of the full and the quick runs.
DATASETS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "digits": ("digits.yaml",
               {"data.limit": 900, "model.n_qubits": 6, "training.epochs": 10, "training.patience": 4,
                **{f"tasks.{i}.observables": [f"Z{w}" for w in range(6)] for i in range(3)}},
               {"data.limit": 200, "model.n_qubits": 4, "model.ansatz.layers": 1, "training.epochs": 1,
                **{f"tasks.{i}.observables": WORDS4 for i in range(3)}}),
    "multidigits": ("multidigits.yaml",
                    {"data.limit": 900, "training.epochs": 10, "training.patience": 4},
                    {"data.limit": 200, "model.n_qubits": 4, "model.ansatz.layers": 1, "training.epochs": 1,
                     **{f"tasks.{i}.observables": WORDS4 for i in range(2)}}),
    "quantum-teacher": ("quantum-teacher.yaml",
                        {"training.epochs": 15},
                        {"data.options.n_samples": 200, "training.epochs": 1}),
}


def main() -> None:
    args = arguments(__doc__, NAME)
    seeds = [0] if args.quick else [0, 1, 2]
    rows: list[dict[str, Any]] = []
    for dataset, (file, full, quick) in DATASETS.items():
        base = read_config(file)
        common = {**(quick if args.quick else full), "training.conflict_diagnostic": False}
        settings = {arch: {**common, "model.architecture": arch} for arch in ARCHITECTURES}
        results = run_grid(base, settings, seeds, Path(args.runs) / dataset)
        for arch in ARCHITECTURES:
            mine = [trained for trained in results if trained.label == arch]
            summary = mine[0].summary  # qmtl sweep's mean and std over this setting's seeds
            for task in base["tasks"]:
                metric = "accuracy"
                values = [trained.final["test"][task["name"]][metric] for trained in mine]
                column = f"test.{task['name']}.{metric}"
                rows.append({"dataset": dataset, "task": task["name"], "architecture": arch, "metric": metric,
                             "mean": summary[f"{column}.mean"], "std": summary[f"{column}.std"],
                             "seeds": len(values),
                             "values": " ".join(f"{v:.4f}" for v in values)})
    figure, axes = plt.subplots(1, len(DATASETS), figsize=(3.4 * len(DATASETS), 3.2))
    for axis, dataset in zip(axes, DATASETS):
        tasks = list(dict.fromkeys(row["task"] for row in rows if row["dataset"] == dataset))
        x = np.arange(len(tasks))
        for offset, (arch, label) in zip((-0.2, 0.2), ARCHITECTURES.items()):
            cells = [next(r for r in rows if (r["dataset"], r["task"], r["architecture"]) == (dataset, t, arch))
                     for t in tasks]
            axis.bar(x + offset, [c["mean"] for c in cells], 0.4, yerr=[c["std"] for c in cells], capsize=3,
                     label=label)
        axis.set_xticks(x, tasks)
        axis.set_title(dataset)
        axis.set_ylim(0, 1)
        axis.set_ylabel("test accuracy")
    figure.legend(*axes[0].get_legend_handles_labels(), loc="upper right", ncol=2)
    figure.suptitle(f"Multi-task vs single-task ({len(seeds)} seed{'s' * (len(seeds) > 1)}, mean ± std)", x=0.3)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
