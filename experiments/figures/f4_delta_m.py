"""F4: Δm% of loss weightings and gradient aggregators against single-task baselines.

One small setting (digits: digit / parity / ge5 read from one 4-qubit hard-sharing
circuit) is trained with a selection of the registered strategies (``STRATEGIES``: the
most used weightings and aggregators of the MTL literature; the 2-core budget affords three
of ``qmtl.strategies.WEIGHTINGS`` and ``AGGREGATORS`` at 5 seeds with early stopping),
and once as ``single_task`` (independent circuits, equal weighting) for the baseline.  For
each seed, Δm% = ``qmtl.strategies.delta_m`` of the strategy's test accuracy and macro-F1
against the single-task run of the same seed (same split): the relative gain averaged
within each task and then over tasks (Maninis et al., CVPR 2019; Vandenhende et al.,
TPAMI 2021, as LibMTL reports it); positive means the multi-task model beats training each
task alone.  Δm% is a per-seed paired difference, so its 95 % t-interval and the p-value of
"Δm% = 0" (a one-sample t-test of the per-seed values) are the paired test against
single-task training; each strategy is also compared with ``equal`` by a paired t-test of
the per-seed Δm% values.  Bars: mean with its 95 % interval.  The CSV also records how
every run ended (best and last epoch).

    python experiments/figures/f4_delta_m.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

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
from qmtl.strategies import AGGREGATORS, WEIGHTINGS, delta_m

NAME = "f4_delta_m"
METRICS = {"accuracy": True, "macro_f1": True}
WORDS = ["Z0", "Z1", "Z2", "Z3"]
STRATEGIES = {"weighting": ["equal", "uncertainty"], "aggregator": ["pcgrad"]}
FULL: dict[str, Any] = {"seeds": [0, 1, 2, 3, 4],
                        "overrides": {"data.limit": 600, "training.epochs": 60, "training.patience": 5}}
QUICK: dict[str, Any] = {"seeds": [0], "overrides": {"data.limit": 150, "model.ansatz.layers": 1, "training.epochs": 1}}


def strategies() -> dict[str, dict[str, Any]]:
    """Label -> overrides of every strategy in ``STRATEGIES`` (each one registered)."""
    registered = {"weighting": WEIGHTINGS, "aggregator": AGGREGATORS}
    found: dict[str, dict[str, Any]] = {}
    for kind, names in STRATEGIES.items():
        for name in names:
            assert name in registered[kind], f"{kind} '{name}' is not registered"
            found[f"{kind}={name}"] = {f"training.{kind}": name}
    return found


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    base = read_config("digits.yaml")
    common = {**grid["overrides"], "model.n_qubits": 4, "training.conflict_diagnostic": False,
              **{f"tasks.{i}.observables": WORDS for i in range(len(base["tasks"]))}}
    settings = {"single_task": {**common, "model.architecture": "single_task"}}
    settings.update({label: {**common, **overrides} for label, overrides in strategies().items()})
    results = run_grid(base, settings, grid["seeds"], args.runs)
    report(results)
    baseline = by_seed(results, "single_task")

    def scores(test: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {task: {metric: values[metric] for metric in METRICS} for task, values in test.items()}

    gains = {label: [delta_m(scores(run.final["test"]), scores(baseline[seed].final["test"]), METRICS)
                     for seed, run in sorted(by_seed(results, label).items())]
             for label in settings if label != "single_task"}
    rows: list[dict[str, Any]] = []
    for label, values in gains.items():
        kind, strategy = label.split("=")
        vs_single = paired_columns(values, [0.0] * len(values))
        rows.append({"kind": kind, "strategy": strategy, **interval_columns(values, digits=3),
                     "p_value_vs_single_task": vs_single["p_value"],
                     **{f"{column}_vs_equal": value
                        for column, value in paired_columns(values, gains["weighting=equal"]).items()},
                     **convergence(list(by_seed(results, label).values()))})
    rows.append({"kind": "baseline", "strategy": "single_task", **convergence(list(baseline.values()))})
    plotted = sorted((row for row in rows if row["kind"] != "baseline"), key=lambda row: row["mean"])
    figure, axis = plt.subplots(figsize=(4.8, 0.3 * len(plotted) + 1.4))
    colours = {"weighting": "tab:blue", "aggregator": "tab:orange"}
    axis.barh(range(len(plotted)), [r["mean"] for r in plotted], capsize=2,
              xerr=[(r["ci95_high"] - r["ci95_low"]) / 2 for r in plotted],
              color=[colours[r["kind"]] for r in plotted])
    axis.set_yticks(range(len(plotted)), [r["strategy"] for r in plotted])
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("Δm% vs single-task (accuracy, macro-F1), mean and 95% CI")
    seeds = len(grid["seeds"])
    axis.set_title(f"digits, 4 qubits: strategies vs single-task ({seeds} seed{'s' * (seeds > 1)})", pad=20)
    axis.legend([Patch(color=colour) for colour in colours.values()], list(colours), ncol=2, loc="lower center",
                bbox_to_anchor=(0.5, 1.0))
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
