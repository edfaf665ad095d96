r"""Cross-stitch networks between per-task circuits.

Misra, Shrivastava, Gupta, Hebert, "Cross-stitch Networks for Multi-task Learning",
CVPR 2016.  Every task *t* owns an encoder and a circuit cut into ``stages`` stages of
``layers_per_stage`` ansatz layers each (the configured ansatz; ``model.ansatz.layers`` is
not read).  Stage 1 encodes the task's angles :math:`a_t = E_t(x)`.  After every stage but
the last, each task's circuit is measured, :math:`f_{t,w} = \langle Z_w \rangle` on every
wire *w* whose next-stage angle can reach a measured value, and a *cross-stitch unit*
mixes the tasks' feature vectors linearly, feature by feature,

.. math:: \tilde f_{u,w} = \sum_{t=1}^{T} \alpha^{(w)}_{ut}\, f_{t,w},

with one learned :math:`T \times T` matrix per feature (``mixing: per_feature``, the
paper's units, one per channel; a wire's Z value is the circuit's channel) or one for all
features (``mixing: shared``, as LibMTL implements the unit).
The mixed features are re-encoded as the next stage's angles,
:math:`\theta_{u,w} = \tfrac{\pi}{2}(1 - \tilde f_{u,w})`: for the encoding rotation
:math:`R_Y` or :math:`R_X` on :math:`|0\rangle`, feature 1 prepares :math:`|0\rangle`, -1
prepares :math:`|1\rangle` and 0 the equator, so the next stage starts from a product state
whose Z values follow the mixed features monotonically (a one-to-one map on [-1, 1],
unlike :math:`\pi \tilde f`, which sends 1 and -1 to the same state).  The last stage
measures each task's Pauli words, read by its readout :math:`h_t`.

Initialisation, as the paper's :math:`(\alpha_s, \alpha_d)`: the diagonal of every
matrix is ``self_weight`` (:math:`\alpha_s`, default 0.9) and each off-diagonal entry
:math:`(1 - \alpha_s)/(T - 1)`, so every row sums to 1 (the paper's two-task
:math:`\alpha_s + \alpha_d = 1`; with one task the matrix is 1) and the mixed features
stay in [-1, 1].  ``self_weight:
1`` starts from the identity: the tasks' circuits are then separate models, and only the
gradient into the off-diagonal entries can couple them.

All tasks' circuits of one stage run in ONE broadcast execution
(:class:`~qmtl.architectures.stacked.StackedCircuits`), so a forward pass costs
``stages`` executions, one after the other, since each stage's input depends on the
previous stage's measurement.

Only effective parameters (:mod:`qmtl.lightcone`): the last stage of task *t* keeps the
angles that can change its words; stage *s* keeps those that can change the Z value of a
wire whose stage *s + 1* angle can change a measured value in some task (a cross-stitch
unit can carry any task's feature to any other), and feature *w* enters task *u*'s mixing
row only where task *u*'s angle on wire *w* is live; the encoders produce angles only for
the wires whose stage-1 angle is live (elsewhere the angle is 0).

Shared: the encoders, every stage but the last, and the cross-stitch matrices (each
task's loss depends on them through the mixing); task *t*: its last stage and readout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, cast

import pennylane as qml
import torch
from pydantic import Field
from torch import nn

from qmtl.ansatz import Ansatz, get_ansatz
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, build_readouts, observable_columns, variational_layers
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features
from qmtl.lightcone import expand, live_angles
from qmtl.model import MultiTaskModel, Readout
from qmtl.observables import canonical_word

NAME = "cross_stitch"


class CrossStitchOptions(ArchitectureOptions):
    """Options of ``cross_stitch``."""

    stages: int = Field(
        2, ge=2, le=MAX_COUNT,
        description="circuit stages per task, with a cross-stitch unit between consecutive stages")
    layers_per_stage: int = Field(1, ge=1, le=MAX_COUNT, description="ansatz layers of each stage")
    mixing: Literal["per_feature", "shared"] = Field(
        "per_feature", description="one T x T cross-stitch matrix per measured wire, or one for all wires")
    self_weight: float = Field(
        0.9, ge=0.0, le=1.0,
        description="initial diagonal of the cross-stitch matrices (alpha_s; off-diagonal (1 - alpha_s)/(T - 1); "
                    "1 = identity, separate models)")


def encoding_live(ansatz: Ansatz, layers: int, n_qubits: int, rotation: str, reupload: bool,
                  words: Sequence[str]) -> torch.Tensor:
    """Boolean ``(n_qubits,)``: which wires' input angles can change one of ``words`` through
    ``layers`` ansatz layers (the light-cone rule applied to the encoding rotations)."""
    wires = list(range(n_qubits))
    _, live = live_angles(
        lambda markers, masks: variational_layers(
            ansatz, markers[0], markers[1], wires, rotation, reupload, live=masks[0]),
        [ansatz.shape(layers, n_qubits), (n_qubits,)], [canonical_word(word) for word in words])
    return live


class CrossStitchUnit(nn.Module):
    """Learned linear mixing of the tasks' features: ``(T, batch, F)`` -> ``(T, batch, F)``.

    ``live`` is ``(F, T, T)`` (per feature) or ``(T, T)`` (shared): which entries exist; the
    matrix holds 0 elsewhere.  ``weights`` are the live entries, in the layout's order.
    """

    live: torch.Tensor

    def __init__(self, live: torch.Tensor, self_weight: float) -> None:
        super().__init__()
        n_tasks = live.shape[-1]
        off_diagonal = (1 - self_weight) / (n_tasks - 1) if n_tasks > 1 else 0.0
        initial = torch.full((n_tasks, n_tasks), off_diagonal)
        initial.fill_diagonal_(self_weight if n_tasks > 1 else 1.0)
        self.register_buffer("live", live, persistent=False)
        self.weights = nn.Parameter(initial.expand(live.shape)[live].clone())

    def matrix(self) -> torch.Tensor:
        """The cross-stitch matrix (or matrices), ``[..., u, t]`` = weight of task *t* in task *u*."""
        return expand(self.weights, self.live)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        matrix = self.matrix().to(features.dtype)
        if matrix.dim() == 3:
            return torch.einsum("fut,tbf->ubf", matrix, features)
        return torch.einsum("ut,tbf->ubf", matrix, features)


class CrossStitchModel(MultiTaskModel):
    """Per task: encoder -> stage 1 -> [cross-stitch -> re-encode -> stage s]... -> readout."""

    def __init__(self, encoders: dict[str, AngleEncoder], input_wires: Sequence[int],
                 stages: Sequence[StackedCircuits], units: Sequence[CrossStitchUnit],
                 feature_wires: Sequence[Sequence[int]], heads: dict[str, Readout],
                 columns: dict[str, list[int]]) -> None:
        super().__init__()
        self.task_names = list(heads)
        self.encoders = nn.ModuleDict(encoders)
        self.input_wires = list(input_wires)
        self.stages = nn.ModuleList(stages)
        self.units = nn.ModuleList(units)
        self.feature_wires = [list(wires) for wires in feature_wires]
        self.n_qubits = len(stages[0].wires)
        self.heads = nn.ModuleDict(heads)
        self.columns = columns

    def circuit_stages(self) -> list[StackedCircuits]:
        """The stages, typed as such: iterating an ``nn.ModuleList`` gives plain Modules."""
        return cast(list[StackedCircuits], list(self.stages))

    def cross_stitch_units(self) -> list[CrossStitchUnit]:
        """The cross-stitch units, in order, typed as such."""
        return cast(list[CrossStitchUnit], list(self.units))

    def _on_wires(self, angles: torch.Tensor, wires: Sequence[int]) -> torch.Tensor:
        """``(T, batch, len(wires))`` angles -> ``(T, batch, n_qubits)``; 0 on the other wires,
        whose angles no measured value depends on."""
        full = angles.new_zeros(*angles.shape[:-1], self.n_qubits)
        return full.index_copy(-1, torch.tensor(wires, device=angles.device), angles)

    def stage_features(self, features: Features) -> list[torch.Tensor]:
        """Per stage, every task's measured values ``(T, batch, n_values)``: the Z features
        before each cross-stitch unit, then the tasks' words after the last stage."""
        encoded = torch.stack([self.encoders[name](features) for name in self.task_names])
        angles = self._on_wires(encoded, self.input_wires)
        measured = []
        *first, last = self.circuit_stages()
        for stage, unit, wires in zip(first, self.cross_stitch_units(), self.feature_wires):
            values = stage(angles)
            measured.append(values)
            angles = self._on_wires((torch.pi / 2 * (1 - unit(values))).to(angles.dtype), wires)
        measured.append(last(angles))
        return measured

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        values = self.stage_features(features)[-1]
        return {name: self.heads[name](values[t][:, self.columns[name]])
                for t, name in enumerate(self.task_names)}

    def mixing_matrices(self) -> list[torch.Tensor]:
        """Per cross-stitch unit, its matrix (``(F, T, T)`` per feature or ``(T, T)``), detached."""
        return [unit.matrix().detach() for unit in self.cross_stitch_units()]

    def task_parameters(self) -> list[list[nn.Parameter]]:
        last = self.circuit_stages()[-1]
        return [[last.weights[t], *self.heads[name].parameters()] for t, name in enumerate(self.task_names)]


def build_cross_stitch(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> CrossStitchModel:
    model = config.model
    options = parse_options(NAME, CrossStitchOptions, model.options)
    n_qubits, layers = model.n_qubits, options.layers_per_stage
    ansatz = get_ansatz(model.ansatz.name)
    rotation, reupload = model.encoding.rotation, model.encoding.reupload
    words, columns = observable_columns(config.tasks)
    task_words = [[canonical_word(word) for word in task.observables] for task in config.tasks]

    def stage(observables: Sequence[str], read: Sequence[Sequence[str]] | None) -> StackedCircuits:
        return StackedCircuits(len(config.tasks), n_qubits, ansatz, layers, observables, device, diff_method,
                               rotation, reupload, read_words=read)

    # Built from the last stage back: a stage measures what the next stage's live angles need.
    stages = [stage(words, task_words)]
    needs = torch.stack([encoding_live(ansatz, layers, n_qubits, rotation, reupload, own) for own in task_words])
    units: list[CrossStitchUnit] = []
    feature_wires: list[list[int]] = []
    for _ in range(options.stages - 1):
        wires = [w for w in range(n_qubits) if needs[:, w].any()]
        rows = needs[:, wires].T  # (F, T): feature w feeds task u
        live = rows[:, :, None].expand(-1, -1, len(config.tasks))
        units.insert(0, CrossStitchUnit(live.clone() if options.mixing == "per_feature" else live.any(dim=0),
                                        options.self_weight))
        feature_wires.insert(0, wires)
        z_words = [f"Z{w}" for w in wires]
        stages.insert(0, stage(z_words, None))
        needs = encoding_live(ansatz, layers, n_qubits, rotation, reupload, z_words).expand(len(config.tasks), -1)
    # The first stage reads Z words only, so its live input wires are the same in every task.
    input_wires = [w for w in range(n_qubits) if needs[0, w]]
    encoders = {task.name: build_encoder(model, input_dims, len(input_wires)) for task in config.tasks}
    return CrossStitchModel(encoders, input_wires, stages, units, feature_wires, build_readouts(config.tasks),
                            columns)
