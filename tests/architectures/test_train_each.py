"""Every registered architecture trains from the CLI's code path by changing one key."""

import math

import pytest
import torch

from qmtl.architectures import ARCHITECTURES
from qmtl.config import validate_config
from qmtl.errors import UserError
from qmtl.rundir import RunDir
from qmtl.training import Trainer, train


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_trains_one_epoch(tiny_config, tmp_path, architecture):
    tiny_config["model"]["architecture"] = architecture
    tiny_config["training"]["epochs"] = 1
    config = validate_config(tiny_config)
    final = train(config, RunDir(tmp_path / "run"), progress=False)
    assert final["epochs_run"] == 1
    for task in config.tasks:
        assert math.isfinite(final["test"][task.name]["loss"])
    assert final["parameters"]["total"] > 0


def _circular_distances(model) -> float:
    angles, live = [w.detach() for w in model.circuits.full_weights()], model.circuits.live
    return sum(float((1 - torch.cos(angles[s] - angles[t])[live[s] & live[t]]).sum())
               for s in range(len(angles)) for t in range(s + 1, len(angles)))


def test_trainer_applies_the_soft_sharing_penalty(tiny_config, tmp_path):
    """Same seed and batches: with the penalty the circuits end closer than without."""
    tiny_config["model"]["architecture"] = "soft_sharing"
    tiny_config["training"]["epochs"] = 1
    distances = {}
    for penalty in (0.0, 1.0):
        tiny_config["model"]["options"] = {"penalty": penalty}
        trainer = Trainer(validate_config(tiny_config), RunDir(tmp_path / f"run{penalty}"), progress=False)
        initial = _circular_distances(trainer.model)
        trainer.run()
        distances[penalty] = _circular_distances(trainer.model)
    assert distances[1.0] < 0.9 * distances[0.0] and distances[1.0] < 0.9 * initial


def test_aggregators_need_shared_parameters(tiny_config, tmp_path):
    tiny_config["model"]["architecture"] = "single_task"
    tiny_config["training"]["aggregator"] = "upgrad"
    with pytest.raises(UserError, match="shares none; use a weighting"):
        Trainer(validate_config(tiny_config), RunDir(tmp_path / "run"), progress=False)
