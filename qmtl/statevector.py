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
caller keeps its QNode.  Exact rewrites make it cheaper than gate-by-gate simulation:

* one-qubit gates before the first multi-qubit gate act on per-wire factors of the product
  state :math:`\bigotimes_w U_w|0\rangle`, never on the :math:`2^n` state;
* consecutive one-qubit gates on a wire are multiplied into one matrix before they touch
  the state; all one-qubit matrices of the circuit are computed together, per gate type,
  and those whose angles are all weights once for the whole batch; the matrices of
  :func:`group_size` adjacent wires are joined into one Kronecker product, so a layer
  passes over the state fewer times;
* consecutive fixed multi-qubit gates compose into ONE basis permutation with phases:
  a monomial gate maps :math:`|s\rangle \mapsto c(s)\,|\pi(s)\rangle`, so
  :math:`\psi'_s = p_s\,\psi_{\sigma(s)}` with ``sigma`` and ``p`` composed at compile time;
* up to :data:`DENSE_QUBITS` qubits, a run of weight-only steps (variational layers that
  read no input) is multiplied into one ``2**n x 2**n`` unitary, applied by one matrix product.

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
# Index names for einsum: rows / columns of up to 25 one-qubit factors ("z" is the batch).
_LETTERS = ("ABCDEFGHIJKLMNOPQRSTUVWXY", "abcdefghijklmnopqrstuvwxy")
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


def _phase_shift(angles: torch.Tensor) -> torch.Tensor:
    phase = torch.exp(1j * angles[..., 0])
    return torch.stack([torch.ones_like(phase), torch.zeros_like(phase), torch.zeros_like(phase), phase], dim=-1)


def _rot(angles: torch.Tensor) -> torch.Tensor:
    phi, theta, omega = angles.unbind(-1)
    cos, sin = torch.cos(theta / 2), torch.sin(theta / 2)
    plus, minus = torch.exp(-0.5j * (phi + omega)), torch.exp(0.5j * (phi - omega))
    return torch.stack([plus * cos, -minus * sin, minus.conj() * sin, plus.conj() * cos], dim=-1)


#: Per matrix formula, ``(..., p)`` real angles -> ``(..., 4)`` entries of the 2x2 matrix,
#: row-major (PennyLane's definitions).
ROTATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"RX": _rx, "PhaseShift": _phase_shift, "Rot": _rot}
#: Rotations computed as ``Rot``, by the slots of :math:`(\phi, \theta, \omega)` their angles
#: fill (the others hold 0): :math:`R_Z(a) = \mathrm{Rot}(a, 0, 0)` and
#: :math:`R_Y(a) = \mathrm{Rot}(0, a, 0)` exactly, so one formula serves a whole ansatz.
AS_ROT: dict[str, tuple[int, ...]] = {"RZ": (0,), "RY": (1,), "Rot": (0, 1, 2)}


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
    """One-qubit gates applied together: per wire, a chain of gate numbers (into the pool)."""

    wires: list[int]
    chains: list[list[int]]


@dataclass
class _Permute:
    """A composed basis permutation with phases: ``psi' = phase * psi[sigma]``."""

    sigma: torch.Tensor
    phase: torch.Tensor


@dataclass
class _Plan:
    product: _Flush | None = None
    steps: list[_Flush | _Permute] = field(default_factory=list)


def group_size(n_qubits: int) -> int:
    """How many adjacent wires' one-qubit matrices are joined (Kronecker product) into one
    matrix applied to the state in one pass: wider states are memory-bound, so fewer passes
    with larger matrices win (``experiments/benchmarks/README.md``)."""
    return 2 if n_qubits <= 6 else 3 if n_qubits <= 10 else 4


#: Up to this width, a run of weight-only steps (one-qubit layers and permutations, the
#: variational layers without re-uploading) is multiplied into ONE ``2**n x 2**n`` unitary,
#: independent of the batch, and applied by one matrix product.
DENSE_QUBITS = 6


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


def _outer(vectors: torch.Tensor) -> torch.Tensor:
    """``(batch, n, 2)`` -> ``(batch, 2**n)``: the tensor product of the n vectors, the first
    on the most significant bit."""
    batch, n = vectors.shape[:2]
    letters = _LETTERS[0][:n]
    return torch.einsum(f"{','.join('z' + c for c in letters)}->z{letters}", *vectors.unbind(1)).reshape(batch, -1)


def _kron(matrices: torch.Tensor) -> torch.Tensor:
    """``(..., m, 2, 2)`` -> ``(..., 2**m, 2**m)``: the Kronecker product of the m matrices,
    the first on the most significant bit."""
    m = matrices.shape[-3]
    if m == 1:
        return matrices[..., 0, :, :]
    rows, columns = _LETTERS[0][:m], _LETTERS[1][:m]
    operands = ",".join(f"...{r}{c}" for r, c in zip(rows, columns))
    product = torch.einsum(f"{operands}->...{rows}{columns}", *matrices.unbind(-3))
    return product.reshape(*matrices.shape[:-3], 2**m, 2**m)


def _chain(pool: torch.Tensor, rounds: torch.Tensor) -> torch.Tensor:
    """``(..., wires, 2, 2)``: per wire, the product of its chain of ``pool`` matrices
    ``(..., entries, 2, 2)``, the first gate rightmost."""
    product = pool[..., rounds[0], :, :]
    for index in rounds[1:]:
        product = pool[..., index, :, :] @ product
    return product


def _rounds(chains: Sequence[Sequence[int]]) -> torch.Tensor:
    """``(rounds, len(chains))`` pool indices, round ``j`` holding each chain's ``j``-th
    matrix (index 0, the identity, past a chain's end)."""
    rounds = max([1, *(len(chain) for chain in chains)])
    return torch.tensor([[chain[j] if j < len(chain) else 0 for chain in chains] for j in range(rounds)],
                        dtype=torch.int64)


class StatevectorProgram(nn.Module):
    """A compiled circuit: ``forward(inputs (batch, n_inputs), weights (n_weights,))`` ->
    ``(batch, len(words))`` expectation values.  A ``prepared`` program starts from a given
    state, ``forward(inputs, weights, state)``, instead of the all-zero basis state;
    :meth:`evolve` returns the final state instead of expectation values.

    One-qubit matrices live in two pools: the *shared* pool ``(entries, 2, 2)`` holds the
    identity, the fixed gates and the rotations whose angles are all weights (the same for
    every example); the *batched* pool ``(batch, entries, 2, 2)`` repeats it and adds the
    rotations that read an input.  A chain made only of shared entries is computed once for
    the whole batch.
    """

    # Buffers, registered while compiling; declared so that type checkers know them as tensors.
    constants: torch.Tensor
    product_rounds: torch.Tensor
    sigmas: torch.Tensor
    phases: torch.Tensor
    flips: torch.Tensor
    column_order: torch.Tensor

    def __init__(self, operations: Sequence[qml.operation.Operator], n_qubits: int, n_inputs: int,
                 n_weights: int, words: Sequence[str], prepared: bool = False) -> None:
        super().__init__()
        self.n_qubits, self.n_inputs, self.n_weights = n_qubits, n_inputs, n_weights
        self.prepared = prepared
        self.words = list(words)
        if n_qubits > len(_LETTERS[0]):
            raise Unsupported(f"{n_qubits} qubits: more wires than einsum index names")
        n_angles = n_inputs + n_weights
        constants: list[torch.Tensor] = []  # fixed one-qubit matrices
        # Per (gate name, shared), each gate's angle sources; a gate is shared when it reads weights only.
        rotations: dict[tuple[str, bool], list[list[int]]] = {}
        gates: list[tuple[str, bool] | None] = []  # per one-qubit gate: its rotation group (None: fixed)
        gate_index: list[int] = []  # per one-qubit gate: its index in that group (or in constants)
        plan = _Plan()
        pending: dict[int, list[int]] = {}

        def flush() -> None:
            if pending:
                wires = sorted(pending)
                group = _Flush(wires, [pending[w] for w in wires])
                if plan.product is None and not prepared:
                    plan.product = group
                else:
                    plan.steps.append(group)
                pending.clear()

        for op in operations:
            wires = [int(w) for w in op.wires]
            if any(not 0 <= w < n_qubits for w in wires):
                raise Unsupported(f"{op.name} on wires {wires} outside 0..{n_qubits - 1}")
            if op.num_params and (op.name in ROTATIONS or op.name in AS_ROT) and len(wires) == 1:
                sources = _angle_sources(op, n_angles)
                key = ("Rot" if op.name in AS_ROT else op.name, all(source >= n_inputs for source in sources))
                if op.name in AS_ROT:
                    slots = [n_angles] * 3  # index n_angles: the zero appended to the angles
                    for source, slot in zip(sources, AS_ROT[op.name]):
                        slots[slot] = source
                    sources = slots
                rotations.setdefault(key, []).append(sources)
                gates.append(key)
                gate_index.append(len(rotations[key]) - 1)
            elif op.num_params:
                raise Unsupported(f"parametrised gate {op.name}")
            elif len(wires) == 1:
                constants.append(torch.as_tensor(qml.matrix(op), dtype=torch.complex128).flatten())
                gates.append(None)
                gate_index.append(len(constants) - 1)
            else:
                if plan.product is None and not prepared:  # the product state covers every wire
                    pending.update({w: pending.get(w, []) for w in range(n_qubits)})
                flush()
                sigma, phase = _monomial(op, n_qubits)
                last = plan.steps[-1] if plan.steps else None
                if isinstance(last, _Permute):  # compose: apply last, then this gate
                    last.sigma, last.phase = last.sigma[sigma], phase * last.phase[sigma]
                else:
                    plan.steps.append(_Permute(sigma, phase))
                continue
            pending.setdefault(wires[0], []).append(len(gates) - 1)
        if plan.product is None and not prepared:
            pending.update({w: pending.get(w, []) for w in range(n_qubits)})
        flush()
        self._compile_pools(constants, rotations, gates, gate_index)
        self._compile_steps(plan)
        self._compile_measurements()

    def _compile_pools(self, constants: list[torch.Tensor], rotations: dict[tuple[str, bool], list[list[int]]],
                       gates: list[tuple[str, bool] | None], gate_index: list[int]) -> None:
        """Pool positions: shared pool ``[identity, constants, shared rotation groups]``, the
        batched pool that followed by the input-reading rotation groups."""
        identity = torch.eye(2, dtype=torch.complex128).flatten()
        # Complex constants are kept as (real, imaginary) pairs: Module.to(dtype) and .float()
        # convert real buffers and would drop an imaginary part.
        self.register_buffer("constants", torch.view_as_real(torch.stack([identity, *constants])),
                             persistent=False)
        self.shared_groups = [key for key in rotations if key[1]]
        self.batched_groups = [key for key in rotations if not key[1]]
        offsets, start = {}, 1 + len(constants)
        for key in self.shared_groups + self.batched_groups:
            offsets[key] = start
            start += len(rotations[key])
        self.shared_entries = 1 + len(constants) + sum(len(rotations[key]) for key in self.shared_groups)
        self.position = [1 + index if key is None else offsets[key] + index for key, index in zip(gates, gate_index)]
        for name, shared in rotations:
            sources = torch.tensor(rotations[name, shared], dtype=torch.int64)
            # Shared groups read the weight vector alone, batched ones the row [inputs, weights].
            self.register_buffer(f"sources_{name}_{shared}", sources - self.n_inputs if shared else sources,
                                 persistent=False)

    def _compile_steps(self, plan: _Plan) -> None:
        """Index buffers of every step; runs of weight-only steps become dense unitaries."""
        n = self.n_qubits
        if plan.product is not None:
            self.register_buffer("product_rounds", self._pool_rounds(plan.product.chains), persistent=False)
        self.steps: list[tuple[str, list[tuple[int, int]], int]] = []
        self.dense: list[list[tuple[str, int]]] = []  # per dense step, its ("kron" | "permute", index) parts
        self.n_rounds = 0
        sigmas: list[torch.Tensor] = []
        phases: list[torch.Tensor] = []

        def rounds_buffer(chains: list[list[int]]) -> int:
            self.register_buffer(f"rounds_{self.n_rounds}", self._pool_rounds(chains), persistent=False)
            self.n_rounds += 1
            return self.n_rounds - 1

        def permutation(step: _Permute) -> int:
            sigmas.append(step.sigma)
            phases.append(step.phase)
            return len(sigmas) - 1

        for step in plan.steps:
            if isinstance(step, _Permute):
                if self.steps and self.steps[-1][0] == "dense":
                    self.dense[-1].append(("permute", permutation(step)))
                else:
                    self.steps.append(("permute", [], permutation(step)))
                continue
            shared = all(self.position[g] < self.shared_entries for chain in step.chains for g in chain)
            if shared and n <= DENSE_QUBITS:
                chains = [step.chains[step.wires.index(w)] if w in step.wires else [] for w in range(n)]
                part = ("kron", rounds_buffer(chains))
                if self.steps and self.steps[-1][0] == "dense":
                    self.dense[-1].append(part)
                    continue
                parts = [part]
                if self.steps and self.steps[-1][0] == "permute":  # the permutation joins the unitary
                    parts.insert(0, ("permute", self.steps.pop()[2]))
                self.steps.append(("dense", [], len(self.dense)))
                self.dense.append(parts)
            else:
                kind = "shared" if shared else "batched"
                self.steps.append((kind, _blocks(step.wires, group_size(n)), rounds_buffer(step.chains)))
        self.trivial_phase = [bool((phase == 1).all()) for phase in phases]
        self.register_buffer("sigmas", torch.stack(sigmas) if sigmas else torch.zeros(0, dtype=torch.int64),
                             persistent=False)
        self.register_buffer("phases", torch.view_as_real(torch.stack(phases)) if phases else torch.zeros(0, 2),
                             persistent=False)

    def _pool_rounds(self, chains: list[list[int]]) -> torch.Tensor:
        return _rounds([[self.position[g] for g in chain] for chain in chains])

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
        self.register_buffer("flips", torch.stack([states ^ mask for mask in self.groups]) if self.groups
                             else torch.zeros(0, dtype=torch.int64), persistent=False)
        if self.tabulated:
            for index, words in enumerate(self.group_words):
                # Entries are 0, ±1 or ±i, exact in single precision, the usual one (and a
                # model's .double() converts the buffer with it): no per-step conversion.
                table = word_factors(words, n)
                self.register_buffer(f"table_{index}", (table.real if self.groups[index] == 0
                                                        else torch.view_as_real(table)).float(), persistent=False)

    def _rotation_matrices(self, key: tuple[str, bool], angles: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        name, shared = key
        sources = self.get_buffer(f"sources_{name}_{shared}")
        return ROTATIONS[name](angles[..., sources]).to(dtype)

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        unbatched = inputs.ndim == 1
        inputs = inputs[None] if unbatched else inputs
        real = torch.promote_types(inputs.dtype, weights.dtype)
        values = self._measure(self.evolve(inputs, weights, state), real)
        return values[0] if unbatched else values

    def evolve(self, inputs: torch.Tensor, weights: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """The final ``(batch, 2**n)`` state for ``(batch, n_inputs)`` inputs (from ``state``
        when the program is ``prepared``)."""
        real = torch.promote_types(inputs.dtype, weights.dtype)
        dtype = _real_to_complex(real)
        batch, n = inputs.shape[0], self.n_qubits
        padded = torch.cat([weights.to(real), weights.new_zeros(1, dtype=real)])  # then [..., n_weights] is 0
        shared = torch.cat([_complex(self.constants, real)]
                           + [self._rotation_matrices(key, padded, dtype) for key in self.shared_groups])
        shared = shared.reshape(-1, 2, 2)
        pool = shared.expand(batch, -1, -1, -1)
        if self.batched_groups:
            row = torch.cat([inputs.to(real), padded.expand(batch, -1)], dim=1)
            rotated = [self._rotation_matrices(key, row, dtype) for key in self.batched_groups]
            pool = torch.cat([pool, torch.cat(rotated, dim=1).reshape(batch, -1, 2, 2)], dim=1)
        if self.prepared:
            if state is None:
                raise ValueError("a prepared program needs the state it starts from")
            state = state.to(dtype)
        else:  # the product state: each wire's chain applied to |0>, i.e. the chain's first column
            state = _outer(_chain(pool, self.product_rounds)[..., 0])
        for kind, blocks, index in self.steps:
            if kind == "permute":
                state = self._permute(state, index, real)
            elif kind == "dense":
                state = state @ self._unitary(shared, index, real).transpose(0, 1)
            else:
                fused = _chain(pool if kind == "batched" else shared, self.get_buffer(f"rounds_{index}"))
                start = 0
                for first, width in blocks:
                    block = _kron(fused[..., start:start + width, :, :])
                    start += width
                    view = state.reshape(batch, 2**first, 2**width, 2 ** (n - first - width))
                    pattern = "bij,bljr->blir" if kind == "batched" else "ij,bljr->blir"
                    state = torch.einsum(pattern, block, view).reshape(batch, -1)
        return state

    def _permute(self, state: torch.Tensor, index: int, real: torch.dtype) -> torch.Tensor:
        """Rows ``psi' = phase * psi[sigma]`` of ``state`` (the last axis)."""
        state = state.index_select(-1, self.sigmas[index])
        return state if self.trivial_phase[index] else state * _complex(self.phases[index], real)

    def _unitary(self, shared: torch.Tensor, index: int, real: torch.dtype) -> torch.Tensor:
        """The ``2**n x 2**n`` matrix of a dense step: its parts multiplied in order."""
        unitary: torch.Tensor | None = None
        for part, number in self.dense[index]:
            if part == "kron":
                layer = _kron(_chain(shared, self.get_buffer(f"rounds_{number}")))
                unitary = layer if unitary is None else layer @ unitary
            else:
                if unitary is None:
                    unitary = torch.eye(2**self.n_qubits, dtype=shared.dtype, device=shared.device)
                unitary = self._permute(unitary.transpose(0, 1), number, real).transpose(0, 1)
        assert unitary is not None
        return unitary

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
                    n_weights: int, words: Sequence[str], prepared: bool = False) -> StatevectorProgram | None:
    """Record ``queue(inputs, weights)`` once with marker angles and compile it; None when an
    operation is not supported (the caller then runs its QNode).  ``prepared``: the circuit
    starts from a state given at each call (see :class:`StatevectorProgram`)."""
    inputs, weights = angle_markers([(n_inputs,), (n_weights,)])
    with qml.queuing.AnnotatedQueue() as annotated:
        queue(inputs, weights)
    operations = qml.tape.QuantumScript.from_queue(annotated).operations
    try:
        return StatevectorProgram(operations, n_qubits, n_inputs, n_weights, words, prepared)
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
