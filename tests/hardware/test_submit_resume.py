"""Submitting, recording, resuming and retrying jobs; the comparison; no token on disk."""

from __future__ import annotations

import json

import pytest
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmtl.cli import main
from qmtl.devices import account, targets
from qmtl.errors import UserError
from qmtl.hardware import jobs
from qmtl.hardware.submit import MAX_ATTEMPTS, SubmitOptions, submit_run

TOKEN = "fake-token-abc123xyz"


def _options(backend="fake_manila", **kwargs) -> SubmitOptions:
    settings = {"shots": 200, "yes": True, "rows_per_job": 10, "out": lambda line: None, **kwargs}
    return SubmitOptions(backend, **settings)


def _ledger(run, backend="fake_manila") -> list[dict]:
    return json.loads((run / "hardware" / backend / "jobs.json").read_text())["jobs"]


def _kill_while_waiting(monkeypatch):
    def killed(job, n_observables):
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "job_result", killed)


def test_killed_submission_resumes_from_the_ledger_without_resubmitting(
        monkeypatch, trained_run, submissions):
    original = jobs.job_result
    _kill_while_waiting(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        submit_run(trained_run, _options())
    recorded = _ledger(trained_run)
    assert len(submissions) == 2 and [e["job_id"] for e in recorded] == [
        j.job_id() for j in submissions]  # both jobs on disk before any wait
    assert all(e["pub"]["shots"] == 200 and e["pub"]["structure"] for e in recorded)

    monkeypatch.setattr(jobs, "job_result", original)
    comparison = submit_run(trained_run, _options())
    assert len(submissions) == 2  # nothing new sent
    assert [e["job_id"] for e in _ledger(trained_run)] == [e["job_id"] for e in recorded]
    assert {e["status"] for e in _ledger(trained_run)} == {"DONE"}
    assert comparison["jobs_in_ledger"] == 2

    jobs._LOCAL_JOBS.clear()  # a new process: only the stored results remain
    again = submit_run(trained_run, _options())
    assert len(submissions) == 2
    assert again["sources"][-1]["metrics"] == comparison["sources"][-1]["metrics"]


def test_lost_local_job_is_sent_again_and_finished_work_is_not(monkeypatch, trained_run, submissions):
    original = jobs.job_result
    _kill_while_waiting(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        submit_run(trained_run, _options())
    monkeypatch.setattr(jobs, "job_result", original)
    first = _ledger(trained_run)[0]["job_id"]
    jobs._LOCAL_JOBS.pop(_ledger(trained_run)[1]["job_id"])  # its process "died" unfinished
    submit_run(trained_run, _options())
    ledger = _ledger(trained_run)
    assert len(submissions) == 3
    assert [(e["chunk"], e["attempt"], e["status"]) for e in ledger] == [
        (0, 1, "DONE"), (1, 1, "LOST"), (1, 2, "DONE")]
    assert ledger[0]["job_id"] == first


def test_failed_jobs_are_retried_up_to_the_limit(monkeypatch, trained_run, submissions):
    def failing(job, n_observables):
        job.result()
        raise RuntimeError("job failed on the backend")

    monkeypatch.setattr(jobs, "job_result", failing)
    with pytest.raises(UserError, match=f"failed {MAX_ATTEMPTS} times"):
        submit_run(trained_run, _options(rows_per_job=None))
    ledger = _ledger(trained_run)
    assert [e["attempt"] for e in ledger] == list(range(1, MAX_ATTEMPTS + 1))
    assert all(e["status"] == "ERROR" and "job failed" in e["error"] for e in ledger)
    assert len(submissions) == MAX_ATTEMPTS


def test_ibm_jobs_are_fetched_by_id_from_the_service(monkeypatch, trained_run, submissions):
    fetched = []

    class Service:  # stands in for QiskitRuntimeService; jobs run locally on FakeManila
        def job(self, job_id):
            fetched.append(job_id)
            return next(j for j in submissions if j.job_id() == job_id)

    monkeypatch.setattr(account, "runtime_service", lambda: Service())
    monkeypatch.setattr(targets, "ibm_backend", lambda name: FakeManilaV2())
    original = jobs.job_result
    _kill_while_waiting(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        submit_run(trained_run, _options("ibm_manila", mode="batch"))
    monkeypatch.setattr(jobs, "job_result", original)
    jobs._LOCAL_JOBS.clear()  # IBM jobs never rely on the process
    comparison = submit_run(trained_run, _options("ibm:ibm_manila", mode="batch"))
    recorded = [e["job_id"] for e in _ledger(trained_run, "ibm_manila")]
    assert fetched == recorded and len(submissions) == 2
    assert comparison["local"] is False
    assert any(s["label"] == "noisy sim (aer+fake_manila)" for s in comparison["sources"])


def test_fake_backend_submission_prints_the_comparison(capsys, trained_run, submissions):
    code = main(["submit", str(trained_run), "--backend", "fake_manila", "--shots", "200",
                 "--mitigation", "readout", "--mitigation", "dd", "--yes"])
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("source"):]
    for label in ("exact (default.qubit)", "noisy sim (aer+fake_manila)", "fake_manila (none)",
                  "fake_manila (readout)", "fake_manila (dd)", "fake_manila (readout+dd)"):
        assert label in table
    assert "NOT applied" not in out  # the client-side Estimator applies mitigation offline
    saved = json.loads((trained_run / "hardware/fake_manila/comparison.json").read_text())
    assert [s["kind"] for s in saved["sources"]] == ["exact", "noisy_simulator"] + ["backend"] * 4
    final = json.loads((trained_run / "final.json").read_text())
    assert saved["sources"][0]["metrics"]["digit"]["accuracy"] == pytest.approx(
        final["test"]["digit"]["accuracy"])
    for source in saved["sources"]:
        assert set(source["metrics"]) == {"digit", "parity", "ge5"}
        assert 0.0 <= source["metrics"]["parity"]["accuracy"] <= 1.0
    assert len(submissions) == 4  # one job per mitigation variant

    assert main(["jobs", str(trained_run)]) == 0
    table = capsys.readouterr().out
    assert table.count("DONE") == 4 and all(j.job_id() in table for j in submissions)


def test_no_token_in_any_file_after_training_and_submission(
        monkeypatch, tiny_config, write_config, tmp_path, submissions):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    tiny_config["data"]["limit"] = 100
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False)
    run = tmp_path / "run"
    assert main(["train", str(write_config(tiny_config)), "--out", str(run), "--quiet"]) == 0
    assert main(["submit", str(run), "--backend", "fake_manila", "--shots", "100", "--yes"]) == 0
    files = [p for p in run.rglob("*") if p.is_file()]
    assert any(p.name == "jobs.json" for p in files) and any(p.suffix == ".pt" for p in files)
    assert not [p for p in files if TOKEN.encode() in p.read_bytes()]
