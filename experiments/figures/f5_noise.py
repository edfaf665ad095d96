"""F5: test accuracy vs shots and vs device noise, trained exact or trained under noise.

A digits model (digit / parity / ge5, 4 qubits) is trained on the exact simulator and its
best checkpoint evaluated, unchanged, on Qiskit Aer through
``qmtl.evaluation.evaluate_run(run, "test", ["device.name=aer", ...])``:

* left: against ``device.shots`` (each expectation value gets Gaussian noise with the
  variance of real sampling, :mod:`qmtl.devices.sampling`: ``(1 - <Z>^2)/shots`` for the
  single Pauli words used here), with the exact value as a line;
* right: under the noise models of several 5-qubit IBM fake backends
  (``device.noise=fake_<name>``: their noise model, coupling map and basis gates) at
  ``NOISE_SHOTS`` shots, next to a second model trained on Aer under ``fake_manila`` noise
  at the same shots and evaluated there and exactly.

Both models get the same training settings (``TRAIN``: data subset, epochs, batch size,
no early stopping), hence the same number of optimisation steps; only the training
device differs (``default.qubit`` against noisy Aer).

The noise-aware question of quantum MTL on NISQ devices, as in the hardware experiments of
Cowlessur et al., *Parameter-efficient Quantum Multi-task Learning* (2026).  Two seeds
(one in ``--quick``); the CSV has one row per seed, the plot shows their mean.

    python experiments/figures/f5_noise.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from common import arguments, read_config, run_grid, save
from qmtl.evaluation import evaluate_run

NAME = "f5_noise"
WORDS = ["Z0", "Z1", "Z2", "Z3"]
BACKENDS = ["fake_manila", "fake_lima", "fake_belem", "fake_quito"]
NOISE_SHOTS = 1024
NOISY = {"device.name": "aer", "device.noise": "fake_manila", "device.shots": NOISE_SHOTS}
# Shared by the exact- and the noise-trained model: 390 training examples, 13 steps per
# epoch, 104 steps each; patience null so neither stops early.
TRAIN = {"training.batch_size": 32, "training.patience": None}
FULL = {"shots": [16, 64, 256, 1024, 4096, 16384], "backends": BACKENDS, "seeds": [0, 1],
        "train": {**TRAIN, "data.limit": 600, "training.epochs": 8}}
QUICK = {"shots": [16, 1024], "backends": BACKENDS[:2], "seeds": [0],
         "train": {**TRAIN, "data.limit": 40, "model.ansatz.layers": 1, "training.epochs": 1}}


def main() -> None:
    args = arguments(__doc__, NAME)
    grid = QUICK if args.quick else FULL
    base = read_config("digits.yaml")
    common = {"model.n_qubits": 4, "training.conflict_diagnostic": False,
              **{f"tasks.{i}.observables": WORDS for i in range(len(base["tasks"]))}}
    settings = {"exact": {**common, **grid["train"], "device.name": "default.qubit"},
                "noisy": {**common, **grid["train"], **NOISY}}
    runs = {(t.label, t.seed): t.path for t in run_grid(base, settings, grid["seeds"], args.runs)}
    tasks = [task["name"] for task in base["tasks"]]
    rows: list[dict[str, Any]] = []

    def evaluate(trained: str, shots: int | None, noise: str | None) -> None:
        # Both keys always set: a run trained under noise keeps its own shots and noise otherwise.
        overrides = ["device.name=aer", f"device.shots={shots or 'null'}", f"device.noise={noise or 'null'}"]
        for seed in grid["seeds"]:
            test = evaluate_run(runs[trained, seed], "test", overrides)
            rows.extend({"trained": trained, "seed": seed, "shots": shots or "exact", "noise": noise or "none",
                         "task": task, "accuracy": test[task]["accuracy"]} for task in tasks)
        print(f"  trained {trained}, evaluated shots={shots} noise={noise}", flush=True)

    def mean(trained: str, shots: int | str, noise: str, task: str) -> float:
        return float(np.mean([r["accuracy"] for r in rows
                              if (r["trained"], r["shots"], r["noise"], r["task"]) == (trained, shots, noise, task)]))

    evaluate("exact", None, None)
    for shots in grid["shots"]:
        evaluate("exact", shots, None)
    for noise in grid["backends"]:
        evaluate("exact", NOISE_SHOTS, noise)
    evaluate("noisy", None, None)
    evaluate("noisy", NOISE_SHOTS, NOISY["device.noise"])

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for index, task in enumerate(tasks):
        colour = f"C{index}"
        left.plot(grid["shots"], [mean("exact", n, "none", task) for n in grid["shots"]], "o-", color=colour,
                  label=task)
        left.axhline(mean("exact", "exact", "none", task), color=colour, linestyle=":", linewidth=1)
    left.set_xscale("log")
    left.set_xlabel("shots per expectation value (Aer, no device noise)")
    left.set_ylabel("test accuracy")
    left.set_title(f"trained exact; dotted: exact evaluation ({len(grid['seeds'])}-seed mean)")
    left.legend()
    bars = [("exact", noise) for noise in grid["backends"]] + [("noisy", NOISY["device.noise"]), ("noisy", "none")]
    x = np.arange(len(bars))
    for index, task in enumerate(tasks):
        heights = [mean(t, "exact" if n == "none" else NOISE_SHOTS, n, task) for t, n in bars]
        right.bar(x + (index - 1) * 0.27, heights, 0.27, color=f"C{index}", label=task,
                  edgecolor=["none" if t == "exact" else "black" for t, _ in bars])
    right.set_xticks(x, [f"{n.removeprefix('fake_').replace('none', 'exact')}\n{t}-\ntrained" for t, n in bars],
                     fontsize=7)
    right.set_ylabel("test accuracy")
    right.set_title(f"device noise models, {NOISE_SHOTS} shots ({len(grid['seeds'])}-seed mean)")
    right.set_ylim(0, 1)
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
