import json

import pytest
import torch
from tiny_configs import interrupted_run

from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import Trainer, batch_order, train


def _final_metrics(final):
    return {split: final[split] for split in ("test", "val")}


def test_same_seed_same_metrics_other_seed_other_metrics(tiny_config, tmp_path):
    first = train(validate_config(tiny_config), RunDir(tmp_path / "a"), progress=False)
    second = train(validate_config(tiny_config), RunDir(tmp_path / "b"), progress=False)
    assert _final_metrics(first) == _final_metrics(second)
    tiny_config["seed"] = 1
    other = train(validate_config(tiny_config), RunDir(tmp_path / "c"), progress=False)
    assert _final_metrics(other) != _final_metrics(first)


def test_short_run_learns(tiny_config, tmp_path):
    tiny_config["data"]["limit"] = 600
    tiny_config["training"].update(epochs=8, batch_size=32, patience=None, conflict_diagnostic=False)
    final = train(validate_config(tiny_config), RunDir(tmp_path / "run"), progress=False)
    records = RunDir(tmp_path / "run").read_metrics()
    first, last = records[0]["train_loss"], records[-1]["train_loss"]
    assert last["digit"] < 0.7 * first["digit"]
    assert final["test"]["digit"]["accuracy"] > 0.3  # chance is 0.1
    assert final["test"]["ge5"]["accuracy"] > 0.7  # chance is about 0.5


def test_run_directory_contents(tiny_config, tmp_path):
    run = RunDir(tmp_path / "run")
    final = train(validate_config(tiny_config), run, progress=False)
    assert run.is_complete()
    assert json.loads(run.final.read_text()) == json.loads(json.dumps(final))
    assert run.best_checkpoint.exists() and run.last_checkpoint.exists()
    records = run.read_metrics()
    assert [r["epoch"] for r in records] == [1, 2]
    assert set(records[0]["val"]) == {"digit", "parity", "ge5"}
    conflict = torch.tensor(records[0]["conflict"])
    assert conflict.shape == (3, 3) and torch.allclose(conflict.diagonal(), torch.ones(3), atol=1e-5)
    assert final["parameters"]["total"] == final["parameters"]["shared"] + sum(final["parameters"]["heads"].values())
    assert "lr: 0.05" in run.config.read_text()


def test_existing_run_is_not_overwritten(tiny_config, tmp_path):
    from qmtl.errors import UserError

    run = RunDir(tmp_path / "run")
    train(validate_config(tiny_config), run, progress=False)
    with pytest.raises(UserError, match="already holds a run .*--resume.*--force"):
        train(validate_config(tiny_config), run, progress=False)
    train(validate_config(tiny_config), run, progress=False, force=True)
    assert run.is_complete()


def test_resume_from_an_epoch_checkpoint_matches_an_uninterrupted_run(tiny_config, tmp_path):
    tiny_config["training"]["epochs"] = 3
    full = train(validate_config(tiny_config), RunDir(tmp_path / "full"), progress=False)

    tiny_config["training"]["checkpoint_every"] = 1
    run = RunDir(tmp_path / "cut")
    interrupted_run(tiny_config, run, at_step=6)  # 4 steps an epoch (240 rows / 64): mid-epoch 2
    assert not run.is_complete() and run.status()["state"] == "failed"
    resumed = Trainer(validate_config(tiny_config), run, progress=False).run(resume=True)
    assert _final_metrics(resumed) == _final_metrics(full)


def test_batch_order_is_seeded_per_epoch():
    assert torch.equal(batch_order(50, 0, 1), batch_order(50, 0, 1))
    assert not torch.equal(batch_order(50, 0, 1), batch_order(50, 0, 2))
    assert sorted(batch_order(50, 3, 1).tolist()) == list(range(50))
