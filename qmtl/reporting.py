"""One-line progress reports printed while training."""

from __future__ import annotations

from typing import Any

from qmtl.tasks import TaskConfig


def format_epoch(record: dict[str, Any], tasks: list[TaskConfig]) -> str:
    """``epoch   3 | task: loss 0.412 val accuracy 0.870 | ... *`` (``*``: the best epoch so far)."""
    parts = [f"epoch {record['epoch']:>3}"]
    for task in tasks:
        metric = task.primary_metric
        parts.append(f"{task.name}: loss {record['train_loss'][task.name]:.3f} val {metric} {record['val'][task.name][metric]:.3f}")
    return " | ".join(parts) + (" *" if record["best"] else "")
