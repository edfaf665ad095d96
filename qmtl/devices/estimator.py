"""``EstimatorDevice``: a PennyLane device that runs whole batches on a Qiskit ``EstimatorV2``.

Per batch of tapes (every task observable, every broadcast row and -- with
``diff_method="device"`` -- every parameter-shift row of a training step) the device

1. compiles each new circuit structure once into a parametrised ISA circuit (compile.py),
2. stacks the angle rows of all tapes sharing a structure into one PUB, and
3. sends all PUBs in ONE ``EstimatorV2.run`` call (split only by ``max_rows_per_call``).

Gradients come from the two-term shift rule (shift.py) evaluated in that same call, and the
execution config asks PennyLane for ``grad_on_execution=True`` so the backward pass reuses
the cached Jacobian: one training step is one primitive call (``primitive_calls`` counts).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace

import numpy as np
import torch
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import single_tape_support
from pennylane.math import Interface
from pennylane.devices.preprocess import decompose, null_postprocessing, validate_device_wires
from pennylane.tape import QuantumScript, QuantumScriptBatch
from pennylane.transforms import broadcast_expand
from pennylane.transforms.core import CompilePipeline, transform
from qiskit_aer.noise import NoiseModel

from qmtl.devices.compile import (
    CompiledCircuit,
    angle_slots,
    compile_tape,
    is_supported,
    pauli_sentence,
    structure_key,
    tape_angles,
)
from qmtl.devices.shift import shift_rows, split_values
from qmtl.devices.spec import DeviceConfig
from qmtl.devices.targets import Target, estimator_precision, resolve_target
from qmtl.errors import RunStopped, UserError
from qmtl.hardware.cost import circuit_duration, estimate_qpu_seconds, measurement_bases, shots_for


@transform
def require_pauli_expvals(tape: QuantumScript):
    """Reject measurements an Estimator cannot express (anything but Pauli-sum expvals)."""
    for mp in tape.measurements:
        pauli_sentence(mp)
    return (tape,), null_postprocessing


@transform
def expand_broadcast(tape: QuantumScript):
    """Split a broadcast tape into one tape per row.

    With device derivatives this runs outside the ML boundary, so the per-row Jacobians
    flow back to a broadcast (per-sample) parameter through torch's own indexing; the rows
    still reach the device in one batch and become rows of one PUB.
    """
    if tape.batch_size is None:
        return (tape,), null_postprocessing
    return broadcast_expand(tape)


@single_tape_support
class EstimatorDevice(Device):
    """PennyLane device over a Qiskit ``EstimatorV2`` (Aer, Runtime local mode or IBM).

    Args:
        wires: the circuit's wires (an int ``n`` means ``range(n)``).
        config: the qmtl device block; ``name`` must be a Qiskit name (default ``aer``).
        seed: simulator seed, used when ``config.seed`` is ``None``.
        noise_model: an Aer ``NoiseModel`` object (``aer`` only; overrides ``config.noise``).
        target: a ready :class:`Target` (overrides ``config``; for tests and advanced use).
    """

    def __init__(self, wires=None, shots=None, *, config: DeviceConfig | None = None,
                 seed: int = 0, noise_model: NoiseModel | None = None,
                 target: Target | None = None) -> None:
        if shots is not None:
            raise UserError("set shots in the qmtl device block (device.shots), not on the "
                            "PennyLane device: they become the Estimator precision")
        if wires is None:
            raise UserError("EstimatorDevice needs wires, e.g. qml.device('qmtl.estimator', "
                            "wires=4)")
        super().__init__(wires=wires)
        config = config or DeviceConfig(name="aer")
        run_seed = seed if config.seed is None else config.seed
        self.target = target or resolve_target(config, run_seed, noise_model)
        if self.target.num_qubits is not None and len(self.wires) > self.target.num_qubits:
            raise UserError(
                f"the circuit needs {len(self.wires)} qubits but backend {self.target.label} "
                f"has {self.target.num_qubits}; use fewer qubits or a larger backend")
        if config.qpu_budget_seconds is not None and (
                self.target.backend is None or config.qpu_budget_seconds <= 0):
            raise UserError(
                f"device.qpu_budget_seconds={config.qpu_budget_seconds} needs a positive "
                f"number and a fake_* or ibm: device, not '{config.name}'; drop it for simulators")
        self.qpu_budget_seconds = config.qpu_budget_seconds
        self.qpu_seconds = 0.0
        """QPU seconds used so far (estimated, or reported by the job); set it to carry on a
        budget across processes."""
        self._shots = shots_for(config.shots, estimator_precision(config))
        self.primitive_calls = 0
        """Number of ``EstimatorV2.run`` calls made."""
        self.transpilations = 0
        """Number of circuit structures compiled (each transpiled exactly once)."""
        self._compiled: dict[Hashable, CompiledCircuit] = {}

    @property
    def name(self) -> str:
        return "qmtl.estimator"

    def close(self) -> None:
        """Close the Runtime ``Batch``/``Session`` this device opened, if any."""
        if self.target.session is not None:
            self.target.session.close()

    # -- configuration -------------------------------------------------------------------

    def supports_derivatives(self, execution_config: ExecutionConfig | None = None,
                             circuit: QuantumScript | None = None) -> bool:
        if execution_config is None:
            return True
        return (execution_config.gradient_method in {"device", "best"}
                and execution_config.derivative_order == 1)

    def setup_execution_config(self, config: ExecutionConfig | None = None,
                               circuit: QuantumScript | None = None) -> ExecutionConfig:
        config = config or ExecutionConfig()
        if config.gradient_method not in {"device", "best"}:
            return config
        if config.interface == Interface.TORCH and not torch.is_grad_enabled():
            # Under torch.no_grad() nn.Parameters still count as trainable for PennyLane;
            # without this the shift rows (2 per angle) would be evaluated for nothing.
            return replace(config, gradient_method=None, use_device_gradient=False,
                           use_device_jacobian_product=False, grad_on_execution=False)
        # Gradients on execution: the shift rows ride along with the forward rows, and the
        # backward pass reads the cached Jacobian instead of calling the primitive again.
        updates = {"gradient_method": "device", "use_device_gradient": True}
        if config.use_device_jacobian_product is None:
            updates["use_device_jacobian_product"] = False
        if config.grad_on_execution is None:
            updates["grad_on_execution"] = True
        return replace(config, **updates)

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None
                              ) -> CompilePipeline:
        program = CompilePipeline()
        program.add_transform(validate_device_wires, self.wires, name=self.name)
        program.add_transform(require_pauli_expvals)
        program.add_transform(decompose, stopping_condition=is_supported,
                              skip_initial_state_prep=False, name=self.name)
        program.add_transform(expand_broadcast)
        return program

    # -- execution -----------------------------------------------------------------------

    def execute(self, circuits: QuantumScriptBatch,
                execution_config: ExecutionConfig | None = None):
        return self._evaluate(circuits, derivatives=False)[0]

    def compute_derivatives(self, circuits: QuantumScriptBatch,
                            execution_config: ExecutionConfig | None = None):
        return self._evaluate(circuits, derivatives=True)[1]

    def execute_and_compute_derivatives(self, circuits: QuantumScriptBatch,
                                        execution_config: ExecutionConfig | None = None):
        return self._evaluate(circuits, derivatives=True)

    def _compiled_for(self, key: Hashable, tape: QuantumScript) -> CompiledCircuit:
        if key not in self._compiled:
            self._compiled[key] = compile_tape(tape, self.wires, self.target.pass_manager)
            self.transpilations += 1
        return self._compiled[key]

    def _evaluate(self, tapes: Sequence[QuantumScript], derivatives: bool):
        """Values (and Jacobians) of ``tapes`` from one batched primitive call."""
        groups: dict[Hashable, list[int]] = {}
        row_blocks, shifted = [], []
        for i, tape in enumerate(tapes):
            key = structure_key(tape)
            groups.setdefault(key, []).append(i)
            self._compiled_for(key, tape)
            angles = tape_angles(tape)
            if derivatives:
                slots = _trainable_slots(tape)
                shifted.append(slots)
                row_blocks.append(shift_rows(angles, slots[slots >= 0]))
            else:
                row_blocks.append(angles[None, :])
        pubs, spans = [], [None] * len(tapes)
        for pub_index, (key, members) in enumerate(groups.items()):
            offsets = np.cumsum([0] + [len(row_blocks[i]) for i in members])
            for i, start, stop in zip(members, offsets[:-1], offsets[1:]):
                spans[i] = (pub_index, start, stop)
            compiled = self._compiled[key]
            rows = np.concatenate([row_blocks[i] for i in members])[:, compiled.columns]
            observables = [[obs] for obs in compiled.observables]
            pubs.append((compiled.isa, observables, rows))
        evs = self._run(pubs)
        values, jacobians = [], []
        for i, (pub_index, start, stop) in enumerate(spans):
            block = evs[pub_index][:, start:stop]
            forward, jac = split_values(block)
            values.append(forward[0] if len(forward) == 1 else tuple(forward))
            if derivatives:
                jacobians.append(_format_jacobian(jac, shifted[i]))
        return tuple(values), tuple(jacobians)

    def _run(self, pubs: list) -> list[np.ndarray]:
        """Evaluate PUBs in one ``run`` call, or in calls of at most ``max_rows_per_call``."""
        limit = self.target.max_rows_per_call
        if limit is None:
            return self._submit(pubs)
        pieces = [(p, start, min(start + limit, len(pub[2])))
                  for p, pub in enumerate(pubs) for start in range(0, len(pub[2]), limit)]
        calls, current, size = [], [], 0
        for piece in pieces:
            if current and size + piece[2] - piece[1] > limit:
                calls.append(current)
                current, size = [], 0
            current.append(piece)
            size += piece[2] - piece[1]
        calls.append(current)
        parts: list[list[np.ndarray]] = [[] for _ in pubs]
        for call in calls:
            results = self._submit([(pubs[p][0], pubs[p][1], pubs[p][2][a:b])
                                    for p, a, b in call])
            for (p, _, _), evs in zip(call, results):
                parts[p].append(evs)
        return [np.concatenate(part, axis=-1) for part in parts]

    def _submit(self, pubs: list) -> list[np.ndarray]:
        cost = self._charge(pubs)
        self.target.reseed(self.primitive_calls)
        self.primitive_calls += 1
        job = self.target.estimator.run(pubs)
        result = job.result()
        self.qpu_seconds += reported_usage(job, self.target.backend) or cost
        return [np.asarray(pub_result.data.evs, dtype=float).reshape(len(pub[1]), -1)
                for pub, pub_result in zip(pubs, result)]


    def _charge(self, pubs: list) -> float:
        """The estimated QPU seconds of one call; refuses a call past the budget."""
        if self.qpu_budget_seconds is None:
            return 0.0
        backend = self.target.backend
        cost = estimate_qpu_seconds(
            [(len(rows), measurement_bases(obs[0] for obs in observables),
              circuit_duration(isa, backend)) for isa, observables, rows in pubs],
            self._shots, jobs=1, backend=backend)
        if self.qpu_seconds + cost > self.qpu_budget_seconds:
            raise RunStopped(  # the trainer records 'stopped' and adds how to resume
                f"QPU budget spent: {self.qpu_seconds:.1f} s used of "
                f"device.qpu_budget_seconds={self.qpu_budget_seconds:g} and the next call needs "
                f"~{cost:.1f} s; raise device.qpu_budget_seconds in the run's config.yaml")
        return cost


def reported_usage(job, backend) -> float | None:
    """Quantum seconds IBM reports for a finished job; ``None`` offline (local mode)."""
    if backend is None or getattr(backend, "service", None) is None or not hasattr(job, "usage"):
        return None
    try:
        return float(job.usage())
    except Exception:  # usage is reported late or not at all for some job states
        return None


def _trainable_slots(tape: QuantumScript) -> np.ndarray:
    """Angle index of each trainable parameter (-1: no effect, derivative zero)."""
    slots = angle_slots(tape)
    trainable = np.asarray(tape.trainable_params, dtype=int)
    if np.any(trainable >= len(slots)):
        raise UserError("trainable observable coefficients are not supported on a Qiskit "
                        "Estimator; make the coefficients constants (requires_grad=False)")
    return slots[trainable]


def _format_jacobian(live: np.ndarray, slots: np.ndarray):
    """PennyLane's Jacobian layout (as ``default.qubit``'s adjoint): squeeze the
    ``(measurements, trainable parameters)`` matrix, then nest as tuples."""
    jac = np.zeros((live.shape[0], len(slots)))
    jac[:, slots >= 0] = live
    jac = np.squeeze(jac)
    if jac.ndim == 0:
        return np.array(jac)
    if jac.ndim == 1:
        return tuple(np.array(j) for j in jac)
    return tuple(tuple(np.array(j) for j in row) for row in jac)
