"""F5: test accuracy vs shots and vs device noise, trained exact or trained under noise.

A digits model (digit / parity / ge5, 4 qubits) is trained on the exact simulator and its
best checkpoint evaluated, unchanged, on Qiskit Aer through
``qmtl.evaluation.evaluate_run(run, "test", ["device.name=aer", ...])``:

* left: against ``device.shots`` (each expectation value gets Gaussian noise with the
  variance of real sampling, :mod:`qmtl.devices.sampling`: ``(1 - <Z>^2)/shots`` for the
  single Pauli words used here), with the exact evaluation as a line;
* right: under the noise models of several 5-qubit IBM fake backends
  (``device.noise=fake_<name>``: their noise model, coupling map and basis gates) at
  ``NOISE_SHOTS`` shots, next to a second model trained on Aer under ``fake_manila`` noise
  at the same shots and evaluated there and exactly.

Both models get the same training settings (``TRAIN``: data subset, batch size, at most
``training.epochs`` with early stopping on the validation loss); only the training device
differs (``default.qubit`` against noisy Aer).  Each is compared at its own best
checkpoint, so the noise-trained model is not handicapped by a step budget chosen for the
exact one; the CSV records every run's best and last epoch.

Statistics as in :mod:`common`: every accuracy (per task, and the mean of the three tasks)
is a mean over ``seeds`` with its 95 % t-interval, and every comparison below is a paired
t-test across seeds (the same seed gives both sides the same split, test examples and, for
the two trained models, batch order):

* each shot count and each backend against the exact evaluation of the same exact-trained
  model (what shot noise and device noise cost);
* the noise-trained against the exact-trained model, both evaluated on ``fake_manila``
  (does training under the noise help on that device) and both evaluated exactly;
* the noise-trained model on ``fake_manila`` against itself evaluated exactly (has it
  become specific to the noise it was trained under).

The noise-aware question of quantum MTL on NISQ devices, as in the hardware experiments of
Cowlessur et al., *Parameter-efficient Quantum Multi-task Learning* (2026).

    python experiments/figures/f5_noise.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

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
    run_grid,
    save,
    t_interval,
)
from qmtl.evaluation import evaluate_run

NAME = "f5_noise"
WORDS = ["Z0", "Z1", "Z2", "Z3"]
BACKENDS = ["fake_manila", "fake_lima", "fake_belem", "fake_quito"]
NOISE_SHOTS = 1024
NOISY: dict[str, Any] = {"device.name": "aer", "device.noise": "fake_manila", "device.shots": NOISE_SHOTS}
MEAN = "mean"  # the "task" of the accuracy averaged over the three tasks
TRAIN = {"training.batch_size": 32}
FULL: dict[str, Any] = {"shots": [16, 64, 256, 1024, 4096, 16384], "backends": BACKENDS, "seeds": [0, 1, 2, 3, 4],
        "train": {**TRAIN, "data.limit": 600, "training.epochs": 30, "training.patience": 4}}
QUICK: dict[str, Any] = {"shots": [16, 1024], "backends": BACKENDS[:2], "seeds": [0],
         "train": {**TRAIN, "data.limit": 40, "model.ansatz.layers": 1, "training.epochs": 1}}

Evaluation = tuple[str, int | None, str | None]  # (trained, shots or None for exact, noise or None)


def name_of(evaluation: Evaluation) -> dict[str, Any]:
    """CSV columns naming an evaluation: how the model was trained, and the shots and noise
    it was evaluated with."""
    trained, shots, noise = evaluation
    return {"trained": trained, "shots": shots or "exact", "noise": noise or "none"}


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    seeds: list[int] = grid["seeds"]
    base = read_config("digits.yaml")
    common = {"model.n_qubits": 4, "training.conflict_diagnostic": False,
              **{f"tasks.{i}.observables": WORDS for i in range(len(base["tasks"]))}}
    settings = {"exact": {**common, **grid["train"], "device.name": "default.qubit"},
                "noisy": {**common, **grid["train"], **NOISY}}
    trained_runs = run_grid(base, settings, seeds, args.runs)
    report(trained_runs)
    runs = {(t.label, t.seed): t.path for t in trained_runs}
    tasks = [task["name"] for task in base["tasks"]]
    # accuracy[evaluation][task] = one value per seed, in the order of ``seeds``
    accuracy: dict[Evaluation, dict[str, list[float]]] = {}

    def evaluate(evaluation: Evaluation) -> None:
        trained, shots, noise = evaluation
        # Both keys always set: a run trained under noise keeps its own shots and noise otherwise.
        overrides = ["device.name=aer", f"device.shots={shots or 'null'}", f"device.noise={noise or 'null'}"]
        per_task: dict[str, list[float]] = {task: [] for task in [*tasks, MEAN]}
        for seed in seeds:
            test = evaluate_run(runs[trained, seed], "test", overrides)
            for task in tasks:
                per_task[task].append(test[task]["accuracy"])
            per_task[MEAN].append(float(np.mean([test[task]["accuracy"] for task in tasks])))
        accuracy[evaluation] = per_task
        print(f"  trained {trained}, evaluated shots={shots} noise={noise}", flush=True)

    exact: Evaluation = ("exact", None, None)
    evaluate(exact)
    shot_evaluations: list[Evaluation] = [("exact", shots, None) for shots in grid["shots"]]
    backend_evaluations: list[Evaluation] = [("exact", NOISE_SHOTS, noise) for noise in grid["backends"]]
    noisy_on_device: Evaluation = ("noisy", NOISE_SHOTS, NOISY["device.noise"])
    noisy_exact: Evaluation = ("noisy", None, None)
    for evaluation in [*shot_evaluations, *backend_evaluations, noisy_exact, noisy_on_device]:
        evaluate(evaluation)

    comparisons: list[tuple[str, Evaluation, Evaluation]] = [
        *[("shot noise", evaluation, exact) for evaluation in shot_evaluations],
        *[("device noise", evaluation, exact) for evaluation in backend_evaluations],
        ("noise-trained vs exact-trained, on the noisy device", noisy_on_device,
         ("exact", NOISE_SHOTS, NOISY["device.noise"])),
        ("noise-trained vs exact-trained, evaluated exactly", noisy_exact, exact),
        ("noise-trained: noisy device vs exact", noisy_on_device, noisy_exact),
    ]
    rows: list[dict[str, Any]] = []
    for evaluation, per_task in accuracy.items():
        rows.extend({"kind": "evaluation", **name_of(evaluation), "task": task, **interval_columns(values)}
                    for task, values in per_task.items())
    for label, a, b in comparisons:
        rows.extend({"kind": "paired", "comparison": label, **name_of(a),
                     **{f"{column}_b": value for column, value in name_of(b).items()}, "task": task,
                     **paired_columns(accuracy[a][task], accuracy[b][task])}
                    for task in [*tasks, MEAN])
    rows.extend({"kind": "training", "trained": label, **convergence([t for t in trained_runs if t.label == label])}
                for label in settings)

    def interval(evaluation: Evaluation, task: str) -> tuple[float, float]:
        values = t_interval(accuracy[evaluation][task])
        return values.mean, values.half_width

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for index, task in enumerate(tasks):
        colour = f"C{index}"
        means, halves = zip(*(interval(evaluation, task) for evaluation in shot_evaluations))
        left.errorbar(grid["shots"], means, yerr=halves, fmt="o-", color=colour, capsize=2, label=task)
        left.axhline(interval(exact, task)[0], color=colour, linestyle=":", linewidth=1)
    left.set_xscale("log")
    left.set_xlabel("shots per expectation value (Aer, no device noise)")
    left.set_ylabel("test accuracy")
    left.set_title(f"trained exact; dotted: exact evaluation\n(mean and 95% CI, {len(seeds)} seeds)")
    left.legend()
    bars = [*backend_evaluations, noisy_on_device, noisy_exact]
    x = np.arange(len(bars))
    for index, task in enumerate(tasks):
        means, halves = zip(*(interval(evaluation, task) for evaluation in bars))
        right.bar(x + (index - 1) * 0.27, means, 0.27, yerr=halves, capsize=2, color=f"C{index}", label=task,
                  edgecolor=["none" if trained == "exact" else "black" for trained, _, _ in bars])
    right.set_xticks(x, [f"{(noise or 'exact').removeprefix('fake_')}\n{trained}-\ntrained"
                         for trained, _, noise in bars], fontsize=7)
    right.set_ylabel("test accuracy")
    right.set_title(f"device noise models, {NOISE_SHOTS} shots\n(mean and 95% CI, {len(seeds)} seeds)")
    right.set_ylim(0, 1)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
