"""Bad ``training.torch_device`` / ``training.max_state_memory`` / GPU-device inputs: exit 2, one
line naming the problem and the fix, nothing written (the conventions of test_bad_inputs_config.py).

Cases about a GPU this machine lacks are skipped where it has one; tests/test_torch_device.py
covers the machines that do."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from folder_state import folder_state
from tiny_configs import TINY, finished_tiny_run

from qmtl.cli import main

Case = Callable[[Path], list[str]]
NO_CUDA = not torch.cuda.is_available()
NO_LIGHTNING_GPU = not entry_points(group="pennylane.plugins", name="lightning.gpu")


def train(section: str, **values: Any) -> Case:
    """``qmtl train`` of TINY with ``values`` set in ``section``."""
    def build(folder: Path) -> list[str]:
        raw = copy.deepcopy(TINY)
        raw.setdefault(section, {}).update(values)
        (folder / "config.yaml").write_text(yaml.safe_dump(raw))
        return ["train", str(folder / "config.yaml"), "--out", str(folder / "run")]
    return build


def evaluate(*assignments: str) -> Case:
    """``qmtl eval`` of a finished tiny run with ``--set`` assignments."""
    def build(folder: Path) -> list[str]:
        run = finished_tiny_run(folder)
        return ["eval", str(run), *(word for assignment in assignments for word in ("--set", assignment))]
    return build


NEEDS_NO_CUDA = pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
CASES = [
    pytest.param(train("training", torch_device="gpu"), "training.torch_device", id="unknown torch device"),
    pytest.param(train("training", torch_device="CUDA"), "auto, cpu, cuda or cuda:N", id="torch device in capitals"),
    pytest.param(train("training", torch_device="cuda:-1"), "training.torch_device", id="negative GPU index"),
    pytest.param(train("training", torch_device=0), "training.torch_device", id="torch device a number"),
    pytest.param(train("training", torch_device="cuda"), "training.torch_device", id="cuda without CUDA",
                 marks=NEEDS_NO_CUDA),
    pytest.param(train("training", torch_device="cuda:7"), "cuda:7", id="cuda:7 with fewer GPUs",
                 marks=pytest.mark.skipif(torch.cuda.device_count() > 7, reason="this machine has 8 GPUs")),
    pytest.param(train("training", max_state_memory="lots"), "training.max_state_memory", id="budget not a size"),
    pytest.param(train("training", max_state_memory="4 GiBs"), "e.g. 4GiB", id="budget unknown unit"),
    pytest.param(train("training", max_state_memory=0), "training.max_state_memory", id="budget zero"),
    pytest.param(train("training", max_state_memory="-2GiB"), "training.max_state_memory", id="budget negative"),
    pytest.param(train("training", max_state_memory=1.5), "training.max_state_memory", id="budget a float"),
    pytest.param(train("training", max_state_memory="1KiB"), "at least", id="budget below one example"),
    pytest.param(train("device", name="lightning.gpu"), "pip install 'pennylane-lightning-gpu",
                 id="lightning.gpu not installed",
                 marks=pytest.mark.skipif(not NO_LIGHTNING_GPU, reason="pennylane-lightning-gpu is installed")),
    pytest.param(evaluate("training.torch_device=cuda"), "training.torch_device", id="eval on cuda without CUDA",
                 marks=NEEDS_NO_CUDA),
    pytest.param(evaluate("training.max_state_memory=1KiB"), "training.max_state_memory",
                 id="eval budget below one example"),
    pytest.param(evaluate("training.lr=0.5"), "training.torch_device", id="eval changes a training key"),
]


@pytest.mark.parametrize(("build", "expected"), CASES)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(build: Case, expected: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    argv = build(tmp_path)
    before = folder_state(tmp_path)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err + out
    assert folder_state(tmp_path) == before
