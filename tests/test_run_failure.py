"""A failed run is never a success; a model is only evaluated on the split it was trained beside;
``data.path`` is relative to the config file (or, with ``--set``, to the working directory)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import torch
import yaml
from tiny_configs import TINY

from qmtl.cli import main


def _tiny(**training: Any) -> dict[str, Any]:
    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 80
    raw["training"].update(epochs=1, conflict_diagnostic=False, **training)
    return raw


def _write(path: Path, raw: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _status(run: Path) -> dict[str, Any]:
    return json.loads((run / "status.json").read_text())


# -- a non-finite loss stops the run ------------------------------------------------------

def test_learning_rate_too_high_fails_the_run_with_epoch_and_step(tmp_path, capsys):
    run = tmp_path / "run"
    config = _write(tmp_path / "c.yaml", _tiny(lr=1e30, batch_size=16))
    assert main(["train", str(config), "--out", str(run), "--quiet"]) == 2
    line = _one_error_line(capsys)
    status = _status(run)
    assert status["state"] == "failed"
    assert f"epoch {status['epoch']}, step {status['step']}" in line
    assert status["epoch"] == 1 and status["step"] >= 1
    assert "learning rate is too high (training.lr is 1e+30)" in line
    assert not (run / "final.json").exists()
    # The last checkpoint is the model before the update that diverged: finite throughout.
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.isfinite(tensor).all() for tensor in state["model"].values())
    # A failed run is not complete: resuming it is allowed (and diverges again, as failed).
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    assert "training diverged" in _one_error_line(capsys)
    assert _status(run)["state"] == "failed"


def test_overflowing_regression_targets_name_the_cause(tmp_path, capsys):
    rows = "\n".join(f"{i * 0.1:.1f},{(i % 5) * 0.2:.1f},{1e25 * (1 + i % 3)}" for i in range(60))
    (tmp_path / "big.csv").write_text("a,b,score\n" + rows + "\n")
    raw = _tiny()
    raw["data"] = {"name": "csv", "path": "big.csv"}
    raw["tasks"] = [{"name": "score", "kind": "regression", "observables": ["Z0"]}]
    run = tmp_path / "run"
    assert main(["train", str(_write(tmp_path / "c.yaml", raw)), "--out", str(run), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "epoch 1, step 1: the loss of task(s) score is NaN or infinite" in line
    assert "standardise_targets: true" in line
    status = _status(run)
    assert (status["state"], status["epoch"], status["step"]) == ("failed", 1, 1)
    # The same data with standardised targets trains.
    raw["data"]["options"] = {"standardise_targets": True}
    assert main(["train", str(_write(tmp_path / "c.yaml", raw)), "--out", str(tmp_path / "ok"), "--quiet"]) == 0


# -- eval refuses a checkpoint trained on another split ----------------------------------------

def _trained(tmp_path: Path, name: str, seed: int) -> Path:
    raw = _tiny()
    raw["seed"] = seed
    run = tmp_path / name
    assert main(["train", str(_write(tmp_path / f"{name}.yaml", raw)), "--out", str(run), "--quiet"]) == 0
    split = json.loads((run / "final.json").read_text())["split"]
    assert (split["seed"], split["examples"], split["limit"]) == (seed, 1797, 80)
    assert split["train"] + split["val"] + split["test"] == 80
    return run


def test_eval_refuses_a_checkpoint_of_another_seed(tmp_path, capsys):
    run, other = _trained(tmp_path, "seed0", 0), _trained(tmp_path, "seed1", 1)
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0  # its own checkpoint
    capsys.readouterr()
    shutil.copy(other / "checkpoints" / "best.pt", run / "checkpoints" / "best.pt")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert main(["eval", str(run)]) == 2
    line = _one_error_line(capsys)
    assert "was trained on another data split than this run's (differs in: indices_sha256, seed)" in line
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_resume_refuses_a_config_whose_split_changed(tmp_path, capsys):
    run = _trained(tmp_path, "run", 0)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["data"]["test_fraction"] = 0.3
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    (run / "status.json").write_text('{"state": "interrupted"}')
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "was trained on another data split" in line and "test_fraction" in line and "indices_sha256" in line


def test_eval_refuses_a_checkpoint_without_a_recorded_split(tmp_path, capsys):
    run = _trained(tmp_path, "run", 0)
    best = run / "checkpoints" / "best.pt"
    state = torch.load(best, weights_only=True)
    del state["split"]
    torch.save(state, best)
    capsys.readouterr()
    assert main(["eval", str(run)]) == 2
    assert "records no data split" in _one_error_line(capsys)


# -- data.path resolution -------------------------------------------------------------------

CSV = "a,b,label\n" + "\n".join(f"{i * 0.1:.1f},{(i % 7) * 0.3:.1f},{i % 2}" for i in range(60)) + "\n"


def _csv_config(path: str | None) -> dict[str, Any]:
    raw = _tiny()
    raw["data"] = {"name": "csv", **({"path": path} if path is not None else {})}
    raw["tasks"] = [{"name": "label", "kind": "binary", "observables": ["Z0"]}]
    return raw


def test_relative_data_path_is_relative_to_the_config_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "d.csv").write_text(CSV)
    config = _write(tmp_path / "project" / "configs" / "c.yaml", _csv_config("../data/d.csv"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", str(config), "--out", "run", "--quiet"]) == 0
    saved = yaml.safe_load((elsewhere / "run" / "config.yaml").read_text())
    assert saved["data"]["path"] == str((tmp_path / "project" / "data" / "d.csv").resolve())
    # The saved config works from any other directory: eval and resume read the same file.
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["eval", str(elsewhere / "run")]) == 0


def test_a_path_next_to_the_working_directory_only_is_not_found(tmp_path, monkeypatch, capsys):
    (tmp_path / "d.csv").write_text(CSV)
    config = _write(tmp_path / "configs" / "c.yaml", _csv_config("d.csv"))
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(config), "--out", "run", "--quiet"]) == 2
    assert f"data file '{tmp_path / 'configs' / 'd.csv'}' does not exist" in _one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_data_path_set_on_the_command_line_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "d.csv").write_text(CSV)
    config = _write(tmp_path / "configs" / "c.yaml", _csv_config("not-this.csv"))
    monkeypatch.chdir(tmp_path / "work")
    assert main(["train", str(config), "--set", "data.path=d.csv", "--out", "run", "--quiet"]) == 0
    saved = yaml.safe_load((tmp_path / "work" / "run" / "config.yaml").read_text())
    assert saved["data"]["path"] == str((tmp_path / "work" / "d.csv").resolve())


def test_sweep_runs_record_data_path_absolute_from_the_start_directory(tmp_path, monkeypatch):
    from qmtl.sweep import load_sweep

    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "d.csv").write_text(CSV)
    sweep = _write(tmp_path / "sweeps" / "s.yaml", {"config": _csv_config("d.csv"), "seeds": [0, 1]})
    monkeypatch.chdir(tmp_path / "work")
    runs = load_sweep(sweep, tmp_path / "out").runs
    assert [run.config.data.path for run in runs] == [str((tmp_path / "work" / "d.csv").resolve())] * 2
