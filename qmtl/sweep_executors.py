"""Where sweep runs execute: a local process pool or a Ray cluster, behind one interface.

An executor starts calls ``fn(item, attempt)`` and hands back whichever finishes first.
:func:`run_all` drives one: it keeps at most ``max_in_flight`` calls going, retries a
call that raised up to ``retries`` times, and reports every item exactly once — a value,
or the one-line error of its last attempt.  Nothing is silently dropped.
"""

from __future__ import annotations

import abc
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, cast

from qmtl.errors import UserError

Call = Callable[[Any, int], Any]

ERROR_CHARS = 300


class Executor(abc.ABC):
    """Runs calls concurrently; ``max_in_flight`` (None: no limit) bounds the calls submitted at once."""

    max_in_flight: int | None = None

    @abc.abstractmethod
    def submit(self, fn: Call, item: Any, attempt: int) -> Hashable:
        """Start ``fn(item, attempt)``; return a handle for it."""

    @abc.abstractmethod
    def wait_one(self, handles: Sequence[Hashable]) -> Hashable:
        """Block until one of ``handles`` has finished; return it."""

    @abc.abstractmethod
    def result(self, handle: Hashable) -> Any:
        """A finished call's value, or raise the exception the call raised."""

    def close(self) -> None:
        """Release workers (and cancel calls not yet started)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}; e.g. --workers 2")


def _init_worker(threads: int) -> None:
    """Set up a pool worker: a share of the cores, and a watchdog that ends it with its parent."""
    # Workers share the machine's cores: without a limit every worker's torch would
    # start one thread per core and they would oversubscribe each other.
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, name="qmtl-parent-watchdog", daemon=True).start()


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started it has ended.

    A sweep killed with SIGKILL never shuts its pool down: without this, a worker would
    finish (or keep) training its run and then wait forever for more work.  The parent
    sentinel that ``multiprocessing`` gives spawned children becomes readable exactly
    when the parent exits, however it exits.  The run the worker was training keeps its
    last checkpoint, and the lock on its directory dies with the worker, so re-running
    the sweep resumes it.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    parent.join()
    os._exit(1)


class LocalExecutor(Executor):
    """A ``spawn`` process pool on this machine (spawn: no fork of torch's threads)."""

    def __init__(self, workers: int = 1) -> None:
        _check_workers(workers)
        self.workers = workers
        self.max_in_flight = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        return ProcessPoolExecutor(self.workers, multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(threads,))

    def submit(self, fn: Call, item: Any, attempt: int) -> Future:
        try:
            return self._pool.submit(fn, item, attempt)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its calls failed; start a fresh pool
            # so retries and the remaining runs still execute.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, item, attempt)

    def wait_one(self, handles: Sequence[Hashable]) -> Future:
        # The handles are this executor's own submit() results: futures.
        done, _ = wait(cast(Sequence[Future], handles), return_when=FIRST_COMPLETED)
        return next(iter(done))

    def result(self, handle: Hashable) -> Any:
        assert isinstance(handle, Future)
        return handle.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor(Executor):
    """Ray tasks, one CPU each, on a local Ray instance or the cluster at ``address``.

    If Ray is already initialised in this process (a notebook, a test) that instance is
    used and left running; otherwise ``ray.init(address=address)`` is called here and
    shut down on close.  Retries are :func:`run_all`'s (``max_retries=0`` in Ray), so
    both executors count attempts the same way.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        _check_workers(workers)
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray, which is not installed; run pip install 'qmtl[ray]'") from None
        self._ray = ray
        self.max_in_flight = workers
        self._owns = not ray.is_initialized()
        if self._owns:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as error:
                raise UserError(
                    f"cannot connect to a Ray cluster at '{address}' ({error}); start one with 'ray start --head' "
                    f"or fix --address"
                ) from None
        self._remote: dict[Call, Any] = {}

    def submit(self, fn: Call, item: Any, attempt: int) -> Hashable:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_cpus=1, max_retries=0)(fn)
        return self._remote[fn].remote(item, attempt)

    def wait_one(self, handles: Sequence[Hashable]) -> Hashable:
        ready, _ = self._ray.wait(list(handles), num_returns=1)
        return ready[0]

    def result(self, handle: Hashable) -> Any:
        try:
            return self._ray.get(cast(Any, handle))  # one of this executor's ObjectRefs
        except self._ray.exceptions.RayTaskError as error:
            # Report the run's own exception, not Ray's wrapper with its remote traceback.
            raise (error.cause or error) from None

    def close(self) -> None:
        if self._owns:
            self._ray.shutdown()


def build_executor(name: str, workers: int | None, address: str | None) -> Executor:
    """The executor the CLI names: ``local`` (``workers`` default 1) or ``ray``."""
    if name == "local":
        if address is not None:
            raise UserError("--address is for --executor ray; drop it or add --executor ray")
        return LocalExecutor(1 if workers is None else workers)
    if name == "ray":
        return RayExecutor(address, workers)
    raise UserError(f"unknown executor '{name}'; choose local or ray")


@dataclass
class Outcome:
    """How one item ended: ``value`` of its successful call, or ``error`` of its last attempt."""

    item: Any
    attempts: int
    value: Any = None
    error: str | None = None


def one_line(error: BaseException) -> str:
    """``Type: message`` on one line, shortened to :data:`ERROR_CHARS`."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


def check_retries(retries: int) -> None:
    if retries < 0:
        raise UserError(f"--retries must be 0 or more, got {retries}")


def run_all(executor: Executor, fn: Call, items: Sequence[Any], retries: int,
            on_outcome: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Call ``fn(item, attempt)`` for every item, retrying failures; outcomes in item order."""
    check_retries(retries)
    limit = executor.max_in_flight or len(items)
    queue = deque((index, 0) for index in range(len(items)))
    pending: dict[Hashable, tuple[int, int]] = {}
    outcomes: list[Outcome | None] = [None] * len(items)
    while queue or pending:
        while queue and len(pending) < limit:
            index, attempt = queue.popleft()
            pending[executor.submit(fn, items[index], attempt)] = (index, attempt)
        handle = executor.wait_one(list(pending))
        index, attempt = pending.pop(handle)
        try:
            outcome = Outcome(items[index], attempt + 1, value=executor.result(handle))
        except Exception as error:  # noqa: BLE001 — any failure of a run is reported, not raised
            if attempt < retries:
                queue.append((index, attempt + 1))
                continue
            outcome = Outcome(items[index], attempt + 1, error=one_line(error))
        outcomes[index] = outcome
        on_outcome(outcome)
    return [outcome for outcome in outcomes if outcome is not None]
