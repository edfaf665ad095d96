"""Δm%: the average relative gain of a multi-task model over single-task baselines.

Maninis, Radosavovic, Kokkinos, "Attentive Single-Tasking of Multiple Tasks", CVPR 2019;
Vandenhende et al., "Multi-Task Learning for Dense Prediction Tasks: A Survey", TPAMI 2021.
As LibMTL reports it (``count_improvement``), metrics are averaged within a task first, then
over tasks:

.. math::

    \\Delta_m = \\frac{100}{T} \\sum_{t=1}^{T} \\frac{1}{N_t} \\sum_{j=1}^{N_t}
        (-1)^{l_{t,j}}
        \\frac{M^{\\text{mtl}}_{t,j} - M^{\\text{single}}_{t,j}}{M^{\\text{single}}_{t,j}}

with :math:`l_{t,j} = 1` when lower is better.  Positive means the multi-task model is better.
qmtl divides by :math:`|M^{\\text{single}}|` so the sign keeps its meaning for metrics that can
be negative (e.g. :math:`R^2`); for positive metrics this is exactly LibMTL's number.
"""

from __future__ import annotations

from collections.abc import Mapping

from qmtl.errors import UserError


def delta_m(
    mtl_metrics: Mapping[str, Mapping[str, float]],
    single_task_metrics: Mapping[str, Mapping[str, float]],
    higher_is_better: Mapping[str, bool],
) -> float:
    """Δm in percent; metrics are ``{task: {metric: value}}``, directions ``{metric: bool}``.

    Every metric of the multi-task model must have a single-task baseline and a direction.
    """
    if not mtl_metrics:
        raise UserError("delta_m needs at least one task's metrics")
    per_task = []
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
            sign = 1.0 if higher_is_better[metric] else -1.0
            gains.append(sign * (value - base) / abs(base))
        per_task.append(sum(gains) / len(gains))
    return 100.0 * sum(per_task) / len(per_task)
