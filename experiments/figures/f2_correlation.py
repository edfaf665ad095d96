"""F2: test loss (MSE) vs task correlation on MMoE's synthetic regression tasks.

The quantum form of Ma et al., *Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts* (KDD 2018), Fig. 3: two regression tasks of
``synthetic-correlated`` whose weight vectors have cosine ``correlation``, trained by

* ``hard_sharing`` — one shared encoder and circuit, an affine head per task;
* ``single_task`` — an independent encoder + circuit + head per task (no sharing);
* ``qmoe`` — a pool of expert circuits mixed per task by a softmax gate (MMoE).

Plotted: the test MSE averaged over the two tasks (targets standardised on the training
split, so 1.0 is the MSE of predicting the mean), mean ± sample std over seeds, against
the *measured* Pearson correlation of the two tasks' labels (mean ± std over the seeds'
data sets).  The weight cosine ``correlation`` that generates the data is not the labels'
correlation (the sines and the draw of ``alpha, beta`` move it; see
:mod:`qmtl.data.synthetic_correlated`), so each run's generation seed is its run seed: the
seeds average over data draws as well as initialisations, and the CSV records the
measured correlation of every run (``label_correlations``) next to the cosine.  The data
follow the paper: 100 features (the config's default), noise standard deviation 0.1.
The CSV also holds each task's MSE.

    python experiments/figures/f2_correlation.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import yaml

from common import arguments, mean_std, read_config, run_runs, save
from qmtl.data.synthetic_correlated import label_correlation, load_synthetic_correlated

NAME = "f2_correlation"
ARCHITECTURES = {"hard_sharing": "shared circuit", "single_task": "separate circuits", "qmoe": "quantum MoE"}
FULL = {"correlations": [1.0, 0.9, 0.5, 0.0, -0.5], "seeds": [0, 1, 2],
        "overrides": {"data.options.n_samples": 1000, "training.epochs": 15, "training.patience": 4}}
QUICK = {"correlations": [1.0, 0.0], "seeds": [0],
         "overrides": {"data.options.n_samples": 200, "model.ansatz.layers": 1, "training.epochs": 1,
                       "model.options.experts": 2}}


def measured_correlation(run: Path) -> float:
    """The label Pearson correlation of the data set the run in ``run`` was trained on,
    regenerated from its resolved ``config.yaml``."""
    options = dict(yaml.safe_load((run / "config.yaml").read_text())["data"]["options"])
    options.pop("standardise_targets", None)  # a split-level rescaling: no effect on Pearson
    return label_correlation(load_synthetic_correlated(options).targets)


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
    rows: list[dict[str, Any]] = []
    for arch in ARCHITECTURES:
        for rho in grid["correlations"]:
            runs = [(t.path, t.final) for t in results if t.label == f"{arch},correlation={rho}"]
            per_task = {task: [final["test"][task]["mse"] for _, final in runs] for task in tasks}
            per_task["mean"] = [sum(values) / len(values) for values in zip(*per_task.values())]
            correlations = [measured_correlation(path) for path, _ in runs]
            label_mean, label_std = mean_std(correlations)
            for task, values in per_task.items():
                mean, std = mean_std(values)
                rows.append({"architecture": arch, "correlation": rho, "label_correlation": label_mean,
                             "label_correlation_std": label_std,
                             "label_correlations": " ".join(f"{c:.4f}" for c in correlations),
                             "task": task, "metric": "mse", "mean": mean, "std": std, "seeds": len(values),
                             "values": " ".join(f"{v:.4f}" for v in values)})
    figure, axis = plt.subplots(figsize=(4.6, 3.4))
    for arch, label in ARCHITECTURES.items():
        cells = [r for r in rows if r["architecture"] == arch and r["task"] == "mean"]
        axis.errorbar([c["label_correlation"] for c in cells], [c["mean"] for c in cells],
                      xerr=[c["label_correlation_std"] for c in cells], yerr=[c["std"] for c in cells],
                      marker="o", capsize=3, label=label)
    axis.set_xlabel("task correlation (measured Pearson correlation of the labels)")
    axis.set_ylabel("test MSE, mean of the two tasks")
    axis.set_title(f"Synthetic correlated tasks ({len(grid['seeds'])} seed{'s' * (len(grid['seeds']) > 1)})")
    axis.invert_xaxis()
    axis.legend()
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
