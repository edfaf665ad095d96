"""Evaluating a finished (or interrupted) run's best model, possibly on another target."""

from __future__ import annotations

from pathlib import Path

from qmtl.architectures import build_model
from qmtl.checkpoint import load_checkpoint
from qmtl.config import load_config
from qmtl.data import load_data
from qmtl.devices import build_device
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel
from qmtl.rundir import RunDir
from qmtl.strategies.delta_m import delta_m
from qmtl.training import evaluate, model_defining_config, seed_everything


def load_run_model(run_path: Path, overrides: list[str] | None = None):
    """The run's config (with device overrides), its data and its best model."""
    run_dir = RunDir(run_path)
    if not run_dir.config.exists():
        raise UserError(f"'{run_path}' is not a qmtl run directory (no config.yaml); check the path")
    for assignment in overrides or []:
        if not assignment.split("=", 1)[0].strip().startswith("device."):
            raise UserError(f"only device.* keys can change at evaluation, not '{assignment}'; retrain instead")
    config = load_config(run_dir.config, overrides)
    seed_everything(config.seed)
    data = load_data(config.data, config.tasks, config.seed)
    device, diff_method = build_device(config.device, config.model.n_qubits, config.seed)
    model: MultiTaskModel = build_model(config, data.input_dims, device, diff_method)
    checkpoint = run_dir.best_checkpoint if run_dir.best_checkpoint.exists() else run_dir.last_checkpoint
    # The split check refuses a checkpoint trained beside another split (another seed,
    # file, fraction, ...), whose training examples may be the ones evaluated here.
    state = load_checkpoint(checkpoint, model_defining_config(config), data.split)
    model.load_state_dict(state.get("best_model", state["model"]) if checkpoint == run_dir.last_checkpoint else state["model"])
    return config, data, model


def evaluate_run(run_path: Path, split: str = "test", overrides: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Per-task metrics of the run's best model on ``split``."""
    config, data, model = load_run_model(run_path, overrides)
    return evaluate(model, getattr(data, split), list(config.tasks))


#: Direction of every metric qmtl reports (the loss is left out of Δm, as in LibMTL).
HIGHER_IS_BETTER = {"accuracy": True, "macro_f1": True, "r2": True, "mse": False, "mae": False}


def delta_m_against(results: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]],
                    convention: str = "libmtl") -> float:
    """Δm% of ``results`` over single-task ``baseline`` results, on every metric but the loss,
    in ``convention`` (``libmtl``: higher is better; ``nash_mtl``: lower is better); print it
    with :func:`qmtl.strategies.delta_m.delta_m_label` of the same convention."""
    metrics = {task: {k: v for k, v in values.items() if k in HIGHER_IS_BETTER} for task, values in results.items()}
    return delta_m(metrics, baseline, HIGHER_IS_BETTER, convention)
