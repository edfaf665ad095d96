import pytest
import torch
from pydantic import ValidationError

from qmtl.tasks import TaskConfig


def test_output_sizes_and_directions():
    assert TaskConfig(name="d", kind="multiclass", classes=10, observables=["Z0"]).output_size == 10
    assert TaskConfig(name="b", kind="binary", observables=["Z0"]).output_size == 1
    regression = TaskConfig(name="r", kind="regression", outputs=3, observables=["Z0"])
    assert regression.output_size == 3 and not regression.higher_is_better


def test_binary_loss_is_bce_on_one_logit():
    task = TaskConfig(name="b", kind="binary", observables=["Z0"])
    logits, target = torch.tensor([[2.0], [-1.0]]), torch.tensor([1, 0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))
    assert task.loss(logits, target) == pytest.approx(float(expected))
    assert task.scores(logits, target)["accuracy"] == 1.0


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "multiclass"}, "needs 'classes'"),
        ({"kind": "binary", "classes": 3}, "only for multiclass"),
        ({"kind": "binary", "observables": []}, "has no observables"),
        ({"kind": "binary", "observables": ["Q1"]}, "bad Pauli factor"),
        ({"kind": "regression", "outputs": 2, "readout": "none"}, "one observable per output"),
    ],
)
def test_invalid_tasks_name_the_problem(fields, message):
    with pytest.raises(ValidationError, match=message):
        TaskConfig(**{"name": "t", "observables": ["Z0"], **fields})
