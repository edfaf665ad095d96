"""F6: per-task validation curves with the gradient-conflict diagnostic on a second axis.

Two hard-sharing runs with ``training.conflict_diagnostic: true``: digits (digit / parity /
ge5 on 4 qubits; validation accuracy) and two anti-correlated MMoE synthetic tasks
(``synthetic-correlated``, correlation -0.5; validation MSE).  Everything is read back
from each run's ``metrics.jsonl``: the per-task validation metric per epoch (left axis)
and the cosine of every pair of task gradients on the shared parameters, measured at the
end of each epoch on up to 128 training examples (right axis; negative = the tasks pull
the shared circuit in opposing directions, Yu et al., *Gradient Surgery for Multi-Task
Learning*, NeurIPS 2020).  One seed.

    python experiments/figures/f6_learning_curves.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import matplotlib.pyplot as plt

from common import arguments, read_config, run_grid, save
from qmtl.rundir import RunDir

NAME = "f6_learning_curves"
WORDS = ["Z0", "Z1", "Z2", "Z3"]
SETTINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "digits": ("digits.yaml", "accuracy",
               {"model.n_qubits": 4, **{f"tasks.{i}.observables": WORDS for i in range(3)}}),
    "synthetic, correlation -0.5": ("synthetic-correlated.yaml", "mse",
                                    {"data.options.correlation": -0.5, "data.options.n_samples": 1000}),
}
FULL = {"training.epochs": 20, "training.patience": 20}
QUICK = {"training.epochs": 2, "data.limit": 150, "model.ansatz.layers": 1}


def main() -> None:
    args = arguments(__doc__, NAME)
    rows: list[dict[str, Any]] = []
    figure, axes = plt.subplots(1, len(SETTINGS), figsize=(4.8 * len(SETTINGS), 3.4))
    for axis, (setting, (file, metric, overrides)) in zip(axes, SETTINGS.items()):
        base = read_config(file)
        tasks = [task["name"] for task in base["tasks"]]
        label = setting.split(",")[0]
        config = {**overrides, **(QUICK if args.quick else FULL), "training.conflict_diagnostic": True}
        trained, = run_grid(base, {label: config}, [0], args.runs / label)
        records = RunDir(trained.path).read_metrics()
        epochs = [record["epoch"] for record in records]
        pairs = list(combinations(range(len(tasks)), 2))
        for record in records:
            row = {"setting": setting, "epoch": record["epoch"], "metric": metric}
            row.update({f"val.{task}": record["val"][task][metric] for task in tasks})
            cosines = [record["conflict"][i][j] for i, j in pairs]
            row.update({f"cos.{tasks[i]}-{tasks[j]}": c for (i, j), c in zip(pairs, cosines)})
            row["cos.mean_off_diagonal"] = sum(cosines) / len(cosines)
            rows.append(row)
        mine = [row for row in rows if row["setting"] == setting]
        for index, task in enumerate(tasks):
            axis.plot(epochs, [row[f"val.{task}"] for row in mine], "o-", markersize=3, color=f"C{index}",
                      label=f"val {metric} {task}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"validation {metric}")
        axis.set_title(setting)
        twin = axis.twinx()
        for index, (i, j) in enumerate(pairs):
            twin.plot(epochs, [row[f"cos.{tasks[i]}-{tasks[j]}"] for row in mine], "--", linewidth=1,
                      color=f"C{len(tasks) + index}", label=f"cos {tasks[i]}-{tasks[j]}")
        twin.plot(epochs, [row["cos.mean_off_diagonal"] for row in mine], "k-", linewidth=1.5, label="cos mean")
        twin.axhline(0, color="grey", linewidth=0.6)
        twin.set_ylim(-1, 1)
        twin.set_ylabel("task-gradient cosine (shared parameters)")
        twin.grid(False)
        lines = axis.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        axis.legend(lines[0] + more[0], lines[1] + more[1], fontsize=6, loc="lower left")
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
