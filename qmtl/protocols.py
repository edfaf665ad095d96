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

``isinstance(obj, Protocol)`` checks that the members exist (not their types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from torch import nn

if TYPE_CHECKING:
    from qmtl.circuit import SharedCircuit


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
