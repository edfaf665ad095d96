"""Finding submitted jobs again and reading their results.

IBM jobs are fetched by id from the service (``QiskitRuntimeService.job(job_id)``), in any
later process, and a job whose id was never recorded is found by its tags
(``QiskitRuntimeService.jobs(job_tags=...)``, see :func:`qmtl.hardware.ledger.job_tags`).
Runtime *local testing mode* jobs (``LocalRuntimeJob``) live only in the process that
created them: the local service has no ``job()`` lookup.  qmtl keeps this process's local
jobs in :data:`_LOCAL_JOBS` (so a submission interrupted while waiting and re-run in the
same interpreter fetches them) and stores each finished job's results in the ledger
directory (so finished local work survives any crash).  A local job that had not finished
when its process died is gone: the ledger marks it ``LOST`` and its work is sent again --
it cost nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qmtl.errors import UserError
from qmtl.secrets import redact

_LOCAL_JOBS: dict[str, Any] = {}


def status_name(job: Any) -> str:
    """``DONE``, ``QUEUED``, ... for both IBM (strings) and local (``JobStatus``) jobs."""
    status = job.status()
    return str(getattr(status, "name", status)).upper()


class JobSource:
    """Where jobs come back from: the IBM service, or this process for local mode."""

    def __init__(self, service: Any = None) -> None:
        self.service = service
        self._sent: dict[str, Any] = {}  # jobs sent through this source: no lookup needed

    @property
    def local(self) -> bool:
        return self.service is None

    def remember(self, job: Any) -> None:
        self._sent[job.job_id()] = job
        if self.local:
            _LOCAL_JOBS[job.job_id()] = job

    def fetch(self, job_id: str) -> Any | None:
        """The job ``job_id``, or ``None`` when a local job's process has ended."""
        if job_id in self._sent:
            return self._sent[job_id]
        if self.local:
            return _LOCAL_JOBS.get(job_id)
        try:
            return self.service.job(job_id)
        except Exception as exc:  # unknown id, other instance, network
            raise UserError(redact(
                f"cannot retrieve IBM job {job_id} ({type(exc).__name__}: {exc}); nothing was "
                "sent again; check the network and that the saved account's instance is the "
                "one that sent the job, then run the same 'qmtl submit' command again")) from None

    def find_tagged(self, tags: list[str]) -> Any | None:
        """The IBM job carrying all ``tags`` (the newest if several), ``None`` if none does.

        Exceptions from the service propagate: "could not ask" must never read as "no job".
        """
        if self.local:
            raise ValueError("local testing mode has no service to search")
        found = self.service.jobs(job_tags=list(tags), limit=None)
        if not found:
            return None
        self.remember(found[0])
        return found[0]


def job_result(job: Any, n_observables: int) -> tuple[np.ndarray, np.ndarray]:
    """Block until ``job`` finishes; its one PUB's ``evs`` and ``stds``, ``(n_obs, rows)``."""
    pub = job.result()[0]
    return (np.asarray(pub.data.evs, dtype=float).reshape(n_observables, -1),
            np.asarray(pub.data.stds, dtype=float).reshape(n_observables, -1))
