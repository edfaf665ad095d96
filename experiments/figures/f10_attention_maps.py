r"""F10: attention maps -- which observables each task attends to, and which modality counts.

Left panels: ``task_attention`` (softmax over every Pauli word the shared circuit
measures) on ``quantum-teacher`` (experiments/configs/quantum-teacher.yaml: 2 tasks,
3 qubits, all 63 Pauli words measured, the student's 2 layers = the teacher's shared
layers), 5 seeds.  One heatmap per task: rows are the seeds' attention at the best
epoch (mean over up to 256 validation examples, as ``metrics.jsonl`` records it), their
mean, and the teacher's truth.  The truth: task *t*'s label is the sign of
:math:`\langle \psi_s | U_t^\dagger Z_0 U_t | \psi_s \rangle`, so on the teacher's shared
state :math:`|\psi_s\rangle` it reads the Pauli words :math:`P` of
:math:`U_t^\dagger Z_0 U_t = \sum_P c_{t,P} P` with weight :math:`c_{t,P}^2 / \sum_Q c_{t,Q}^2`
(the teacher is rebuilt from its seed and checked to reproduce the data's labels).  The
columns are sorted by that truth.  The CSV also gives, per task, the Spearman
correlation of each seed's attention with the truth (mean and 95% t-interval).

Right panel: modality attention (``model.encoder.fusion: attention``) on ``multidigits``
with ``modalities: true`` and only the ``left`` task, so the right image is irrelevant to
the one task: the weight of each modality per epoch, mean and 95% t-interval over 5 seeds.

    python experiments/figures/f10_attention_maps.py [--quick] [--out DIR] [--runs DIR]
"""

from __future__ import annotations

import copy
import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pennylane as qml
from matplotlib.colors import LogNorm
from scipy import stats

from common import arguments, read_config, run_grid, save
from qmtl.ansatz import get_ansatz
from qmtl.data.quantum_teacher import load_quantum_teacher, teacher_values
from qmtl.observables import to_observable
from qmtl.rundir import RunDir

NAME = "f10_attention_maps"
SEEDS = range(5)
QUICK_SEEDS = range(2)
TEACHER = {"model.architecture": "task_attention"}
MODALITY = {"data.options.modalities": True, "model.encoder.fusion": "attention", "model.n_qubits": 4,
            "tasks.0.observables": ["Z0", "Z1", "Z2", "Z3"], "model.ansatz.layers": 1, "data.limit": 600,
            "training.epochs": 10, "training.patience": 10}
QUICK = {"training.epochs": 1, "data.limit": 80}


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and the 95% Student-t interval of the mean (NaN bounds for one value)."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def teacher_pauli_weights(options: dict[str, Any], words: list[str]) -> dict[str, list[float]]:
    """Per task ``t<i>``, :math:`c_{t,P}^2 / \\sum c^2` of :math:`U_t^\\dagger Z_0 U_t` on ``words``.

    The teacher's weights are drawn as :func:`qmtl.data.quantum_teacher.load_quantum_teacher`
    draws them (same generator, same order); its labels are recomputed and must equal the
    loader's, so a change in the loader cannot silently change this truth.
    """
    n, layers, k = options["n_qubits"], options["layers"], options["tasks"]
    ansatz = get_ansatz(options.get("ansatz", "strongly_entangling"))
    spread, n_features = options.get("spread", 0.3), options["n_features"]
    rng = np.random.default_rng(options["seed"])
    n_shared = round(options["shared_fraction"] * layers)
    base = rng.uniform(0, 2 * np.pi, ansatz.shape(layers, n))
    own = [base[n_shared:] + spread * rng.standard_normal(base[n_shared:].shape) for _ in range(k)]
    projection = rng.standard_normal((n_features, n)) / np.sqrt(n_features)
    x = rng.standard_normal((options["n_samples"], n_features))
    labels = teacher_values(np.pi * np.tanh(x @ projection), ansatz, base[:n_shared], own) > 0
    loaded = load_quantum_teacher(options).targets
    if any(not np.array_equal(labels[:, t], loaded[f"t{t}"] == 1) for t in range(k)):
        raise SystemExit("the rebuilt teacher does not reproduce quantum-teacher's labels; update "
                         "teacher_pauli_weights to the loader's draws")
    wires = list(range(n))
    z0 = qml.matrix(qml.PauliZ(0), wire_order=wires)
    weights = {}
    for t in range(k):
        def continuation(task: int = t) -> None:
            for offset, layer_weights in enumerate(own[task]):
                ansatz.apply_layer(layer_weights, wires, n_shared + offset)

        unitary = qml.matrix(continuation, wire_order=wires)()
        heisenberg = unitary.conj().T @ z0 @ unitary
        c = np.array([np.real(np.trace(heisenberg @ qml.matrix(to_observable(w), wire_order=wires))) / 2**n
                      for w in words])
        weights[f"t{t}"] = (c**2 / np.sum(c**2)).tolist()
    return weights


def best_record(path: Any, best_epoch: int) -> dict[str, Any]:
    """The ``metrics.jsonl`` line of the run's best epoch (the model ``final.json`` evaluates)."""
    return next(r for r in RunDir(path).read_metrics() if r["epoch"] == best_epoch)


def main() -> None:
    args = arguments(__doc__, NAME)
    seeds = QUICK_SEEDS if args.quick else SEEDS
    rows: list[dict[str, Any]] = []

    # --- task attention on quantum-teacher -------------------------------------------
    base = read_config("quantum-teacher.yaml")
    teacher = run_grid(base, {"task_attention": {**TEACHER, **(QUICK if args.quick else {})}}, seeds,
                       args.runs / "quantum-teacher")
    maps = [best_record(run.path, run.final["best_epoch"])["attention"]["task_attention"] for run in teacher]
    tasks = list(maps[0])
    words = list(maps[0][tasks[0]])
    truth = teacher_pauli_weights(base["data"]["options"], words)

    figure = plt.figure(figsize=(13, 2.6 * len(tasks) + 0.6))
    grid = figure.add_gridspec(len(tasks), 2, width_ratios=[3.2, 1])
    norm = LogNorm(vmin=1e-3, vmax=1.0)
    for row, task in enumerate(tasks):
        order = np.argsort(-np.asarray(truth[task]), kind="stable")
        per_seed = np.array([[m[task][words[i]] for i in order] for m in maps])
        matrix = np.vstack([per_seed, per_seed.mean(axis=0), np.asarray(truth[task])[order]])
        axis = figure.add_subplot(grid[row, 0])
        image = axis.imshow(np.clip(matrix, 1e-3, None), aspect="auto", cmap="viridis", norm=norm,
                            interpolation="nearest")
        axis.set_yticks(range(len(matrix)), [f"seed {run.seed}" for run in teacher] + ["mean", "teacher"])
        axis.set_xticks(range(len(words)), [words[i] for i in order], rotation=90, fontsize=5)
        axis.axhline(len(per_seed) - 0.5, color="white", linewidth=0.8)
        axis.axhline(len(per_seed) + 0.5, color="white", linewidth=0.8)
        axis.grid(False)
        axis.set_title(f"task {task}: softmax attention over the {len(words)} measured words (uniform = "
                       f"{1 / len(words):.3f}); columns sorted by the teacher's weight")
        figure.colorbar(image, ax=axis, fraction=0.02, pad=0.01, label="weight")
        for i in order:
            values = [m[task][words[i]] for m in maps]
            mean, low, high = interval(values)
            rows.append({"panel": "task_attention", "task": task, "column": words[i], "epoch": "best",
                         "mean": mean, "ci95_low": low, "ci95_high": high, "seeds": len(values),
                         "teacher_weight": truth[task][i]})
        correlations = [float(stats.spearmanr([m[task][w] for w in words], truth[task]).statistic) for m in maps]
        mean, low, high = interval(correlations)
        rows.append({"panel": "spearman_attention_vs_teacher", "task": task, "column": "all", "epoch": "best",
                     "mean": mean, "ci95_low": low, "ci95_high": high, "seeds": len(correlations)})
        entropy = [float(stats.entropy(list(m[task].values())) / math.log(len(words))) for m in maps]
        mean, low, high = interval(entropy)
        rows.append({"panel": "normalised_attention_entropy", "task": task, "column": "all", "epoch": "best",
                     "mean": mean, "ci95_low": low, "ci95_high": high, "seeds": len(entropy)})

    # --- modality attention on multidigits (left task only) ---------------------------
    digits = read_config("multidigits.yaml")
    digits["tasks"] = [copy.deepcopy(task) for task in digits["tasks"] if task["name"] == "left"]
    fused = run_grid(digits, {"modality_attention": {**MODALITY, **(QUICK if args.quick else {})}}, seeds,
                     args.runs / "multidigits")
    axis = figure.add_subplot(grid[:, 1])
    records = [RunDir(run.path).read_metrics() for run in fused]
    epochs = [r["epoch"] for r in records[0]]
    modalities = list(records[0][0]["attention"]["modality_attention"]["encoder"])
    for index, modality in enumerate(modalities):
        bands = [interval([r[e]["attention"]["modality_attention"]["encoder"][modality] for r in records])
                 for e in range(len(epochs))]
        means = [b[0] for b in bands]
        axis.plot(epochs, means, "o-", markersize=3, color=f"C{index}",
                  label=f"{modality} image" + (" (the task's digit)" if modality == "left" else " (irrelevant)"))
        axis.fill_between(epochs, [b[1] for b in bands], [b[2] for b in bands], color=f"C{index}", alpha=0.25)
        rows += [{"panel": "modality_attention", "task": "left", "column": modality, "epoch": epoch,
                  "mean": b[0], "ci95_low": b[1], "ci95_high": b[2], "seeds": len(records)}
                 for epoch, b in zip(epochs, bands)]
    axis.axhline(1 / len(modalities), color="grey", linewidth=0.6)
    axis.set_ylim(0, 1)
    axis.set_xlabel("epoch")
    axis.set_ylabel("modality weight (validation mean)")
    axis.set_title(f"multidigits, task 'left': modality attention\nmean and 95% interval over {len(records)} seeds")
    axis.legend(fontsize=7, loc="center right")
    save(figure, rows, args.out, NAME)


if __name__ == "__main__":
    main()
