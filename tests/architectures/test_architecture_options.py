import pytest

from qmtl.architectures import ARCHITECTURES
from qmtl.errors import UserError

VALID = {
    "ansatz_heads": "head_ansatz, head_layers",
    "basis_heads": "none",
    "qmoe": "expert_layers, expert_qubits, experts",
    "soft_sharing": "penalty, penalty_kind",
    "single_task": "none",
    "classical": "match_parameters, width",
    "cross_stitch": "layers_per_stage, mixing, self_weight, stages",
    "task_attention": "attend_over, attention, features",
}


@pytest.mark.parametrize("architecture", sorted(VALID))
def test_unknown_option_names_the_valid_ones(make_model, architecture):
    with pytest.raises(UserError) as error:
        make_model(architecture, {"bogus": 1})
    message = str(error.value)
    assert "\n" not in message
    assert f"unknown model.options key 'bogus' for architecture '{architecture}'" in message
    assert message.endswith(f"valid options: {VALID[architecture]}")


def test_every_new_architecture_is_registered():
    assert set(VALID) | {"hard_sharing"} == set(ARCHITECTURES)


def test_typo_gets_a_suggestion(make_model):
    with pytest.raises(UserError, match="'head_layer' .*did you mean 'head_layers'"):
        make_model("ansatz_heads", {"head_layer": 2})


@pytest.mark.parametrize(("architecture", "options"), [
    ("ansatz_heads", {"head_layers": 0}), ("qmoe", {"experts": 1.5}), ("soft_sharing", {"penalty": -1}),
    ("soft_sharing", {"penalty_kind": "cosine"}),
])
def test_bad_values(make_model, architecture, options):
    with pytest.raises(UserError, match=f"model.options.{next(iter(options))} "):
        make_model(architecture, options)


def test_unknown_head_ansatz(make_model):
    with pytest.raises(UserError, match="unknown ansatz 'hardware'"):
        make_model("ansatz_heads", {"head_ansatz": "hardware"})
