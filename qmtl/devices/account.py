"""The IBM Quantum account: whatever ``QiskitRuntimeService()`` already knows.

``QiskitRuntimeService()`` (no arguments) reads the account saved by
``QiskitRuntimeService.save_account(...)`` in ``~/.qiskit/qiskit-ibm.json`` or, when none is
saved, the ``QISKIT_IBM_TOKEN`` / ``QISKIT_IBM_CHANNEL`` / ``QISKIT_IBM_INSTANCE``
environment variables (qiskit_ibm_runtime/accounts/management.py).  qmtl never takes a
token itself, so none can reach a run directory; error messages still pass through
:func:`qmtl.secrets.redact` because Runtime exceptions may quote request details.
See https://quantum.cloud.ibm.com/docs/guides/save-credentials.
"""

from __future__ import annotations

from typing import Any

from qmtl.errors import UserError
from qmtl.secrets import redact

SETUP_HINT = (
    "set up an IBM Quantum account once with python -c \"from qiskit_ibm_runtime import "
    "QiskitRuntimeService; QiskitRuntimeService.save_account(token='<API key>', "
    "instance='<CRN>', set_as_default=True)\" or export QISKIT_IBM_TOKEN (and "
    "QISKIT_IBM_INSTANCE); see docs/howto/hardware.md")


def runtime_service() -> Any:
    """The default ``QiskitRuntimeService``; a one-line :class:`UserError` when unusable."""
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.accounts import AccountNotFoundError

    try:
        return QiskitRuntimeService()
    except AccountNotFoundError:
        raise UserError(f"no IBM Quantum account found; {SETUP_HINT}") from None
    except Exception as exc:  # network, expired key, wrong instance: all need the user
        raise UserError(redact(f"cannot connect to IBM Quantum ({type(exc).__name__}: "
                               f"{exc}); check the network and your saved account")) from None
