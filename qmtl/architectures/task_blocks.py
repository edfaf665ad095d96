"""A shared circuit prefix followed by one small trainable block per task.

Task *t* measures its Pauli words on
:math:`|\\psi_t(x)\\rangle = B_t(\\phi_t)\\,U(\\theta)\\,S(x)\\,|0\\rangle`: the encoding
:math:`S(x)` and the shared layers :math:`U(\\theta)` are common to all tasks, the block
:math:`B_t` belongs to task *t* alone.

On ``default.qubit`` the prefix state :math:`U S |0\\rangle` is simulated ONCE per batch
(``qml.state()``, torch backprop).  All task blocks then run in ONE broadcast execution:
the batch of prefix states is repeated once per task (``qml.StatePrep``, rows
``t * batch + i``) and each row gets its own task's block angles, so an extra task adds
rows to one execution instead of another circuit.  Rows measure the union of the tasks'
words; each task keeps its own columns.  With backprop, both executions run as compiled
torch statevector programs (:mod:`qmtl.statevector`; the QNodes where a gate is not
supported).  Any other device gets one full circuit per task
(prefix + block, measuring that task's words), all in one ``qml.execute`` batch.

Only live angles are parameters (:mod:`qmtl.lightcone`): a block angle is live when it can
change its task's words, a prefix angle when it can change some task's words through that
task's block.  Gates whose angle is dead are not queued (a gate live in some tasks' blocks
is queued in the stacked execution, with angle 0, the identity, for the others).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import cast

import pennylane as qml
import torch
from torch import nn

from qmtl.ansatz import Ansatz
from qmtl.architectures.parts import uniform_angles, variational_layers
from qmtl.encoders import AngleEncoder, Features
from qmtl.lightcone import data_angles, expand, live_angles, refuse_other_layouts
from qmtl.model import MultiTaskModel, Readout
from qmtl.observables import canonical_word, parse_pauli_word, to_observable
from qmtl.statevector import (
    MAX_DIAGONAL_QUBITS,
    StatevectorProgram,
    compile_program,
    track_simulation,
    z_word_signs,
)

SIMULATOR = "default.qubit"


class TaskBlock(nn.Module, abc.ABC):
    """One task's block; every task's block of a model queues the same gate layout.

    The block's angles have the shape ``layout``; ``candidates`` (default: all) are those the
    block may train.  The circuit decides which candidates are live and calls
    :meth:`allocate`, which creates the parameter ``weights`` of the live angles only.
    """

    # Buffers, registered in __init__ and allocate; declared so that type checkers know them as tensors.
    candidates: torch.Tensor
    live: torch.Tensor

    def __init__(self, layout: Sequence[int], candidates: torch.Tensor | None = None) -> None:
        super().__init__()
        self.layout = tuple(layout)
        mask = torch.ones(self.layout, dtype=torch.bool) if candidates is None else candidates
        self.register_buffer("candidates", mask, persistent=False)

    @abc.abstractmethod
    def initial(self, n_angles: int) -> torch.Tensor:
        """Initial values of ``n_angles`` live angles."""

    @abc.abstractmethod
    def queue_gates(self, weights: torch.Tensor, angles: torch.Tensor, live: torch.Tensor) -> None:
        """Queue the block's gates whose ``live`` entry is set, for full-layout ``weights``
        (leading broadcast dimension allowed); ``angles`` are the encoded inputs, for blocks
        that re-upload them."""

    def allocate(self, live: torch.Tensor) -> None:
        """Keep the angles of ``live`` (shape ``layout``) as this block's parameter."""
        self.register_buffer("live", live, persistent=False)
        self.weights = nn.Parameter(self.initial(int(live.sum())))

    def angles(self) -> torch.Tensor:
        """This task's block angles in the layout shared by all tasks' blocks, 0 where dead."""
        return expand(self.weights, self.live)


class TaskBlockCircuit(nn.Module):
    """``forward(angles)`` -> per task, ``(batch, len(words_t))`` expectation values."""

    # Buffers, registered in __init__; declared so that type checkers know them as tensors.
    live: torch.Tensor
    block_queued: torch.Tensor
    signs: torch.Tensor | None

    def __init__(
        self, n_qubits: int, ansatz: Ansatz, layers: int, blocks: Sequence[TaskBlock],
        task_words: Sequence[Sequence[str]], device: qml.devices.Device, diff_method: str,
        rotation: str = "Y", reupload: bool = False, shared_prefix: bool | None = None,
    ) -> None:
        super().__init__()
        self.wires = list(range(n_qubits))
        self.ansatz = ansatz
        self.rotation = rotation
        self.reupload = reupload
        self.blocks = nn.ModuleList(blocks)
        self.task_words = [[canonical_word(word) for word in words] for words in task_words]
        shape = ansatz.shape(layers, n_qubits)
        prefix_live = torch.zeros(shape, dtype=torch.bool)
        block_live = []
        for block, words in zip(blocks, self.task_words):
            def queue(markers: list[torch.Tensor], masks: list[torch.Tensor], block: TaskBlock = block) -> None:
                data = data_angles(n_qubits)
                variational_layers(ansatz, markers[0], data, self.wires, rotation, reupload, live=masks[0])
                block.queue_gates(markers[1], data, masks[1])
            prefix, own = live_angles(queue, [shape, block.layout], words, [None, block.candidates])
            prefix_live |= prefix
            block_live.append(own)
        self.register_buffer("live", prefix_live, persistent=False)
        self.weights = nn.Parameter(uniform_angles(int(prefix_live.sum())))
        for block, own in zip(blocks, block_live):
            block.allocate(own)
        self.register_buffer("block_queued", torch.stack(block_live).any(dim=0), persistent=False)
        self.words = list(dict.fromkeys(word for words in self.task_words for word in words))
        self.columns = [[self.words.index(word) for word in words] for words in self.task_words]
        self.device = device
        self.diff_method = diff_method
        self.shared_prefix = device.name == SIMULATOR if shared_prefix is None else shared_prefix
        diagonal = n_qubits <= MAX_DIAGONAL_QUBITS and all(
            set(parse_pauli_word(word).values()) == {"Z"} for word in self.words
        )
        self.register_buffer(
            "signs", z_word_signs(self.words, n_qubits) if diagonal else None, persistent=False
        )
        self.prefix_state = qml.QNode(
            self._prefix_state, device, interface="torch", diff_method=diff_method
        )
        self.stacked_blocks = qml.QNode(
            self._stacked_blocks, device, interface="torch", diff_method=diff_method
        )
        programs = self._compile_programs() if self.shared_prefix and diff_method == "backprop" else None
        self.prefix_program: StatevectorProgram | None = programs[0] if programs else None
        self.blocks_program: StatevectorProgram | None = programs[1] if programs else None
        refuse_other_layouts(self)

    def _compile_programs(self) -> tuple[StatevectorProgram, StatevectorProgram] | None:
        """The prefix and the stacked blocks as torch statevector programs
        (:mod:`qmtl.statevector`), or None where a gate is not supported (the QNodes run)."""
        n, layout = len(self.wires), self._task_blocks()[0].layout
        prefix = compile_program(
            lambda inputs, weights: variational_layers(self.ansatz, expand(weights, self.live), inputs, self.wires,
                                                       self.rotation, self.reupload, live=self.live),
            n, n, int(self.live.sum()), [],
        )
        # Rows carry [encoded angles, the row's task block angles in the full layout].
        blocks = compile_program(
            lambda inputs, weights: self._task_blocks()[0].queue_gates(inputs[n:].reshape(layout), inputs[:n],
                                                                      self.block_queued),
            n, n + self.block_queued.numel(), 0, self.words, prepared=True,
        )
        return None if prefix is None or blocks is None else (prefix, blocks)

    def _task_blocks(self) -> list[TaskBlock]:
        """The blocks, typed as such: iterating an ``nn.ModuleList`` gives plain Modules."""
        return cast(list[TaskBlock], list(self.blocks))

    def _prefix(self, angles: torch.Tensor) -> None:
        variational_layers(self.ansatz, expand(self.weights, self.live), angles, self.wires, self.rotation,
                           self.reupload, live=self.live)

    def _prefix_state(self, angles: torch.Tensor) -> torch.Tensor:
        self._prefix(angles)
        return qml.state()

    def _stacked_blocks(self, states: torch.Tensor, weights: torch.Tensor, angles: torch.Tensor) -> list:
        # The prefix state is already normalised: skip StatePrep's renormalisation.
        qml.StatePrep(states, wires=self.wires, normalize=False)
        self._task_blocks()[0].queue_gates(weights, angles, self.block_queued)
        if self.signs is not None:
            return qml.probs(wires=self.wires)
        return [qml.expval(to_observable(word)) for word in self.words]

    def forward(self, angles: torch.Tensor) -> list[torch.Tensor]:
        values = self._shared_prefix(angles) if self.shared_prefix else self._full_circuits(angles)
        return [value.to(angles.dtype) for value in values]

    def _shared_prefix(self, angles: torch.Tensor) -> list[torch.Tensor]:
        n_tasks, batch = len(self.blocks), angles.shape[0]
        weights = torch.stack([block.angles() for block in self._task_blocks()]).repeat_interleave(batch, dim=0)
        if self.prefix_program is not None and self.blocks_program is not None:
            states = self.prefix_program.evolve(angles, self.weights).repeat(n_tasks, 1)
            track_simulation(self.device)
            rows = torch.cat([angles.repeat(n_tasks, 1), weights.flatten(1).to(angles.dtype)], dim=1)
            values = self.blocks_program(rows, angles.new_zeros(0), states)
            track_simulation(self.device)
            values = values.reshape(n_tasks, batch, len(self.words))
            return [values[t][:, columns] for t, columns in enumerate(self.columns)]
        states = self.prefix_state(angles).repeat(n_tasks, 1)
        results = self.stacked_blocks(states, weights, angles.repeat(n_tasks, 1))
        if self.signs is not None:
            values = results @ self.signs.to(results.dtype)
        else:
            values = torch.stack(list(results), dim=-1)
        values = values.reshape(n_tasks, batch, len(self.words))
        return [values[t][:, columns] for t, columns in enumerate(self.columns)]

    def _full_circuits(self, angles: torch.Tensor) -> list[torch.Tensor]:
        tapes = []
        for block, words in zip(self._task_blocks(), self.task_words):
            with qml.queuing.AnnotatedQueue() as queue:
                self._prefix(angles)
                block.queue_gates(block.angles(), angles, block.live)
                for word in words:
                    qml.expval(to_observable(word))
            tapes.append(qml.tape.QuantumScript.from_queue(queue))
        results = qml.execute(tapes, self.device, diff_method=self.diff_method)
        return [torch.stack(_as_list(result), dim=-1) for result in results]


def _as_list(result) -> list:
    return list(result) if isinstance(result, tuple | list) else [result]


class TaskBlockModel(MultiTaskModel):
    """Encoder -> shared prefix -> per-task block and measurement -> per-task readout."""

    def __init__(self, encoder: AngleEncoder, circuit: TaskBlockCircuit, heads: dict[str, Readout]) -> None:
        super().__init__()
        self.encoder = encoder
        self.circuit = circuit
        self.heads = nn.ModuleDict(heads)
        self.task_names = list(heads)

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        values = self.circuit(self.encoder(features))
        return {name: self.heads[name](value) for name, value in zip(self.task_names, values)}

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [
            [*block.parameters(), *self.heads[name].parameters()]
            for name, block in zip(self.task_names, self.circuit.blocks)
        ]
