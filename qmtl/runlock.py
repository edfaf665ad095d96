"""One writer per run directory.

Every command that writes a run directory (``qmtl train`` new, ``--force`` or
``--resume``, ``qmtl submit``, ``qmtl circuits export`` into the run, each run of a
sweep) holds :func:`run_lock` on it for the whole check-then-write sequence, so two
writers can never interleave in one directory.

The lock is an OS file lock (``flock``, through :mod:`filelock`) on ``RUN_DIR/.lock``.
The kernel drops it when its process ends, however it ends (SIGKILL and out-of-memory
kills included), so a lock left behind by a dead process is simply taken over; there is
no stale lock to clean up by hand.  The lock file itself is never deleted: unlinking a
locked file would let a waiter and a newcomer lock two different inodes at once.

Next to it, ``RUN_DIR/.lock.json`` names the holder (pid, host, command, start time), so
a refused writer can say who holds the run and since when.

Within one process the lock is re-entrant: the CLI takes it around its checks, and the
trainer it calls takes it again around creating and writing the run.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from qmtl.errors import UserError
from qmtl.secrets import redact

LOCK_NAME = ".lock"
HOLDER_NAME = ".lock.json"
LOCK_FILES = frozenset({LOCK_NAME, HOLDER_NAME})

# How long a refused writer waits for a new holder to finish writing its .lock.json.
_HOLDER_WAIT_S = 1.0


@dataclass(frozen=True)
class Holder:
    """The process that holds (or last held) a run directory's lock."""

    pid: int
    host: str
    command: str
    since: float  # time.time() when the lock was taken

    def is_alive(self) -> bool:
        """True unless this process is known to have ended (a pid on another host counts as alive)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # exists, owned by another user
        return True

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where} ('{self.command}', since {started})"


@dataclass
class _Held:
    lock: FileLock
    depth: int


_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def read_holder(path: str | Path) -> Holder | None:
    """The holder recorded in ``path/.lock.json``, or ``None`` when absent or unreadable."""
    try:
        record = json.loads((Path(path) / HOLDER_NAME).read_text(encoding="utf-8"))
        return Holder(int(record["pid"]), str(record["host"]), str(record["command"]), float(record["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_holder(directory: Path, holder: Holder) -> None:
    """Replace ``.lock.json`` atomically, so a reader sees the old holder or the new one, never half."""
    # Not qmtl.checkpoint's atomic writer: that module imports torch, and the lock must be cheap.
    temporary = directory / f"{HOLDER_NAME}.tmp-{os.getpid()}"
    try:
        temporary.write_text(json.dumps(asdict(holder)) + "\n", encoding="utf-8")
        os.replace(temporary, directory / HOLDER_NAME)
    finally:
        temporary.unlink(missing_ok=True)


def _current_holder(path: Path) -> Holder | None:
    """The live holder's record; waits briefly for a holder that has just taken the lock to write it."""
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        holder = read_holder(path)
        if (holder is not None and holder.is_alive()) or time.monotonic() > deadline:
            return holder
        time.sleep(0.05)


def _refusal(path: Path) -> UserError:
    holder = _current_holder(path)
    who = holder.describe() if holder is not None else "another process"
    here = holder is not None and holder.host == socket.gethostname()
    pid = f" (kill {holder.pid})" if here and holder is not None else ""
    return UserError(
        f"'{path}' is in use by {who}; only one qmtl command may write a run directory at a time: "
        f"wait for it to finish or stop it{pid}, then run this command again"
    )


def _prepare_directory(path: Path, create: bool) -> None:
    if path.exists() and not path.is_dir():
        fix = "choose a directory with --out" if create else "check the path"
        raise UserError(f"'{path}' is a file, not a run directory; {fix}")
    if path.is_dir():
        return
    if not create:
        raise UserError(f"'{path}' is not a qmtl run directory (it does not exist); check the path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot write to output directory '{path}' ({error.strerror}); choose another with --out"
        ) from None


def _acquire(directory: Path, key: Path, command: str) -> _Held | None:
    """Take the OS lock and record this process as holder; ``None`` when another process holds it."""
    lock = FileLock(key / LOCK_NAME, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        return None
    except OSError as error:
        raise UserError(
            f"cannot lock run directory '{directory}' ({error.strerror}); it must be writable: "
            f"fix its permissions or choose another path"
        ) from None
    try:
        _write_holder(key, Holder(os.getpid(), socket.gethostname(), redact(command), time.time()))
    except OSError as error:
        lock.release()
        raise UserError(
            f"cannot write to run directory '{directory}' ({error.strerror}); free space or fix "
            f"permissions, or choose another path"
        ) from None
    return _Held(lock, 1)


@contextmanager
def run_lock(path: str | Path, command: str, create: bool = False) -> Iterator[Path]:
    """Hold the run directory ``path`` as its only writer for the ``with`` block.

    ``command`` describes the holder to a refused writer (e.g. ``qmtl train --resume
    runs/x``).  ``create`` makes the directory when it does not exist yet (a new run);
    otherwise a missing directory is a :class:`UserError`.  Another live holder, in
    another process, is a :class:`UserError` naming it; this process already holding
    ``path`` re-enters.  Yields the directory's resolved path.
    """
    directory = Path(path)
    _prepare_directory(directory, create)
    key = directory.resolve()
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            held.depth += 1
        else:
            held = _acquire(directory, key, command)
            if held is not None:
                _held[key] = held
    if held is None:
        raise _refusal(directory)  # outside the guard: it may wait a moment for the holder's record
    try:
        yield key
    finally:
        with _held_guard:
            held.depth -= 1
            if held.depth == 0:
                del _held[key]
                try:
                    (key / HOLDER_NAME).unlink(missing_ok=True)
                finally:
                    held.lock.release()
