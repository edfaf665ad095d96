"""qmtl — hybrid quantum-classical multi-task learning.

Classical encoders feed a shared variational quantum circuit; per-task measurement
heads read each task's output from it; everything trains jointly through PennyLane's
Torch interface, on exact simulators, Qiskit Aer or IBM Quantum hardware.

The Python API (the ``qmtl`` command line is built on the same functions)::

    config = load_config("experiments/configs/digits.yaml", ["training.epochs=2"])
    final = train(config, "runs/digits")              # final.json's content
    evaluate_run("runs/digits", overrides=["device.name=aer", "device.shots=1000"])
    with load_run("runs/digits") as run:               # config, data, device, model
        evaluate(run.model, run.data.test, run.config.tasks)

Every name below is imported on first use, so ``import qmtl`` stays cheap:

>>> import qmtl
>>> config = qmtl.validate_config({"data": {"name": "digits", "limit": 100}, "model": {"n_qubits": 4},
...     "tasks": [{"name": "digit", "kind": "multiclass", "classes": 10, "observables": ["Z0", "Z1"]}]})
>>> isinstance(config, qmtl.RunConfig), config.device.name
(True, 'default.qubit')
>>> "upgrad" in qmtl.strategy_names()["aggregator"]
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # configuration
    "RunConfig": "qmtl.config",
    "load_config": "qmtl.config",
    "validate_config": "qmtl.config",
    "UserError": "qmtl.errors",
    # building, training, evaluating a run
    "Run": "qmtl.run",
    "build_run": "qmtl.run",
    "load_run": "qmtl.run",
    "train": "qmtl.training",
    "resume": "qmtl.training",
    "evaluate": "qmtl.evaluation",
    "evaluate_run": "qmtl.evaluation",
    # hardware
    "SubmitOptions": "qmtl.hardware.submit",
    "submit_run": "qmtl.hardware.submit",
    # sweeps
    "load_sweep": "qmtl.sweep",
    "run_sweep": "qmtl.sweep",
    "LocalExecutor": "qmtl.sweep_executors",
    # devices and strategies
    "EstimatorDevice": "qmtl.devices",
    "build_device": "qmtl.devices",
    "device_names": "qmtl.devices",
    "strategy_names": "qmtl._listing",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    # Importing torch, PennyLane and Qiskit takes seconds: only when a name is used.
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qmtl' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
