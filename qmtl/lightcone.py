r"""Which trainable rotation angles can change what a circuit measures (a light-cone rule).

A rotation :math:`R(\theta) = e^{-i\theta G/2}` by a Pauli word :math:`G`, followed by the
rest of the circuit :math:`T` and the measurement of a Pauli word :math:`O`, contributes

.. math:: \langle O \rangle(\theta) = \langle \phi | R(\theta)^\dagger T^\dagger O\, T R(\theta)
          | \phi \rangle,

which does not depend on :math:`\theta` when :math:`G` commutes with :math:`T^\dagger O T`,
i.e. when :math:`T G T^\dagger` commutes with :math:`O`.  :math:`T G T^\dagger` is found by
moving :math:`G` forward through the tail one gate at a time (the Heisenberg picture run
forwards, as in light-cone arguments, e.g. Cerezo et al., "Cost function dependent barren
plateaus", Nat. Commun. 12, 1791 (2021)):

* a fixed gate :math:`C` (CNOT, ...) maps every Pauli word :math:`P` of the support to the
  words of :math:`C P C^\dagger` (one word for a Clifford gate);
* a rotation :math:`e^{-i\varphi Q/2}` at any angle maps :math:`P` to itself when
  :math:`[P, Q] = 0`, and to :math:`\cos\varphi\, P - i \sin\varphi\, QP` otherwise, so the
  support gains :math:`QP`.

The support is a superset of the Pauli words of :math:`T G T^\dagger` for *every* value of
the other angles (coefficients are not tracked, so nothing cancels).  The angle is *dead*
when every word of the support commutes with every measured word; the rule can only miss
dead angles, never drop a live one.  A support that grows past :data:`MAX_SUPPORT` words is
declared live without looking further.

Examples: an :math:`R_Z` followed only by CNOTs before Z-basis measurements (Z on a CNOT
control stays Z, on a target spreads to :math:`Z_c Z_t`: always diagonal) is dead;
so is every rotation outside the backward light cone of the measured wires.

The circuit is read from what it queues: each trainable angle is set to a distinct
marker value (:func:`angle_markers`), so an operation's parameter names its angle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import pennylane as qml
import torch
from pennylane.pauli import PauliWord
from torch import nn

from qmtl.errors import UserError
from qmtl.observables import parse_pauli_word

#: Past this many Pauli words in the support, an angle counts as live (saves time; the rule
#: stays on the safe side).
MAX_SUPPORT = 16
# Data angles are queued at this value: never a marker (markers are the integers 1..N).
DATA_MARK = 0.5


def pauli_word(word: str) -> PauliWord:
    """A config word such as ``"Z0 X2"`` as a PennyLane :class:`PauliWord`."""
    return PauliWord(parse_pauli_word(word))


def angle_markers(shapes: Sequence[Sequence[int]]) -> list[torch.Tensor]:
    """One tensor per shape, holding the markers 1, 2, ... numbered across all of them."""
    markers, start = [], 1
    for shape in shapes:
        count = int(torch.tensor(shape).prod().item()) if len(shape) else 1
        markers.append(torch.arange(start, start + count, dtype=torch.float64).reshape(tuple(shape)))
        start += count
    return markers


def data_angles(n_angles: int) -> torch.Tensor:
    """Encoded input angles to queue while recording (never mistaken for a marker)."""
    return torch.full((n_angles,), DATA_MARK, dtype=torch.float64)


def record(queue: Callable[..., object], *args: object) -> list[qml.operation.Operator]:
    """The operations ``queue(*args)`` puts on a tape, multi-angle gates decomposed into
    one-angle gates (``qml.Rot`` -> RZ RY RZ) so every angle has its own gate."""
    with qml.queuing.AnnotatedQueue() as annotated:
        queue(*args)
    operations = []
    pending = list(qml.tape.QuantumScript.from_queue(annotated).operations)
    while pending:
        op = pending.pop(0)
        if op.num_params > 1:
            pending = list(op.decomposition()) + pending
        else:
            operations.append(op)
    return operations


def _marker(op: qml.operation.Operator, n_markers: int) -> int | None:
    """The 0-based index of the trainable angle ``op`` carries, if any."""
    if op.num_params != 1:
        return None
    value = float(qml.math.squeeze(op.parameters[0]))
    index = round(value)
    return index - 1 if value == index and 1 <= index <= n_markers else None


def _generator(op: qml.operation.Operator) -> PauliWord | None:
    """The Pauli word a one-angle rotation turns about, or None for other gates."""
    if op.num_params != 1:
        return None
    try:
        sentence = qml.pauli.pauli_sentence(qml.generator(op, format="observable"))
    except (qml.operation.GeneratorUndefinedError, ValueError, TypeError):
        return None
    words = [word for word in sentence if len(word)]
    return words[0] if len(words) == 1 else None


@lru_cache(maxsize=4096)
def _conjugated(name: str, letters: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The words of :math:`C P C^\\dagger` for the fixed gate ``name`` and the part of a word on
    its wires (``letters[k]`` on the gate's k-th wire, ``"I"`` for none), on the same wire
    positions; cached, so each gate type is decomposed into Paulis once."""
    positions = list(range(len(letters)))
    matrix = qml.matrix(getattr(qml, name)(wires=positions), wire_order=positions)
    gate = qml.pauli_decompose(matrix, wire_order=positions, pauli=True)
    adjoint = qml.pauli_decompose(matrix.conj().T, wire_order=positions, pauli=True)
    local = PauliWord({k: letter for k, letter in enumerate(letters) if letter != "I"})
    image = gate @ qml.pauli.PauliSentence({local: 1.0}) @ adjoint
    image.simplify()
    return tuple(tuple(word.get(k, "I") for k in positions) for word in image)


def _through(support: set[PauliWord], op: qml.operation.Operator,
             generator: PauliWord | None) -> set[PauliWord] | None:
    """The support after ``op`` (whose rotation ``generator`` is given, None for a fixed
    gate); None when ``op`` is a gate the rule cannot follow."""
    if generator is not None:
        spread = set(support)
        for word in support:
            if not word.commutes_with(generator):
                product = word @ generator
                spread.update(w for w in product if len(w))
        return spread
    if op.num_params:
        return None
    wires = tuple(op.wires)
    moved: set[PauliWord] = set()
    for word in support:
        if not set(word) & set(wires):
            moved.add(word)
            continue
        outside = {w: letter for w, letter in word.items() if w not in wires}
        for image in _conjugated(op.name, tuple(word.get(w, "I") for w in wires)):
            moved.add(PauliWord({**outside, **{w: letter for w, letter in zip(wires, image) if letter != "I"}}))
    return moved


def reaches(operations: Sequence[qml.operation.Operator], position: int, measured: Sequence[str],
            generators: Sequence[PauliWord | None] | None = None) -> bool:
    """True unless the rotation at ``operations[position]`` provably cannot change the
    expectation value of any word in ``measured``; ``generators`` are the operations'
    rotation words (:func:`_generator`), computed here when not given."""
    if generators is None:
        generators = [_generator(op) for op in operations]
    rotation = generators[position]
    if rotation is None:
        return True
    observables = [pauli_word(word) for word in measured]
    support = {rotation}
    for op, generator in zip(operations[position + 1:], generators[position + 1:]):
        after = _through(support, op, generator)
        if after is None or len(after) > MAX_SUPPORT:
            return True
        support = after
    return any(not word.commutes_with(observable) for word in support for observable in observables)


# Rule results by what the rule reads of a tape: models repeat the same circuit per task.
_RESULTS: dict[tuple, torch.Tensor] = {}


def live_markers(operations: Sequence[qml.operation.Operator], n_markers: int,
                 measured: Sequence[str]) -> torch.Tensor:
    """Boolean ``(n_markers,)``: which marked angles can change a measured word's value.

    An angle whose gate was not queued at all is not live.
    """
    key = (tuple((op.name, tuple(op.wires), _marker(op, n_markers)) for op in operations),
           n_markers, tuple(measured))
    if key not in _RESULTS:
        live = torch.zeros(n_markers, dtype=torch.bool)
        generators = [_generator(op) for op in operations]
        for position, op in enumerate(operations):
            index = _marker(op, n_markers)
            if index is not None and not live[index] and reaches(operations, position, measured, generators):
                live[index] = True
        _RESULTS[key] = live
    return _RESULTS[key].clone()


def live_angles(queue: Callable[[list[torch.Tensor], list[torch.Tensor]], object],
                shapes: Sequence[Sequence[int]], measured: Sequence[str],
                candidates: Sequence[torch.Tensor | None] | None = None) -> list[torch.Tensor]:
    """Per angle tensor of ``shapes``, the boolean mask of its angles that can change the
    expectation value of a word in ``measured``.

    ``queue(markers, masks)`` queues the circuit with the marker tensors as its angles and
    only the gates whose angle the masks keep.  ``candidates`` (default: all) are the angles
    that exist at all.  A dead gate is the identity at angle zero, and the measured values do
    not depend on its angle, so removing it cannot make another angle live; the masks are
    recomputed without the dead gates until they stop changing (which can only drop more).
    """
    markers = angle_markers(shapes)
    masks = [
        torch.ones(tuple(shape), dtype=torch.bool)
        if candidates is None or (given := candidates[i]) is None else given.clone()
        for i, shape in enumerate(shapes)
    ]
    n_markers = sum(m.numel() for m in markers)
    while True:
        live = live_markers(record(queue, markers, masks), n_markers, measured)
        new, start = [], 0
        for mask in masks:
            new.append(mask & live[start:start + mask.numel()].reshape(mask.shape))
            start += mask.numel()
        if all(torch.equal(a, b) for a, b in zip(new, masks)):
            return new
        masks = new


def expand(values: torch.Tensor, live: torch.Tensor) -> torch.Tensor:
    """Live angles ``(..., n_live)`` -> the full layout ``(..., *live.shape)``, 0 where dead."""
    index = live.flatten().nonzero().squeeze(-1).to(values.device)
    full = values.new_zeros(*values.shape[:-1], live.numel())
    return full.index_copy(-1, index, values).reshape(*values.shape[:-1], *live.shape)


def refuse_other_layouts(module: nn.Module) -> None:
    """Make ``module.load_state_dict`` refuse, in one line, a checkpoint whose angle tensors
    have other shapes: one written before dead angles were dropped, or for other words."""

    def check(module: nn.Module, state_dict: dict, prefix: str, *args: object) -> None:
        for name, parameter in module.named_parameters():
            saved = state_dict.get(prefix + name)
            if saved is not None and saved.shape != parameter.shape:
                raise UserError(
                    f"the checkpoint's '{prefix + name}' holds {saved.numel()} circuit angles but "
                    f"this model has {parameter.numel()}: the checkpoint predates qmtl keeping only "
                    f"the angles that reach a measured value (qmtl/lightcone.py); retrain the run"
                )

    module.register_load_state_dict_pre_hook(check)
