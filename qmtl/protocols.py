"""What the code around a model or a device relies on, declared as runtime-checkable protocols.

Training, evaluation, drawing, export and hardware submission work with any
:class:`~qmtl.model.MultiTaskModel` and any PennyLane device; some of them need more:

* :class:`CircuitModel` -- a model whose encoder feeds one shared circuit (drawing);
* :class:`SharedCircuitModel` -- that, plus per-task heads reading the circuit's
  expectation-value columns (hardware submission and OpenQASM export run the circuit
  elsewhere and apply encoder and heads in torch);
* :class:`MeteredDevice` -- a device counting QPU seconds and Estimator calls, which a
  checkpoint carries across a resume (:class:`qmtl.devices.EstimatorDevice`);
* :class:`ClosableDevice` -- a device holding a Runtime ``Batch``/``Session`` to close.
* :class:`ReportsAttention` -- a model or one of its modules with learned attention weights
  (task attention, modality fusion), which the trainer records per epoch.

``isinstance(obj, Protocol)`` checks that the members exist (not their types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from torch import nn

if TYPE_CHECKING:
    from qmtl.circuit import SharedCircuit
    from qmtl.encoders import Features


@runtime_checkable
class CircuitModel(Protocol):
    """A model computing ``circuit(encoder(features))``: one shared circuit to draw."""

    encoder: nn.Module
    circuit: SharedCircuit


@runtime_checkable
class SharedCircuitModel(CircuitModel, Protocol):
    """A hard-sharing model: ``heads[task](circuit(encoder(x))[..., columns[task]])``."""

    heads: nn.ModuleDict
    columns: Mapping[str, list[int]]


@runtime_checkable
class MeteredDevice(Protocol):
    """A device whose QPU usage and primitive-call count a checkpoint saves and restores."""

    qpu_seconds: float
    primitive_calls: int


@runtime_checkable
class ClosableDevice(Protocol):
    """A device holding a resource (a Runtime ``Batch``/``Session``) until closed."""

    def close(self) -> None:
        """Release the resource; calling it again does no harm."""


#: Attention weights by map, row and column: ``{map: {row: {column: mean weight}}}``, e.g.
#: ``{"task_attention": {"t0": {"Z0": 0.7, "Z1": 0.3}}}``; a row is a task or ``"encoder"``.
AttentionMaps = dict[str, dict[str, dict[str, float]]]


@runtime_checkable
class ReportsAttention(Protocol):
    """A model, or a module of one, whose learned attention weights can be read out.

    The trainer calls it on every module of the model that has it, with the model's own
    input (a batch of the validation split), and records the merged maps per epoch in
    ``metrics.jsonl`` under ``"attention"``.
    """

    def attention_maps(self, features: Features) -> AttentionMaps:
        """Per map and row, each column's attention weight averaged over the batch ``features``."""
