"""Δm%: the average relative gain of a multi-task model over single-task baselines.

Maninis, Radosavovic, Kokkinos, "Attentive Single-Tasking of Multiple Tasks", CVPR 2019;
Vandenhende et al., "Multi-Task Learning for Dense Prediction Tasks: A Survey", TPAMI 2021.
Two conventions are in use, and they differ in sign and in how metrics are averaged; every
number qmtl prints carries its convention's label (:func:`delta_m_label`).

``libmtl`` (the default), as LibMTL reports it (``count_improvement``): metrics are averaged
within a task first, then over the *T* tasks, and **positive means the multi-task model is
better**:

.. math::

    \\Delta_m = \\frac{100}{T} \\sum_{t=1}^{T} \\frac{1}{N_t} \\sum_{j=1}^{N_t}
        (-1)^{l_{t,j}}
        \\frac{M^{\\text{mtl}}_{t,j} - M^{\\text{single}}_{t,j}}{M^{\\text{single}}_{t,j}}

with :math:`l_{t,j} = 1` when lower is better.

``nash_mtl``, as the tables of Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining
Game", ICML 2022, Sec. 6) and FAMO (Liu et al., NeurIPS 2023) report it: one average over
all *K* metrics of all tasks, and **negative means the multi-task model is better**:

.. math::

    \\Delta_m = \\frac{100}{K} \\sum_{k=1}^{K} (-1)^{\\delta_k}
        \\frac{M^{\\text{mtl}}_{k} - M^{\\text{single}}_{k}}{M^{\\text{single}}_{k}}

with :math:`\\delta_k = 1` when higher is better.  With one metric per task the two are
exact negatives of each other.

qmtl divides by :math:`|M^{\\text{single}}|` so the sign keeps its meaning for metrics that can
be negative (e.g. :math:`R^2`); for positive metrics this is exactly the references' number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qmtl.errors import UserError


@dataclass(frozen=True)
class DeltaMConvention:
    """``sign`` of an improvement, whether tasks are averaged first, and the printed label."""

    sign: float
    tasks_first: bool
    label: str


CONVENTIONS: dict[str, DeltaMConvention] = {
    "libmtl": DeltaMConvention(+1.0, True, "Δm% (LibMTL, higher is better)"),
    "nash_mtl": DeltaMConvention(-1.0, False, "Δm% (Nash-MTL/FAMO, lower is better)"),
}


def _convention(name: str) -> DeltaMConvention:
    if name not in CONVENTIONS:
        raise UserError(f"unknown Δm% convention '{name}'; use one of {', '.join(CONVENTIONS)}")
    return CONVENTIONS[name]


def delta_m_label(convention: str = "libmtl") -> str:
    """How a Δm% of ``convention`` is labelled, e.g. ``"Δm% (LibMTL, higher is better)"``."""
    return _convention(convention).label


def delta_m(
    mtl_metrics: Mapping[str, Mapping[str, float]],
    single_task_metrics: Mapping[str, Mapping[str, float]],
    higher_is_better: Mapping[str, bool],
    convention: str = "libmtl",
) -> float:
    """Δm in percent; metrics are ``{task: {metric: value}}``, directions ``{metric: bool}``.

    Every metric of the multi-task model must have a single-task baseline and a direction.
    """
    rule = _convention(convention)
    if not mtl_metrics:
        raise UserError("delta_m needs at least one task's metrics")
    per_task: list[list[float]] = []
    for task, metrics in mtl_metrics.items():
        if task not in single_task_metrics:
            raise UserError(
                f"no single-task baseline for task '{task}'; run it with one task first"
            )
        if not metrics:
            raise UserError(f"task '{task}' has no metrics")
        gains = []
        for metric, value in metrics.items():
            if metric not in single_task_metrics[task]:
                raise UserError(f"single-task baseline of '{task}' lacks metric '{metric}'")
            if metric not in higher_is_better:
                raise UserError(f"say whether higher is better for metric '{metric}'")
            base = single_task_metrics[task][metric]
            if base == 0:
                raise UserError(f"baseline {task}/{metric} is 0; Δm is a relative gain")
            direction = 1.0 if higher_is_better[metric] else -1.0
            gains.append(direction * (value - base) / abs(base))
        per_task.append(gains)
    if rule.tasks_first:
        mean = sum(sum(gains) / len(gains) for gains in per_task) / len(per_task)
    else:
        every = [gain for gains in per_task for gain in gains]
        mean = sum(every) / len(every)
    return 100.0 * rule.sign * mean + 0.0  # + 0.0: no '-0.00' for equal results
