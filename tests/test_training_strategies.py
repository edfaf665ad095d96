"""Every registered weighting and aggregator trains the model by changing one config key."""

import pytest
import torch

from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.strategies import AGGREGATORS, WEIGHTINGS
from qmtl.training import train

OPTIONS = {"static": {"weights": [1.0, 0.5, 2.0]}}


def _tiny(tiny_config):
    tiny_config["data"]["limit"] = 120
    tiny_config["training"].update(epochs=1, batch_size=32, conflict_diagnostic=False)
    return tiny_config


@pytest.mark.parametrize("weighting", sorted(WEIGHTINGS))
def test_each_weighting_trains(tiny_config, tmp_path, weighting):
    raw = _tiny(tiny_config)
    raw["training"].update(weighting=weighting, weighting_options=OPTIONS.get(weighting, {}))
    final = train(validate_config(raw), RunDir(tmp_path / weighting), progress=False)
    assert all(torch.isfinite(torch.tensor(m["loss"])) for m in final["test"].values())


@pytest.mark.parametrize("aggregator", sorted(AGGREGATORS))
def test_each_aggregator_trains(tiny_config, tmp_path, aggregator):
    raw = _tiny(tiny_config)
    raw["training"]["aggregator"] = aggregator
    final = train(validate_config(raw), RunDir(tmp_path / aggregator), progress=False)
    assert all(torch.isfinite(torch.tensor(m["loss"])) for m in final["test"].values())
