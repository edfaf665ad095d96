"""Extraction networks of shared and task-specific quantum experts (the CGC unit), stacked.

One *extraction level* holds ``n_shared`` shared experts and ``n_task`` experts per task,
all variational circuits run in ONE broadcast execution
(:class:`~qmtl.architectures.stacked.StackedCircuits`), each on its own input angles.
Task *t*'s softmax gate mixes the shared experts and *its own* experts; an optional shared
gate mixes every expert of the level.  :class:`ExtractionModel` chains levels: a level's
mixed expectation values, times ``model.encoding.scale``, are the next level's angles.
:mod:`qmtl.architectures.cgc` is one level, :mod:`qmtl.architectures.ple` several; their
docstrings give the maths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, cast

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures.parts import build_encoder, build_readouts, observable_columns
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel, Readout
from qmtl.observables import word_wires
from qmtl.protocols import AttentionMaps


class SoftmaxGate(nn.Module):
    """``softmax(W x + b)`` over ``n_choices``; the constant 1 for a single choice (a softmax
    of one logit is 1 whatever its weights, so they would be parameters without a gradient)."""

    def __init__(self, n_inputs: int, n_choices: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_choices) if n_choices > 1 else None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, n_inputs)`` -> ``(batch, n_choices)``, rows on the probability simplex."""
        if self.linear is None:
            return inputs.new_ones(inputs.shape[0], 1)
        return torch.softmax(self.linear(inputs), dim=-1)


class LevelOutput(NamedTuple):
    """What one level computes: per task its mixed values and gate, and the shared ones
    (``None`` without a shared gate)."""

    tasks: dict[str, torch.Tensor]
    task_gates: dict[str, torch.Tensor]
    shared: torch.Tensor | None
    shared_gate: torch.Tensor | None


class ExtractionLevel(nn.Module):
    """Shared experts, then ``n_task`` experts per task in ``task_names`` order, in one stack."""

    def __init__(self, experts: StackedCircuits, n_shared: int, n_task: int, task_names: Sequence[str],
                 shared_gate: bool) -> None:
        super().__init__()
        self.experts = experts
        self.n_shared, self.n_task = n_shared, n_task
        self.task_names = list(task_names)
        n_angles = len(experts.wires)
        self.task_gates = nn.ModuleDict({name: SoftmaxGate(n_angles, n_shared + n_task) for name in self.task_names})
        self.shared_gate = SoftmaxGate(n_angles, len(experts.weights)) if shared_gate else None

    def own_experts(self, task: int) -> list[int]:
        """Stack positions of task ``task``'s specific experts."""
        start = self.n_shared + task * self.n_task
        return list(range(start, start + self.n_task))

    def gated_experts(self, task: int) -> list[int]:
        """Stack positions task ``task``'s gate mixes: the shared experts, then its own."""
        return [*range(self.n_shared), *self.own_experts(task)]

    def task_gate_labels(self) -> list[str]:
        """Names of the experts a task's gate mixes, in gate order (``own``: the task's)."""
        return [f"shared{e}" for e in range(self.n_shared)] + [f"own{e}" for e in range(self.n_task)]

    def shared_gate_labels(self) -> list[str]:
        """Names of the experts the shared gate mixes, in stack order."""
        return [f"shared{e}" for e in range(self.n_shared)] + [
            f"{name}.own{e}" for name in self.task_names for e in range(self.n_task)]

    def forward(self, task_inputs: Mapping[str, torch.Tensor], shared_input: torch.Tensor) -> LevelOutput:
        """Each expert sees its owner's angles (shared experts ``shared_input``); ONE execution."""
        angles = torch.stack([shared_input] * self.n_shared
                             + [task_inputs[name] for name in self.task_names for _ in range(self.n_task)])
        values = self.experts(angles)  # (experts, batch, words)
        mixed, gates = {}, {}
        for index, name in enumerate(self.task_names):
            gates[name] = self.task_gates[name](task_inputs[name])
            mixed[name] = torch.einsum("be,ebw->bw", gates[name], values[self.gated_experts(index)])
        if self.shared_gate is None:
            return LevelOutput(mixed, gates, None, None)
        shared_gate = self.shared_gate(shared_input)
        return LevelOutput(mixed, gates, torch.einsum("be,ebw->bw", shared_gate, values), shared_gate)


class ExtractionModel(MultiTaskModel):
    """Encoder -> extraction levels (one execution each) -> per-task readout of the last level.

    Level 1's experts and gates take the encoder's angles; level *l + 1*'s task-*t* experts
    and gate take ``scale`` times level *l*'s task-*t* mixture, its shared experts and
    shared gate ``scale`` times level *l*'s shared mixture.
    """

    def __init__(self, encoder: AngleEncoder, levels: Sequence[ExtractionLevel], heads: dict[str, Readout],
                 columns: dict[str, list[int]], scale: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.levels = nn.ModuleList(levels)
        self.task_names = list(heads)
        self.heads = nn.ModuleDict(heads)
        self.columns = columns
        self.scale = scale

    def extraction_levels(self) -> list[ExtractionLevel]:
        """The levels, typed as such: iterating an ``nn.ModuleList`` gives plain Modules."""
        return cast(list[ExtractionLevel], list(self.levels))

    def level_outputs(self, features: Features) -> list[LevelOutput]:
        """Every level's mixtures and gates for a batch, first level first."""
        angles = self.encoder(features)
        task_inputs, shared_input = dict.fromkeys(self.task_names, angles), angles
        outputs: list[LevelOutput] = []
        for level in self.extraction_levels():
            output = level(task_inputs, shared_input)
            outputs.append(output)
            task_inputs = {name: self.scale * values for name, values in output.tasks.items()}
            if output.shared is not None:
                shared_input = self.scale * output.shared
        return outputs

    def gate_weights(self, features: Features) -> dict[str, torch.Tensor]:
        """Per task, the last level's ``(batch, shared + own experts)`` gate (rows sum to 1)."""
        return self.level_outputs(features)[-1].task_gates

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        last = self.level_outputs(features)[-1]
        return {name: self.heads[name](last.tasks[name][..., self.columns[name]]) for name in self.task_names}

    def task_parameters(self) -> list[list[nn.Parameter]]:
        """Task *t*'s own: its readout, its gate and experts of the last level, and its gate
        of the level before (which feeds only its own last-level experts and gate).  Its
        experts of earlier levels, and its gates before that, reach every task through the
        shared gates, so they are shared parameters."""
        levels = self.extraction_levels()
        last = levels[-1]
        groups = []
        for index, name in enumerate(self.task_names):
            params = [*self.heads[name].parameters(), *last.task_gates[name].parameters(),
                      *(last.experts.weights[e] for e in last.own_experts(index))]
            if len(levels) > 1:
                params += list(levels[-2].task_gates[name].parameters())
            groups.append(params)
        return groups

    def attention_maps(self, features: Features) -> AttentionMaps:
        """Each gate's mean weight per expert over the batch: ``expert_gates`` (per task) for
        the top level, ``expert_gates_level<j>`` for each level *j* below it, and
        ``shared_expert_gates`` (per level ``level<j>``) for the shared gates."""
        with torch.no_grad():
            outputs = self.level_outputs(features)
        maps: AttentionMaps = {}
        shared: dict[str, dict[str, float]] = {}
        for number, (level, output) in enumerate(zip(self.extraction_levels(), outputs), start=1):
            top = number == len(outputs)
            maps["expert_gates" if top else f"expert_gates_level{number}"] = {
                name: dict(zip(level.task_gate_labels(), output.task_gates[name].mean(dim=0).tolist()))
                for name in self.task_names}
            if output.shared_gate is not None:
                shared[f"level{number}"] = dict(zip(level.shared_gate_labels(), output.shared_gate.mean(dim=0).tolist()))
        if shared:
            maps["shared_expert_gates"] = shared
        return maps


def expert_width(config: RunConfig, expert_qubits: int | None, words: Sequence[str]) -> int:
    """``expert_qubits`` (default ``model.n_qubits``), checked to cover every measured wire."""
    n_qubits = config.model.n_qubits if expert_qubits is None else expert_qubits
    widest = max(w for word in words for w in word_wires(word))
    if not widest < n_qubits <= config.model.n_qubits:
        raise UserError(
            f"model.options.expert_qubits = {n_qubits} must be between {widest + 1} (the tasks measure "
            f"wire {widest}) and model.n_qubits = {config.model.n_qubits}"
        )
    return n_qubits


def build_extraction(config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device,
                     diff_method: str, levels: int, n_shared: int, n_task: int, expert_layers: int,
                     expert_qubits: int | None) -> ExtractionModel:
    """``levels`` extraction levels; levels before the last carry a shared gate and measure
    ``Z`` on every expert wire (one value per angle of the next level), the last measures the
    tasks' words, each task's own experts keeping only the angles that reach its words."""
    model = config.model
    words, columns = observable_columns(config.tasks)
    n_qubits = expert_width(config, expert_qubits, words)
    task_names = [task.name for task in config.tasks]
    ansatz = get_ansatz(model.ansatz.name)
    wire_words = [f"Z{wire}" for wire in range(n_qubits)]
    task_words = {task.name: [words[c] for c in columns[task.name]] for task in config.tasks}
    stack = []
    for number in range(1, levels + 1):
        last = number == levels
        read = None if not last else [words] * n_shared + [task_words[name] for name in task_names
                                                           for _ in range(n_task)]
        experts = StackedCircuits(
            n_shared + n_task * len(task_names), n_qubits, ansatz, expert_layers, words if last else wire_words,
            device, diff_method, model.encoding.rotation, model.encoding.reupload, read_words=read,
        )
        stack.append(ExtractionLevel(experts, n_shared, n_task, task_names, shared_gate=not last))
    encoder = build_encoder(model, input_dims, n_qubits)
    return ExtractionModel(encoder, stack, build_readouts(config.tasks), columns, model.encoding.scale)
