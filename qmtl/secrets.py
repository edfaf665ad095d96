"""Keeping credentials out of everything qmtl writes and prints.

A credential is the value of any environment variable whose name contains ``TOKEN``,
``KEY``, ``SECRET`` or ``PASSWORD`` (``QISKIT_IBM_TOKEN`` among them).

Two defences, at two places:

* configs never hold a credential: :func:`qmtl.config.check_values` refuses a config value
  equal to one (:func:`credential_variable`), so a saved ``config.yaml`` is written exactly
  as resolved -- never rewritten, which would corrupt a path that merely contains the
  same characters;
* text qmtl emits -- logs, error messages, tracebacks under ``--debug`` and everything the
  CLI prints (:class:`RedactingStream`) -- passes through :func:`redact`.
"""

from __future__ import annotations

import os
import re
from typing import Any, TextIO

_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
_MIN_LENGTH = 6  # shorter values (e.g. "1") would redact ordinary text


def _credentials() -> dict[str, str]:
    """Credential values mapped to the name of (one of) the variables holding them."""
    return {v: k for k, v in sorted(os.environ.items())
            if _SECRET_NAME.search(k) and len(v) >= _MIN_LENGTH}


def secret_values() -> list[str]:
    """Values of credential-like environment variables, longest first."""
    return sorted(_credentials(), key=len, reverse=True)


def credential_variable(value: str) -> str | None:
    """The name of a credential variable whose value is exactly ``value``, else ``None``."""
    return _credentials().get(value)


def redact(text: str) -> str:
    """``text`` with every credential value replaced by ``***``."""
    for value in secret_values():
        text = text.replace(value, "***")
    return text


class RedactingStream:
    """A text stream that passes every write through :func:`redact` (other calls go through).

    The CLI wraps ``sys.stdout`` and ``sys.stderr`` with it, so no path, message or
    traceback it prints shows a credential, whichever code printed it.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
