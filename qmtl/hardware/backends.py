"""``--backend NAME``: a real IBM backend (``ibm_<name>`` or ``ibm:<name>``) or a fake one.

``fake_<name>`` runs the identical submission path in Runtime local testing mode, with the
fake backend's noise model, coupling map and basis gates -- no account, no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qmtl.devices.targets import IBM_PREFIX, fake_backend_names
from qmtl.errors import UserError, unknown_name


@dataclass(frozen=True)
class HardwareBackend:
    """A backend name resolved to how qmtl addresses it."""

    label: str
    """The backend's own name; also the ledger folder ``RUN_DIR/hardware/<label>``."""
    device_name: str
    """The ``device.name`` that targets it (``fake_manila`` or ``ibm:ibm_torino``)."""
    service: Any
    """The ``QiskitRuntimeService`` for IBM backends; ``None`` in local testing mode."""

    @property
    def local(self) -> bool:
        return self.service is None

    @property
    def noise_name(self) -> str | None:
        """The fake backend whose Aer noise model stands for this backend, if one exists."""
        name = self.label if self.local else "fake_" + self.label.removeprefix("ibm_")
        return name if name in fake_backend_names() else None


def open_backend(name: str) -> HardwareBackend:
    """Resolve ``--backend``; an IBM name needs a usable account (checked here)."""
    if name.startswith("fake_"):
        if name not in fake_backend_names():
            raise unknown_name("fake backend", name, fake_backend_names())
        return HardwareBackend(name, name, None)
    if name.startswith(("ibm_", IBM_PREFIX)):
        from qmtl.devices.account import runtime_service

        label = name.removeprefix(IBM_PREFIX)
        return HardwareBackend(label, f"{IBM_PREFIX}{label}", runtime_service())
    raise UserError(f"--backend '{name}' is neither an IBM backend (ibm_<name>, e.g. "
                    "ibm_torino) nor a fake one (fake_<name>, e.g. fake_manila); see "
                    "'qmtl info' for the fake backends")
