"""Before anything is sent: resources, cost, the budget cap, confirmation, accounts."""

from __future__ import annotations

import sys

import pytest
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmtl.cli import main
from qmtl.devices.cost import estimate_qpu_seconds
from qmtl.devices.spec import MitigationConfig


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_lists_resources_and_cost_and_sends_nothing(capsys, trained_run, submissions):
    code, out, _ = _run(capsys, ["submit", str(trained_run), "--backend", "fake_manila",
                                 "--shots", "100", "--dry-run"])
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("circuit"))
    for column in ("qubits", "depth", "2q gates", "layout"):
        assert column in header
    row = out.splitlines()[out.splitlines().index(header) + 2].split()
    assert row[1:3] == ["20", "4"]  # 20 test examples, 4 active qubits
    assert int(row[4]) > 0  # CNOT ring -> two-qubit gates on the backend
    assert len(row[-4:]) == 4 and set(row[-4:]) <= set("01234")  # physical layout on Manila
    assert "20 circuits x 100 shots in 1 jobs" in out and "none 2000" in out
    assert "estimated QPU time:" in out
    assert submissions == [] and not (trained_run / "hardware").exists()


def test_estimate_follows_the_documented_model():
    backend = FakeManilaV2()  # rep delay 250 us
    base = estimate_qpu_seconds([(10, 1, 1e-6)], shots=1000, jobs=2, backend=backend)
    assert base == pytest.approx(2 * 2.0 + 1000 * 10 * (250e-6 + 1e-6))
    zne = estimate_qpu_seconds([(10, 1, 1e-6)], 1000, 2, backend, MitigationConfig(techniques=["zne"]))
    assert zne == pytest.approx(4.0 + 3 * 1000 * 10 * (250e-6 + 3e-6))


def test_budget_cap_refuses_before_sending(capsys, trained_run, submissions):
    code, _, err = _run(capsys, ["submit", str(trained_run), "--backend", "fake_manila",
                                 "--max-qpu-seconds", "1", "--yes"])
    assert code == 2 and err.count("\n") == 1
    assert "exceed --max-qpu-seconds 1" in err
    assert submissions == [] and not (trained_run / "hardware").exists()


def test_without_a_terminal_submission_needs_yes(capsys, monkeypatch, trained_run, submissions):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _, err = _run(capsys, ["submit", str(trained_run), "--backend", "fake_manila"])
    assert code == 2 and "pass --yes" in err and err.count("\n") == 1
    assert submissions == []


def test_declining_the_prompt_sends_nothing(monkeypatch, trained_run, submissions):
    from qmtl.errors import UserError
    from qmtl.hardware.submit import SubmitOptions, submit_run

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    asked = []
    options = SubmitOptions("fake_manila", shots=100, out=lambda line: None,
                            ask=lambda prompt: asked.append(prompt) or "n")
    with pytest.raises(UserError, match="cancelled"):
        submit_run(trained_run, options)
    assert "fake_manila" in asked[0] and submissions == []


@pytest.mark.parametrize("argv", [
    ["submit", "{run}", "--backend", "ibm_torino", "--dry-run"],
    ["train", "--resume", "{run}"],
])
def test_missing_account_is_one_line_with_the_setup(capsys, no_account, trained_run, argv):
    if argv[0] == "train":  # hardware-in-the-loop training opens the account the same way
        config = trained_run / "config.yaml"
        config.write_text(config.read_text().replace("name: default.qubit", "name: ibm:ibm_torino"))
        (trained_run / "status.json").write_text('{"state": "interrupted"}')
    code, _, err = _run(capsys, [a.format(run=trained_run) for a in argv])
    assert code == 2 and err.count("\n") == 1, err
    assert "no IBM Quantum account found" in err
    assert "QiskitRuntimeService.save_account(" in err and "QISKIT_IBM_TOKEN" in err


def test_unknown_backend_names(capsys, trained_run):
    code, _, err = _run(capsys, ["submit", str(trained_run), "--backend", "manila", "--dry-run"])
    assert code == 2 and "fake_<name>" in err
    code, _, err = _run(capsys, ["submit", str(trained_run), "--backend", "fake_manilla", "--dry-run"])
    assert code == 2 and "did you mean 'fake_manila'" in err
