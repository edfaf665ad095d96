"""The job ledger: ``RUN_DIR/hardware/<backend>/jobs.json`` plus ``results/<job id>.json``.

Every job is recorded -- id, backend, what it computes and when -- atomically *before*
qmtl waits for it, so a submission that dies while jobs are queued can be resumed by id.
A job is identified by its ``key``: a hash of the ISA circuit, observables, parameter rows,
shots and mitigation, i.e. of the work itself.  Re-running ``qmtl submit`` looks a key up
and reuses its job instead of sending the work again.  Results are stored next to the
ledger once fetched, so finished work never needs the service (or, in local testing mode,
the process that ran it) again.

Ledger record fields: ``job_id``, ``key``, ``variant`` (mitigation, e.g. ``none`` or
``readout+dd``), ``chunk``, ``pub`` (``structure`` hash, ``rows`` [start, stop),
``observables``, ``shots``), ``attempt``, ``submitted_at`` (UTC ISO time), ``status``
(``QUEUED``/``RUNNING``/``DONE``/``ERROR``/``CANCELLED``/``LOST``), ``error``, ``ignored``
(options Runtime reported as ignored, in local testing mode).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from qmtl.checkpoint import atomic_write_json
from qmtl.errors import UserError
from qmtl.secrets import redact

FAILED = frozenset({"ERROR", "CANCELLED", "LOST"})
"""Statuses whose work must be sent again (``LOST``: a local job whose process ended)."""


def hardware_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "hardware"


class Ledger:
    """The jobs of one run on one backend."""

    def __init__(self, run_dir: Path, backend: str, local: bool) -> None:
        self.dir = hardware_dir(run_dir) / backend
        self.path = self.dir / "jobs.json"
        self.results = self.dir / "results"
        self.backend, self.local = backend, local
        self.records: list[dict[str, Any]] = read_ledger(self.path)["jobs"] if self.path.exists() else []

    def _write(self) -> None:
        atomic_write_json(self.path, {"backend": self.backend, "local": self.local,
                                      "jobs": self.records})

    def record(self, job_id: str, key: str, variant: str, chunk: int, pub: dict[str, Any],
               status: str, ignored: str | None = None) -> dict[str, Any]:
        """Append a just-submitted job and write the ledger before anyone waits on it."""
        entry = {
            "job_id": job_id, "key": key, "variant": variant, "chunk": chunk, "pub": pub,
            "attempt": self.attempts(key) + 1,
            "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "status": status, "error": None, "ignored": ignored,
        }
        self.records.append(entry)
        self._write()
        return entry

    def update(self, job_id: str, status: str, error: str | None = None) -> None:
        for entry in self.records:
            if entry["job_id"] == job_id:
                entry["status"] = status
                entry["error"] = redact(error) if error else None
        self._write()

    def latest(self, key: str) -> dict[str, Any] | None:
        matches = [e for e in self.records if e["key"] == key]
        return matches[-1] if matches else None

    def attempts(self, key: str) -> int:
        return sum(e["key"] == key for e in self.records)

    def result_path(self, job_id: str) -> Path:
        return self.results / f"{job_id}.json"

    def save_result(self, job_id: str, evs: np.ndarray, stds: np.ndarray) -> None:
        atomic_write_json(self.result_path(job_id), {"evs": evs.tolist(), "stds": stds.tolist()})

    def load_result(self, job_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.result_path(job_id)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return np.asarray(data["evs"], dtype=float), np.asarray(data["stds"], dtype=float)


def read_ledger(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return {"backend": data["backend"], "local": data["local"], "jobs": list(data["jobs"])}
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        raise UserError(f"job ledger '{path}' is unreadable; restore it from a backup or "
                        "delete it to submit the work again") from None


def jobs_table(run_dir: Path) -> str:
    """Every recorded job of a run, one line each (status from the ledger and results)."""
    ledgers = sorted(hardware_dir(run_dir).glob("*/jobs.json"))
    if not ledgers:
        raise UserError(f"'{run_dir}' has no hardware jobs; submit with 'qmtl submit "
                        f"{run_dir} --backend NAME' first")
    rows = [["backend", "variant", "chunk", "try", "rows", "shots", "status", "submitted",
             "job id"]]
    for path in ledgers:
        ledger = read_ledger(path)
        for e in ledger["jobs"]:
            done = (path.parent / "results" / f"{e['job_id']}.json").exists()
            status = "DONE" if done else e["status"]
            if ledger["local"] and not done and status not in FAILED:
                status += " (local; lost if its process ended)"
            start, stop = e["pub"]["rows"]
            rows.append([ledger["backend"], e["variant"], str(e["chunk"]), str(e["attempt"]),
                         f"{start}-{stop}", str(e["pub"]["shots"]), status, e["submitted_at"],
                         e["job_id"]])
    return format_table(rows)


def format_table(rows: list[list[str]]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
