"""Device refusals reach the CLI as one line and exit code 2, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmtl.cli import main

DIGITS = str(Path(__file__).parents[2] / "experiments" / "configs" / "digits.yaml")


@pytest.mark.parametrize(("overrides", "message"), [
    (["device.name=fake_manila"], "the circuit needs 8 qubits but backend fake_manila has 5"),
    (["device.name=aer", "device.shots=0"], "device.shots must be a positive integer, got 0"),
    (["device.name=aer", "device.noise=fake_manila"], "a noise model needs shot-based"),
])
def test_device_refusals_are_one_line_exit_2(capsys, tmp_path, overrides, message):
    run = tmp_path / "run"
    sets = [arg for override in overrides for arg in ("--set", override)]
    assert main(["train", DIGITS, *sets, "--out", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qmtl: error: ") and message in err and err.count("\n") == 1, err
    assert not run.exists()
