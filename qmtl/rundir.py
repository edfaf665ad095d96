"""The run directory: everything needed to understand, evaluate and resume a run.

Layout::

    config.yaml        the resolved config (every default filled in)
    status.json        {"state": "running" | "complete" | "failed" | "interrupted" | "stopped", ...};
                       "stopped" is a deliberate stop that resumes (e.g. the QPU budget was
                       spent), with its "reason"
    metrics.jsonl      one line per epoch: per-task train loss, validation metrics, weights
    final.json         per-task test metrics, parameter counts, wall time (written last)
    checkpoints/       last.pt (resume), previous.pt (the one before), best.pt (best
                       validation model)
    train.log          the run's log
    .lock, .lock.json  the one-writer lock and its holder (:mod:`qmtl.runlock`)

A run is complete exactly when ``status.json`` says so and ``final.json`` exists; both are
written atomically, ``final.json`` first.  A directory holding a run is never reused
unless the caller asks (``--force`` to overwrite, ``--resume`` to continue), and never
while another process writes it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from qmtl.checkpoint import atomic_write_json, atomic_write_text
from qmtl.errors import UserError
from qmtl.runlock import LOCK_FILES, run_lock
from qmtl.secrets import redact


class RunDir:
    """Paths and writers of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    config = property(lambda self: self.path / "config.yaml")
    status_file = property(lambda self: self.path / "status.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    final = property(lambda self: self.path / "final.json")
    log = property(lambda self: self.path / "train.log")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.path / "checkpoints" / "last.pt")
    previous_checkpoint = property(lambda self: self.path / "checkpoints" / "previous.pt")
    best_checkpoint = property(lambda self: self.path / "checkpoints" / "best.pt")

    def holds_run(self) -> bool:
        return self.config.exists() or self.status_file.exists()

    def status(self) -> dict[str, Any]:
        if not self.status_file.exists():
            return {"state": "absent"}
        try:
            status = json.loads(self.status_file.read_bytes())
        except (ValueError, OSError):  # torn by a crash, not UTF-8, unreadable
            return {"state": "unknown"}
        return status if isinstance(status, dict) else {"state": "unknown"}

    def is_complete(self) -> bool:
        return self.status().get("state") == "complete" and self.final.exists()

    def set_status(self, state: str, **extra: Any) -> None:
        atomic_write_json(self.status_file, {"state": state, "time": time.time(), **extra})

    def check_new(self, force: bool = False) -> None:
        """Refuse a path that is a file, or one that holds a run when ``force`` is not given."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"output path '{self.path}' is a file; choose a directory with --out")
        if self.holds_run() and not force:
            state = self.status().get("state", "unknown")
            raise UserError(
                f"'{self.path}' already holds a run (state: {state}); use --resume to continue it, "
                f"--force to overwrite it, or --out for a new directory"
            )

    def create(self, config_yaml: str, force: bool = False) -> None:
        """Claim the directory for a new run, checking it is writable before training.

        The check and the writes happen under the directory's lock, so ``force`` never
        clears a directory that another live process is writing (that is refused).
        """
        self.check_new(force)
        with run_lock(self.path, f"qmtl train --out {self.path}", create=True):
            self.check_new(force)  # again, as the only writer: another may have claimed it meanwhile
            if force:
                self._clear()
            try:
                self.checkpoints.mkdir(parents=True, exist_ok=True)
                probe = self.path / ".write-test"
                probe.write_bytes(b"0" * 4096)
                probe.unlink()
            except OSError as error:
                raise UserError(
                    f"cannot write to output directory '{self.path}' ({error.strerror}); choose another with --out"
                ) from None
            self.set_status("running", pid=os.getpid())
            atomic_write_text(self.config, config_yaml)  # no credential can be in a config

    def _clear(self) -> None:
        """Delete the old run's files; the lock files stay, since the lock is held on them."""
        for child in self.path.iterdir():
            if child.name in LOCK_FILES:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def append_metrics(self, record: dict[str, Any]) -> None:
        with self.metrics.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read_metrics(self) -> list[dict[str, Any]]:
        """Epoch records; a last line cut short by a crash mid-append is dropped."""
        if not self.metrics.exists():
            return []
        records = []
        for line in self.metrics.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, epochs: int) -> None:
        """Keep the first ``epochs`` records (those covered by the checkpoint being resumed)."""
        kept = [r for r in self.read_metrics() if r["epoch"] <= epochs]
        atomic_write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))

    def logger(self) -> logging.Logger:
        logger = logging.getLogger(f"qmtl.run.{self.path.resolve()}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        if not logger.handlers:
            handler = logging.FileHandler(self.log, encoding="utf-8")
            handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
        return logger


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
