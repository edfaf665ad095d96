"""Small configs that train in seconds, and an interrupted training run (shared by the tests)."""

from __future__ import annotations

from typing import Any

TINY: dict[str, Any] = {
    "seed": 0,
    "data": {"name": "digits", "limit": 300},
    "tasks": [
        {"name": "digit", "kind": "multiclass", "classes": 10, "observables": ["Z0", "Z1", "Z2", "Z3"]},
        {"name": "parity", "kind": "binary", "observables": ["Z0", "Z1", "Z2", "Z3"]},
        {"name": "ge5", "kind": "binary", "observables": ["Z0 Z1", "Z2 Z3"]},
    ],
    "model": {"n_qubits": 4, "encoder": {"hidden": [16]}, "ansatz": {"layers": 1}},
    "training": {"epochs": 2, "batch_size": 64, "lr": 0.05, "conflict_diagnostic": True},
}



class Interrupted(Exception):
    """Raised by :func:`interrupted_run` in place of a crash."""


def interrupted_run(raw: dict[str, Any], run_dir: Any, at_step: int) -> None:
    """Train ``raw`` into ``run_dir`` and stop it after global step ``at_step``."""
    import pytest

    from qmtl.config import validate_config
    from qmtl.training import Trainer

    def stop(step: int) -> None:
        if step == at_step:
            raise Interrupted

    with pytest.raises(Interrupted):
        Trainer(validate_config(raw), run_dir, progress=False, on_step=stop).run()
