"""Small configs that train in seconds, and an interrupted training run (shared by the tests)."""

from __future__ import annotations

import copy
from pathlib import Path
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


def finished_tiny_run(folder: Path, *, submitted: bool = False) -> Path:
    """TINY on 100 examples for one epoch, trained through the CLI into ``folder / "run"``;
    with ``submitted``, also a finished 100-shot fake_manila submission of it."""
    import yaml

    from qmtl.cli import main

    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 100
    raw["training"].update(epochs=1, conflict_diagnostic=False)
    (folder / "config.yaml").write_text(yaml.safe_dump(raw))
    run = folder / "run"
    assert main(["train", str(folder / "config.yaml"), "--out", str(run), "--quiet"]) == 0
    if submitted:
        assert main(["submit", str(run), "--backend", "fake_manila", "--shots", "100", "--yes"]) == 0
    return run
