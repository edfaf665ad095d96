"""``qmtl submit``: evaluate a trained run's test split on a backend, resumably.

1. Compile the model's circuits to the backend's ISA (:mod:`qmtl.hardware.plan`), print
   resources and the QPU-time estimate (:mod:`qmtl.hardware.cost`), refuse past
   ``max_qpu_seconds``, ask for confirmation; ``dry_run`` stops here.
2. Per mitigation variant (:func:`qmtl.hardware.mitigation.variants`: unmitigated, each
   requested technique, all of them together) and chunk of rows, reuse the job the ledger holds for that work
   (its stored result, or the job fetched by id) or submit one and record it atomically
   before waiting.  Failed, cancelled and lost jobs are sent again, up to ``MAX_ATTEMPTS``.
3. Compare the backend's metrics and expectation-value errors with the exact and noisy
   simulators (:mod:`qmtl.hardware.compare`); save ``comparison.json``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qmtl.devices import DeviceConfig
from qmtl.devices.spec import MitigationConfig
from qmtl.devices.targets import resolve_target
from qmtl.errors import UserError
from qmtl.hardware import compare, jobs, mitigation
from qmtl.hardware.backends import HardwareBackend, open_backend
from qmtl.hardware.cost import estimate_qpu_seconds, executed_shots
from qmtl.hardware.ledger import FAILED, Ledger, format_table
from qmtl.hardware.plan import EXACT_AER, CircuitPlan, assemble, chunks, plan_circuits, \
    shared_circuit, work_key
from qmtl.secrets import redact

MAX_ATTEMPTS = 3
_LOCAL_IGNORED = "no effect in local testing mode"


@dataclass
class SubmitOptions:
    backend: str
    shots: int = 4000
    mode: str = "job"
    mitigation: MitigationConfig | None = None
    max_qpu_seconds: float | None = None
    dry_run: bool = False
    yes: bool = False
    rows_per_job: int | None = None
    out: Callable[[str], None] = field(default=print, repr=False)
    ask: Callable[[str], str] = field(default=input, repr=False)


def submit_run(run_path: Path, options: SubmitOptions) -> dict[str, Any] | None:
    """Run the workflow; returns the comparison (``None`` for a dry run)."""
    from qmtl.evaluation import load_run_model

    if options.shots <= 0:
        raise UserError(f"--shots must be positive, got {options.shots}; e.g. --shots 4000")
    if options.rows_per_job is not None and options.rows_per_job <= 0:
        raise UserError(f"--rows-per-job must be positive, got {options.rows_per_job}")
    backend = open_backend(options.backend)
    config, data, model = load_run_model(run_path, EXACT_AER)
    circuit = shared_circuit(model)
    seed, level = config.seed, config.device.optimization_level
    target = resolve_target(DeviceConfig(name=backend.device_name, shots=options.shots,
                                         optimization_level=level), seed)
    model.eval()
    with torch.no_grad():
        angles = model.encoder(data.test.features)
    plans = plan_circuits(circuit, angles, target.pass_manager, target.backend)
    pieces = chunks(plans, options.rows_per_job)
    variants = mitigation.variants(options.mitigation)
    estimate = sum(estimate_qpu_seconds(
        [(b - a, plans[p].bases, plans[p].resources.duration_s) for p, a, b in pieces],
        options.shots, len(pieces), target.backend, v) for v in variants)
    shots = {mitigation.variant_name(v): executed_shots(
        [(b - a, plans[p].bases) for p, a, b in pieces], options.shots, len(pieces), v)
        for v in variants}
    _print_plan(options, backend, plans, len(pieces), shots, estimate)
    if options.max_qpu_seconds is not None and estimate > options.max_qpu_seconds:
        raise UserError(f"the estimated {estimate:.1f} QPU seconds exceed --max-qpu-seconds "
                        f"{options.max_qpu_seconds:g}; lower --shots, add --rows-per-job and "
                        "submit fewer examples, or raise the cap")
    if options.dry_run:
        return None
    _confirm(options, backend, estimate)

    if options.mode != "job":  # a Batch/Session is opened only for real work
        target = resolve_target(DeviceConfig(name=backend.device_name, shots=options.shots,
                                             mode=options.mode, optimization_level=level), seed)
    ledger = Ledger(run_path, backend.label, backend.local)
    runner = _Runner(ledger, jobs.JobSource(backend.service), target, plans, options)
    try:
        values = {v: runner.values(v, pieces, len(angles)) for v in variants}
    finally:
        if target.session is not None:
            target.session.close()

    comparison = _compare(run_path, config, data, model, circuit, angles, backend, options,
                          values, runner.ignored, estimate, len(ledger.records), shots)
    compare.write_comparison(ledger.dir / "comparison.json", comparison)
    options.out(compare.comparison_table(comparison))
    for note in comparison["notes"]:
        options.out(f"note: {note}")
    options.out(f"saved {ledger.dir / 'comparison.json'}; jobs: 'qmtl jobs {run_path}'")
    return comparison


class _Runner:
    """Submits, resumes and collects the jobs of one submission, keeping the ledger."""

    def __init__(self, ledger: Ledger, source: jobs.JobSource, target: Any,
                 plans: list[CircuitPlan], options: SubmitOptions) -> None:
        self.ledger, self.source, self.target = ledger, source, target
        self.plans, self.options = plans, options
        self.ignored: dict[str, str] = {}
        self.submitted = 0

    def values(self, config: MitigationConfig, pieces: list, n_examples: int) -> np.ndarray:
        variant = mitigation.variant_name(config)
        estimator = self._estimator(config)
        # Submit (or find) every job before waiting on any, so all are queued at once.
        pending = [self._job(estimator, variant, i, piece) for i, piece in enumerate(pieces)]
        evs: list[list[np.ndarray]] = [[] for _ in self.plans]
        for (p, a, b), (key, entry) in zip(pieces, pending):
            evs[p].append(self._collect(estimator, variant, key, entry, (p, a, b)))
        return assemble(self.plans, [np.concatenate(e, axis=1) for e in evs], n_examples)

    def _estimator(self, config: MitigationConfig) -> Any:
        """The target's Estimator (same mode, shots and seed) with ``config``'s mitigation."""
        from qiskit_ibm_runtime.executor_estimator import Estimator

        base = self.target.estimator
        estimator = Estimator(mode=base.mode or base.backend(),
                              options=base.options.model_copy(deep=True))
        mitigation.apply_mitigation(estimator.options, config)
        return estimator

    def _job(self, estimator: Any, variant: str, chunk: int, piece: tuple[int, int, int]
             ) -> tuple[str, dict[str, Any]]:
        """The ledger entry doing this piece of work, submitting it when none can."""
        p, a, b = piece
        key = work_key(self.plans[p], a, b, self.options.shots, variant)
        entry = self.ledger.latest(key)
        if entry is None or (entry["status"] in FAILED and
                             self.ledger.load_result(entry["job_id"]) is None):
            entry = self._send(estimator, variant, chunk, piece, key)
        return key, entry

    def _send(self, estimator: Any, variant: str, chunk: int, piece: tuple[int, int, int],
              key: str) -> dict[str, Any]:
        if self.ledger.attempts(key) >= MAX_ATTEMPTS:
            last = self.ledger.latest(key)
            raise UserError(f"job {last['job_id']} ({variant}, chunk {chunk}) failed "
                            f"{MAX_ATTEMPTS} times, last: {last['status']} {last['error'] or ''}; "
                            f"inspect with 'qmtl jobs RUN_DIR' and the IBM dashboard")
        p, a, b = piece
        plan = self.plans[p]
        pub = (plan.compiled.isa, [[o] for o in plan.compiled.observables], plan.rows[a:b])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            job = estimator.run([pub])
        ignored = "; ".join(str(w.message) for w in caught if _LOCAL_IGNORED in str(w.message))
        if ignored:
            self.ignored[variant] = ignored
        self.source.remember(job)
        self.submitted += 1
        return self.ledger.record(
            job.job_id(), key, variant, chunk,
            {"structure": plan.structure, "rows": [a, b], "observables": len(pub[1]),
             "shots": self.options.shots},
            jobs.status_name(job), ignored or None)

    def _collect(self, estimator: Any, variant: str, key: str, entry: dict[str, Any],
                 piece: tuple[int, int, int]) -> np.ndarray:
        """Wait for the piece's job; resubmit failed or lost ones."""
        n_obs = len(self.plans[piece[0]].compiled.observables)
        while True:
            stored = self.ledger.load_result(entry["job_id"])
            if stored is not None:
                if entry.get("ignored"):
                    self.ignored[variant] = entry["ignored"]
                return stored[0]
            job = self.source.fetch(entry["job_id"])
            if job is None:
                self.ledger.update(entry["job_id"], "LOST", "local job ended with its process")
            else:
                try:
                    evs, stds = jobs.job_result(job, n_obs)
                except Exception as exc:  # a failed or cancelled job: record, maybe retry
                    self.ledger.update(entry["job_id"], _failure(job), f"{type(exc).__name__}: {exc}")
                else:
                    self.ledger.save_result(entry["job_id"], evs, stds)
                    self.ledger.update(entry["job_id"], "DONE")
                    return evs
            entry = self._send(estimator, variant, entry["chunk"], piece, key)


def _failure(job: Any) -> str:
    try:
        status = jobs.status_name(job)
    except Exception:  # the status call itself failed
        return "ERROR"
    return status if status in FAILED else "ERROR"


def _print_plan(options: SubmitOptions, backend: HardwareBackend, plans: list[CircuitPlan],
                n_jobs: int, shots: dict[str, int], estimate: float) -> None:
    out = options.out
    where = "Runtime local testing mode" if backend.local else "IBM Quantum"
    out(f"backend {backend.label} ({where}), mode {options.mode}, {options.shots} shots")
    rows = [["circuit", "examples", "qubits", "depth", "2q gates", "bases", "duration", "layout"]]
    for plan in plans:
        r = plan.resources
        duration = f"{r.duration_s * 1e6:.2f} us" if r.duration_s is not None else "unknown"
        rows.append([plan.structure, str(len(plan.rows)), str(r.qubits), str(r.depth),
                     str(r.two_qubit_gates), str(plan.bases), duration,
                     " ".join(map(str, r.layout))])
    out(format_table(rows))
    configurations = sum(len(p.rows) * p.bases for p in plans)
    out(f"total: {configurations} circuits x {options.shots} shots in {n_jobs * len(shots)} "
        f"jobs; shots executed per mitigation variant (randomizations x noise factors x "
        f"shots, plus readout calibration): "
        + ", ".join(f"{name} {count}" for name, count in shots.items()))
    out(f"estimated QPU time: {estimate:.1f} s (model: per-job overhead + executed shots x "
        "(rep delay + circuit duration); see qmtl/hardware/cost.py)")


def _confirm(options: SubmitOptions, backend: HardwareBackend, estimate: float) -> None:
    if options.yes:
        return
    if not sys.stdin.isatty():
        raise UserError("submission needs confirmation but stdin is not a terminal; pass --yes "
                        "to submit (or --dry-run to only estimate)")
    answer = options.ask(f"submit to {backend.label} (~{estimate:.1f} QPU s)? [y/N] ")
    if answer.strip().lower() not in {"y", "yes"}:
        raise UserError("submission cancelled; nothing was sent")


def _compare(run_path: Path, config: Any, data: Any, model: Any, circuit: Any,
             angles: torch.Tensor, backend: HardwareBackend, options: SubmitOptions,
             values: dict[MitigationConfig, np.ndarray], ignored: dict[str, str],
             estimate: float, n_jobs: int, shots: dict[str, int]) -> dict[str, Any]:
    tasks = list(config.tasks)
    level = config.device.optimization_level
    exact = compare.exact_values(circuit, angles, config.seed, level)
    sources = [{"label": "exact (default.qubit)", "kind": "exact", "mitigation": "none",
                "metrics": compare.exact_metrics(run_path), "evs_error": None, "shots": None}]
    notes = []
    noisy, note = compare.noisy_simulator(backend.noise_name, circuit, angles, options.shots,
                                          config.seed, level)
    notes.append(note)
    if noisy is not None:
        sources.append({"label": f"noisy sim (aer+{backend.noise_name})", "kind": "noisy_simulator",
                        "mitigation": "none",
                        "metrics": compare.metrics_from_values(model, noisy, data.test, tasks),
                        "evs_error": compare.evs_error(noisy, exact), "shots": shots["none"]})
    for variant_config, block in values.items():
        variant = mitigation.variant_name(variant_config)
        applied = variant not in ignored or not variant_config.techniques
        label = f"{backend.label} ({variant}{'' if applied else ', NOT applied'})"
        sources.append({"label": label, "kind": "backend", "mitigation": variant,
                        "applied": applied,
                        "metrics": compare.metrics_from_values(model, block, data.test, tasks),
                        "evs_error": compare.evs_error(block, exact), "shots": shots[variant]})
        if not applied:
            notes.append(f"mitigation '{variant}' was not applied: Runtime reported: "
                         f"{ignored[variant]}")
    requested = options.mitigation
    return {
        "backend": backend.label, "local": backend.local, "mode": options.mode,
        "shots": options.shots,
        "mitigation": None if requested is None else requested.model_dump(mode="json"),
        "estimated_qpu_seconds": round(estimate, 3), "jobs_in_ledger": n_jobs,
        "examples": len(angles),
        "primary_metrics": {t.name: t.primary_metric for t in tasks},
        "sources": sources, "notes": [redact(n) for n in notes],
    }
