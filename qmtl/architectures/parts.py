"""Pieces every architecture assembles: encoders, readouts, observable columns, gates.

The circuit pieces queue the same gates as :class:`qmtl.circuit.SharedCircuit` (one
encoding rotation per wire, re-uploaded before every layer when asked, then the ansatz's
layers), so architectures built from them are directly comparable with hard sharing.
Every weight tensor may carry leading broadcast dimensions: ``weights[..., layer, wire, k]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pennylane as qml
import torch

from qmtl.ansatz import Ansatz
from qmtl.config import ModelConfig
from qmtl.encoders import AngleEncoder, make_angle_encoder
from qmtl.model import Readout
from qmtl.observables import canonical_word
from qmtl.tasks import TaskConfig

ROTATIONS = {"X": qml.RX, "Y": qml.RY, "Z": qml.RZ}


def observable_columns(tasks: Sequence[TaskConfig]) -> tuple[list[str], dict[str, list[int]]]:
    """The union of the tasks' Pauli words (canonical, first-seen order) and, per task, the
    columns of its own words in that union."""
    words: list[str] = []
    columns: dict[str, list[int]] = {}
    for task in tasks:
        own = [canonical_word(word) for word in task.observables]
        words += [word for word in dict.fromkeys(own) if word not in words]
        columns[task.name] = [words.index(word) for word in own]
    return words, columns


def build_encoder(model: ModelConfig, input_dims: int | Mapping[str, int], n_angles: int) -> AngleEncoder:
    """The configured classical encoder, producing ``n_angles`` bounded angles."""
    return make_angle_encoder(input_dims, n_angles, model.encoder, model.encoding.scale)


def build_readouts(tasks: Sequence[TaskConfig]) -> dict[str, Readout]:
    """Per task, the affine map (or identity) from its expectation values to its outputs."""
    return {
        task.name: Readout(len(task.observables), task.output_size, task.readout == "affine")
        for task in tasks
    }


def encode(rotation: str, angles: torch.Tensor, wires: Sequence[int]) -> None:
    """One rotation per wire by the matching angle column."""
    gate = ROTATIONS[rotation]
    for index, wire in enumerate(wires):
        gate(angles[..., index], wires=wire)


def variational_layers(
    ansatz: Ansatz, weights: torch.Tensor, angles: torch.Tensor, wires: Sequence[int],
    rotation: str, reupload: bool, first_layer: int = 0, live: torch.Tensor | None = None,
) -> None:
    """``weights.shape[-3]`` ansatz layers numbered from ``first_layer``; the angles are
    encoded before the circuit's first layer and, with ``reupload``, before every layer.
    ``live`` (shape ``weights.shape[-3:]``, default all) says which rotations to queue."""
    for offset in range(weights.shape[-3]):
        layer = first_layer + offset
        if layer == 0 or reupload:
            encode(rotation, angles, wires)
        ansatz.apply_layer(weights[..., offset, :, :], wires, layer, None if live is None else live[offset])


def uniform_angles(*shape: int) -> torch.Tensor:
    """Uniform in [0, 2π): the rotation period, as :class:`SharedCircuit` initialises."""
    return 2 * torch.pi * torch.rand(shape)
