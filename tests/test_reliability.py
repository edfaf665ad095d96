"""Crash-proof runs: SIGKILL and resume, corrupted checkpoints, storage faults, secrets."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import torch
from tiny_configs import interrupted_run

from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import train


def _reliability_config(tiny_config):
    tiny_config["data"]["limit"] = 200
    tiny_config["model"]["encoder"]["dropout"] = 0.1  # exercises the torch RNG across resumes
    tiny_config["training"].update(epochs=3, batch_size=16, checkpoint_every=1, patience=None, weighting="rlw")
    return tiny_config


def _model_state(run: RunDir) -> dict[str, torch.Tensor]:
    return torch.load(run.last_checkpoint, weights_only=True)["model"]


def test_sigkill_at_five_random_moments_then_resume_is_bit_identical(tiny_config, write_config, tmp_path):
    raw = _reliability_config(tiny_config)
    reference = RunDir(tmp_path / "reference")
    expected = train(validate_config(raw), reference, progress=False)

    config = write_config(raw)
    run = RunDir(tmp_path / "killed")
    command = [sys.executable, "-m", "qmtl.cli", "train", "--quiet"]
    moments = random.Random(2026)
    interrupted = 0
    for _attempt in range(5):
        argv = [*command, "--resume", str(run.path)] if run.config.exists() else [*command, str(config), "--out", str(run.path)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not run.last_checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(moments.uniform(0.2, 2.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            interrupted += 1
        process.wait()
        assert run.is_complete() or run.status()["state"] == "running"  # a killed run never looks finished
    assert interrupted >= 3, "the run finished before most kills: make it longer"
    if not run.is_complete():
        assert subprocess.run([*command, "--resume", str(run.path)], timeout=300).returncode == 0
    final = json.loads(run.final.read_text())
    assert final["test"] == expected["test"] and final["val"] == expected["val"]
    for name, tensor in _model_state(reference).items():
        assert torch.equal(tensor, _model_state(run)[name]), name
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2, 3]


def test_corrupted_checkpoint_is_refused_and_the_previous_one_resumes(tiny_config, tmp_path, capsys):
    raw = _reliability_config(tiny_config)
    expected = train(validate_config(raw), RunDir(tmp_path / "reference"), progress=False)

    run = RunDir(tmp_path / "run")
    interrupted_run(raw, run, at_step=20)
    data = run.last_checkpoint.read_bytes()
    run.last_checkpoint.write_bytes(data[: len(data) // 2])
    assert main(["train", "--resume", str(run.path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "truncated or corrupted" in err and "previous.pt" in err and err.count("\n") == 1
    run.last_checkpoint.unlink()
    assert main(["train", "--resume", str(run.path), "--quiet"]) == 0
    final = json.loads(run.final.read_text())
    assert final["test"] == expected["test"]


def _one_epoch_run_left_resumable(tiny_config, tmp_path) -> RunDir:
    """A finished one-epoch run whose status says it is still running, so it can resume."""
    run = RunDir(tmp_path / "run")
    raw = _reliability_config(tiny_config)
    raw["training"]["epochs"] = 1
    train(validate_config(raw), run, progress=False)
    run.set_status("running")
    return run


def test_unsafe_checkpoint_never_runs_code(tiny_config, tmp_path, capsys):
    run = _one_epoch_run_left_resumable(tiny_config, tmp_path)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"fingerprint": "x", "model": Payload()}, run.last_checkpoint)
    run.previous_checkpoint.unlink()
    assert main(["train", "--resume", str(run.path), "--quiet"]) == 2
    assert "not a safe qmtl checkpoint" in capsys.readouterr().err
    assert not marker.exists()


def test_checkpoint_of_another_model_is_refused(tiny_config, tmp_path, capsys):
    run = _one_epoch_run_left_resumable(tiny_config, tmp_path)
    run.config.write_text(run.config.read_text().replace("layers: 1", "layers: 2"))
    assert main(["train", "--resume", str(run.path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "different model config (differs in: model)" in err


def test_full_disk_keeps_the_last_good_checkpoint(tiny_config, write_config, tmp_path, monkeypatch, capsys):
    import qmtl.checkpoint as checkpoint

    raw = _reliability_config(tiny_config)
    writes = {"count": 0}
    real_open = open

    def failing_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if "w" in mode and str(path).endswith(tuple(f"-{os.getpid()}" for _ in [0])) and ".last.pt" in str(path):
            writes["count"] += 1
            if writes["count"] == 8:
                class Full:
                    def __enter__(self):
                        return self

                    def __exit__(self, *exc):
                        handle.close()

                    def write(self, data):
                        handle.write(data[: len(data) // 3])
                        raise OSError(errno.ENOSPC, "No space left on device", str(path))

                return Full()
        return handle

    monkeypatch.setattr(checkpoint, "open", failing_open, raising=False)
    out = tmp_path / "run"
    assert main(["train", str(write_config(raw)), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and err.count("\n") == 1
    run = RunDir(out)
    state = torch.load(run.last_checkpoint, weights_only=True)
    assert state["training"]["global_step"] == 6  # the 7th save (step 6) is the last good one
    assert not list((out / "checkpoints").glob(".*tmp*"))
    assert not run.is_complete()
    monkeypatch.undo()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0


def test_unwritable_output_is_reported_before_training(tiny_config, write_config, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["train", str(write_config(tiny_config)), "--out", str(blocker / "run"), "--quiet"]) == 2
    assert "cannot write to output directory" in capsys.readouterr().err


def test_credentials_never_reach_the_run_directory(tiny_config, write_config, tmp_path, monkeypatch, capsys):
    token = "fake-token-abc123xyz"
    monkeypatch.setenv("QISKIT_IBM_TOKEN", token)
    monkeypatch.setenv("MY_SERVICE_API_KEY", "key-0987654321")
    raw = _reliability_config(tiny_config)
    raw["training"]["epochs"] = 1
    out = tmp_path / "run"
    assert main(["train", str(write_config(raw)), "--out", str(out), "--quiet"]) == 0
    # A mistake whose message would echo the credential back:
    assert main(["train", str(write_config(raw)), "--out", str(tmp_path / "other"), "--set", f"data.path={token}"]) == 2
    assert main(["train", str(write_config(raw)), "--out", str(tmp_path / "third"),
                 "--set", "data.name=csv", "--set", f"data.path=/nonexistent/{token}.csv"]) == 2
    err = capsys.readouterr().err
    assert token not in err and "***" in err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert token.encode() not in blob and b"key-0987654321" not in blob, path
