"""F6: per-task validation curves with the gradient-conflict diagnostic on a second axis.

Hard-sharing runs with ``training.conflict_diagnostic: true`` on two settings: digits
(digit / parity / ge5 on 4 qubits, 600 examples as in F1 and F4; validation accuracy) and
two anti-correlated MMoE synthetic tasks (``synthetic-correlated``, weight cosine -0.5,
100 features, the generation seed equal to the run seed; validation MSE).  Every run
trains a fixed number of epochs (no early stopping), so that all curves have the same
length.  Everything is read back from each run's ``metrics.jsonl``: the per-task
validation metric per epoch (left axis) and the cosine of every pair of task gradients on
the shared parameters, measured at the end of each epoch on up to 128 training examples
(right axis; negative = the tasks pull the shared circuit in opposing directions, Yu et
al., *Gradient Surgery for Multi-Task Learning*, NeurIPS 2020).  Lines are means over the
seeds, bands their 95 % t-intervals.  The CSV holds one row per setting, seed and epoch,
and one summary row per task pair: the per-seed cosine averaged over the epochs, its mean
with 95 % interval and the p-value of "mean cosine = 0" (one-sample t-test across seeds),
and in how many seeds that average was negative; each summary row also records the runs'
best epochs.

    python experiments/figures/f6_learning_curves.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from common import (
    arguments,
    convergence,
    interval_columns,
    paired_columns,
    read_config,
    report,
    run_runs,
    save,
    t_interval,
)
from qmtl.rundir import RunDir

NAME = "f6_learning_curves"
WORDS = ["Z0", "Z1", "Z2", "Z3"]
SETTINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "digits": ("digits.yaml", "accuracy",
               {"data.limit": 600, "model.n_qubits": 4, **{f"tasks.{i}.observables": WORDS for i in range(3)}}),
    "synthetic, correlation -0.5": ("synthetic-correlated.yaml", "mse", {"data.options.correlation": -0.5}),
}
FULL = {"seeds": [0, 1, 2, 3, 4], "overrides": {"training.epochs": 40, "training.patience": None}}
QUICK = {"seeds": [0], "overrides": {"training.epochs": 2, "data.limit": 150, "model.ansatz.layers": 1}}


def band(axis: Any, epochs: list[int], per_seed: list[list[float]], **style: Any) -> None:
    """The mean over seeds of ``per_seed[seed][epoch]`` as a line, its 95 % interval as a band."""
    intervals = [t_interval(values) for values in zip(*per_seed)]
    line, = axis.plot(epochs, [i.mean for i in intervals], **style)
    axis.fill_between(epochs, [i.low for i in intervals], [i.high for i in intervals], color=line.get_color(),
                      alpha=0.15, linewidth=0)


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    rows: list[dict[str, Any]] = []
    figure, axes = plt.subplots(1, len(SETTINGS), figsize=(4.8 * len(SETTINGS), 3.6))
    for axis, (setting, (file, metric, overrides)) in zip(axes, SETTINGS.items()):
        base = read_config(file)
        tasks = [task["name"] for task in base["tasks"]]
        label = setting.split(",")[0]
        config = {**overrides, **grid["overrides"], "training.conflict_diagnostic": True}
        if "data.options.correlation" in overrides:  # every seed a fresh draw of the synthetic data
            runs = run_runs(base, [(label, {**config, "data.options.seed": seed}, seed) for seed in grid["seeds"]],
                            args.runs / label)
        else:
            runs = run_runs(base, [(label, config, seed) for seed in grid["seeds"]], args.runs / label)
        report(runs)
        pairs = list(combinations(range(len(tasks)), 2))
        names = {pair: f"{tasks[pair[0]]}-{tasks[pair[1]]}" for pair in pairs}
        curves: dict[str, list[list[float]]] = {}  # column -> per seed, per epoch
        for run in runs:
            records = RunDir(run.path).read_metrics()
            for record in records:
                row = {"kind": "epoch", "setting": setting, "seed": run.seed, "epoch": record["epoch"],
                       "metric": metric}
                row.update({f"val.{task}": record["val"][task][metric] for task in tasks})
                cosines = [record["conflict"][i][j] for i, j in pairs]
                row.update({f"cos.{names[pair]}": c for pair, c in zip(pairs, cosines)})
                row["cos.mean_off_diagonal"] = sum(cosines) / len(cosines)
                rows.append(row)
            mine = [row for row in rows if row["kind"] == "epoch" and (row["setting"], row["seed"]) == (setting, run.seed)]
            for column in [f"val.{task}" for task in tasks] + [f"cos.{n}" for n in names.values()] + ["cos.mean_off_diagonal"]:
                curves.setdefault(column, []).append([row[column] for row in mine])
        epochs = [row["epoch"] for row in rows if row["kind"] == "epoch" and (row["setting"], row["seed"])
                  == (setting, runs[0].seed)]
        for name in list(names.values()) + ["mean_off_diagonal"]:
            averages = [float(np.mean(curve)) for curve in curves[f"cos.{name}"]]  # one per seed
            rows.append({"kind": "pair", "setting": setting, "pair": name, "statistic": "cosine averaged over epochs",
                         **interval_columns(averages), "p_value": paired_columns(averages, [0.0] * len(averages))["p_value"],
                         "negative_seeds": sum(a < 0 for a in averages), **convergence(runs)})
        for index, task in enumerate(tasks):
            band(axis, epochs, curves[f"val.{task}"], marker="o", markersize=2, color=f"C{index}",
                 label=f"val {metric} {task}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"validation {metric}")
        seeds = len(runs)
        axis.set_title(f"{setting} ({seeds} seed{'s' * (seeds > 1)}, mean, 95% CI)")
        twin = axis.twinx()
        for index, pair in enumerate(pairs):
            band(twin, epochs, curves[f"cos.{names[pair]}"], linestyle="--", linewidth=1,
                 color=f"C{len(tasks) + index}", label=f"cos {names[pair]}")
        band(twin, epochs, curves["cos.mean_off_diagonal"], color="black", linewidth=1.5, label="cos mean")
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
