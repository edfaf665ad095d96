"""The one build sequence (qmtl.run) and who closes a Runtime Batch/Session a device opens.

A ``fake_*`` device in ``mode: batch`` opens a real local ``qiskit_ibm_runtime.Batch``;
``Batch.close`` is wrapped to count calls, so each test sees whether the session it opened
was closed -- on success, and when the build, the set-up or the evaluation fails.
"""

from __future__ import annotations

import pytest
from qiskit_ibm_runtime import Batch

from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.errors import UserError
from qmtl.evaluation import evaluate_run
from qmtl.rng import seed_everything
from qmtl.run import build_run, load_run
from qmtl.rundir import RunDir
from qmtl.training import Trainer

BATCH_DEVICE = {"name": "fake_manila", "mode": "batch", "shots": 64}


@pytest.fixture
def closes(monkeypatch) -> list[Batch]:
    """Every ``Batch.close`` call, in order (the real close still runs)."""
    closed: list[Batch] = []
    original = Batch.close

    def close(self) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(Batch, "close", close)
    return closed


def _batch_config(tiny_config, **training):
    tiny_config["device"] = dict(BATCH_DEVICE)
    tiny_config["data"]["limit"] = 60
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False, **training)
    return tiny_config


def test_build_run_seeds_so_two_builds_are_identical(tiny_config):
    config = validate_config(tiny_config)
    with build_run(config) as first, build_run(config) as second:
        assert first.data.split == second.data.split
        for (name, a), (_, b) in zip(first.model.state_dict().items(), second.model.state_dict().items()):
            assert a.equal(b), name


def test_build_run_matches_seeding_then_building_by_hand(tiny_config):
    """The sequence is seed -> data -> device -> model: the same draws as doing it by hand."""
    from qmtl.architectures import build_model
    from qmtl.data import load_data
    from qmtl.devices import build_device

    config = validate_config(tiny_config)
    seed_everything(config.seed)
    data = load_data(config.data, config.tasks, config.seed)
    device, diff_method = build_device(config.device, config.model.n_qubits, config.seed)
    by_hand = build_model(config, data.input_dims, device, diff_method)
    with build_run(config) as run:
        for (name, a), (_, b) in zip(by_hand.state_dict().items(), run.model.state_dict().items()):
            assert a.equal(b), name


def test_a_session_opened_by_a_failing_model_build_is_closed(tiny_config, closes, monkeypatch):
    def refuse(*args, **kwargs):
        raise UserError("no such model")

    monkeypatch.setattr("qmtl.run.build_model", refuse)
    with pytest.raises(UserError, match="no such model"):
        build_run(validate_config(_batch_config(tiny_config)))
    assert len(closes) == 1


def test_a_session_opened_before_the_trainer_refuses_the_config_is_closed(tiny_config, closes, tmp_path):
    raw = _batch_config(tiny_config)
    raw["model"]["architecture"] = "single_task"
    raw["training"]["aggregator"] = "upgrad"
    with pytest.raises(UserError, match="shares none"):
        Trainer(validate_config(raw), RunDir(tmp_path / "run"), progress=False)
    assert len(closes) == 1


def test_a_session_is_closed_when_the_run_directory_is_refused(tiny_config, closes, tmp_path):
    (tmp_path / "run").write_text("a file, not a run directory")
    trainer = Trainer(validate_config(_batch_config(tiny_config)), RunDir(tmp_path / "run"), progress=False)
    with pytest.raises(UserError, match="is a file"):
        trainer.run()
    assert len(closes) == 1


def test_training_and_evaluation_close_their_session_once(tiny_config, closes, tmp_path, write_config):
    run = tmp_path / "run"
    assert main(["train", str(write_config(_batch_config(tiny_config))), "--out", str(run), "--quiet"]) == 0
    assert len(closes) == 1
    evaluate_run(run)
    assert len(closes) == 2


def test_load_run_closes_the_session_when_the_checkpoint_is_refused(tiny_config, closes, tmp_path, write_config):
    run = tmp_path / "run"
    tiny_config["data"]["limit"] = 60
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False)
    assert main(["train", str(write_config(tiny_config)), "--out", str(run), "--quiet"]) == 0
    RunDir(run).best_checkpoint.write_bytes(b"truncated")
    overrides = [f"device.{key}={value}" for key, value in BATCH_DEVICE.items()]
    with pytest.raises(UserError, match="truncated"):
        load_run(run, overrides)
    assert len(closes) == 1
    assert main(["eval", str(run), *(arg for o in overrides for arg in ("--set", o))]) == 2
    assert len(closes) == 2
