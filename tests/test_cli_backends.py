"""`qmtl backends`: every fake backend, its width, and whether Aer takes its noise model."""

from __future__ import annotations

import pytest

from qmtl.cli import main
from qmtl.devices.spec import DeviceConfig
from qmtl.devices.targets import MAX_DENSITY_MATRIX_QUBITS, fake_backend_names, resolve_target


@pytest.fixture(scope="module")
def backend_rows() -> dict[str, tuple[int, int]]:
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
        name, qubits, widest, unit = line.split()
        assert unit == "qubits"
        rows[name] = (int(qubits), int(widest))
    return rows


def test_lists_every_fake_backend_with_its_width(backend_rows):
    assert sorted(backend_rows) == fake_backend_names()
    assert backend_rows["fake_manila"][0] == 5     # Falcon r5.11L, 5 qubits
    assert backend_rows["fake_torino"][0] == 133   # Heron r1, 133 qubits


def test_noise_column_matches_what_aer_accepts(backend_rows):
    assert backend_rows["fake_manila"][1] == 5
    assert backend_rows["fake_torino"][1] == MAX_DENSITY_MATRIX_QUBITS
    widest = max(backend_rows, key=lambda name: backend_rows[name][0])
    target = resolve_target(DeviceConfig(name="aer", shots=1000, noise=widest), seed=0)
    assert target.num_qubits == backend_rows[widest][0]
    assert target.estimator.max_active_qubits == backend_rows[widest][1]


def test_a_reader_that_stops_early_gets_no_traceback():
    import os
    import subprocess
    import sys

    # ``qmtl backends | head -0``: the reader has gone before the first line is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "qmtl.cli", "backends"], stdout=write_end,
                                stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr.decode() == ""
