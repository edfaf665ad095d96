"""The error the ``qmtl.estimator`` device raises for what it will not run.

It is both PennyLane's :class:`~pennylane.exceptions.DeviceError` (so PennyLane tooling treats
it as "not supported by this device") and qmtl's :class:`~qmtl.errors.UserError` (so the qmtl
CLI prints it as one line and exits with code 2).
"""

from __future__ import annotations

from pennylane.exceptions import DeviceError

from qmtl.errors import UserError


class DeviceRefusal(UserError, DeviceError):
    """An input the device refuses; the message names the problem and the fix."""
