"""F8: error mitigation on a noisy fake backend -- none vs TREX vs ZNE vs both, offline.

A 5-qubit digits model (digit / parity / ge5) is trained exactly (``default.qubit``), then
its test split is evaluated on ``fake_manila`` in Runtime local testing mode through the
client-side Estimator, exactly as ``device.name=fake_manila`` with ``device.mitigation``
would run it (:func:`qmtl.devices.targets.resolve_target`):

* ``none`` -- unmitigated (``resilience_level`` 0);
* ``readout`` -- TREX (twirled readout error extinction);
* ``zne`` -- zero-noise extrapolation, gate folding at noise factors 1, 3, 5;
* ``readout+zne`` -- both.

For every variant and seed it records the error of each expectation value against exact
Aer, ``|<O> - <O>_exact|`` over every test example and measured word, the per-task test
accuracy of the unchanged heads on those values, and the shots the Estimator executed
(:func:`qmtl.devices.cost.executed_shots`: randomizations x noise factors x shots, plus
TREX's calibration circuit).  Each seed trains its own model and seeds the simulator
(shot noise and twirling randomizations).  Five seeds (one in ``--quick``).

    python experiments/figures/f8_mitigation.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

import time
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from common import arguments, mean_std, read_config, run_grid, save
from qmtl.devices.cost import executed_shots
from qmtl.devices.spec import DeviceConfig, MitigationConfig
from qmtl.devices.targets import resolve_target
from qmtl.hardware.compare import exact_values, metrics_from_values
from qmtl.hardware.plan import EXACT_AER, assemble, plan_circuits, shared_circuit
from qmtl.run import Run, load_run

NAME = "f8_mitigation"
BACKEND = "fake_manila"
WORDS = ["Z0", "Z1", "Z2", "Z3", "Z4"]
VARIANTS = {"none": None, "readout": ["readout"], "zne": ["zne"], "readout+zne": ["readout", "zne"]}
FULL = {"seeds": [0, 1, 2, 3, 4], "shots": 1024,
        "train": {"data.limit": 500, "training.epochs": 10, "training.batch_size": 32}}
QUICK = {"seeds": [0], "shots": 128,
         "train": {"data.limit": 40, "model.ansatz.layers": 1, "training.epochs": 1}}


def evaluate_variants(run_path: Any, shots: int) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Per-variant metrics, errors and cost of one trained run on ``BACKEND``."""
    with load_run(run_path, EXACT_AER) as run:
        return _evaluate_variants(run, shots)


def _evaluate_variants(run: Run, shots: int) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    config, data, model = run.config, run.data, run.model
    circuit, tasks = shared_circuit(model, config.model.architecture), list(config.tasks)
    model.eval()
    with torch.no_grad():
        angles = model.encoder(data.test.features)
    exact = exact_values(circuit, angles, config.seed, config.device.optimization_level)
    rows, errors = [], {}
    for variant, techniques in VARIANTS.items():
        mitigation = MitigationConfig(techniques=techniques) if techniques else None
        target = resolve_target(DeviceConfig(name=BACKEND, shots=shots, mitigation=mitigation),
                                config.seed)
        plans = plan_circuits(circuit, angles, target.pass_manager, target.backend)
        start = time.perf_counter()
        result = target.estimator.run([(p.compiled.isa, [[o] for o in p.compiled.observables], p.rows)
                                       for p in plans]).result()
        seconds = time.perf_counter() - start
        evs = [np.asarray(r.data.evs, dtype=float).reshape(len(p.compiled.observables), -1)
               for p, r in zip(plans, result)]
        values = assemble(plans, evs, len(angles))
        error = np.abs(values - exact)
        errors[variant] = error.ravel()
        metrics = metrics_from_values(model, values, data.test, tasks)
        cost = executed_shots([(len(p.rows), p.bases) for p in plans], shots, 1, mitigation)
        rows.extend({"seed": config.seed, "variant": variant, "task": task.name,
                     "accuracy": metrics[task.name]["accuracy"],
                     "mean_abs_error": float(error.mean()), "median_abs_error": float(np.median(error)),
                     "shots_executed": cost, "circuits": sum(len(p.rows) * p.bases for p in plans),
                     "examples": len(angles), "wall_s": round(seconds, 1)} for task in tasks)
        print(f"  seed {config.seed} {variant}: mean |<O>-exact| {error.mean():.4f}, "
              f"{cost} shots, {seconds:.0f} s", flush=True)
    exact_metrics = metrics_from_values(model, exact, data.test, tasks)
    rows.extend({"seed": config.seed, "variant": "exact", "task": task.name,
                 "accuracy": exact_metrics[task.name]["accuracy"], "mean_abs_error": 0.0,
                 "median_abs_error": 0.0, "shots_executed": 0, "examples": len(angles)}
                for task in tasks)
    return rows, errors


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    base = read_config("digits.yaml")
    overrides = {"model.n_qubits": len(WORDS), "training.conflict_diagnostic": False,
                 "training.patience": None, "device.name": "default.qubit", **grid["train"],
                 **{f"tasks.{i}.observables": WORDS for i in range(len(base["tasks"]))}}
    runs = run_grid(base, {"exact": overrides}, grid["seeds"], args.runs)
    rows: list[dict[str, Any]] = []
    pooled: dict[str, list[np.ndarray]] = {v: [] for v in VARIANTS}
    for trained in runs:
        seed_rows, errors = evaluate_variants(trained.path, grid["shots"])
        rows += seed_rows
        for variant, error in errors.items():
            pooled[variant].append(error)
    tasks = [task["name"] for task in base["tasks"]]
    variants = list(VARIANTS)

    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    left.boxplot([np.concatenate(pooled[v]) for v in variants], showfliers=False)
    left.set_xticks(range(1, len(variants) + 1), variants)
    left.set_ylabel("|<O> - <O>_exact| per example and word")
    left.set_title(f"{BACKEND}, {grid['shots']} shots ({len(grid['seeds'])} seeds pooled)")
    width = 0.8 / (len(variants) + 1)
    for index, variant in enumerate(["exact", *variants]):
        stats = [mean_std([r["accuracy"] for r in rows if (r["variant"], r["task"]) == (variant, task)])
                 for task in tasks]
        middle.bar(np.arange(len(tasks)) + (index - len(variants) / 2) * width, [m for m, _ in stats], width,
                   yerr=[s for _, s in stats], label=variant, color=f"C{index}", capsize=2)
    middle.set_xticks(np.arange(len(tasks)), tasks)
    middle.set_ylabel("test accuracy (mean ± std over seeds)")
    middle.set_ylim(0, 1)
    middle.legend(fontsize=7, ncols=2)
    middle.set_title("task accuracy, heads unchanged")
    for index, variant in enumerate(variants, start=1):
        per_seed = [r for r in rows if r["variant"] == variant and r["task"] == tasks[0]]
        right.scatter([r["shots_executed"] for r in per_seed], [r["mean_abs_error"] for r in per_seed],
                      color=f"C{index}", label=variant)
    right.set_xscale("log")
    right.set_xlabel("shots executed for the test split")
    right.set_ylabel("mean |<O> - <O>_exact| (one point per seed)")
    right.set_title("accuracy of the values vs what they cost")
    right.legend(fontsize=7)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
