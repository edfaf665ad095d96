"""F4: Δm% of every loss weighting and gradient aggregator against single-task baselines.

One small setting (digits: digit / parity / ge5 read from one 4-qubit hard-sharing
circuit) is trained with every registered strategy, ``qmtl.strategies.WEIGHTINGS`` and
``AGGREGATORS``, and once as ``single_task`` (independent circuits, equal weighting) for
the baseline.  For each seed, Δm% = ``qmtl.strategies.delta_m`` of the strategy's test
accuracy and macro-F1 against the single-task run of the same seed (same split): the
relative gain averaged within each task and then over tasks (Maninis et al., CVPR 2019;
Vandenhende et al., TPAMI 2021, as LibMTL reports it).  Bars: mean ± sample std over
seeds; positive means the multi-task model beats training each task alone.

``static`` needs weights; it runs with ``[1.5, 1.0, 0.5]`` (an arbitrary unequal choice,
not tuned).

    python experiments/figures/f4_delta_m.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from common import arguments, mean_std, read_config, run_grid, save
from qmtl.strategies import AGGREGATORS, WEIGHTINGS, delta_m

NAME = "f4_delta_m"
METRICS = {"accuracy": True, "macro_f1": True}
WORDS = ["Z0", "Z1", "Z2", "Z3"]
FULL = {"seeds": [0, 1, 2], "overrides": {"data.limit": 600, "training.epochs": 8, "training.patience": 4}}
QUICK = {"seeds": [0], "overrides": {"data.limit": 150, "model.ansatz.layers": 1, "training.epochs": 1}}
OPTIONS = {"static": {"training.weighting_options": {"weights": [1.5, 1.0, 0.5]}}}


def strategies() -> dict[str, dict[str, Any]]:
    """Label -> overrides of every registered weighting and aggregator."""
    found = {f"weighting={name}": {"training.weighting": name, **OPTIONS.get(name, {})} for name in sorted(WEIGHTINGS)}
    found.update({f"aggregator={name}": {"training.aggregator": name} for name in sorted(AGGREGATORS)})
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
    baseline = {t.seed: t.final["test"] for t in results if t.label == "single_task"}

    def scores(test: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {task: {metric: values[metric] for metric in METRICS} for task, values in test.items()}

    rows: list[dict[str, Any]] = []
    for label in settings:
        if label == "single_task":
            continue
        values = [delta_m(scores(t.final["test"]), scores(baseline[t.seed]), METRICS)
                  for t in results if t.label == label]
        mean, std = mean_std(values)
        kind, strategy = label.split("=")
        rows.append({"kind": kind, "strategy": strategy, "delta_m_percent": mean, "std": std,
                     "seeds": len(values), "values": " ".join(f"{v:.3f}" for v in values)})
    rows.sort(key=lambda row: row["delta_m_percent"])
    figure, axis = plt.subplots(figsize=(4.8, 0.22 * len(rows) + 1.2))
    colours = {"weighting": "tab:blue", "aggregator": "tab:orange"}
    axis.barh(range(len(rows)), [r["delta_m_percent"] for r in rows], xerr=[r["std"] for r in rows], capsize=2,
              color=[colours[r["kind"]] for r in rows])
    axis.set_yticks(range(len(rows)), [r["strategy"] for r in rows])
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("Δm% vs single-task (accuracy, macro-F1)")
    seeds = len(grid["seeds"])
    axis.set_title(f"digits, 4 qubits: strategies vs single-task ({seeds} seed{'s' * (seeds > 1)})", pad=20)
    axis.legend([Patch(color=colour) for colour in colours.values()], list(colours), ncol=2, loc="lower center",
                bbox_to_anchor=(0.5, 1.0))
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
