"""``data.options``: one option model per data set, strict types, one-line errors."""

from __future__ import annotations

import pytest

from qmtl.config import DataConfig
from qmtl.data import DATA_OPTIONS, DATASETS, load_raw
from qmtl.data.multidigits import load_multidigits
from qmtl.data.options import CommonDataOptions
from qmtl.data.synthetic_correlated import load_synthetic_correlated
from qmtl.errors import UserError
from qmtl.tasks import TaskConfig

TASKS = [TaskConfig(name="t0", kind="regression", observables=["Z0"])]


def test_every_data_set_has_an_option_model_and_every_option_model_a_data_set():
    assert set(DATA_OPTIONS) == set(DATASETS)


@pytest.mark.parametrize("dataset", sorted(DATA_OPTIONS))
def test_every_option_is_described(dataset):
    model = DATA_OPTIONS[dataset]
    assert model.__doc__, f"{model.__name__} needs a docstring (the reference shows it)"
    for name, field in {**model.model_fields, **CommonDataOptions.model_fields}.items():
        assert field.description, f"data.options.{name} of '{dataset}' has no description"


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_an_unknown_option_is_one_line_naming_the_data_set_and_the_valid_ones(dataset):
    with pytest.raises(UserError) as error:
        load_raw(DataConfig(name=dataset, options={"bogus": 1}), TASKS)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"data.options.bogus is not known to '{dataset}'")
    listed = message.rsplit("valid: ", 1)[1].split(", ")
    assert set(DATA_OPTIONS[dataset].model_fields) <= set(listed)


def test_a_misspelt_common_option_gets_a_suggestion():
    with pytest.raises(UserError, match="standardise_target is not known to 'digits' "
                                        r"\(did you mean 'standardise_targets'\?\); valid: modalities, standardise_targets"):
        load_raw(DataConfig(name="digits", options={"standardise_target": True}), TASKS)


@pytest.mark.parametrize(("dataset", "options", "message"), [
    ("digits", {"modalities": 1}, "data.options.modalities for data set 'digits' must be true or false, got 1"),
    ("multidigits", {"modalities": "yes"}, "data.options.modalities for data set 'multidigits' must be true or false"),
    ("multidigits", {"n_samples": 5}, "data.options.n_samples for data set 'multidigits' must be >= 10, got 5"),
    ("synthetic-correlated", {"n_samples": 100.0}, "data.options.n_samples for data set 'synthetic-correlated' must be "
                                                   "an integer, got 100.0"),
    ("synthetic-correlated", {"noise": -1}, "data.options.noise for data set 'synthetic-correlated' must be >= 0"),
    ("synthetic-correlated", {"correlation": 2}, "data.options.correlation for data set 'synthetic-correlated' must be "
                                                 "in [-1, 1], got 2"),
    ("quantum-teacher", {"kind": "multiclass"}, "data.options.kind for data set 'quantum-teacher' is 'multiclass'; "
                                                "choose one of binary, regression"),
    ("quantum-teacher", {"ansatz": "ring"}, "data.options.ansatz for data set 'quantum-teacher' is 'ring'; choose one "
                                            "of strongly_entangling, hardware_efficient"),
    ("quantum-teacher", {"n_qubits": 13}, "data.options.n_qubits for data set 'quantum-teacher' must be in [1, 12]"),
    ("csv", {"modalities": {}}, "data.options.modalities for data set 'csv' must not be empty, got {}"),
    ("csv", {"modalities": {"image": []}}, "data.options.modalities.image for data set 'csv' must not be empty"),
])
def test_a_bad_value_is_one_line_naming_the_option_and_the_data_set(dataset, options, message):
    with pytest.raises(UserError) as error:
        load_raw(DataConfig(name=dataset, options=options), TASKS)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_defaults_and_the_given_values_reach_the_loader():
    default = load_synthetic_correlated({"n_features": 4})
    assert sorted(default.targets) == ["t0", "t1"] and default.features.shape == (2000, 4)
    given = load_synthetic_correlated({"tasks": 3, "n_samples": 50, "n_features": 4})
    assert sorted(given.targets) == ["t0", "t1", "t2"] and given.features.shape == (50, 4)
    assert load_multidigits({}).features.shape == (1797, 128)  # one pair per bundled digit
    pairs = load_multidigits({"n_samples": 20, "modalities": True})
    assert set(pairs.features) == {"left", "right"} and pairs.features["left"].shape == (20, 64)
