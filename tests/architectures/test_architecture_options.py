"""``model.options``: one option model per architecture, strict types, one-line errors."""

import math
import typing

import pytest

from qmtl.ansatz import ANSATZE, AnsatzName
from qmtl.architectures import ARCHITECTURE_OPTIONS, ARCHITECTURES
from qmtl.architectures.soft_sharing import PENALTIES, PenaltyKind
from qmtl.errors import UserError


def test_every_architecture_has_an_option_model_and_every_option_model_an_architecture():
    assert set(ARCHITECTURE_OPTIONS) == set(ARCHITECTURES)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURE_OPTIONS))
def test_every_option_is_described(architecture):
    model = ARCHITECTURE_OPTIONS[architecture]
    assert model.__doc__, f"{model.__name__} needs a docstring (the reference shows it)"
    for name, field in model.model_fields.items():
        assert field.description, f"model.options.{name} of '{architecture}' has no description"


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_unknown_option_names_the_valid_ones(make_model, architecture):
    with pytest.raises(UserError) as error:
        make_model(architecture, {"bogus": 1})
    message = str(error.value)
    assert "\n" not in message
    assert f"unknown model.options key 'bogus' for architecture '{architecture}'" in message
    valid = ", ".join(sorted(ARCHITECTURE_OPTIONS[architecture].model_fields)) or "none"
    assert message.endswith(f"valid options: {valid}")


@pytest.mark.parametrize(("architecture", "valid"), [
    ("hard_sharing", "none"), ("basis_heads", "none"), ("single_task", "none"),
    ("ansatz_heads", "head_ansatz, head_layers"), ("soft_sharing", "penalty, penalty_kind"),
    ("classical", "match_parameters, width"), ("qmoe", "expert_layers, expert_qubits, experts"),
])
def test_the_documented_options_of_the_original_architectures(architecture, valid):
    assert (", ".join(sorted(ARCHITECTURE_OPTIONS[architecture].model_fields)) or "none") == valid


def test_typo_gets_a_suggestion(make_model):
    with pytest.raises(UserError, match="'head_layer' .*did you mean 'head_layers'"):
        make_model("ansatz_heads", {"head_layer": 2})


@pytest.mark.parametrize(("architecture", "options", "message"), [
    ("ansatz_heads", {"head_layers": 0}, "model.options.head_layers for architecture 'ansatz_heads' must be >= 1, got 0"),
    ("ansatz_heads", {"head_layers": True}, "model.options.head_layers for architecture 'ansatz_heads' must be an "
                                            "integer, got True"),
    ("ansatz_heads", {"head_layers": 2.0}, "must be an integer, got 2.0"),
    ("ansatz_heads", {"head_layers": 10**6}, "model.options.head_layers for architecture 'ansatz_heads' must be in "
                                             "[1, 4096]"),
    ("ansatz_heads", {"head_ansatz": "hardware"}, "model.options.head_ansatz for architecture 'ansatz_heads' is "
                                                  "'hardware'; choose one of strongly_entangling, hardware_efficient"),
    ("qmoe", {"experts": 1.5}, "model.options.experts for architecture 'qmoe' must be an integer, got 1.5"),
    ("soft_sharing", {"penalty": -1}, "model.options.penalty for architecture 'soft_sharing' must be >= 0, got -1"),
    ("soft_sharing", {"penalty": math.inf}, "'model.options.penalty' is inf"),  # refused by the config check
    ("soft_sharing", {"penalty": True}, "must be a number (finite, not a boolean), got True"),
    ("soft_sharing", {"penalty_kind": "cosine"}, "model.options.penalty_kind for architecture 'soft_sharing' is "
                                                 "'cosine'; choose one of circular, l2"),
    ("classical", {"match_parameters": "no"}, "model.options.match_parameters for architecture 'classical'"),
    ("classical", {"match_parameters": False, "width": 0}, "model.options.width for architecture 'classical' must "
                                                           "be >= 1, got 0"),
])
def test_bad_values_are_one_line_naming_the_option_and_the_architecture(make_model, architecture, options, message):
    with pytest.raises(UserError) as error:
        make_model(architecture, options)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_parsed_options_reach_the_model(make_model):
    default = make_model("soft_sharing")
    assert (default.penalty, default.penalty_kind) == (0.01, "circular")
    given = make_model("soft_sharing", {"penalty": 2, "penalty_kind": "l2"})
    assert (given.penalty, given.penalty_kind) == (2.0, "l2") and isinstance(given.penalty, float)
    narrow = make_model("classical", {"match_parameters": False, "width": 3})
    assert {head.in_features for head in narrow.heads.values()} == {3}


def test_head_blocks_grow_with_head_layers(make_model):
    def head_angles(model):
        return sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in model.shared_parameters())

    assert head_angles(make_model("ansatz_heads", {"head_layers": 2})) > head_angles(make_model("ansatz_heads"))


def test_choice_lists_match_the_registries_they_name():
    assert set(typing.get_args(AnsatzName)) == set(ANSATZE)
    assert set(typing.get_args(PenaltyKind)) == set(PENALTIES)
