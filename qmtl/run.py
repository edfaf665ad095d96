"""The one build sequence of a run: seed, data, device, model.

Training, evaluation, drawing, export and hardware submission all start from
:func:`build_run` (or :func:`load_run` for a trained run directory), so the same config
and seed give the same split and the same initial model everywhere.  A :class:`Run` owns
its device: used as a context manager it closes a Runtime ``Batch``/``Session`` the device
opened on every path, and :func:`build_run` closes it itself when building the model fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pennylane as qml

from qmtl.architectures import build_model
from qmtl.checkpoint import load_checkpoint
from qmtl.config import RunConfig, load_config
from qmtl.data import MultiTaskData, load_data
from qmtl.devices import build_device
from qmtl.errors import UserError
from qmtl.fingerprint import model_defining_config
from qmtl.model import MultiTaskModel
from qmtl.protocols import ClosableDevice
from qmtl.rng import seed_everything
from qmtl.rundir import RunDir
from qmtl.torch_device import resolve_torch_device

PLACEMENT_KEYS = ("training.torch_device", "training.max_state_memory")
"""Training keys an evaluation may override: where the model runs and in what memory, not what it computes."""


@dataclass
class Run:
    """A built run: its config, data split, device (and QNode ``diff_method``) and model.

    ``data`` is ``None`` only when built for a given input width without data
    (``build_run(config, input_dims=...)``); :meth:`require_data` reads it where a run
    built from its config is needed.
    """

    config: RunConfig
    data: MultiTaskData | None
    device: qml.devices.Device
    diff_method: str
    model: MultiTaskModel
    _closed: bool = field(default=False, repr=False)

    def require_data(self) -> MultiTaskData:
        """The run's data split; a run built without data (``input_dims=...``) has none."""
        if self.data is None:
            raise RuntimeError("this run was built for an input width without data "
                               "(build_run(config, input_dims=...)); build it with build_run(config)")
        return self.data

    def close(self) -> None:
        """Close the device's Runtime ``Batch``/``Session`` (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            close_device(self.device)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def close_device(device: qml.devices.Device) -> None:
    """End what ``device`` holds open (a Runtime session) instead of leaving it to time out."""
    if isinstance(device, ClosableDevice):
        device.close()


def build_run(config: RunConfig, *, input_dims: int | None = None) -> Run:
    """Seed every generator with ``config.seed``, load the data, build the device and the model.

    With ``input_dims`` the data is not loaded and the model is built for that many input
    features (the circuit catalogue, whose circuits do not depend on the data's width).  The
    device is closed when building the model fails.

    >>> from qmtl import build_run, validate_config
    >>> config = validate_config({"data": {"name": "digits", "limit": 100}, "model": {"n_qubits": 4},
    ...     "tasks": [{"name": "digit", "kind": "multiclass", "classes": 10, "observables": ["Z0", "Z1"]}]})
    >>> with build_run(config) as run:
    ...     print(run.data.input_dims, run.diff_method, run.model.task_names)
    64 backprop ['digit']
    """
    # A missing GPU is refused before any work.
    torch_device = resolve_torch_device(config.training.torch_device, config.device.name)
    seed_everything(config.seed)
    data: MultiTaskData | None = None
    widths: int | Mapping[str, int]
    if input_dims is None:
        data = load_data(config.data, config.tasks, config.seed)
        widths = data.input_dims
    else:
        widths = input_dims
    device, diff_method = build_device(config.device, config.model.n_qubits, config.seed)
    try:
        # Built on the CPU and then moved, so a seed gives the same initial model on any torch device.
        model = build_model(config, widths, device, diff_method).to(torch_device)
    except BaseException:
        close_device(device)
        raise
    return Run(config, data, device, diff_method, model)


def load_run(run_path: str | Path, overrides: list[str] | None = None) -> Run:
    """A run directory's config (with ``device.*`` and :data:`PLACEMENT_KEYS` overrides), data and best model.

    The best checkpoint is loaded when there is one, else the last checkpoint's best model
    (an interrupted run).  Use the result as a context manager to close its device.
    """
    run_dir = RunDir(Path(run_path))
    if not run_dir.config.exists():
        raise UserError(f"'{run_path}' is not a qmtl run directory (no config.yaml); check the path")
    for assignment in overrides or []:
        key = assignment.split("=", 1)[0].strip()
        if not key.startswith("device.") and key not in PLACEMENT_KEYS:
            raise UserError(f"only device.* keys, {' and '.join(PLACEMENT_KEYS)} can change at evaluation, "
                            f"not '{assignment}'; retrain instead")
    config = load_config(run_dir.config, overrides)
    run = build_run(config)
    try:
        checkpoint = run_dir.best_checkpoint if run_dir.best_checkpoint.exists() else run_dir.last_checkpoint
        # The split check refuses a checkpoint trained beside another split (another seed,
        # file, fraction, ...), whose training examples may be the ones evaluated here.
        state = load_checkpoint(checkpoint, model_defining_config(config), run.require_data().split)
        run.model.load_state_dict(
            state.get("best_model", state["model"]) if checkpoint == run_dir.last_checkpoint else state["model"])
    except BaseException:
        run.close()
        raise
    return run
