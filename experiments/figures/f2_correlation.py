"""F2: test loss (MSE) vs task correlation on MMoE's synthetic regression tasks.

The quantum form of Ma et al., *Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts* (KDD 2018), Fig. 3: two regression tasks of
``synthetic-correlated`` whose weight vectors have cosine ``correlation``, trained by

* ``hard_sharing`` — one shared encoder and circuit, an affine head per task;
* ``single_task`` — an independent encoder + circuit + head per task (no sharing);
* ``qmoe`` — a pool of expert circuits mixed per task by a softmax gate (MMoE).

Left: the test MSE averaged over the two tasks (targets standardised on the training split,
so 1.0 is the MSE of predicting the mean), mean with its 95 % t-interval over seeds, against
the *measured* Pearson correlation of the two tasks' labels, which every run records in
``final.json`` (``label_correlation``; mean and 95 % interval over the seeds' data sets).
The weight cosine ``correlation`` that generates the data is not the labels' correlation
(the sines and the draw of ``alpha, beta`` move it; see :mod:`qmtl.data.synthetic_correlated`),
so each run's generation seed is its run seed: the seeds average over data draws as well as
initialisations.  Right: the paired differences between architectures (same seed = same
data, split and batch order), mean with 95 % interval; the CSV holds their p-values
(paired t-test), every run's measured correlation, each task's MSE and how every run
ended (best and last epoch).  The data follow the paper: 100 features (the config's
default), noise standard deviation 0.1 (the paper's N(0, 0.01) read as the variance).

    python experiments/figures/f2_correlation.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

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

NAME = "f2_correlation"
ARCHITECTURES = {"hard_sharing": "shared circuit", "single_task": "separate circuits", "qmoe": "quantum MoE"}
# Differences tested and drawn (first minus second): negative = the first has the lower MSE.
COMPARISONS = [("hard_sharing", "single_task"), ("qmoe", "single_task"), ("qmoe", "hard_sharing")]
# 2,000 examples (1,300 for training) in batches of 128; early stopping on the validation loss
# ends training.  Two correlations, the ends of the paper's range, to afford 5 seeds.
FULL = {"correlations": [1.0, 0.0], "seeds": [0, 1, 2, 3, 4],
        "overrides": {"training.batch_size": 128, "training.epochs": 60, "training.patience": 4}}
QUICK = {"correlations": [1.0, 0.0], "seeds": [0],
         "overrides": {"data.options.n_samples": 200, "model.ansatz.layers": 1, "training.epochs": 1,
                       "model.options.experts": 2}}


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    base = read_config("synthetic-correlated.yaml")
    tasks = [task["name"] for task in base["tasks"]]
    settings: dict[str, dict[str, Any]] = {}
    for arch in ARCHITECTURES:
        overrides = {**grid["overrides"], "model.architecture": arch, "training.conflict_diagnostic": False}
        if arch != "qmoe":
            overrides.pop("model.options.experts", None)
        for rho in grid["correlations"]:
            settings[f"{arch},correlation={rho}"] = {**overrides, "data.options.correlation": rho}
    # The generation seed follows the run seed, so every seed is a fresh draw of the data.
    results = run_runs(base, [(label, {**overrides, "data.options.seed": seed}, seed)
                              for seed in grid["seeds"] for label, overrides in settings.items()], args.runs)
    report(results)
    rows: list[dict[str, Any]] = []
    mse: dict[tuple[str, float], list[float]] = {}  # the two tasks' mean test MSE per seed, seeds in order
    for rho in grid["correlations"]:
        for arch in ARCHITECTURES:
            runs = sorted((t for t in results if t.label == f"{arch},correlation={rho}"), key=lambda t: t.seed)
            per_task = {task: [run.final["test"][task]["mse"] for run in runs] for task in tasks}
            per_task["mean"] = mse[arch, rho] = [sum(values) / len(values) for values in zip(*per_task.values())]
            correlations = [run.final["label_correlation"] for run in runs]
            label = t_interval(correlations)
            for task, values in per_task.items():
                rows.append({"kind": "mean", "architecture": arch, "correlation": rho,
                             "label_correlation": label.mean, "label_correlation_ci95_low": label.low,
                             "label_correlation_ci95_high": label.high,
                             "label_correlations": " ".join(f"{c:.4f}" for c in correlations),
                             "task": task, "metric": "mse", **interval_columns(values), **convergence(runs)})
        for first, second in COMPARISONS:
            rows.append({"kind": "paired", "architecture": f"{first} - {second}", "correlation": rho,
                         "task": "mean", "metric": "mse", **paired_columns(mse[first, rho], mse[second, rho])})
    seeds = len(grid["seeds"])
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    for arch, label in ARCHITECTURES.items():
        cells = [r for r in rows if r["kind"] == "mean" and r["architecture"] == arch and r["task"] == "mean"]
        left.errorbar([c["label_correlation"] for c in cells], [c["mean"] for c in cells],
                      xerr=[(c["label_correlation_ci95_high"] - c["label_correlation_ci95_low"]) / 2 for c in cells],
                      yerr=[(c["ci95_high"] - c["ci95_low"]) / 2 for c in cells], marker="o", capsize=3, label=label)
    left.set_xlabel("task correlation (measured Pearson correlation of the labels)")
    left.set_ylabel("test MSE, mean of the two tasks")
    left.set_title(f"Synthetic correlated tasks ({seeds} seed{'s' * (seeds > 1)}, mean, 95% CI)")
    left.invert_xaxis()
    left.legend()
    x = {rho: next(r["label_correlation"] for r in rows if r["kind"] == "mean" and r["correlation"] == rho)
         for rho in grid["correlations"]}
    for index, (first, second) in enumerate(COMPARISONS):
        cells = [r for r in rows if r["kind"] == "paired" and r["architecture"] == f"{first} - {second}"]
        shift = (index - 1) * 0.015  # side by side at the same correlation
        right.errorbar([x[c["correlation"]] + shift for c in cells], [c["difference"] for c in cells],
                       yerr=[(c["difference_ci95_high"] - c["difference_ci95_low"]) / 2 for c in cells],
                       marker="s", capsize=3, linestyle="none",
                       label=f"{ARCHITECTURES[first]} - {ARCHITECTURES[second]}")
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xlabel("task correlation (measured, mean over seeds)")
    right.set_ylabel("paired difference of test MSE")
    right.set_title("paired differences (same seed = same data), 95% CI")
    right.invert_xaxis()
    right.legend(fontsize=7)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
