"""``qmtl submit``: evaluate a trained run's test split on a backend, resumably.

1. Compile the model's circuits to the backend's ISA (:mod:`qmtl.hardware.plan`), print
   resources and the QPU-time estimate (:mod:`qmtl.devices.cost`), refuse past
   ``max_qpu_seconds``, ask for confirmation; ``dry_run`` stops here.
2. Per mitigation variant (:func:`qmtl.devices.mitigation.variants`: unmitigated, each
   requested technique, all of them together) and chunk of rows, reuse the job the ledger holds for that work
   (its stored result, or the job fetched by id) or submit one and record it atomically
   before waiting.  Failed, cancelled and lost jobs are sent again, up to ``MAX_ATTEMPTS``.
3. Compare the backend's metrics and expectation-value errors with the exact and noisy
   simulators (:mod:`qmtl.hardware.compare`); save ``comparison.json``.
"""

from __future__ import annotations

import math
import re
import shlex
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from qmtl.devices import DeviceConfig, mitigation
from qmtl.devices.cost import estimate_qpu_seconds, executed_shots
from qmtl.devices.spec import MitigationConfig, RuntimeMode
from qmtl.devices.targets import IBM_PREFIX, resolve_target
from qmtl.errors import UserError
from qmtl.hardware import compare, jobs
from qmtl.hardware.backends import HardwareBackend, open_backend
from qmtl.hardware.ledger import (
    FAILED,
    NOT_SENT,
    SENDING,
    CorruptResult,
    Ledger,
    check_result,
    format_table,
    result_shape,
)
from qmtl.hardware.plan import EXACT_AER, CircuitPlan, assemble, chunks, plan_circuits, shared_circuit_model, work_key
from qmtl.rundir import RunDir
from qmtl.secrets import redact

if TYPE_CHECKING:
    from qmtl.circuit import SharedCircuit
    from qmtl.config import RunConfig
    from qmtl.data import MultiTaskData
    from qmtl.protocols import SharedCircuitModel
    from qmtl.run import Run

MAX_ATTEMPTS = 3
_LOCAL_IGNORED = "no effect in local testing mode"


@dataclass
class SubmitOptions:
    backend: str
    shots: int = 4000
    mode: RuntimeMode = "job"
    mitigation: MitigationConfig | None = None
    max_qpu_seconds: float | None = None
    dry_run: bool = False
    yes: bool = False
    rows_per_job: int | None = None
    out: Callable[[str], None] = field(default=print, repr=False)
    ask: Callable[[str], str] = field(default=input, repr=False)

MAX_SHOTS = 100_000
"""Most shots per circuit an IBM backend accepts (``max_shots`` of their configurations)."""


def submit_run(run_path: Path, options: SubmitOptions) -> compare.Comparison | None:
    """Run the workflow; returns the comparison (``None`` for a dry run)."""
    from qmtl.run import load_run

    _check_inputs(run_path, options)
    backend = open_backend(options.backend)
    with load_run(run_path, EXACT_AER) as run:
        return _submit_model(run_path, options, backend, run)


def _submit_model(run_path: Path, options: SubmitOptions, backend: HardwareBackend,
                  run: Run) -> compare.Comparison | None:
    config, data = run.config, run.require_data()
    model = shared_circuit_model(run.model, config.model.architecture)
    circuit = model.circuit
    seed, level = config.seed, config.device.optimization_level
    target = resolve_target(DeviceConfig(name=backend.device_name, shots=options.shots,
                                         optimization_level=level), seed)
    run.model.eval()
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
    _stored(lambda: compare.write_comparison(ledger.dir / "comparison.json", comparison),
            "every job is done and stored, so the re-run sends nothing", runner.again)
    options.out(compare.comparison_table(comparison))
    for note in comparison["notes"]:
        options.out(f"note: {note}")
    options.out(f"saved {ledger.dir / 'comparison.json'}; jobs: 'qmtl jobs {run_path}'")
    return comparison


_T = TypeVar("_T")
_BACKEND_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""A backend's name is also a folder (``RUN_DIR/hardware/<name>``): no separators."""


def _check_inputs(run_path: Path, options: SubmitOptions) -> None:
    """Refuse bad options, backend names and run directories before anything is opened."""
    if isinstance(options.shots, bool) or not isinstance(options.shots, int) \
            or options.shots <= 0:
        raise UserError(f"--shots must be a positive whole number, got {options.shots}; "
                        "e.g. --shots 4000")
    if options.shots > MAX_SHOTS:
        raise UserError(f"--shots {options.shots} is over the {MAX_SHOTS} shots per circuit that IBM "
                        f"backends accept; lower --shots")
    randomizations = options.mitigation.randomizations if options.mitigation else None
    if isinstance(randomizations, int) and randomizations > options.shots:
        raise UserError(f"--randomizations {randomizations} is more than the {options.shots} shots: each "
                        f"randomization needs at least one shot; lower --randomizations or raise --shots")
    if options.rows_per_job is not None and options.rows_per_job <= 0:
        raise UserError(f"--rows-per-job must be positive, got {options.rows_per_job}; e.g. "
                        "--rows-per-job 50, or leave it out for one job per variant")
    cap = options.max_qpu_seconds
    if cap is not None and not (math.isfinite(cap) and cap > 0):
        raise UserError(f"--max-qpu-seconds must be a finite number of seconds above 0, got "
                        f"{cap:g}; e.g. --max-qpu-seconds 120, or leave it out for no cap")
    label = options.backend.removeprefix(IBM_PREFIX)
    if label in ("", "ibm_", "fake_"):
        raise UserError(f"--backend '{options.backend}' names no backend; e.g. --backend "
                        "ibm_torino, or --backend fake_manila offline ('qmtl backends' lists "
                        "the fake ones)")
    if not _BACKEND_LABEL.fullmatch(label):
        raise UserError(f"--backend '{options.backend}' is not a backend name (letters, digits, "
                        "'_' and '-'); e.g. --backend ibm_torino or --backend fake_manila")
    run = RunDir(run_path)
    if not run.config.is_file():
        raise UserError(f"'{run_path}' is not a qmtl run directory (no config.yaml); check the "
                        "path, or train one with 'qmtl train CONFIG --out DIR'")
    state = run.status().get("state", "unknown")
    resume = f"'qmtl train --resume {shlex.quote(str(run_path))}'"
    if not (run.best_checkpoint.is_file() or run.last_checkpoint.is_file()):
        raise UserError(f"run '{run_path}' has no checkpoint yet (status: {state}); train it "
                        f"first, e.g. {resume}")
    if not options.dry_run and not run.is_complete():  # paid work on a half-trained model
        raise UserError(f"run '{run_path}' has not finished training (status: {state}); finish "
                        f"it with {resume}, then submit (--dry-run works on it now)")


def _submit_command(run_path: Path, options: SubmitOptions) -> str:
    """The ``qmtl submit`` command line that continues this submission: the same work."""
    words = ["qmtl", "submit", str(run_path), "--backend", options.backend,
             "--shots", str(options.shots)]
    if options.mode != "job":
        words += ["--mode", options.mode]
    techniques = options.mitigation.techniques if options.mitigation else ()
    for technique in techniques:
        words += ["--mitigation", technique]
    if options.rows_per_job is not None:
        words += ["--rows-per-job", str(options.rows_per_job)]
    if options.max_qpu_seconds is not None:
        words += ["--max-qpu-seconds", f"{options.max_qpu_seconds:g}"]
    if options.yes:
        words.append("--yes")
    command = shlex.join(words)
    if options.mitigation and options.mitigation != MitigationConfig(techniques=techniques):
        command += " (with the same mitigation options)"
    return command


def _stored(write: Callable[[], _T], consequence: str, again: str) -> _T:
    """Run a ledger write; a storage fault becomes one line saying what was (or was not)
    sent and the command that continues."""
    try:
        return write()
    except OSError as error:
        where = f" '{error.filename}'" if error.filename else ""
        raise UserError(f"cannot write{where} ({error.strerror or error}); {consequence}; free "
                        f"space or fix permissions, then run '{again}' again") from error


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

    @property
    def again(self) -> str:
        """The command that continues this submission, for messages."""
        return _submit_command(self.ledger.run_dir, self.options)

    def _write(self, write: Callable[[], _T], consequence: str) -> _T:
        return _stored(write, consequence, self.again)

    def _job(self, estimator: Any, variant: str, chunk: int, piece: tuple[int, int, int]
             ) -> tuple[str, dict[str, Any]]:
        """The ledger entry doing this piece of work, submitting it when none can.

        An entry a stopped run left ``SENDING`` is reconciled first: work that may have been
        sent is never sent again.
        """
        p, a, b = piece
        key = work_key(self.plans[p], a, b, self.options.shots, variant)
        entry = self.ledger.latest(key)
        if entry is not None and entry["status"] == SENDING:
            self._reconcile(entry)
        if entry is None or (entry["status"] in FAILED and self._stored_result(entry) is None):
            entry = self._send(estimator, variant, chunk, piece, key)
        return key, entry

    def _reconcile(self, entry: dict[str, Any]) -> None:
        """Adopt the job of an entry whose id was never recorded, or mark it unsent.

        IBM jobs are looked up by the entry's tags; a local testing mode job ended with the
        process that sent it, so nothing was paid and its work may be sent again.
        """
        what = f"the {entry['variant']} chunk {entry['chunk']} job (attempt {entry['attempt']})"
        if self.source.local:
            self._write(lambda: self.ledger.update(
                entry, "LOST", "sent in local testing mode by a run that stopped before "
                "recording its id; it ended with that process (nothing was paid)"),
                "nothing was sent")
            self.options.out(f"note: {what} of a stopped run ended with its process (local "
                             "testing mode, nothing was paid); sending it again")
            return
        try:
            job = self.source.find_tagged(entry["tags"])
        except Exception as exc:  # network, account: "could not ask" is not "no job"
            raise UserError(redact(
                f"{what} may have been sent by a run that stopped before recording its id, "
                f"and IBM Quantum could not be searched for its tags {' '.join(entry['tags'])} "
                f"({type(exc).__name__}: {exc}); nothing was sent again; check the network and "
                f"the saved account, then run '{self.again}' again")) from exc
        if job is None:
            self._write(lambda: self.ledger.update(
                entry, NOT_SENT, f"IBM Quantum has no job tagged {' '.join(entry['tags'])}"),
                "nothing was sent")
            self.options.out(f"note: {what} of a stopped run never reached IBM Quantum; "
                             "sending it now")
        else:
            self._write(lambda: self.ledger.sent(entry, job.job_id()),
                        f"job {job.job_id()} was found again; the re-run finds it the same way")
            self.options.out(f"note: {what} of a stopped run is IBM job {job.job_id()} (found "
                             "by its tags); using it, not sending it again")

    def _send(self, estimator: Any, variant: str, chunk: int, piece: tuple[int, int, int],
              key: str) -> dict[str, Any]:
        """Send one piece of work, write-ahead: intent (fsync'ed), ``run``, then the job id."""
        last = self.ledger.latest(key)
        if last is not None and self.ledger.attempts(key) >= MAX_ATTEMPTS:
            raise UserError(f"job {last['job_id']} ({variant}, chunk {chunk}) failed "
                            f"{MAX_ATTEMPTS} times, last: {last['status']} {last['error'] or ''}; "
                            f"inspect with 'qmtl jobs {shlex.quote(str(self.ledger.run_dir))}' "
                            "and the IBM dashboard")
        p, a, b = piece
        plan = self.plans[p]
        pub = (plan.compiled.isa, [[o] for o in plan.compiled.observables], plan.rows[a:b])
        entry = self._write(lambda: self.ledger.intend(
            key, variant, chunk, {"structure": plan.structure, "rows": [a, b],
                                  "observables": len(pub[1]), "shots": self.options.shots}),
            "nothing was sent")
        estimator.options.environment.job_tags = list(entry["tags"])
        local = self.source.local
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                job = estimator.run([pub])
            except Exception as exc:
                if local:  # nothing outlives this process: a bug or a local fault, shown as is
                    raise
                raise UserError(redact(
                    f"sending the {variant} chunk {chunk} job failed ({type(exc).__name__}: "
                    f"{exc}); if it reached IBM Quantum anyway, the re-run finds it by its tags "
                    f"instead of sending it again; run '{self.again}' again")) from exc
        ignored = "; ".join(str(w.message) for w in caught if _LOCAL_IGNORED in str(w.message))
        if ignored:
            self.ignored[variant] = ignored
        self.source.remember(job)
        self.submitted += 1
        self._write(lambda: self.ledger.sent(entry, job.job_id(), ignored or None),
                    f"job {job.job_id()} was sent; " + (
                        "in local testing mode it ends with this process, so the re-run sends "
                        "it again (nothing is paid)" if local else
                        "the re-run finds it by its tags and does not send it again"))
        return entry

    def _stored_result(self, entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        """The entry's valid stored result; a corrupt one is reported and read as none."""
        try:
            return self.ledger.load_result(entry)
        except CorruptResult as corrupt:
            self.options.out(f"warning: {corrupt}; fetching job {entry['job_id']} again")
            return None

    def _collect(self, estimator: Any, variant: str, key: str, entry: dict[str, Any],
                 piece: tuple[int, int, int]) -> np.ndarray:
        """Wait for the piece's job; send failed or lost work again, never live work."""
        n_obs = len(self.plans[piece[0]].compiled.observables)
        while True:
            stored = self._stored_result(entry)
            if stored is not None:
                if entry["status"] != "DONE":  # stopped between storing it and saying so
                    self._write(lambda: self.ledger.update(entry, "DONE"),
                                "its result is stored, so the re-run sends nothing for it")
                if entry.get("ignored"):
                    self.ignored[variant] = entry["ignored"]
                return stored[0]
            job = self.source.fetch(entry["job_id"])
            if job is None:
                self._write(lambda: self.ledger.update(entry, "LOST",
                                                       "local job ended with its process"),
                            "nothing was sent again")
            else:
                try:
                    evs, stds = jobs.job_result(job, n_obs)
                    check_result(evs, stds, result_shape(entry),
                                 f"the result of job {entry['job_id']}")
                except Exception as exc:  # a failed or cancelled job: record, maybe retry
                    status = _failure(job, self.source.local)
                    if status is None:
                        raise UserError(redact(
                            f"cannot read the result of IBM job {entry['job_id']} "
                            f"({type(exc).__name__}: {exc}); it may still be running, so "
                            f"nothing was sent again; run '{self.again}' again to keep "
                            "waiting for it")) from exc
                    reason = f"{type(exc).__name__}: {exc}"
                    self._write(lambda: self.ledger.update(entry, status, reason),
                                "nothing was sent again")
                else:
                    done = (f"job {entry['job_id']} finished but its result is not stored; the "
                            "re-run fetches it again by id (or, in local testing mode, sends "
                            "it again)")
                    self._write(lambda: self.ledger.save_result(entry, evs, stds), done)
                    self._write(lambda: self.ledger.update(entry, "DONE"), done)
                    return evs
            entry = self._send(estimator, variant, entry["chunk"], piece, key)


def _failure(job: Any, local: bool) -> str | None:
    """The status to record for a job whose result could not be read.

    ``None`` when an IBM job may still be live (its status is not ``ERROR``/``CANCELLED``,
    or cannot be read): sending its work again could pay for it twice.  A local job runs in
    this process, so any failure to read it is final.
    """
    try:
        status = jobs.status_name(job)
    except Exception:  # the status call itself failed
        status = None
    if status in FAILED:
        return status
    return "ERROR" if local else None


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
        "(rep delay + circuit duration); see qmtl/devices/cost.py)")


def _confirm(options: SubmitOptions, backend: HardwareBackend, estimate: float) -> None:
    if options.yes:
        return
    if not sys.stdin.isatty():
        raise UserError("submission needs confirmation but stdin is not a terminal; pass --yes "
                        "to submit (or --dry-run to only estimate)")
    answer = options.ask(f"submit to {backend.label} (~{estimate:.1f} QPU s)? [y/N] ")
    if answer.strip().lower() not in {"y", "yes"}:
        raise UserError("submission cancelled; nothing was sent")


def _compare(run_path: Path, config: RunConfig, data: MultiTaskData, model: SharedCircuitModel,
             circuit: SharedCircuit, angles: torch.Tensor, backend: HardwareBackend, options: SubmitOptions,
             values: dict[MitigationConfig, np.ndarray], ignored: dict[str, str],
             estimate: float, n_jobs: int, shots: dict[str, int]) -> compare.Comparison:
    tasks = list(config.tasks)
    level = config.device.optimization_level
    exact = compare.exact_values(circuit, angles, config.seed, level)
    sources: list[compare.ComparisonSource] = [{"label": "exact (default.qubit)", "kind": "exact", "mitigation": "none",
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
