"""Sweep workers end with the sweep: a SIGKILLed `qmtl sweep` leaves no process, and a re-run finishes."""

from __future__ import annotations

import copy
import csv
import signal
import subprocess
import sys
import time

import psutil
import pytest
import yaml
from tiny_configs import TINY

from qmtl.rundir import RunDir


@pytest.mark.slow  # two spawned workers training real runs: about a minute on the 2-core machine
def test_sigkill_of_a_sweep_leaves_no_worker_and_a_rerun_completes_every_run(tmp_path):
    base = copy.deepcopy(TINY)
    base["training"].update(epochs=6, patience=None, conflict_diagnostic=False)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"config": base, "grid": {"training.lr": [0.01, 0.02]}, "seeds": [0, 1]}))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "qmtl.cli", "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"]

    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = [RunDir(out / name) for name in ("training.lr=0.01,seed=0", "training.lr=0.01,seed=1",
                                             "training.lr=0.02,seed=0", "training.lr=0.02,seed=1")]
    deadline = time.monotonic() + 240
    while parent.poll() is None and time.monotonic() < deadline:
        if sum(len(run.read_metrics()) >= 1 for run in runs) >= 2:  # both workers are mid-run
            break
        time.sleep(0.1)
    assert parent.poll() is None, "the sweep ended before it could be killed: make the runs longer"
    descendants = psutil.Process(parent.pid).children(recursive=True)
    assert len(descendants) >= 2, descendants  # the two workers (and multiprocessing's resource tracker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    _, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, f"processes left behind by the killed sweep: {alive}"
    assert not all(run.is_complete() for run in runs)

    assert subprocess.run(command, timeout=600).returncode == 0
    with (out / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and all(row["status"] in ("trained", "skipped") for row in rows)
    for run in runs:
        assert run.is_complete()
        assert [record["epoch"] for record in run.read_metrics()] == [1, 2, 3, 4, 5, 6]  # resumed, not repeated
