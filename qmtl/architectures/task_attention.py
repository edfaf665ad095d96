r"""Task attention over the shared circuit's measured features (MTAN, quantum form).

Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019 (MTAN):
one shared network, and per task a soft attention mask over the shared features, learned
end to end, so that each task selects what it needs from a common representation.  Here
the shared representation is one variational circuit (:class:`~qmtl.circuit.SharedCircuit`,
as in ``hard_sharing``), and its features are the expectation values of the Pauli words
it measures, all from ONE execution:

* ``features: task_words`` -- the union of the tasks' ``observables``;
* ``features: all_z`` -- those plus :math:`Z_w` on every wire;
* ``features: all_zz`` -- those plus :math:`Z_w Z_{w+1}` on neighbouring wires.

For an example *x* let :math:`f(x) \in [-1, 1]^K` be the ``K`` measured values.  Task *t*
attends over a subset :math:`D_t` of them (``attend_over``; default: all ``K``), of size
:math:`K_t`.  Its attention is computed per example from the shared features, as MTAN's
attention modules read the shared network's features:

.. math:: s_t(x) = W_t f(x) + b_t \in \mathbb{R}^{K_t}, \qquad
          a_t(x) = \begin{cases} \mathrm{softmax}(s_t(x)) & \texttt{attention: softmax} \\
                                 \sigma(s_t(x)) & \texttt{attention: mask} \end{cases}

and its head reads the attended features

.. math:: g_t(x) = c\, a_t(x) \odot f_{D_t}(x), \qquad y_t = h_t(g_t(x)),

with :math:`c = K_t` for ``softmax`` (so that a uniform distribution :math:`a_t = 1/K_t` is
the identity) and :math:`c = 1` for ``mask`` (MTAN's element-wise mask in (0, 1)), and
:math:`h_t` the task's readout (affine, or none).  ``softmax`` makes the features compete
for a fixed budget, so its weights read as "which observables task *t* uses"; ``mask``
gates each feature independently.  :math:`W_t, b_t` start at zero: every task starts
from uniform attention, where with :math:`D_t` = the task's own words the model *is*
``hard_sharing`` (same outputs for the same encoder, circuit and head weights).

Why the attention reads :math:`f(x)` and not the encoder's angles: the angles are a
classical function of the input alone, while :math:`f(x)` is what the shared circuit
produced for this example, so the selection depends on the shared representation, as in
MTAN.  Shared: encoder and circuit; task *t*: :math:`W_t, b_t` and :math:`h_t`, so one
task's loss sends no gradient into another task's attention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pennylane as qml
import torch
from pydantic import Field
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures.options import ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, observable_columns
from qmtl.circuit import SharedCircuit
from qmtl.config import RunConfig, clip
from qmtl.encoders import AngleEncoder, Features
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel, Readout
from qmtl.observables import canonical_word
from qmtl.protocols import AttentionMaps

NAME = "task_attention"
#: Name of the task-attention map in :meth:`TaskAttentionModel.attention_maps`.
TASK_MAP = "task_attention"

FeatureSet = Literal["task_words", "all_z", "all_zz"]
AttentionKind = Literal["softmax", "mask"]


class TaskAttentionOptions(ArchitectureOptions):
    """Options of ``task_attention``."""

    features: FeatureSet = Field(
        "task_words", description="what the shared circuit measures: the tasks' words, plus every Z (all_z), "
        "plus neighbouring ZZ (all_zz)")
    attention: AttentionKind = Field(
        "softmax", description="softmax: a distribution over the features; mask: an independent gate in (0, 1) each")
    attend_over: dict[str, list[str]] | None = Field(
        None, description="per task, the measured words its attention ranges over (default: all of them)")


def measured_words(tasks_words: Sequence[str], features: FeatureSet, n_qubits: int) -> list[str]:
    """The Pauli words the shared circuit measures: the tasks' words, then the extra ones."""
    extra: list[str] = []
    if features in ("all_z", "all_zz"):
        extra += [f"Z{wire}" for wire in range(n_qubits)]
    if features == "all_zz":
        extra += [f"Z{wire} Z{wire + 1}" for wire in range(n_qubits - 1)]
    return list(dict.fromkeys([*tasks_words, *extra]))


class TaskAttention(nn.Module):
    """One task's attention: measured features ``(batch, K)`` -> weights ``(batch, K_t)``."""

    def __init__(self, n_features: int, n_attended: int, kind: AttentionKind) -> None:
        super().__init__()
        self.kind = kind
        self.score = nn.Linear(n_features, n_attended)
        # Zero scores: uniform attention at the start (hard sharing, for a softmax over the own words).
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)
        self.scale = float(n_attended) if kind == "softmax" else 1.0

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        scores = self.score(features)
        return torch.softmax(scores, dim=-1) if self.kind == "softmax" else torch.sigmoid(scores)


class TaskAttentionModel(MultiTaskModel):
    """Encoder -> shared circuit (every feature, one execution) -> per-task attention -> head."""

    def __init__(self, encoder: AngleEncoder, circuit: SharedCircuit, attention: Mapping[str, TaskAttention],
                 heads: Mapping[str, Readout], domains: Mapping[str, list[int]]) -> None:
        super().__init__()
        self.encoder = encoder
        self.circuit = circuit
        self.attention = nn.ModuleDict(dict(attention))
        self.scales = {name: module.scale for name, module in attention.items()}
        self.heads = nn.ModuleDict(dict(heads))
        self.domains = dict(domains)
        self.task_names = list(heads)

    def _weights(self, values: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: self.attention[name](values) for name in self.task_names}

    def attention_weights(self, features: Features) -> dict[str, torch.Tensor]:
        """Per task, its ``(batch, K_t)`` attention over its words ``attended_words()[task]``."""
        return self._weights(self.circuit(self.encoder(features)))

    def attended_words(self) -> dict[str, list[str]]:
        """Per task, the measured words its attention ranges over, in weight order."""
        return {name: [self.circuit.observables[i] for i in self.domains[name]] for name in self.task_names}

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        values = self.circuit(self.encoder(features))
        outputs = {}
        for name, weights in self._weights(values).items():
            attended = self.scales[name] * weights * values[..., self.domains[name]]
            outputs[name] = self.heads[name](attended)
        return outputs

    @torch.no_grad()
    def attention_maps(self, features: Features) -> AttentionMaps:
        """``{"task_attention": {task: {word: mean weight over the batch}}}``."""
        words = self.attended_words()
        return {TASK_MAP: {name: {word: float(w) for word, w in zip(words[name], weights.mean(dim=0))}
                           for name, weights in self.attention_weights(features).items()}}

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [[*self.attention[name].parameters(), *self.heads[name].parameters()] for name in self.task_names]


def _domains(options: TaskAttentionOptions, words: list[str], task_names: list[str]) -> dict[str, list[int]]:
    """Per task, the columns of ``words`` its attention ranges over; a word the circuit does
    not measure, an unknown task or an empty or repeated list is a :class:`UserError`."""
    given = options.attend_over or {}
    for name in given:
        if name not in task_names:
            raise UserError(f"model.options.attend_over names task '{clip(name)}', which the config does not "
                            f"have; tasks: {', '.join(task_names)}")
    domains = {}
    for name in task_names:
        if name not in given:
            domains[name] = list(range(len(words)))
            continue
        where = f"model.options.attend_over.{name}"
        if not given[name]:
            raise UserError(f"{where} is empty; list at least one measured word, e.g. [{words[0]}]")
        columns = []
        for word in given[name]:
            try:
                canonical = canonical_word(word)
            except ValueError as error:
                raise UserError(f"{where}: {error}") from None
            if canonical not in words:
                raise UserError(
                    f"{where} lists '{clip(word)}', which the shared circuit does not measure, so task '{name}' "
                    f"cannot read it (features: {options.features} measures {', '.join(words)}); add it to a "
                    f"task's observables or choose features: all_z or all_zz"
                )
            if words.index(canonical) in columns:
                raise UserError(f"{where} lists '{canonical}' twice; list each word once")
            columns.append(words.index(canonical))
        domains[name] = columns
    return domains


def build_task_attention(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> TaskAttentionModel:
    model = config.model
    options = parse_options(NAME, TaskAttentionOptions, model.options)
    task_words, _ = observable_columns(config.tasks)
    words = measured_words(task_words, options.features, model.n_qubits)
    domains = _domains(options, words, [task.name for task in config.tasks])
    for task in config.tasks:
        size = len(domains[task.name])
        if options.attention == "softmax" and size == 1:
            raise UserError(
                f"task '{task.name}' attends over one word only, and a softmax over one value is always 1; "
                f"give it more words (model.options.attend_over or features: all_z) or use attention: mask"
            )
        if task.readout == "none" and size != task.output_size:
            raise UserError(
                f"task '{task.name}': readout 'none' outputs the attended features, {size} of them, but the task "
                f"has {task.output_size} output(s); use readout: affine or attend over {task.output_size} word(s)"
            )
    # Built in hard_sharing's order (encoder, circuit, heads), so one seed initialises both alike.
    encoder = build_encoder(model, input_dims, model.n_qubits)
    circuit = SharedCircuit(
        model.n_qubits, get_ansatz(model.ansatz.name), model.ansatz.layers, words, device, diff_method,
        model.encoding.rotation, model.encoding.reupload,
    )
    heads = {task.name: Readout(len(domains[task.name]), task.output_size, task.readout == "affine")
             for task in config.tasks}
    attention = {task.name: TaskAttention(len(words), len(domains[task.name]), options.attention)
                 for task in config.tasks}
    return TaskAttentionModel(encoder, circuit, attention, heads, domains)
