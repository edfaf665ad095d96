"""The job ledger: ``RUN_DIR/hardware/<backend>/jobs.json`` plus ``results/<job id>.json``.

The ledger is a write-ahead log of paid work.  Each job goes through three durable writes
(each an atomic, fsync'ed replace of ``jobs.json``):

1. ``intend``: what will be sent -- work key, variant, chunk, rows, shots, attempt number
   and the job tags -- with status ``SENDING``, *before* ``Estimator.run``;
2. ``sent``: the job id, the moment ``run`` returns it (status ``QUEUED``);
3. the result file, then status ``DONE``.

A process stopped between 1 and 2 leaves a ``SENDING`` entry: the job may or may not
exist.  The next ``qmtl submit`` reconciles it before sending anything: an IBM job is
looked up by its tags (:func:`job_tags`, ``QiskitRuntimeService.jobs(job_tags=...)``)
and adopted when found, marked ``NOT_SENT`` when the service has none; a local testing
mode job died with its process (nothing was paid) and is marked ``LOST``.  Either way the
work is sent again only when no job for it can exist.

A job's ``key`` is a hash of the work itself (ISA circuit, observables, parameter rows,
shots and mitigation): re-running ``qmtl submit`` looks a key up and reuses its job
instead of sending the work again.  Results are stored next to the ledger once fetched,
validated (shape and finite numbers) whenever they are read, so finished work never
needs the service (or, in local testing mode, the process that ran it) again.

Ledger fields: ``backend``, ``local``, ``ledger_id`` (random, tags every job of this
ledger) and ``jobs``, a list of records: ``job_id`` (``None`` while ``SENDING``),
``key``, ``variant`` (mitigation, e.g. ``none`` or ``readout+dd``), ``chunk``, ``pub``
(``structure`` hash, ``rows`` [start, stop), ``observables``, ``shots``), ``attempt``,
``tags``, ``intended_at`` and ``submitted_at`` (UTC ISO times), ``status``
(``SENDING``/``QUEUED``/``RUNNING``/``DONE``/``ERROR``/``CANCELLED``/``LOST``/
``NOT_SENT``), ``error``, ``ignored`` (options Runtime reported as ignored, in local
testing mode).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from qmtl.checkpoint import atomic_write_json
from qmtl.errors import UserError
from qmtl.secrets import redact

SENDING = "SENDING"
"""Intent recorded, job id not (yet): the job may or may not exist."""
NOT_SENT = "NOT_SENT"
"""A ``SENDING`` entry the IBM service has no job for: nothing was sent or paid."""
FAILED = frozenset({"ERROR", "CANCELLED", "LOST", NOT_SENT})
"""Statuses whose work must be sent again (``LOST``: a local job whose process ended)."""
_RECORD_FIELDS = ("job_id", "key", "variant", "chunk", "pub", "attempt", "status")


class CorruptResult(UserError):
    """A stored result file that is unreadable, the wrong shape or not finite."""


def hardware_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "hardware"


def job_tags(ledger_id: str, key: str, attempt: int) -> list[str]:
    """The Runtime job tags naming one attempt at one piece of work of one ledger.

    ``QiskitRuntimeService.jobs(job_tags=tags)`` returns the jobs carrying *all* of them,
    which finds a job whose id was never recorded.
    """
    return [f"qmtl:{ledger_id}", f"qmtl-key:{key}", f"qmtl-attempt:{attempt}"]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Ledger:
    """The jobs of one run on one backend."""

    def __init__(self, run_dir: Path, backend: str, local: bool) -> None:
        self.run_dir = Path(run_dir)
        self.dir = hardware_dir(run_dir) / backend
        self.path = self.dir / "jobs.json"
        self.results = self.dir / "results"
        self.backend, self.local = backend, local
        stored = read_ledger(self.path) if self.path.exists() else None
        if stored is not None and (stored["backend"], stored["local"]) != (backend, local):
            raise UserError(f"job ledger '{self.path}' records jobs of backend '{stored['backend']}', "
                            f"not '{backend}'; move it back under hardware/{stored['backend']}/ or "
                            "restore this backend's own ledger")
        self.records: list[dict[str, Any]] = stored["jobs"] if stored else []
        # Ledgers written before job tags existed get an id with their next write.
        self.id: str = (stored or {}).get("ledger_id") or uuid.uuid4().hex[:16]

    def _write(self) -> None:
        atomic_write_json(self.path, {"backend": self.backend, "local": self.local,
                                      "ledger_id": self.id, "jobs": self.records})

    def intend(self, key: str, variant: str, chunk: int, pub: dict[str, Any]) -> dict[str, Any]:
        """Record, durably, the job about to be sent (status ``SENDING``, no id yet).

        On a failed write nothing is kept, in memory or on disk: nothing may be sent.
        """
        attempt = sum(e["key"] == key for e in self.records) + 1
        entry = {
            "job_id": None, "key": key, "variant": variant, "chunk": chunk, "pub": pub,
            "attempt": attempt, "tags": job_tags(self.id, key, attempt),
            "intended_at": _now(), "submitted_at": None, "status": SENDING, "error": None,
            "ignored": None,
        }
        self.records.append(entry)
        try:
            self._write()
        except BaseException:
            self.records.remove(entry)
            raise
        return entry

    def sent(self, entry: dict[str, Any], job_id: str, ignored: str | None = None) -> None:
        """Record the id of the job ``entry`` announced (status ``QUEUED``)."""
        entry.update(job_id=job_id, submitted_at=_now(), status="QUEUED", error=None,
                     ignored=ignored)
        self._write()

    def update(self, entry: dict[str, Any], status: str, error: str | None = None) -> None:
        entry["status"] = status
        entry["error"] = redact(error) if error else None
        self._write()

    def latest(self, key: str) -> dict[str, Any] | None:
        matches = [e for e in self.records if e["key"] == key]
        return matches[-1] if matches else None

    def attempts(self, key: str) -> int:
        """Jobs that ran (or may have) for ``key``; ``NOT_SENT`` intents cost nothing."""
        return sum(e["key"] == key and e["status"] != NOT_SENT for e in self.records)

    def result_path(self, job_id: str) -> Path:
        return self.results / f"{job_id}.json"

    def save_result(self, entry: dict[str, Any], evs: np.ndarray, stds: np.ndarray) -> None:
        check_result(evs, stds, result_shape(entry), f"the result of job {entry['job_id']}")
        atomic_write_json(self.result_path(entry["job_id"]),
                          {"evs": evs.tolist(), "stds": stds.tolist()})

    def load_result(self, entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        """The stored, validated result of ``entry``'s job; ``None`` when there is none.

        Raises :class:`CorruptResult` for a file that is unreadable, the wrong shape or
        not finite.
        """
        if entry["job_id"] is None:
            return None
        return load_result(self.result_path(entry["job_id"]), entry)


def result_shape(entry: dict[str, Any]) -> tuple[int, int]:
    """``(observables, rows)``: the shape of the ``evs`` and ``stds`` of ``entry``'s job."""
    start, stop = entry["pub"]["rows"]
    return entry["pub"]["observables"], stop - start


def check_result(evs: np.ndarray, stds: np.ndarray, shape: tuple[int, int], what: str) -> None:
    """Refuse results of the wrong shape, non-finite expectation values or negative
    standard errors; ``what`` names the result in the message.

    A standard error may be ``inf`` or ``NaN``: zero-noise extrapolation reports an
    unbounded one where its fit cannot bound the error, and only ``evs`` are used.
    """
    if evs.shape != shape or stds.shape != shape:
        raise CorruptResult(f"{what} holds arrays of shape {evs.shape} and {stds.shape}, not "
                            f"{shape} (observables, rows)")
    if not np.isfinite(evs).all():
        raise CorruptResult(f"{what} holds non-finite expectation values")
    if (stds < 0).any():
        raise CorruptResult(f"{what} holds negative standard errors")


def load_result(path: Path, entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(evs, stds)`` stored at ``path`` for ``entry``, validated; ``None`` if absent."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        evs = np.asarray(data["evs"], dtype=float)
        stds = np.asarray(data["stds"], dtype=float)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError) as error:
        raise CorruptResult(f"result '{path}' is truncated or corrupt "
                            f"({type(error).__name__})") from None
    check_result(evs, stds, result_shape(entry), f"result '{path}'")
    return evs, stds


def _check_record(record: Any) -> None:
    """Raise ``TypeError`` unless ``record`` has the fields ``qmtl jobs`` and resume read."""
    if not isinstance(record, dict) or any(f not in record for f in _RECORD_FIELDS):
        raise TypeError("not a job record")
    start, stop = record["pub"]["rows"]
    counts = (record["pub"]["observables"], record["pub"]["shots"], start, stop)
    if not all(isinstance(n, int) for n in counts) or not 0 <= start < stop:
        raise TypeError("not a job record")
    if record["status"] == SENDING and not isinstance(record.get("tags"), list):
        raise TypeError("a SENDING record without tags")
    job_id = record["job_id"]
    if not isinstance(job_id, str) and (job_id is not None or record["status"] not in
                                        FAILED | {SENDING}):
        raise TypeError("a live job without an id")


def read_ledger(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        ledger = {"backend": data["backend"], "local": data["local"],
                  "ledger_id": data.get("ledger_id"), "jobs": list(data["jobs"])}
        for record in ledger["jobs"]:
            _check_record(record)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, AttributeError):
        raise UserError(f"job ledger '{path}' is unreadable; restore it from a backup (deleting "
                        "it makes 'qmtl submit' send all its work again, paid again on IBM "
                        "hardware)") from None
    return ledger


def _status(ledger_dir: Path, record: dict[str, Any], local: bool) -> str:
    """What ``qmtl jobs`` shows: ``DONE`` only for a valid stored result."""
    if record["job_id"] is not None:
        try:
            if load_result(ledger_dir / "results" / f"{record['job_id']}.json", record):
                return "DONE"
        except CorruptResult:
            return "CORRUPT RESULT (fetched again by the next 'qmtl submit')"
    status = record["status"]
    if status == SENDING:
        return "SENDING (id not recorded; the next 'qmtl submit' reconciles it)"
    if local and status not in FAILED:
        status += " (local; lost if its process ended)"
    return status


def jobs_table(run_dir: Path) -> str:
    """Every recorded job of a run, one line each (status from the ledger and results)."""
    if not (run_dir / "config.yaml").is_file():
        raise UserError(f"'{run_dir}' is not a qmtl run directory (no config.yaml); check the path")
    ledgers = sorted(hardware_dir(run_dir).glob("*/jobs.json"))
    if not ledgers:
        raise UserError(f"'{run_dir}' has no hardware jobs; submit with 'qmtl submit "
                        f"{run_dir} --backend NAME' first")
    rows = [["backend", "variant", "chunk", "try", "rows", "shots", "status", "submitted",
             "job id"]]
    for path in ledgers:
        ledger = read_ledger(path)
        for e in ledger["jobs"]:
            start, stop = e["pub"]["rows"]
            rows.append([str(ledger["backend"]), str(e["variant"]), str(e["chunk"]),
                         str(e["attempt"]), f"{start}-{stop}", str(e["pub"]["shots"]),
                         _status(path.parent, e, ledger["local"]),
                         str(e.get("submitted_at") or "-"), str(e["job_id"] or "-")])
    return format_table(rows)


def format_table(rows: list[list[str]]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
