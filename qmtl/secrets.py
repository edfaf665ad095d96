"""Keeping credentials out of everything qmtl writes.

A credential is the value of any environment variable whose name contains ``TOKEN``,
``KEY`` or ``SECRET`` (``QISKIT_IBM_TOKEN`` among them).  :func:`redact` replaces every
such value in a string; logs, error messages and saved configs pass through it.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
_MIN_LENGTH = 6  # shorter values (e.g. "1") would redact ordinary text


def secret_values() -> list[str]:
    """Values of credential-like environment variables, longest first."""
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every credential value replaced by ``***``."""
    for value in secret_values():
        text = text.replace(value, "***")
    return text
