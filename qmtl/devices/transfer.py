r"""Noisy expectation values of many parameter rows at once, in the Pauli transfer picture.

Aer's density-matrix method simulates each parameter row of a PUB as its own experiment.
For the small circuits of noisy training (5 qubits on ``fake_manila``, ~110 gates) the
per-experiment cost dominates: a training step of ~2,000 forward and parameter-shift rows
took ~8 ms per row (``experiments/benchmarks/README.md``, noisy epoch section).  This module
evaluates the same exact noisy expectation values for all rows of a PUB in one vectorised
numpy pass.

A state of :math:`k` qubits is stored by its Pauli coordinates
:math:`r_P = \operatorname{Tr}(P\rho)` for the :math:`4^k` Pauli words :math:`P` (a real
vector; Greenbaum, *Introduction to Quantum Gate Set Tomography*, arXiv:1509.02921, sec. 2.3).
A channel :math:`\mathcal E` acts as its Pauli transfer matrix
:math:`R_{PQ} = \operatorname{Tr}(P\,\mathcal E(Q))/2^k` (``qiskit.quantum_info.PTM``) on the
qubits it touches, and :math:`\langle P\rangle = r_P` is read off directly.

What the channels are is Aer's business, not ours: ``qiskit_aer.utils.insert_noise`` places
the noise model's errors after the instructions they follow, as Aer's simulation does, and
every fixed gate and every inserted error becomes ``qiskit.quantum_info.PTM`` of it, computed
once per compiled circuit.  Adjacent fixed channels whose qubits together number at most two
are multiplied into one (fewer passes over the state; the same channel).  The parametrised
gates -- ``rz``/``p``, ``rx``, ``ry`` with angles affine in one parameter, as the transpiler
emits them -- turn two Pauli coordinates of each row by that row's angle; their errors, if
the noise model has any, follow as fixed channels.  Circuits with anything else (other
parametrised gates, measurements, control flow) are declined (:func:`transfer_program`
returns ``None``) and run on Aer as before.

The values equal Aer's density-matrix values to rounding (``tests/devices/
test_pauli_transfer.py``: 1e-8 and better), so the shot noise drawn around them
(:mod:`qmtl.devices.sampling`) is the same draw under the same seed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Gate, Parameter, ParameterExpression
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import PTM, Pauli
from qiskit_aer.noise import NoiseModel
from qiskit_aer.utils import insert_noise

# Pauli coordinate indices per qubit: I, X, Y, Z (qiskit's PTM order).
_X, _Y, _Z = 1, 2, 3
# The plane each one-angle rotation turns: exp(-i theta/2 Z) maps (r_X, r_Y) to
# (cos r_X - sin r_Y, sin r_X + cos r_Y); RX turns (Y, Z), RY turns (Z, X) alike.
ROTATION_PLANES = {"rz": (_X, _Y), "p": (_X, _Y), "rx": (_Y, _Z), "ry": (_Z, _X)}
SKIPPED = frozenset({"barrier"})
ROW_BUDGET_BYTES = 2**20
"""Rows are evaluated in chunks whose states take at most this much memory (at least one
row): a chunk that stays in the CPU cache ran 4x faster than all ~2,000 rows of a step at
once (5 qubits, 1 MiB vs 16 MiB chunks)."""


@dataclass(frozen=True)
class FixedChannel:
    """A fixed (noisy) channel on ``axes``: its transfer matrix as a tensor with one output
    and one input index per qubit, output indices first, in ``axes`` order."""

    axes: tuple[int, ...]
    tensor: np.ndarray


@dataclass(frozen=True)
class Rotation:
    """A one-angle rotation of Pauli coordinates ``plane`` on ``axis`` by
    ``scale * parameter[column] + offset`` (per row)."""

    axis: int
    plane: tuple[int, int]
    column: int
    scale: float
    offset: float


@dataclass(frozen=True)
class TransferProgram:
    """A circuit compiled to transfer-matrix operations on its active qubits.

    ``qubits`` are the circuit's qubit indices simulated (ascending); qubit ``qubits[l]`` is
    state axis ``1 + len(qubits) - 1 - l``, so the flat Pauli index is
    :math:`\\sum_l i_l 4^l` as in qiskit's PTM.
    """

    qubits: tuple[int, ...]
    operations: tuple[FixedChannel | Rotation, ...]
    n_parameters: int

    def expectation_values(self, angles: np.ndarray, labels: list[str]) -> np.ndarray:
        """``<P>`` for every Pauli label (over the circuit's full width, qiskit order) at every
        row of ``angles`` (shape ``(rows, n_parameters)``): shape ``(rows, len(labels))``."""
        if angles.ndim != 2 or angles.shape[1] != self.n_parameters:
            raise ValueError(f"angles must have shape (rows, {self.n_parameters}), got {angles.shape}")
        width = len(self.qubits)
        words = [Pauli(label) for label in labels]
        indices = []
        for word in words:
            local = word[list(self.qubits)]
            if local.phase or np.any(np.delete(word.x | word.z, list(self.qubits))):
                raise ValueError(f"Pauli {word} acts outside the simulated qubits {self.qubits}")
            codes = (local.x.astype(int) + 2 * local.z.astype(int))  # I=0, X=1, Z=2, Y=3
            pauli_index = np.array([0, _X, _Z, _Y])[codes]
            indices.append(int(np.sum(pauli_index * 4 ** np.arange(width))))
        rows_per_chunk = max(1, ROW_BUDGET_BYTES // (8 * 4**width))
        values = np.empty((len(angles), len(labels)))
        for start in range(0, len(angles), rows_per_chunk):
            chunk = angles[start:start + rows_per_chunk]
            state = self._run(chunk).reshape(len(chunk), -1)
            values[start:start + len(chunk)] = state[:, indices]
        return values

    def _run(self, angles: np.ndarray) -> np.ndarray:
        width = len(self.qubits)
        zero = np.array([1.0, 0.0, 0.0, 1.0])  # |0><0| = (I + Z)/2: r_I = r_Z = 1
        state = np.broadcast_to(zero, (len(angles),) + (4,) * width)
        for product_axis in range(width - 1):  # outer product of the one-qubit states
            shape = [1] * (width + 1)
            shape[1 + product_axis] = 4
            state = state * zero.reshape(shape)
        state = np.array(state)
        for operation in self.operations:
            if isinstance(operation, Rotation):
                theta = operation.scale * angles[:, operation.column] + operation.offset
                state = _rotate(state, operation, theta)
            else:
                state = _apply(state, operation)
        return state


def _apply(state: np.ndarray, channel: FixedChannel) -> np.ndarray:
    """``channel`` on every row of ``state``: one BLAS contraction over its axes."""
    n = len(channel.axes)
    moved = np.tensordot(channel.tensor, state, axes=(list(range(n, 2 * n)), list(channel.axes)))
    return np.ascontiguousarray(np.moveaxis(moved, list(range(n)), list(channel.axes)))


def _rotate(state: np.ndarray, rotation: Rotation, theta: np.ndarray) -> np.ndarray:
    """Turn the Pauli coordinates ``rotation.plane`` of every row by its angle, in place."""
    a, b = rotation.plane
    shape = (len(theta),) + (1,) * (state.ndim - 2)
    cos, sin = np.cos(theta).reshape(shape), np.sin(theta).reshape(shape)
    first = np.take(state, a, axis=rotation.axis)
    second = np.take(state, b, axis=rotation.axis)
    index: list[slice | int] = [slice(None)] * state.ndim
    index[rotation.axis] = a
    state[tuple(index)] = cos * first - sin * second
    index[rotation.axis] = b
    state[tuple(index)] = sin * first + cos * second
    return state


def _affine(expression: ParameterExpression, parameter: Parameter) -> tuple[float, float] | None:
    """``(scale, offset)`` with ``expression = scale * parameter + offset``, or ``None``."""
    at = [float(expression.bind({parameter: x})) for x in (0.0, 1.0, 2.5)]
    scale, offset = at[1] - at[0], at[0]
    return (scale, offset) if abs(scale * 2.5 + offset - at[2]) < 1e-12 else None


def transfer_program(circuit: QuantumCircuit, qubits: list[int], noise_model: NoiseModel
                     ) -> TransferProgram | None:
    """Compile ``circuit`` (simulated on ``qubits``, ascending) under ``noise_model``;
    ``None`` when it holds an instruction this picture does not cover."""
    axis_of = {q: len(qubits) - local for local, q in enumerate(qubits)}
    position = {p: i for i, p in enumerate(circuit.parameters)}
    # Aer's own insertion of the noise model's errors after the instructions they follow:
    # the circuit Aer's density-matrix method evolves.
    noisy = insert_noise(circuit, noise_model)
    operations: list[FixedChannel | Rotation] = []
    matrices: dict[tuple, np.ndarray] = {}
    for instruction in noisy.data:
        operation = instruction.operation
        if operation.name in SKIPPED:
            continue
        touched = tuple(noisy.find_bit(q).index for q in instruction.qubits)
        if instruction.clbits or not touched or any(q not in axis_of for q in touched):
            return None
        params = operation.params
        if any(isinstance(p, ParameterExpression) and p.parameters for p in params):
            if operation.name not in ROTATION_PLANES or len(params[0].parameters) != 1:
                return None
            (parameter,) = params[0].parameters
            affine = _affine(params[0], parameter)
            if affine is None:
                return None
            operations.append(Rotation(axis_of[touched[0]], ROTATION_PLANES[operation.name],
                                       position[parameter], *affine))
            continue
        # A gate is fixed by its name and angles; any other instruction (a noise channel, its
        # Kraus operators not among its params) only by itself.
        key: tuple = (id(operation), touched)
        if isinstance(operation, Gate):
            with contextlib.suppress(TypeError):  # a matrix parameter (a unitary gate): only by itself
                key = (operation.name, touched, tuple(float(p) for p in params))
        if key not in matrices:
            try:
                matrices[key] = np.asarray(PTM(operation).data.real)
            except QiskitError:  # no matrix definition: not a channel this picture covers
                return None
        _append_fused(operations, _channel(matrices[key], touched, axis_of))
    return TransferProgram(tuple(qubits), tuple(operations), len(position))


def _channel(matrix: np.ndarray, touched: tuple[int, ...], axis_of: dict[int, int]) -> FixedChannel:
    """The transfer matrix of an instruction on ``touched`` (qiskit's PTM: instruction qubit
    ``t`` is flat index digit ``t``, little-endian) as a tensor on state axes."""
    n = len(touched)
    # A flat little-endian index reshapes to (i_{n-1}, ..., i_0): instruction qubit t is
    # tensor index n - 1 - t, for outputs and (shifted by n) for inputs.
    tensor = matrix.reshape((4,) * (2 * n))
    axes = tuple(axis_of[touched[n - 1 - t]] for t in range(n))
    return FixedChannel(axes, tensor)


def _append_fused(operations: list[FixedChannel | Rotation], channel: FixedChannel) -> None:
    """Append ``channel``, composed into the last fixed channel before it on its qubits when
    nothing since touched their union and the union has at most two qubits (fewer passes
    over the state, the same channel)."""
    for index in range(len(operations) - 1, -1, -1):
        previous = operations[index]
        previous_axes = (previous.axis,) if isinstance(previous, Rotation) else previous.axes
        if not set(previous_axes) & set(channel.axes):
            continue
        union = tuple(dict.fromkeys(previous_axes + channel.axes))
        later = operations[index + 1:]
        if (isinstance(previous, Rotation) or len(union) > 2 or any(
                set((op.axis,) if isinstance(op, Rotation) else op.axes) & set(union)
                for op in later)):
            break
        operations[index] = FixedChannel(union, _compose(channel, previous, union))
        return
    operations.append(channel)


def _compose(after: FixedChannel, before: FixedChannel, axes: tuple[int, ...]) -> np.ndarray:
    """The tensor of ``after`` applied to the output of ``before``, both widened to ``axes``."""
    m = len(axes)
    outputs, middle, inputs = list(range(m)), list(range(2 * m, 3 * m)), list(range(m, 2 * m))
    return np.einsum(_widened(after, axes), outputs + middle, _widened(before, axes),
                     middle + inputs, outputs + inputs)


def _widened(channel: FixedChannel, axes: tuple[int, ...]) -> np.ndarray:
    """``channel``'s tensor on ``axes`` (outputs then inputs, in ``axes`` order), the
    identity on the axes it does not touch."""
    m = len(axes)
    slots = [axes.index(axis) for axis in channel.axes]
    operands: list = [channel.tensor, slots + [m + slot for slot in slots]]
    for slot, axis in enumerate(axes):
        if axis not in channel.axes:
            operands += [np.eye(4), [slot, m + slot]]
    return np.einsum(*operands, list(range(2 * m)))
