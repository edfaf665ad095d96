"""Which parts of a config a checkpoint's tensors depend on.

A checkpoint stores the hash of :func:`model_defining_config`
(:func:`qmtl.checkpoint.model_fingerprint`); loading it under a config that changes any of
these parts is refused, while the device, the learning rate or the epochs may change.
"""

from __future__ import annotations

from typing import Any

from qmtl.config import RunConfig


def model_defining_config(config: RunConfig) -> dict[str, Any]:
    """Config parts a checkpoint's tensors depend on (shapes and meaning)."""
    return {
        "model": config.model.model_dump(mode="json"),
        "tasks": [t.model_dump(mode="json") for t in config.tasks],
        "data": {"name": config.data.name, "features": config.data.features, "options": config.data.options},
        "weighting": config.training.weighting,
        "aggregator": config.training.aggregator,
    }
