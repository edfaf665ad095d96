"""One writer per run directory: racing writers, live runs, dead holders (qmtl/runlock.py)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from tiny_configs import TINY

from qmtl.cli import main
from qmtl.errors import UserError
from qmtl.rundir import RunDir
from qmtl.runlock import HOLDER_NAME, read_holder, run_lock

# Takes the lock when told to on stdin, holds it for a second, and reports: exit 0 and its
# pid on stdout when it won, exit 2 and the refusal on stderr when it lost.
RACER = """
import os, sys, time
from qmtl.errors import UserError
from qmtl.runlock import run_lock
print("ready", flush=True)
sys.stdin.readline()
try:
    with run_lock(sys.argv[1], "racer", create=True):
        print(os.getpid(), flush=True)
        time.sleep(1.0)
except UserError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
"""

# Holds the lock until killed.
HOLDER = """
import sys, time
from qmtl.runlock import run_lock
with run_lock(sys.argv[1], "qmtl train --out " + sys.argv[1], create=True):
    print("held", flush=True)
    time.sleep(600)
"""

QMTL = [sys.executable, "-m", "qmtl.cli"]


def _tiny(**training) -> dict:
    raw = copy.deepcopy(TINY)
    raw["training"].update(training)
    return raw


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("qmtl: error: "), err
    assert "Traceback" not in err
    return err


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_racing_writers_exactly_one_wins_in_each_of_twenty_races(tmp_path):
    racers = []
    for race in range(20):
        for _ in range(2):
            process = subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / f"run{race}")],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
            racers.append((race, process))
    for _, process in racers:
        assert process.stdout.readline() == "ready\n"
    for _, process in racers:  # all 40 are waiting: release them together
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes: dict[int, list[tuple[int, str, str]]] = {}
    for race, process in racers:
        out, err = process.communicate(timeout=60)
        outcomes.setdefault(race, []).append((process.returncode, out, err))
    for race, results in outcomes.items():
        winners = [out.strip() for code, out, _ in results if code == 0]
        losers = [err for code, _, err in results if code == 2]
        assert len(winners) == 1 and len(losers) == 1, (race, results)
        for err in losers:
            assert err.count("\n") == 1 and f"pid {winners[0]} " in err and "'racer'" in err, err


@pytest.mark.slow  # two real training processes: about 40 s on the 2-core machine
def test_two_train_commands_on_one_out_give_one_consistent_run(tmp_path, write_config):
    config = write_config(_tiny(epochs=2))
    out = tmp_path / "run"
    processes = {seed: subprocess.Popen([*QMTL, "train", str(config), "--out", str(out), "--quiet",
                                         "--set", f"seed={seed}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for seed in (1, 2)}
    codes = {seed: process.wait(timeout=300) for seed, process in processes.items()}
    assert sorted(codes.values()) == [0, 2], codes
    winner = next(seed for seed, code in codes.items() if code == 0)
    loser = next(seed for seed in codes if seed != winner)
    err = _one_line(processes[loser].stderr.read())
    assert "in use by pid" in err or "already holds a run" in err, err
    run = RunDir(out)
    assert run.is_complete()
    assert yaml.safe_load(run.config.read_text())["seed"] == winner
    assert json.loads(run.final.read_text())["seed"] == winner
    assert [record["epoch"] for record in run.read_metrics()] == [1, 2]
    assert not (out / HOLDER_NAME).exists()  # released


@pytest.fixture
def live_run(tmp_path, write_config):
    """A `qmtl train` subprocess in the middle of a long run: (process, run directory, config)."""
    config = write_config(_tiny(epochs=500, patience=None), "long.yaml")
    out = tmp_path / "live"
    process = subprocess.Popen([*QMTL, "train", str(config), "--out", str(out), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = RunDir(out)
    deadline = time.monotonic() + 120
    while not run.metrics.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None and run.metrics.exists(), "the training run did not start"
    yield process, run, config
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.mark.slow  # a real training process: about 50 s on the 2-core machine
def test_writers_are_refused_while_a_run_trains_and_a_killed_run_is_taken_over(
        live_run, write_config, capsys):
    process, run, config = live_run
    attempts = [
        ["train", "--resume", str(run.path), "--quiet"],
        ["train", str(config), "--out", str(run.path), "--force", "--quiet"],
        ["circuits", "export", str(run.path)],
        ["submit", str(run.path), "--backend", "fake_manila", "--yes"],
    ]
    config_before = run.config.read_bytes()
    epochs_seen = 0
    for attempt in range(20):
        assert main(attempts[attempt % len(attempts)]) == 2
        err = _one_line(capsys.readouterr().err)
        assert f"in use by pid {process.pid} ('qmtl train --out {run.path}', since " in err, err
        assert f"kill {process.pid}" in err
        epochs = [record["epoch"] for record in run.read_metrics()]
        assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= epochs_seen  # never cut or duplicated
        epochs_seen = len(epochs)
    assert process.poll() is None, "the live run was disturbed"
    assert run.config.read_bytes() == config_before and run.status()["state"] == "running"
    assert not (run.path / "circuits").exists() and not (run.path / "hardware").exists()

    process.send_signal(signal.SIGKILL)
    process.wait()
    assert read_holder(run.path).pid == process.pid  # its record stays behind, its OS lock does not
    assert main(["train", str(write_config({**_tiny(epochs=1), "seed": 7})), "--out", str(run.path),
                 "--force", "--quiet"]) == 0
    assert run.is_complete() and json.loads(run.final.read_text())["seed"] == 7
    assert [record["epoch"] for record in run.read_metrics()] == [1]
    assert not (run.path / HOLDER_NAME).exists()


@pytest.fixture
def hold():
    """Start a process that holds a directory's lock until killed; killed at teardown in any case."""
    holders: list[subprocess.Popen] = []

    def start(directory: Path) -> subprocess.Popen:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline() == "held\n"
        return holder

    yield start
    for holder in holders:
        holder.kill()
        holder.wait()


def test_every_writer_is_refused_while_another_process_holds_the_run_then_takes_it_over(
        tmp_path, write_config, capsys, hold):
    config = write_config(_tiny(epochs=1))
    run = RunDir(tmp_path / "run")
    assert main(["train", str(config), "--out", str(run.path), "--quiet"]) == 0
    holder = hold(run.path)
    before = _files(run.path)
    attempts = [
        ["train", "--resume", str(run.path), "--quiet"],
        ["train", str(config), "--out", str(run.path), "--force", "--quiet"],
        ["circuits", "export", str(run.path)],
        ["submit", str(run.path), "--backend", "fake_manila", "--yes"],
    ]
    for attempt in range(20):
        assert main(attempts[attempt % len(attempts)]) == 2
        err = _one_line(capsys.readouterr().err)
        assert f"in use by pid {holder.pid} ('qmtl train --out {run.path}', since " in err, err
        assert f"kill {holder.pid}" in err
    assert _files(run.path) == before  # nothing changed, nothing added

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert read_holder(run.path).pid == holder.pid  # its record stays behind, its OS lock does not
    assert main(["train", str(write_config({**_tiny(epochs=1), "seed": 7})), "--out", str(run.path),
                 "--force", "--quiet"]) == 0
    assert run.is_complete() and json.loads(run.final.read_text())["seed"] == 7
    assert not (run.path / HOLDER_NAME).exists()


def test_a_new_run_refused_by_the_lock_writes_nothing(tmp_path, write_config, capsys, hold):
    out = tmp_path / "run"
    holder = hold(out)
    assert main(["train", str(write_config(_tiny(epochs=1))), "--out", str(out), "--quiet"]) == 2
    assert f"in use by pid {holder.pid}" in _one_line(capsys.readouterr().err)
    assert sorted(p.name for p in out.iterdir()) == [".lock", HOLDER_NAME]


def test_the_lock_is_reentrant_within_a_process_and_released_at_the_outer_exit(tmp_path):
    out = tmp_path / "run"
    with run_lock(out, "outer", create=True):
        with run_lock(out, "inner"):
            assert read_holder(out).command == "outer"
        assert read_holder(out).pid == os.getpid()
    assert read_holder(out) is None
    probe = subprocess.run([sys.executable, "-c", RACER, str(out)], input="go\n", capture_output=True,
                           text=True, timeout=60)
    assert probe.returncode == 0  # another process can take it now


def test_a_missing_directory_is_not_created_for_commands_that_need_a_run(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        with run_lock(tmp_path / "absent", "qmtl submit"):
            pass
    assert not (tmp_path / "absent").exists()
