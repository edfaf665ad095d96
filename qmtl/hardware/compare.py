"""Per-task test metrics of the same circuits on the backend and on two simulators, and
how far each source's expectation values are from the exact ones.

* ``exact`` -- ``default.qubit``: the run's model as trained, no shot or hardware noise.
* ``noisy simulator`` -- Aer with the backend's noise model, coupling map and basis gates
  (``device.noise = fake_<backend>``), same shots; only where a fake twin of the backend
  exists and fits Aer's density-matrix limit.  Runtime mitigation cannot run on Aer, so
  this row is always unmitigated.
* ``backend (<variant>)`` -- the submitted jobs, unmitigated and with each mitigation
  variant (marked ``NOT applied`` should Runtime report an option as ignored).

Besides the metrics, every source gets ``evs_error``: the mean and the maximum over
examples and observables of ``|<O> - <O>_exact|``, with ``<O>_exact`` from exact Aer on the
same circuits, and the shots the source executed -- what the accuracy of the expectation
values cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

import numpy as np
import torch

from qmtl.checkpoint import atomic_write_json
from qmtl.devices import DeviceConfig
from qmtl.devices.targets import resolve_target
from qmtl.errors import UserError
from qmtl.hardware.ledger import format_table
from qmtl.hardware.plan import EXACT_REFERENCE, assemble, plan_circuits
from qmtl.model import split_by_task

if TYPE_CHECKING:
    from qmtl.data import Split
    from qmtl.protocols import SharedCircuitModel
    from qmtl.tasks import TaskConfig

TaskMetrics = dict[str, dict[str, float]]
"""Per task, its loss and scores on the test split (as :func:`qmtl.evaluation.evaluate`)."""


class EvsError(TypedDict):
    """Mean and max over examples and observables of ``|<O> - <O>_exact|``."""

    mean: float
    max: float


class ComparisonSource(TypedDict):
    """One row of the comparison: where the expectation values came from and what they scored."""

    label: str
    kind: Literal["exact", "noisy_simulator", "backend"]
    mitigation: str
    applied: NotRequired[bool]
    """``backend`` rows: whether Runtime applied the variant's mitigation."""
    metrics: TaskMetrics
    evs_error: EvsError | None
    shots: int | None
    """Shots the source executed (``None`` for exact values)."""


class Comparison(TypedDict):
    """What ``comparison.json`` holds: the submission's settings, its sources and notes."""

    backend: str
    local: bool
    mode: str
    shots: int
    mitigation: dict[str, Any] | None
    estimated_qpu_seconds: float
    jobs_in_ledger: int
    examples: int
    primary_metrics: dict[str, str]
    sources: list[ComparisonSource]
    notes: list[str]


def metrics_from_values(model: SharedCircuitModel, values: np.ndarray, split: Split,
                        tasks: list[TaskConfig]) -> TaskMetrics:
    """Heads applied to circuit values ``(n, n_obs)``; per-task loss and scores as ``evaluate``."""
    with torch.no_grad():
        per_task = split_by_task(torch.as_tensor(values, dtype=torch.float32), model.columns)
        results = {}
        for task in tasks:
            # Rows without a label for this task are not scored, as in qmtl.evaluation.evaluate.
            labelled = split.labelled[task.name]
            output = model.heads[task.name](per_task[task.name][labelled])
            target = split.targets[task.name][labelled]
            results[task.name] = {"loss": float(task.loss(output, target)),
                                  **task.scores(output, target)}
    return results


def exact_metrics(run_path: Path) -> TaskMetrics:
    from qmtl.evaluation import evaluate_run

    return evaluate_run(run_path, "test", EXACT_REFERENCE)


def aer_values(config: DeviceConfig, circuit: Any, angles: torch.Tensor, seed: int
               ) -> np.ndarray:
    """``(n_examples, n_obs)`` circuit values on the Aer target ``config`` (one call)."""
    target = resolve_target(config, seed)
    plans = plan_circuits(circuit, angles, target.pass_manager)
    result = target.estimator.run([(p.compiled.isa, [[o] for o in p.compiled.observables], p.rows)
                                   for p in plans]).result()
    evs = [np.asarray(r.data.evs, dtype=float).reshape(len(p.compiled.observables), -1)
           for p, r in zip(plans, result)]
    return assemble(plans, evs, len(angles))


def exact_values(circuit: Any, angles: torch.Tensor, seed: int, optimization_level: int
                 ) -> np.ndarray:
    """Exact expectation values of the circuit's observables (Aer, no shots, no noise)."""
    return aer_values(DeviceConfig(name="aer", optimization_level=optimization_level),
                      circuit, angles, seed)


def noisy_simulator(noise_name: str | None, circuit: Any, angles: torch.Tensor, shots: int,
                    seed: int, optimization_level: int) -> tuple[np.ndarray | None, str]:
    """Values on Aer with ``noise_name``'s noise model, or ``None`` and the reason."""
    if noise_name is None:
        return None, "no fake twin of this backend: noisy simulation unavailable"
    config = DeviceConfig(name="aer", noise=noise_name, shots=shots,
                          optimization_level=optimization_level)
    try:
        values = aer_values(config, circuit, angles, seed)
    except UserError as error:
        return None, f"noisy simulation unavailable: {error}"
    return values, f"Aer + {noise_name} noise model, {shots} shots"


def evs_error(values: np.ndarray, exact: np.ndarray) -> EvsError:
    """Mean and max of ``|values - exact|`` over every example and observable."""
    error = np.abs(np.asarray(values) - np.asarray(exact))
    return {"mean": float(error.mean()), "max": float(error.max())}


def write_comparison(path: Path, comparison: Comparison) -> None:
    atomic_write_json(path, comparison)


def comparison_table(comparison: Comparison) -> str:
    """Rows: sources; columns: each task's primary metric, the mean loss, the mean and max
    ``|<O> - exact|`` of the expectation values, and the shots executed."""
    sources = comparison["sources"]
    tasks = list(sources[0]["metrics"])
    primary = comparison["primary_metrics"]
    rows = [["source", *(f"{t} {primary[t]}" for t in tasks), "mean loss", "mean |<O>-exact|",
             "max |<O>-exact|", "shots"]]
    for source in sources:
        m = source["metrics"]
        mean_loss = np.mean([m[t]["loss"] for t in tasks])
        error = source.get("evs_error")
        shots = source.get("shots")
        rows.append([source["label"], *(f"{m[t][primary[t]]:.4f}" for t in tasks),
                     f"{mean_loss:.4f}",
                     "-" if error is None else f"{error['mean']:.4f}",
                     "-" if error is None else f"{error['max']:.4f}",
                     "-" if shots is None else str(shots)])
    return format_table(rows)
