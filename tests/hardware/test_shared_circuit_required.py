"""Hardware submission and circuit export need one shared circuit read by per-task heads:
every other architecture is refused in one line that names it (never a crash or wrong numbers)."""

import copy

import pytest
from tiny_configs import TINY

from qmtl.architectures import ARCHITECTURES
from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.errors import UserError
from qmtl.hardware.plan import shared_circuit_model
from qmtl.protocols import SharedCircuitModel
from qmtl.run import build_run

WITH_SHARED_CIRCUIT = {"hard_sharing"}


def _config(architecture: str) -> dict:
    raw = copy.deepcopy(TINY)
    raw["model"]["architecture"] = architecture
    raw["data"]["limit"] = 60
    raw["training"].update(epochs=1, conflict_diagnostic=False)
    return raw


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_only_a_shared_circuit_model_is_accepted(architecture):
    with build_run(validate_config(_config(architecture))) as run:
        if architecture in WITH_SHARED_CIRCUIT:
            assert isinstance(shared_circuit_model(run.model, architecture), SharedCircuitModel)
            return
        with pytest.raises(UserError) as error:
            shared_circuit_model(run.model, architecture)
    message = str(error.value)
    assert "\n" not in message and f"architecture '{architecture}'" in message and "qmtl eval" in message


@pytest.mark.parametrize("command", [["circuits", "export", "RUN"], ["submit", "RUN", "--backend", "fake_manila", "--dry-run"]])
def test_the_cli_refuses_an_attention_run_in_one_line(command, write_config, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(write_config(_config("task_attention"))), "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main([str(run) if word == "RUN" else word for word in command]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "architecture 'task_attention'" in error
