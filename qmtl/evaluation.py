"""Evaluation: per-task losses and metrics of a model on a split, and of a finished (or
interrupted) run's best model, possibly on another target; Δm against a baseline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from qmtl.data import Split
from qmtl.errors import UserError
from qmtl.memory import forward_in_chunks, plan_memory
from qmtl.model import MultiTaskModel
from qmtl.run import load_run
from qmtl.strategies.delta_m import delta_m
from qmtl.tasks import TaskConfig

EVAL_BATCH = 512


def task_losses(outputs: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], tasks: list[TaskConfig],
                labelled: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    r"""The vector of per-task mean losses, each scaled by the task's static weight.

    With ``labelled`` (a split's masks of labelled rows, :class:`qmtl.data.Split`), task
    :math:`t`'s loss is the mean over its labelled rows :math:`S_t` of the batch only,
    :math:`L_t = \frac{1}{|S_t|} \sum_{i \in S_t} \ell_t(f_t(x_i), y_{it})`: an unlabelled
    row's output is not read, so its placeholder target cannot move any gradient.  A task
    with no labelled row in the batch (:math:`S_t = \emptyset`) gets a constant 0, outside
    the autograd graph: no loss and no gradient, and its head's parameters get no ``.grad``
    from it (the optimiser leaves them alone that step).
    """
    losses = []
    for task in tasks:
        output, target = outputs[task.name], targets[task.name]
        mask = None if labelled is None else labelled[task.name]
        if mask is not None and not bool(mask.all()):
            if not bool(mask.any()):
                losses.append(output.new_zeros(()))
                continue
            output, target = output[mask], target[mask]
        losses.append(task.weight * task.loss(output, target))
    return torch.stack(losses)


@torch.no_grad()
def evaluate(model: MultiTaskModel, split: Split, tasks: list[TaskConfig], batch_size: int = EVAL_BATCH) -> dict[str, dict[str, float]]:
    """Per-task loss and metrics on a whole split (model in eval mode), each task on its
    labelled rows of the split only (so Δm compares tasks each on its own test rows)."""
    was_training = model.training
    model.eval()
    outputs: dict[str, list[torch.Tensor]] = {t.name: [] for t in tasks}
    for start in range(0, len(split), batch_size):
        batch = split.subset(torch.arange(start, min(start + batch_size, len(split))))
        for name, value in forward_in_chunks(model, batch.features, batch_size).items():  # on the model's device
            if name in outputs:  # ``tasks`` may be some of the model's tasks
                outputs[name].append(value)
    model.train(was_training)
    results = {}
    for task in tasks:
        labelled = split.labelled[task.name]
        output, target = torch.cat(outputs[task.name])[labelled], split.targets[task.name][labelled]
        results[task.name] = {"loss": float(task.loss(output, target)), **task.scores(output, target)}
    return results

#: The splits a run's data has, by the names ``evaluate_run`` and ``qmtl eval --split`` take.
SPLITS = ("train", "val", "test")


def evaluate_run(run_path: str | Path, split: str = "test", overrides: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Per-task metrics of the run's best model on ``split`` (``train``, ``val`` or ``test``),
    on the run's device or the one ``overrides`` (``device.*=...`` assignments) name, in batches
    that fit ``training.max_state_memory``."""
    if split not in SPLITS:
        raise UserError(f"split '{split}' is not one of {', '.join(SPLITS)}; pick one of them")
    with load_run(run_path, overrides) as run:
        data = run.require_data()
        memory = plan_memory(run.model, data.train.features, run.config, training=False)
        parts = {"train": data.train, "val": data.val, "test": data.test}
        return evaluate(run.model, parts[split], list(run.config.tasks),
                        batch_size=min(EVAL_BATCH, memory.inference_chunk))


#: Direction of every metric qmtl reports (the loss is left out of Δm, as in LibMTL).
HIGHER_IS_BETTER = {"accuracy": True, "macro_f1": True, "r2": True, "mse": False, "mae": False}


def delta_m_against(results: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]],
                    convention: str = "libmtl") -> float:
    """Δm% of ``results`` over single-task ``baseline`` results, on every metric but the loss,
    in ``convention`` (``libmtl``: higher is better; ``nash_mtl``: lower is better); print it
    with :func:`qmtl.strategies.delta_m.delta_m_label` of the same convention."""
    metrics = {task: {k: v for k, v in values.items() if k in HIGHER_IS_BETTER} for task, values in results.items()}
    return delta_m(metrics, baseline, HIGHER_IS_BETTER, convention)
