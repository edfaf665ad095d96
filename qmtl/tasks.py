"""Tasks: what each head predicts, how it is measured, and how it is scored.

A task is a small declarative record: its name, its kind (``binary``, ``multiclass`` or
``regression``), its output size, its loss weight and the observables its head reads from
the shared circuit.  Losses and metrics follow from the kind:

* ``binary`` — one logit, binary cross-entropy; accuracy and macro-F1.
* ``multiclass`` — ``classes`` logits, cross-entropy; accuracy and macro-F1.
* ``regression`` — ``outputs`` values, mean squared error; MSE, MAE and R².
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qmtl import metrics
from qmtl.observables import parse_pauli_word

TaskKind = Literal["binary", "multiclass", "regression"]


class TaskConfig(BaseModel):
    """One task of a multi-task model."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field(
        min_length=1, max_length=100, description="the task's name (a target column for csv/npz data)"
    )
    kind: TaskKind = Field(description="binary, multiclass or regression")
    classes: int | None = Field(default=None, ge=2, le=10_000, description="number of classes (multiclass)")
    outputs: int = Field(default=1, ge=1, le=10_000, description="output size (regression)")
    weight: float = Field(default=1.0, ge=0.0, description="scales the task's loss before the strategy sees it")
    observables: list[str] = Field(
        default_factory=list,
        description="Pauli words read by this task's head, e.g. 'Z0', 'Z0 Z1', 'X2'",
    )
    readout: Literal["affine", "none"] = Field(
        default="affine", description="affine map from expectation values to outputs"
    )

    @field_validator("observables")
    @classmethod
    def _parse_observables(cls, words: list[str]) -> list[str]:
        for word in words:
            parse_pauli_word(word)
        return words

    @model_validator(mode="after")
    def _check_kind(self) -> TaskConfig:
        if self.kind == "multiclass" and self.classes is None:
            raise ValueError(f"task '{self.name}': a multiclass task needs 'classes' (e.g. classes: 10)")
        if self.kind != "multiclass" and self.classes is not None:
            raise ValueError(f"task '{self.name}': 'classes' is only for multiclass tasks; remove it")
        if not self.observables:
            raise ValueError(
                f"task '{self.name}' has no observables; add e.g. observables: [Z0, Z1]"
            )
        if self.readout == "none" and len(self.observables) != self.output_size:
            raise ValueError(
                f"task '{self.name}': readout 'none' needs one observable per output "
                f"({self.output_size}), got {len(self.observables)}; use readout: affine"
            )
        return self

    @property
    def output_size(self) -> int:
        """Number of head outputs: logits for classification, values for regression."""
        if self.kind == "multiclass":
            assert self.classes is not None
            return self.classes
        if self.kind == "binary":
            return 1
        return self.outputs

    @property
    def higher_is_better(self) -> bool:
        """Direction of the task's primary metric."""
        return self.kind != "regression"

    @property
    def primary_metric(self) -> str:
        return "accuracy" if self.kind != "regression" else "mse"

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss of a batch: cross-entropy for classification, MSE for regression."""
        if self.kind == "multiclass":
            return torch.nn.functional.cross_entropy(output, target.long())
        if self.kind == "binary":
            return torch.nn.functional.binary_cross_entropy_with_logits(
                output.squeeze(-1), target.to(output.dtype)
            )
        return torch.nn.functional.mse_loss(output, target.to(output.dtype).reshape(output.shape))

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        """Class labels for classification, the outputs themselves for regression."""
        if self.kind == "multiclass":
            return output.argmax(dim=-1)
        if self.kind == "binary":
            return (output.squeeze(-1) > 0).long()
        return output

    def scores(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """All metrics of the task's kind on one split."""
        prediction = self.predict(output.detach())
        if self.kind == "regression":
            target = target.to(prediction.dtype).reshape(prediction.shape)
            return {
                "mse": metrics.mean_squared_error(prediction, target),
                "mae": metrics.mean_absolute_error(prediction, target),
                "r2": metrics.r2_score(prediction, target),
            }
        n_classes = self.classes if self.kind == "multiclass" else 2
        assert n_classes is not None
        return {
            "accuracy": metrics.accuracy(prediction, target),
            "macro_f1": metrics.macro_f1(prediction, target, n_classes),
        }
