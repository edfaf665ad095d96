"""Bad values of the options issue 12 added end with exit code 2 and one line naming them,
before anything is written."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from tiny_configs import TINY

from qmtl.cli import main

CASES = {
    "soft-sharing penalty kind": ({"model": {"architecture": "soft_sharing", "options": {"penalty_kind": "cos"}}},
                                  "penalty_kind for architecture 'soft_sharing' is 'cos'"),
    "negative soft-sharing penalty": ({"model": {"architecture": "soft_sharing", "options": {"penalty": -0.1}}},
                                      "model.options.penalty"),
    "uncertainty form": ({"training": {"weighting": "uncertainty", "weighting_options": {"form": "half"}}},
                         "uncertainty option 'form'"),
    "famo clipping norm": ({"training": {"weighting": "famo", "weighting_options": {"max_grad_norm": -1.0}}},
                           "famo option 'max_grad_norm'"),
    "gradnorm initial loss": ({"training": {"weighting": "gradnorm",
                                            "weighting_options": {"initial_loss": "epoch_mean"}}},
                              "gradnorm option 'initial_loss'"),
}


def _merge(base: dict, change: dict) -> dict:
    for key, value in change.items():
        base[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


@pytest.mark.parametrize(("change", "words"), CASES.values(), ids=CASES.keys())
def test_bad_option_is_one_line_exit_2(tmp_path: Path, capsys, change: dict, words: str) -> None:
    raw = _merge(copy.deepcopy(TINY), change)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    code = main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("qmtl: error:") and words in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
