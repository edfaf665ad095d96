"""`qmtl backends`: every fake backend, its width, and whether Aer takes its noise model."""

from __future__ import annotations

import pytest

from qmtl.cli import main
from qmtl.devices.spec import DeviceConfig
from qmtl.devices.targets import fake_backend_names, resolve_target
from qmtl.errors import UserError


@pytest.fixture(scope="module")
def backend_rows() -> dict[str, tuple[int, bool]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["backends"]) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["backend", "qubits"]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("fake_"):
            continue
        name, qubits, usable = line.split(maxsplit=2)
        rows[name] = (int(qubits), usable.startswith("yes"))
    return rows


def test_lists_every_fake_backend_with_its_width(backend_rows):
    assert sorted(backend_rows) == fake_backend_names()
    assert backend_rows["fake_manila"][0] == 5     # Falcon r5.11L, 5 qubits
    assert backend_rows["fake_torino"][0] == 133   # Heron r1, 133 qubits


def test_noise_column_matches_what_aer_accepts(backend_rows):
    usable = [name for name, (_, ok) in backend_rows.items() if ok]
    refused = [name for name, (_, ok) in backend_rows.items() if not ok]
    assert usable and refused
    widest_usable = max(usable, key=lambda name: backend_rows[name][0])
    narrowest_refused = min(refused, key=lambda name: backend_rows[name][0])
    target = resolve_target(DeviceConfig(name="aer", shots=1000, noise=widest_usable), seed=0)
    assert target.num_qubits == backend_rows[widest_usable][0]
    with pytest.raises(UserError, match=narrowest_refused):
        resolve_target(DeviceConfig(name="aer", shots=1000, noise=narrowest_refused), seed=0)
