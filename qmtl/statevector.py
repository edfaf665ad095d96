r"""A torch statevector executor for the circuits qmtl builds, compiled once per structure.

On ``default.qubit`` with backprop, every call of a QNode builds a tape, runs PennyLane's
transform program and dispatches gate by gate through ``default.qubit``: at 4-8 qubits that
per-step overhead costs more than the simulation (``experiments/benchmarks/README.md``).
:class:`StatevectorProgram` records the circuit ONCE, with every angle set to a distinct
marker value (as :mod:`qmtl.lightcone` does), and compiles it into a fixed sequence of torch
operations on a ``(batch, 2**n)`` state (wire 0 the most significant bit, PennyLane's
order); a step then only evaluates that sequence, and torch's autograd differentiates it
(backprop, as ``default.qubit`` does).

Supported: the one-angle rotations :math:`R_X, R_Y, R_Z`, ``PhaseShift`` and
:math:`\mathrm{Rot}(\phi,\theta,\omega) = R_Z(\omega)R_Y(\theta)R_Z(\phi)` whose angles are
the circuit's inputs or weights, every fixed one-qubit gate, and fixed multi-qubit gates
whose matrix has one non-zero entry per column (CNOT, CZ, SWAP, Toffoli, ...); expectation
values of Pauli words.  :func:`compile_program` returns None for anything else, and the
caller keeps its QNode.  Three exact rewrites make it cheaper than gate-by-gate simulation:

* one-qubit gates before the first multi-qubit gate act on per-wire factors of the product
  state :math:`\bigotimes_w U_w|0\rangle`, never on the :math:`2^n` state;
* consecutive one-qubit gates on a wire are multiplied into one matrix before they touch
  the state; all one-qubit matrices of the circuit are computed together, per gate type;
* consecutive fixed multi-qubit gates compose into ONE basis permutation with phases:
  a monomial gate maps :math:`|s\rangle \mapsto c(s)\,|\pi(s)\rangle`, so
  :math:`\psi'_s = p_s\,\psi_{\sigma(s)}` with ``sigma`` and ``p`` composed at compile time.

A Pauli word :math:`P` with X/Y on the wires of the bit mask :math:`m` maps
:math:`|t\rangle \mapsto c(t)|t \oplus m\rangle`, so
:math:`\langle P\rangle = \mathrm{Re}\sum_s \bar\psi_s\,\psi_{s\oplus m}\prod_{w} f_w(s_w)`
with :math:`f = (1, -1)` for Z, :math:`(1, 1)` for X and :math:`(-i, i)` for Y on wire
:math:`w` (1 elsewhere).  Words sharing a mask are read from one product
:math:`\bar\psi \odot \psi_{\cdot\oplus m}` by one matrix product with the
``(2**n, words)`` table of :math:`\prod_w f_w(s_w)` (Z words: :math:`|\psi|^2` times the
sign table), up to :data:`MAX_DIAGONAL_QUBITS` qubits; wider, each word folds the state
wire by wire instead of storing a :math:`2^n`-row table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pennylane as qml
import torch
from torch import nn

from qmtl.lightcone import angle_markers
from qmtl.observables import parse_pauli_word

# Above this width the 2^n x n_words table costs more memory than it saves time.
MAX_DIAGONAL_QUBITS = 16
# Per Pauli letter, the factor f(s_w) of the word's value at bit s_w = 0 and 1.
_LETTER_FACTORS = {"Z": (1, -1), "X": (1, 1), "Y": (-1j, 1j)}


def z_word_signs(words: Sequence[str], n_qubits: int) -> torch.Tensor:
    """``(2**n, len(words))`` matrix of the eigenvalues of each Z word on each basis state.

    Basis states are indexed as PennyLane orders them: wire 0 is the most significant bit.
    """
    return word_factors(words, n_qubits).real


def word_factors(words: Sequence[str], n_qubits: int) -> torch.Tensor:
    r"""``(2**n, len(words))`` complex table of :math:`\prod_w f_w(s_w)` per word and basis state."""
    bits = (torch.arange(2**n_qubits)[:, None] >> torch.arange(n_qubits - 1, -1, -1)) & 1
    columns = []
    for word in words:
        column = torch.ones(2**n_qubits, dtype=torch.complex128)
        for wire, letter in parse_pauli_word(word).items():
            column = column * torch.tensor(_LETTER_FACTORS[letter], dtype=torch.complex128)[bits[:, wire]]
        columns.append(column)
    return torch.stack(columns, dim=1)


def flip_mask(word: str, n_qubits: int) -> int:
    """The basis-state bits a Pauli word flips (its X and Y wires)."""
    return sum(1 << (n_qubits - 1 - w) for w, letter in parse_pauli_word(word).items() if letter != "Z")


def _real_to_complex(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _complex(pairs: torch.Tensor, real: torch.dtype) -> torch.Tensor:
    """A buffer of (real, imaginary) pairs as a complex tensor of precision ``real``."""
    return torch.view_as_complex(pairs.to(real).contiguous())


def _rx(angles: torch.Tensor) -> torch.Tensor:
    cos, sin = torch.cos(angles[..., 0] / 2), torch.sin(angles[..., 0] / 2)
    return torch.stack([cos, -1j * sin, -1j * sin, cos], dim=-1)


def _ry(angles: torch.Tensor) -> torch.Tensor:
    cos, sin = torch.cos(angles[..., 0] / 2), torch.sin(angles[..., 0] / 2)
    return torch.stack([cos, -sin, sin, cos], dim=-1)


def _rz(angles: torch.Tensor) -> torch.Tensor:
    phase = torch.exp(-0.5j * angles[..., 0])
    zero = torch.zeros_like(phase)
    return torch.stack([phase, zero, zero, phase.conj()], dim=-1)


def _phase_shift(angles: torch.Tensor) -> torch.Tensor:
    phase = torch.exp(1j * angles[..., 0])
    return torch.stack([torch.ones_like(phase), torch.zeros_like(phase), torch.zeros_like(phase), phase], dim=-1)


def _rot(angles: torch.Tensor) -> torch.Tensor:
    phi, theta, omega = angles.unbind(-1)
    cos, sin = torch.cos(theta / 2), torch.sin(theta / 2)
    plus, minus = torch.exp(-0.5j * (phi + omega)), torch.exp(0.5j * (phi - omega))
    return torch.stack([plus * cos, -minus * sin, minus.conj() * sin, plus.conj() * cos], dim=-1)


#: Per supported parametrised gate, its number of angles and its matrix: ``(..., p)`` real
#: angles -> ``(..., 4)`` entries of the 2x2 matrix, row-major (PennyLane's definitions).
ROTATIONS: dict[str, tuple[int, Callable[[torch.Tensor], torch.Tensor]]] = {
    "RX": (1, _rx), "RY": (1, _ry), "RZ": (1, _rz), "PhaseShift": (1, _phase_shift), "Rot": (3, _rot),
}


class Unsupported(Exception):
    """The circuit has an operation the executor does not simulate."""


def _angle_sources(op: qml.operation.Operator, n_angles: int) -> list[int]:
    """The 0-based indices of the angles ``op`` was queued with (its parameters are markers)."""
    sources = []
    for parameter in op.parameters:
        if qml.math.ndim(parameter) != 0:
            raise Unsupported(f"{op.name} with a broadcast parameter")
        value = float(parameter)
        if value != round(value) or not 1 <= value <= n_angles:
            raise Unsupported(f"{op.name} with an angle that is not a circuit input or weight")
        sources.append(round(value) - 1)
    return sources


def _monomial(op: qml.operation.Operator, n_qubits: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``(sigma, phase)`` over all ``2**n`` basis states: the gate maps the state ``psi``
    to ``phase * psi[sigma]``; :class:`Unsupported` unless each column has one non-zero."""
    wires = [int(w) for w in op.wires]
    matrix = torch.as_tensor(qml.matrix(op, wire_order=wires), dtype=torch.complex128)
    nonzero = matrix.abs() > 1e-12
    if not bool((nonzero.sum(dim=0) == 1).all()):
        raise Unsupported(f"{op.name} is neither a one-qubit gate nor a basis permutation")
    source_of = nonzero.to(torch.int64).argmax(dim=1)  # local output row -> its input column
    states = torch.arange(2**n_qubits)
    local = torch.zeros_like(states)
    for wire in wires:
        local = (local << 1) | ((states >> (n_qubits - 1 - wire)) & 1)
    source = states.clone()
    for k, wire in enumerate(wires):
        bit = (source_of[local] >> (len(wires) - 1 - k)) & 1
        shift = n_qubits - 1 - wire
        source = (source & ~(1 << shift)) | (bit << shift)
    return source, matrix[local, source_of[local]]


@dataclass
class _Flush:
    """One-qubit gates applied together: per wire, a chain of matrix-pool indices."""

    wires: list[int]
    chains: list[list[int]]


@dataclass
class _Permute:
    """A composed basis permutation with phases: ``psi' = phase * psi[sigma]``."""

    sigma: torch.Tensor
    phase: torch.Tensor


@dataclass
class _Plan:
    n_qubits: int
    product: _Flush | None = None
    steps: list[_Flush | _Permute] = field(default_factory=list)


def group_size(n_qubits: int) -> int:
    """How many adjacent wires' one-qubit matrices are joined (Kronecker product) into one
    matrix applied to the state in one pass: wider states are memory-bound, so fewer passes
    with larger matrices win (``experiments/benchmarks/README.md``)."""
    return 2 if n_qubits <= 8 else 3 if n_qubits <= 10 else 4


def _blocks(wires: Sequence[int], size: int) -> list[tuple[int, int]]:
    """``(first wire, width)`` of runs of adjacent wires among the sorted ``wires``, at most
    ``size`` wide."""
    blocks: list[tuple[int, int]] = []
    for wire in wires:
        if blocks and blocks[-1][0] + blocks[-1][1] == wire and blocks[-1][1] < size:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + 1)
        else:
            blocks.append((wire, 1))
    return blocks


def _kron(matrices: torch.Tensor) -> torch.Tensor:
    """``(batch, m, 2, 2)`` -> ``(batch, 2**m, 2**m)``: the Kronecker product of the m matrices,
    the first on the most significant bit."""
    batch, m = matrices.shape[:2]
    if m == 1:
        return matrices[:, 0]
    letters = "acegikmoqsuw"[:m], "bdfhjlnprtvx"[:m]
    operands = ",".join(f"z{r}{c}" for r, c in zip(*letters))
    product = torch.einsum(f"{operands}->z{letters[0]}{letters[1]}", *matrices.unbind(1))
    return product.reshape(batch, 2**m, 2**m)


def _rounds(chains: Sequence[Sequence[int]]) -> torch.Tensor:
    """``(rounds, len(chains))`` pool indices, round ``j`` holding each chain's ``j``-th
    matrix (index 0, the identity, past a chain's end)."""
    rounds = max([1, *(len(chain) for chain in chains)])
    return torch.tensor([[chain[j] if j < len(chain) else 0 for chain in chains] for j in range(rounds)],
                        dtype=torch.int64)


class StatevectorProgram(nn.Module):
    """A compiled circuit: ``forward(inputs (batch, n_inputs), weights (n_weights,))`` ->
    ``(batch, len(words))`` expectation values."""

    # Buffers, registered while compiling; declared so that type checkers know them as tensors.
    constants: torch.Tensor
    product_rounds: torch.Tensor
    sigmas: torch.Tensor
    phases: torch.Tensor
    flips: torch.Tensor
    column_order: torch.Tensor

    def __init__(self, operations: Sequence[qml.operation.Operator], n_qubits: int, n_inputs: int,
                 n_weights: int, words: Sequence[str]) -> None:
        super().__init__()
        self.n_qubits, self.n_inputs, self.n_weights = n_qubits, n_inputs, n_weights
        self.words = list(words)
        n_angles = n_inputs + n_weights
        constants: list[torch.Tensor] = []  # fixed one-qubit matrices
        rotations: dict[str, list[list[int]]] = {}  # per gate name, each gate's angle sources
        pool: list[tuple[str, int]] = []  # per matrix-pool entry after the identity: (group, index)
        plan = _Plan(n_qubits)
        pending: dict[int, list[int]] = {}

        def flush() -> None:
            if pending:
                wires = sorted(pending)
                group = _Flush(wires, [pending[w] for w in wires])
                if plan.product is None:
                    plan.product = group
                else:
                    plan.steps.append(group)
                pending.clear()

        for op in operations:
            wires = [int(w) for w in op.wires]
            if any(not 0 <= w < n_qubits for w in wires):
                raise Unsupported(f"{op.name} on wires {wires} outside 0..{n_qubits - 1}")
            if op.num_params and op.name in ROTATIONS and len(wires) == 1:
                sources = _angle_sources(op, n_angles)
                rotations.setdefault(op.name, []).append(sources)
                pool.append((op.name, len(rotations[op.name]) - 1))
            elif op.num_params:
                raise Unsupported(f"parametrised gate {op.name}")
            elif len(wires) == 1:
                constants.append(torch.as_tensor(qml.matrix(op), dtype=torch.complex128).flatten())
                pool.append(("constant", len(constants) - 1))
            else:
                if plan.product is None:  # the product state covers every wire
                    pending.update({w: pending.get(w, []) for w in range(n_qubits)})
                flush()
                sigma, phase = _monomial(op, n_qubits)
                last = plan.steps[-1] if plan.steps else None
                if isinstance(last, _Permute):  # compose: apply last, then this gate
                    last.sigma, last.phase = last.sigma[sigma], phase * last.phase[sigma]
                else:
                    plan.steps.append(_Permute(sigma, phase))
                continue
            pending.setdefault(wires[0], []).append(len(pool))
        if plan.product is None:
            pending.update({w: pending.get(w, []) for w in range(n_qubits)})
        flush()
        self._compile(plan, constants, rotations, pool)
        self._compile_measurements()

    def _compile(self, plan: _Plan, constants: list[torch.Tensor], rotations: dict[str, list[list[int]]],
                 pool: list[tuple[str, int]]) -> None:
        """Turn the plan into index buffers: the matrix pool is ``[identity, constants,
        rotations of each name in order]``, so a chain's entries become pool positions."""
        self.rotation_names = list(rotations)
        offsets = {"constant": 1}
        start = 1 + len(constants)
        for name in self.rotation_names:
            offsets[name] = start
            start += len(rotations[name])
        position = [0] + [offsets[group] + index for group, index in pool]
        identity = torch.eye(2, dtype=torch.complex128).flatten()
        # Complex constants are kept as (real, imaginary) pairs: Module.to(dtype) and .float()
        # convert real buffers and would drop an imaginary part.
        self.register_buffer("constants", torch.view_as_real(torch.stack([identity, *constants])),
                             persistent=False)
        for name in self.rotation_names:
            self.register_buffer(f"sources_{name}", torch.tensor(rotations[name], dtype=torch.int64),
                                 persistent=False)
        assert plan.product is not None
        self.register_buffer("product_rounds", _rounds([[position[i] for i in chain]
                                                        for chain in plan.product.chains]), persistent=False)
        self.steps: list[tuple[str, list[tuple[int, int]], int]] = []
        flushes: list[torch.Tensor] = []
        sigmas: list[torch.Tensor] = []
        phases: list[torch.Tensor] = []
        for step in plan.steps:
            if isinstance(step, _Flush):
                self.steps.append(("flush", _blocks(step.wires, group_size(self.n_qubits)), len(flushes)))
                flushes.append(_rounds([[position[i] for i in chain] for chain in step.chains]))
            else:
                self.steps.append(("permute", [], len(sigmas)))
                sigmas.append(step.sigma)
                phases.append(step.phase)
        for index, rounds in enumerate(flushes):
            self.register_buffer(f"flush_{index}", rounds, persistent=False)
        self.trivial_phase = [bool((phase == 1).all()) for phase in phases]
        self.register_buffer("sigmas", torch.stack(sigmas) if sigmas else torch.zeros(0, dtype=torch.int64),
                             persistent=False)
        self.register_buffer("phases", torch.view_as_real(torch.stack(phases)) if phases else torch.zeros(0, 2),
                             persistent=False)

    def _compile_measurements(self) -> None:
        """Group the words by flip mask; per group, its factor table and its columns."""
        n = self.n_qubits
        masks = [flip_mask(word, n) for word in self.words]
        self.groups = list(dict.fromkeys(masks))
        order = [i for mask in self.groups for i, m in enumerate(masks) if m == mask]
        self.register_buffer("column_order", torch.argsort(torch.tensor(order)), persistent=False)
        self.identity_order = order == sorted(order)
        self.group_words = [[w for w, m in zip(self.words, masks) if m == mask] for mask in self.groups]
        self.tabulated = n <= MAX_DIAGONAL_QUBITS
        states = torch.arange(2**n)
        self.register_buffer("flips", torch.stack([states ^ mask for mask in self.groups]), persistent=False)
        if self.tabulated:
            for index, words in enumerate(self.group_words):
                table = word_factors(words, n)
                self.register_buffer(f"table_{index}", table.real if self.groups[index] == 0
                                     else torch.view_as_real(table), persistent=False)

    def _matrices(self, angles: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``(batch, pool, 2, 2)``: identity, fixed gates, then every rotation's matrix."""
        batch = angles.shape[0]
        parts = [_complex(self.constants, angles.dtype).expand(batch, -1, -1)]
        for name in self.rotation_names:
            sources = self.get_buffer(f"sources_{name}")
            parts.append(ROTATIONS[name][1](angles[:, sources]).to(dtype))
        return torch.cat(parts, dim=1).reshape(batch, -1, 2, 2)

    @staticmethod
    def _chain(matrices: torch.Tensor, rounds: torch.Tensor) -> torch.Tensor:
        """``(batch, wires, 2, 2)``: per wire, the product of its chain (first gate rightmost)."""
        product = matrices[:, rounds[0]]
        for index in rounds[1:]:
            product = matrices[:, index] @ product
        return product

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        unbatched = inputs.ndim == 1
        inputs = inputs[None] if unbatched else inputs
        real = torch.promote_types(inputs.dtype, weights.dtype)
        dtype = _real_to_complex(real)
        batch, n = inputs.shape[0], self.n_qubits
        angles = torch.cat([inputs.to(real), weights.to(real).expand(batch, -1)], dim=1)
        matrices = self._matrices(angles, dtype)
        # The product state: each wire's chain applied to |0>, i.e. the chain's first column.
        factors = self._chain(matrices, self.product_rounds)[..., 0]
        state = factors[:, 0]
        for wire in range(1, n):
            state = (state[:, :, None] * factors[:, wire, None, :]).reshape(batch, -1)
        for kind, blocks, index in self.steps:
            if kind == "flush":
                fused = self._chain(matrices, self.get_buffer(f"flush_{index}"))
                start = 0
                for first, width in blocks:
                    block = _kron(fused[:, start:start + width])
                    start += width
                    view = state.reshape(batch, 2**first, 2**width, 2 ** (n - first - width))
                    state = torch.einsum("bij,bljr->blir", block, view).reshape(batch, -1)
            else:
                state = state.index_select(1, self.sigmas[index])
                if not self.trivial_phase[index]:
                    state = state * _complex(self.phases[index], real)
        values = self._measure(state, real)
        return values[0] if unbatched else values

    def _measure(self, state: torch.Tensor, real: torch.dtype) -> torch.Tensor:
        columns = []
        for index, mask in enumerate(self.groups):
            if mask == 0:
                overlap = state.real.square() + state.imag.square()
            else:
                overlap = state.conj() * state.index_select(1, self.flips[index])
            if self.tabulated:
                table = self.get_buffer(f"table_{index}")
                columns.append(overlap @ table.to(real) if mask == 0 else (overlap @ _complex(table, real)).real)
            else:
                columns += [self._fold(overlap, word) for word in self.group_words[index]]
        values = torch.cat([c if c.ndim == 2 else c[:, None] for c in columns], dim=1).to(real)
        return values if self.identity_order else values.index_select(1, self.column_order)

    def _fold(self, overlap: torch.Tensor, word: str) -> torch.Tensor:
        r""":math:`\mathrm{Re}\sum_s o_s \prod_w f_w(s_w)` without a table: sum out the word's
        wires, highest first (so lower axes keep their place), with their letters' factors."""
        tensor = overlap.reshape(overlap.shape[0], *[2] * self.n_qubits)
        for wire, letter in sorted(parse_pauli_word(word).items(), reverse=True):
            low, high = _LETTER_FACTORS[letter]
            tensor = tensor.select(1 + wire, 0) * low + tensor.select(1 + wire, 1) * high
        return tensor.reshape(overlap.shape[0], -1).sum(dim=1).real


def compile_program(queue: Callable[[torch.Tensor, torch.Tensor], object], n_qubits: int, n_inputs: int,
                    n_weights: int, words: Sequence[str]) -> StatevectorProgram | None:
    """Record ``queue(inputs, weights)`` once with marker angles and compile it; None when an
    operation is not supported (the caller then runs its QNode)."""
    inputs, weights = angle_markers([(n_inputs,), (n_weights,)])
    with qml.queuing.AnnotatedQueue() as annotated:
        queue(inputs, weights)
    operations = qml.tape.QuantumScript.from_queue(annotated).operations
    try:
        return StatevectorProgram(operations, n_qubits, n_inputs, n_weights, words)
    except Unsupported:
        return None


def track_simulation(device: qml.devices.Device) -> None:
    """Count one execution in an active ``qml.Tracker`` of ``device``, as ``default.qubit``
    counts a tape it simulates (``batches``, ``simulations``, ``executions``)."""
    if device.tracker.active:
        device.tracker.update(batches=1)
        device.tracker.record()
        device.tracker.update(simulations=1, executions=1)
        device.tracker.record()
