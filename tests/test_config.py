import pytest

from qmtl.config import apply_override, load_config, validate_config
from qmtl.errors import UserError


def test_defaults_are_filled_in(tiny_config):
    config = validate_config(tiny_config)
    assert config.device.name == "default.qubit"
    assert config.training.weighting == "equal"
    assert config.model.encoding.rotation == "Y"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c["training"].update(epoch=3), "unknown config key 'training.epoch' (did you mean 'epochs'?)"),
        (lambda c: c.update(trainig={}), "unknown config key 'trainig' (did you mean 'training'?)"),
        (lambda c: c["training"].update(epochs="many"), "config key 'training.epochs' = 'many'"),
        (lambda c: c["tasks"][0].update(observables=[]), "task 'digit' has no observables"),
        (lambda c: c["tasks"][1].update(observables=["Z7"]), "measures wire 7 in 'Z7' but the circuit has 4 qubits"),
        (lambda c: c["tasks"].append(dict(c["tasks"][1])), "'parity' appears twice"),
        (lambda c: c.pop("tasks"), "config key 'tasks' is required"),
    ],
)
def test_mistakes_become_one_line_errors(tiny_config, mutate, message):
    mutate(tiny_config)
    with pytest.raises(UserError) as error:
        validate_config(tiny_config)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_overrides_parse_yaml_values(tiny_config):
    apply_override(tiny_config, "training.lr=0.5")
    apply_override(tiny_config, "model.encoder.hidden=[8, 8]")
    apply_override(tiny_config, "tasks.0.weight=2")
    config = validate_config(tiny_config)
    assert config.training.lr == 0.5
    assert config.model.encoder.hidden == [8, 8]
    assert config.tasks[0].weight == 2.0
    with pytest.raises(UserError, match="not key=value"):
        apply_override(tiny_config, "training.lr")


def test_file_problems(tmp_path, write_config):
    with pytest.raises(UserError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(UserError, match="is empty"):
        load_config(empty)


def test_hardware_runs_checkpoint_every_step(tiny_config):
    tiny_config["device"] = {"name": "ibm:ibm_torino"}
    assert validate_config(tiny_config).training.checkpoint_every == 1
    tiny_config["training"]["checkpoint_every"] = 5
    assert validate_config(tiny_config).training.checkpoint_every == 5
