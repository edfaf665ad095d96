"""Paid work is never sent twice: the write-ahead job ledger of ``qmtl submit``.

A submission is interrupted at every step -- before every write under ``RUN_DIR/hardware``
and around every ``Estimator.run`` -- by a full disk (``ENOSPC``) or a kill, then run
again.  Against a stand-in IBM service each piece of work is sent exactly once over both
runs, and the results equal those of an uninterrupted submission.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from tiny_configs import finished_tiny_run

from qmtl import checkpoint
from qmtl.cli import main
from qmtl.devices import account, targets
from qmtl.hardware import compare, jobs, submit
from qmtl.hardware.ledger import CorruptResult, Ledger, jobs_table
from qmtl.hardware.submit import SubmitOptions, submit_run

SHOTS, ROWS_PER_JOB = 200, 10  # 20 test examples: two jobs


class Killed(BaseException):
    """Stands in for the process dying (SIGKILL, power loss) at an injected point."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One tiny 4-qubit run, trained once for the module (copied per test)."""
    return finished_tiny_run(tmp_path_factory.mktemp("trained"), submitted=False)


@pytest.fixture
def run(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


class Submissions:
    """Counts every ``Estimator.run`` of ``qmtl submit`` and injects faults at its steps.

    A *step* is a write of a file under ``RUN_DIR/hardware`` or an ``Estimator.run``.
    ``fail("before", k, make_error)`` raises a fresh error instead of step ``k``;
    ``fail("after", k, ...)`` raises it once step ``k`` is done (for a run: the job exists,
    but the caller never learns its id).
    """

    def __init__(self, hardware: Path) -> None:
        self.hardware = hardware
        self.sent: list[tuple[tuple[str, ...], Any]] = []  # (job tags, job) per run()
        self.steps: list[str] = []
        self._fault: tuple[str, int, Callable[[], BaseException]] | None = None
        self.seed: int | None = None  # for jobs run locally on behalf of a stand-in service

    def fail(self, when: str, step: int, make_error: Callable[[], BaseException]) -> None:
        self._fault = (when, step, make_error)

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        index = len(self.steps)
        self.steps.append(name)
        fault = self._fault if self._fault and self._fault[1] == index else None
        if fault:
            self._fault = None
        if fault and fault[0] == "before":
            raise fault[2]()
        result = action()
        if fault and fault[0] == "after":
            raise fault[2]()
        return result

    def reset(self) -> None:
        """Forget the steps and sends (the hardware folder is removed by the caller)."""
        self.steps.clear()
        self.sent.clear()
        jobs._LOCAL_JOBS.clear()

    def keys(self) -> Counter:
        """How often each piece of work (``qmtl-key:`` tag) was sent."""
        return Counter(next(t for t in tags if t.startswith("qmtl-key:")) for tags, _ in self.sent)


class _CountingEstimator:
    """The submission's estimator, with each ``run`` counted as a step."""

    def __init__(self, inner: Any, submissions: Submissions) -> None:
        self.inner, self.submissions = inner, submissions

    @property
    def options(self) -> Any:
        return self.inner.options

    def run(self, pubs: list) -> Any:
        def send():
            if self.submissions.seed is not None:
                self.inner.options.simulator.seed_simulator = self.submissions.seed
            job = self.inner.run(pubs)
            self.submissions.sent.append((tuple(self.inner.options.environment.job_tags), job))
            return job

        return self.submissions.step("run", send)


@pytest.fixture
def submissions(monkeypatch, run) -> Submissions:
    counted = Submissions(run / "hardware")
    write_bytes, make_estimator = checkpoint.atomic_write_bytes, submit._Runner._estimator

    def write(path, data):
        if counted.hardware not in Path(path).parents:  # run locks, logs: not submission steps
            return write_bytes(path, data)
        return counted.step(f"write {Path(path).name}", lambda: write_bytes(path, data))

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", write)
    monkeypatch.setattr(submit._Runner, "_estimator",
                        lambda runner, config: _CountingEstimator(make_estimator(runner, config),
                                                                  counted))
    monkeypatch.setattr(jobs, "_LOCAL_JOBS", {})  # a fresh process: no local jobs yet
    # The noisy-simulator row is the same for every run here and costs seconds each time.
    monkeypatch.setattr(compare, "noisy_simulator", lambda *args: (None, "no noisy simulator"))
    return counted


class StandInService:
    """``QiskitRuntimeService`` for the test: jobs run locally on a seeded FakeManila and
    are found again by id or by tags, as on IBM Quantum."""

    def __init__(self, submissions: Submissions) -> None:
        self.submissions = submissions
        self.reachable = True

    def job(self, job_id: str) -> Any:
        return next(job for _, job in self.submissions.sent if job.job_id() == job_id)

    def jobs(self, job_tags: list[str], limit: int | None = 10, **filters: Any) -> list:
        if not self.reachable:
            raise ConnectionError("IBM Quantum did not answer")
        return [job for tags, job in reversed(self.submissions.sent) if set(job_tags) <= set(tags)]


@pytest.fixture
def ibm(monkeypatch, submissions) -> StandInService:
    service = StandInService(submissions)
    submissions.seed = 11  # shot noise as reproducible as in local testing mode
    monkeypatch.setattr(account, "runtime_service", lambda: service)
    monkeypatch.setattr(targets, "ibm_backend", lambda name: FakeManilaV2())
    return service


def _argv(run: Path, backend: str) -> list[str]:
    return ["submit", str(run), "--backend", backend, "--shots", str(SHOTS),
            "--rows-per-job", str(ROWS_PER_JOB), "--yes"]


def _options(backend: str) -> SubmitOptions:
    return SubmitOptions(backend, shots=SHOTS, rows_per_job=ROWS_PER_JOB, yes=True,
                         out=lambda line: None)


def _backend_rows(comparison: dict) -> list:
    return [(s["label"], s["metrics"]) for s in comparison["sources"] if s["kind"] == "backend"]


def _ledger(run: Path, label: str) -> list[dict]:
    return json.loads((run / "hardware" / label / "jobs.json").read_text())["jobs"]


def _clean_slate(run: Path, submissions: Submissions) -> None:
    shutil.rmtree(run / "hardware")
    submissions.reset()


def _reference(run: Path, submissions: Submissions, backend: str) -> tuple[list, list[str]]:
    """An uninterrupted submission's backend rows and steps; then a clean slate."""
    rows = _backend_rows(submit_run(run, _options(backend)))
    steps = list(submissions.steps)
    assert sorted(submissions.keys().values()) == [1, 1]
    _clean_slate(run, submissions)
    return rows, steps


Point = tuple[str, int, Callable[[], BaseException]]


def _points(steps: list[str], make_error: Callable[[], BaseException]) -> list[Point]:
    """Where ``make_error`` can strike: a full disk before any write; a kill before any
    step and after any run; a network error in place of a run or after it sent the job."""
    error = make_error()
    if getattr(error, "errno", None) == errno.ENOSPC:
        return [("before", k, make_error) for k, name in enumerate(steps) if name != "run"]
    runs = [k for k, name in enumerate(steps) if name == "run"]
    before = runs if isinstance(error, ConnectionError) else range(len(steps))
    return [("before", k, make_error) for k in before] + [("after", k, make_error) for k in runs]


def _interrupt_everywhere(run: Path, submissions: Submissions, capsys, backend: str,
                          make_error: Callable[[], BaseException],
                          only: Callable[[list[str]], list[Point]] | None = None) -> int:
    """Submit with a fault at every point, then again without; returns the points tried.

    Each faulty submission ends with one line and exit code 2 (a kill just stops it).  Over
    both runs each piece of work is sent once -- twice only for a local testing mode job
    whose id was never recorded, which the ledger marks ``LOST`` (nothing was paid) -- and
    the results equal those of an uninterrupted submission.
    """
    local = backend.startswith("fake_")
    reference, steps = _reference(run, submissions, backend)
    points = only(steps) if only else _points(steps, make_error)
    for when, step, error in points:
        where = (when, step, steps[step])
        submissions.fail(when, step, error)
        if isinstance(error(), Killed):
            with pytest.raises(Killed):
                submit_run(run, _options(backend))
        else:
            code = main(_argv(run, backend))
            err = capsys.readouterr().err
            assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (where, err)
            assert f"'qmtl submit {run} --backend {backend} --shots {SHOTS}" in err, err
            if error().errno == errno.ENOSPC:
                assert "cannot write 'jobs.json' (No space left on device)" in err, err
        if not local:
            jobs._LOCAL_JOBS.clear()  # IBM jobs never rely on the process that sent them
        assert _backend_rows(submit_run(run, _options(backend))) == reference, where
        ledger = _ledger(run, backend)
        assert len(submissions.keys()) == 2, where
        for key, times in submissions.keys().items():
            entries = [e for e in ledger if f"qmtl-key:{e['key']}" == key]
            if local and times == 2:
                assert [e["status"] for e in entries] == ["LOST", "DONE"], where
                assert "before recording its id" in entries[0]["error"], where
            else:
                assert times == 1, (where, submissions.steps)
                assert entries[-1]["status"] == "DONE", where
        _clean_slate(run, submissions)
    return len(points)


def _disk_full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", "jobs.json")


def _network() -> ConnectionError:
    return ConnectionError("the response was lost")


def test_a_clean_submission_writes_the_intent_before_sending_and_the_id_right_after(
        run, submissions, ibm):
    submit_run(run, _options("ibm_manila"))
    ledger = _ledger(run, "ibm_manila")
    # Per job: intent, run, id; then per job: result, DONE; then the comparison.
    assert submissions.steps == ["write jobs.json", "run", "write jobs.json"] * 2 + [
        name for e in ledger for name in (f"write {e['job_id']}.json", "write jobs.json")] + [
        "write comparison.json"]
    for entry, (tags, job) in zip(ledger, submissions.sent):
        assert list(tags) == entry["tags"] and entry["job_id"] == job.job_id()
        assert tags[1:] == (f"qmtl-key:{entry['key']}", f"qmtl-attempt:{entry['attempt']}")
        assert tags[0].startswith("qmtl:") and entry["status"] == "DONE"


def test_ibm_submission_stopped_around_its_first_send_never_sends_work_twice(
        run, submissions, ibm, capsys):
    """The points that matter most: between intent and run, and between run and its id."""
    def around_first_run(steps: list[str]) -> list[Point]:
        first = steps.index("run")
        return [("before", first, Killed), ("after", first, Killed), ("after", first, _network),
                ("before", first + 1, _disk_full)]

    assert _interrupt_everywhere(run, submissions, capsys, "ibm_manila", Killed,
                                 around_first_run) == 4


@pytest.mark.slow
@pytest.mark.parametrize("make_error", [_disk_full, Killed, _network],
                         ids=["disk-full", "killed", "network"])
def test_ibm_submission_stopped_at_every_step_never_sends_work_twice(
        run, submissions, ibm, capsys, make_error):
    assert _interrupt_everywhere(run, submissions, capsys, "ibm_manila", make_error) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("make_error", [_disk_full, Killed], ids=["disk-full", "killed"])
def test_local_submission_stopped_at_every_step_resends_only_unrecorded_jobs(
        run, submissions, capsys, make_error):
    assert _interrupt_everywhere(run, submissions, capsys, "fake_manila", make_error) >= 4


def _first_run(run: Path, submissions: Submissions) -> int:
    submit_run(run, _options("ibm_manila"))
    first = submissions.steps.index("run")
    _clean_slate(run, submissions)
    return first


def test_unreachable_service_stops_instead_of_sending_again(run, submissions, ibm, capsys):
    submissions.fail("after", _first_run(run, submissions), Killed)
    with pytest.raises(Killed):
        submit_run(run, _options("ibm_manila"))
    before = (run / "hardware/ibm_manila/jobs.json").read_bytes()
    assert _ledger(run, "ibm_manila")[0]["status"] == "SENDING"

    ibm.reachable = False
    code = main(_argv(run, "ibm_manila"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "could not be searched" in err and "nothing was sent again" in err
    assert f"'qmtl submit {run} --backend ibm_manila" in err
    assert len(submissions.sent) == 1
    assert (run / "hardware/ibm_manila/jobs.json").read_bytes() == before
    assert main(["jobs", str(run)]) == 0
    assert "SENDING (id not recorded" in capsys.readouterr().out

    ibm.reachable = True
    submit_run(run, _options("ibm_manila"))
    assert set(submissions.keys().values()) == {1} and len(submissions.keys()) == 2
    assert [e["status"] for e in _ledger(run, "ibm_manila")] == ["DONE", "DONE"]


def test_a_job_never_sent_is_marked_not_sent_and_sent_once(run, submissions, ibm):
    submissions.fail("before", _first_run(run, submissions), Killed)
    with pytest.raises(Killed):
        submit_run(run, _options("ibm_manila"))
    assert submissions.sent == []
    submit_run(run, _options("ibm_manila"))
    ledger = _ledger(run, "ibm_manila")
    assert [(e["chunk"], e["attempt"], e["status"]) for e in ledger] == [
        (0, 1, "NOT_SENT"), (0, 2, "DONE"), (1, 1, "DONE")]
    assert ledger[0]["job_id"] is None and "has no job tagged" in ledger[0]["error"]
    assert len(submissions.sent) == 2


CORRUPTIONS = {
    "truncated": lambda good: good[: len(good) // 2],
    "not-finite": lambda good: json.dumps({k: [[float("nan")] * len(r) for r in v]
                                           for k, v in json.loads(good).items()}),
    "wrong-shape": lambda good: json.dumps({k: v[:-1] for k, v in json.loads(good).items()}),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_result_is_reported_listed_as_corrupt_and_fetched_again_by_id(
        run, submissions, ibm, capsys, corruption):
    reference = _backend_rows(submit_run(run, _options("ibm_manila")))
    entry = _ledger(run, "ibm_manila")[0]
    result = run / "hardware/ibm_manila/results" / f"{entry['job_id']}.json"
    result.write_text(CORRUPTIONS[corruption](result.read_text()))

    assert main(["jobs", str(run)]) == 0
    table = capsys.readouterr().out
    assert table.count("DONE") == 1 and "CORRUPT" in table

    lines: list[str] = []
    again = submit_run(run, SubmitOptions("ibm_manila", shots=SHOTS, rows_per_job=ROWS_PER_JOB,
                                          yes=True, out=lines.append))
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and str(result) in warnings[0] and entry["job_id"] in warnings[0]
    assert _backend_rows(again) == reference
    assert len(submissions.sent) == 2  # fetched again by id, not sent again
    assert "CORRUPT" not in jobs_table(run)


def test_corrupt_local_result_of_an_ended_process_is_sent_again(run, submissions, capsys):
    reference = _backend_rows(submit_run(run, _options("fake_manila")))
    entry = _ledger(run, "fake_manila")[0]
    result = run / "hardware/fake_manila/results" / f"{entry['job_id']}.json"
    result.write_text(result.read_text()[:40])
    jobs._LOCAL_JOBS.clear()  # a new process: the local job is gone
    again = submit_run(run, _options("fake_manila"))
    assert _backend_rows(again) == reference
    ledger = _ledger(run, "fake_manila")
    assert [(e["chunk"], e["status"]) for e in ledger] == [(0, "LOST"), (1, "DONE"), (0, "DONE")]
    assert len(submissions.sent) == 3


def test_an_ibm_job_whose_result_cannot_be_read_is_waited_for_not_sent_again(
        monkeypatch, run, submissions, ibm, capsys):
    reference = _backend_rows(submit_run(run, _options("ibm_manila")))
    _clean_slate(run, submissions)
    read_result = jobs.job_result

    def network_down(job, n_observables):
        raise ConnectionError("the connection to IBM Quantum was reset")

    monkeypatch.setattr(jobs, "job_result", network_down)
    code = main(_argv(run, "ibm_manila"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "it may still be running, so nothing was sent again" in err
    assert f"'qmtl submit {run} --backend ibm_manila" in err
    assert [e["status"] for e in _ledger(run, "ibm_manila")] == ["QUEUED", "QUEUED"]
    assert main(["jobs", str(run)]) == 0 and capsys.readouterr().out.count("QUEUED") == 2

    monkeypatch.setattr(jobs, "job_result", read_result)
    jobs._LOCAL_JOBS.clear()
    assert _backend_rows(submit_run(run, _options("ibm_manila"))) == reference
    assert sorted(submissions.keys().values()) == [1, 1]


def test_a_result_with_unbounded_standard_errors_is_kept_and_a_negative_one_refused(tmp_path):
    """Zero-noise extrapolation reports ``inf`` where its fit cannot bound the error."""
    ledger = Ledger(tmp_path, "fake_manila", local=True)
    entry = ledger.intend("k", "zne", 0, {"structure": "s", "rows": [0, 2], "observables": 3,
                                          "shots": 100})
    ledger.sent(entry, "job-1")
    evs = np.array([[0.5, -0.25], [0.0, 1.0], [0.125, 0.75]])
    stds = np.array([[0.01, np.inf], [0.02, 0.03], [np.inf, 0.0]])
    ledger.save_result(entry, evs, stds)
    stored_evs, stored_stds = ledger.load_result(entry)
    assert np.array_equal(stored_evs, evs) and np.array_equal(stored_stds, stds)
    with pytest.raises(CorruptResult, match="negative standard errors"):
        ledger.save_result(entry, evs, -stds)
    with pytest.raises(CorruptResult, match=r"not \(3, 2\)"):
        ledger.save_result(entry, evs[:, :1], stds[:, :1])
