"""User-facing errors.

A :class:`UserError` is a mistake the user can fix (a bad config key, a missing file, an
unknown device).  The CLI prints its message as one line and exits with code 2; a
traceback is shown only with ``--debug``.  Messages name the problem *and* the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """A mistake in the user's input; the message is one line naming problem and fix."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class RunStopped(UserError):
    """A deliberate stop of a training run before its end (e.g. the QPU budget is spent).

    The run is not broken: the trainer records ``stopped`` with this message as the
    reason (not ``failed``), keeps the last checkpoint and tells the user how to resume.
    """


def nearest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` if none is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UserError:
    """The standard error for a name missing from a registry: lists the valid names."""
    valid = sorted(choices)
    return UserError(
        f"unknown {kind} '{name}'{nearest(name, valid)}; valid names: {', '.join(valid)}"
    )
