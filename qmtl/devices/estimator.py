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

import math
from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
import pydantic
import torch
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import simulator_tracking, single_tape_support
from pennylane.devices.preprocess import decompose, null_postprocessing, validate_device_wires
from pennylane.math import Interface
from pennylane.measurements import Shots
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
from qmtl.devices.cost import circuit_duration, estimate_qpu_seconds, measurement_bases, shots_for
from qmtl.devices.refusal import DeviceRefusal
from qmtl.devices.sampling import ShotSampledEstimator, active_qubits
from qmtl.devices.shift import shift_rows, split_values
from qmtl.devices.spec import DeviceConfig
from qmtl.devices.targets import Target, estimator_precision, resolve_target
from qmtl.errors import RunStopped, UserError, nearest


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


@simulator_tracking
@single_tape_support
class EstimatorDevice(Device):
    """PennyLane device over a Qiskit ``EstimatorV2`` (Aer, Runtime local mode or IBM).

    The documented route names the target with keywords, the fields of
    :class:`~qmtl.devices.spec.DeviceConfig` (``backend`` is its ``name``)::

        qml.device("qmtl.estimator", wires=4, backend="aer", shots=1000,
                   noise="fake_manila", seed=1)

    ``shots`` are the device's default; ``qml.set_shots`` (or a tape's shots) overrides them
    per call, a shot vector included, and ``shots=None`` asks for exact values (noiseless
    ``aer`` only).  ``qml.Tracker`` records PennyLane's simulator statistics plus
    ``primitive_calls`` and ``rows`` (parameter rows sent) per Estimator call.

    Args:
        wires: the circuit's wires (an int ``n`` means ``range(n)``); ``None``: each circuit
            runs on the wires it uses.
        shots: default shots per expectation value; ``None`` is exact on ``aer``.
        config: a ready qmtl device block instead of keywords (qmtl's ``build_device``).
        seed: simulator seed, used when ``config.seed`` is ``None``.
        noise_model: an Aer ``NoiseModel`` object (``aer`` only; overrides ``config.noise``).
        target: a ready :class:`Target` (overrides ``config``; for tests and advanced use).
        backend: the target's name: ``aer`` (default), ``fake_<backend>``, ``ibm:<name>``.
        **options: the other :class:`DeviceConfig` fields (``noise``, ``precision``,
            ``mitigation``, ``mode``, ``optimization_level``, ``max_rows_per_call``, ...).

    Refusals raise :class:`~qmtl.devices.refusal.DeviceRefusal`, a PennyLane ``DeviceError``.
    """

    def __init__(self, wires=None, shots=None, *, config: DeviceConfig | None = None,
                 seed: int = 0, noise_model: NoiseModel | None = None,
                 target: Target | None = None, backend: str | None = None,
                 **options: Any) -> None:
        super().__init__(wires=wires)
        config = keyword_config(config, backend, shots, options)
        try:
            run_seed = seed if config.seed is None else config.seed
            precision = estimator_precision(config)
            self.target = target or resolve_target(config, run_seed, noise_model)
        except DeviceRefusal:
            raise
        except UserError as error:
            raise DeviceRefusal(str(error)) from error
        if self.wires is not None:
            self._check_width(len(self.wires))
        if config.qpu_budget_seconds is not None and (
                self.target.backend is None or config.qpu_budget_seconds <= 0):
            raise DeviceRefusal(
                f"device.qpu_budget_seconds={config.qpu_budget_seconds} needs a positive "
                f"number and a fake_* or ibm: device, not '{config.name}'; drop it for simulators")
        self.qpu_budget_seconds = config.qpu_budget_seconds
        self.qpu_seconds = 0.0
        """QPU seconds used so far (estimated, or reported by the job); set it to carry on a
        budget across processes."""
        self.estimator_shots = shots_for(config.shots, precision)
        """Shots per expectation value of the configured precision (Runtime's default when
        none is set); QPU-time estimates use it."""
        # PennyLane's default shots: exact unless the configuration samples.  Set directly:
        # Device.__init__(shots=...) warns that device shots are deprecated, but these come
        # from the target's configuration, which PennyLane per-call shots still override.
        self._shots = Shots(None if self.target.analytic and precision is None
                            else self.estimator_shots)
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

    def _check_width(self, n_qubits: int) -> None:
        if self.target.num_qubits is not None and n_qubits > self.target.num_qubits:
            raise DeviceRefusal(
                f"the circuit needs {n_qubits} qubits but backend {self.target.label} "
                f"has {self.target.num_qubits}; use fewer qubits or a larger backend")

    def _compiled_for(self, key: Hashable, tape: QuantumScript) -> CompiledCircuit:
        if key not in self._compiled:
            # Without device wires, each circuit structure runs on the wires it uses.
            wires = self.wires if self.wires is not None else tape.wires
            self._check_width(len(wires))
            compiled = compile_tape(tape, wires, self.target.pass_manager)
            limit = getattr(self.target.estimator, "max_active_qubits", None)
            if limit is not None and len(active_qubits(compiled.isa)) > limit:
                raise DeviceRefusal(
                    f"after layout on {self.target.label} the circuit acts on "
                    f"{len(active_qubits(compiled.isa))} qubits; Aer's noisy density-matrix "
                    f"simulation takes at most {limit}: use fewer qubits, or run the backend "
                    "in Runtime local mode (device.name=fake_<backend>, no device.noise)")
            self._compiled[key] = compiled
            self.transpilations += 1
        return self._compiled[key]

    def _pub_precisions(self, tape: QuantumScript) -> list[float | None]:
        """The Estimator precision of each shot entry of ``tape``: ``None`` for the target's
        configured default, 0 for exact values, ``1/sqrt(shots)`` for PennyLane's shots."""
        if tape.shots == self.shots:
            return [None]
        if not tape.shots:
            if not self.target.analytic:
                raise DeviceRefusal(
                    f"{self.target.label} samples shots and cannot return exact expectation "
                    "values; set shots, e.g. qml.set_shots(qnode, shots=4000)")
            return [0.0]
        return [precision_for_shots(shots) for shots in tape.shots]

    def _evaluate(self, tapes: Sequence[QuantumScript], derivatives: bool):
        """Values (and Jacobians) of ``tapes`` from one batched primitive call.

        Tapes sharing a circuit structure and a precision become rows of one PUB; each entry
        of a shot vector is its own PUB (with its own precision) in the same call.
        """
        groups: dict[tuple[Hashable, float | None], list[tuple[int, int]]] = {}  # -> (tape, shot entry)
        row_blocks, shifted, entries = [], [], []
        for i, tape in enumerate(tapes):
            key = structure_key(tape)
            self._compiled_for(key, tape)
            precisions = self._pub_precisions(tape)
            entries.append(len(precisions))
            for entry, precision in enumerate(precisions):
                groups.setdefault((key, precision), []).append((i, entry))
            angles = tape_angles(tape)
            if derivatives:
                slots = _trainable_slots(tape)
                shifted.append(slots)
                row_blocks.append(shift_rows(angles, slots[slots >= 0]))
            else:
                row_blocks.append(angles[None, :])
        pubs, spans = [], {}
        for pub_index, ((key, precision), members) in enumerate(groups.items()):
            offsets = np.cumsum([0] + [len(row_blocks[i]) for i, _ in members])
            for member, start, stop in zip(members, offsets[:-1], offsets[1:]):
                spans[member] = (pub_index, start, stop)
            compiled = self._compiled[key]
            rows = np.concatenate([row_blocks[i] for i, _ in members])[:, compiled.columns]
            observables = [[obs] for obs in compiled.observables]
            pubs.append((compiled.isa, observables, rows) +
                        (() if precision is None else (precision,)))
        evs = self._run(pubs)
        values, jacobians = [], []
        for i, tape in enumerate(tapes):
            entry_values, entry_jacobians = [], []
            for entry in range(entries[i]):
                pub_index, start, stop = spans[i, entry]
                forward, jac = split_values(evs[pub_index][:, start:stop])
                entry_values.append(forward[0] if len(forward) == 1 else tuple(forward))
                if derivatives:
                    entry_jacobians.append(_format_jacobian(jac, shifted[i]))
            # A shot vector's results are a tuple over its entries (PennyLane's layout).
            vector = tape.shots.has_partitioned_shots
            values.append(tuple(entry_values) if vector else entry_values[0])
            if derivatives:
                jacobians.append(tuple(entry_jacobians) if vector else entry_jacobians[0])
        return tuple(values), tuple(jacobians)

    def _run(self, pubs: list) -> list[np.ndarray]:
        """Evaluate PUBs in one ``run`` call, or in calls of at most ``max_rows_per_call``.

        Runtime's Estimator takes one precision per call, so there PUBs of different shot
        counts (a shot vector's entries) go in one call per shot count; Aer mixes them.
        """
        precisions = {pub[3] if len(pub) > 3 else None for pub in pubs}
        if len(precisions) > 1 and not isinstance(self.target.estimator, ShotSampledEstimator):
            evs: list[np.ndarray | None] = [None] * len(pubs)
            for precision in precisions:
                members = [i for i, pub in enumerate(pubs)
                           if (pub[3] if len(pub) > 3 else None) == precision]
                for i, values in zip(members, self._run([pubs[i] for i in members])):
                    evs[i] = values
            return cast(list[np.ndarray], evs)  # every pub is in one precision's members
        limit = self.target.max_rows_per_call
        if limit is None:
            return self._submit(pubs)
        pieces = [(p, start, min(start + limit, len(pub[2])))
                  for p, pub in enumerate(pubs) for start in range(0, len(pub[2]), limit)]
        calls: list[list[tuple[int, int, int]]] = []
        current: list[tuple[int, int, int]] = []
        size = 0
        for piece in pieces:
            if current and size + piece[2] - piece[1] > limit:
                calls.append(current)
                current, size = [], 0
            current.append(piece)
            size += piece[2] - piece[1]
        calls.append(current)
        parts: list[list[np.ndarray]] = [[] for _ in pubs]
        for call in calls:
            results = self._submit([(pubs[p][0], pubs[p][1], pubs[p][2][a:b], *pubs[p][3:])
                                    for p, a, b in call])
            for (p, _, _), values in zip(call, results):
                parts[p].append(values)
        return [np.concatenate(part, axis=-1) for part in parts]

    def _submit(self, pubs: list) -> list[np.ndarray]:
        cost = self._charge(pubs)
        self.target.reseed(self.primitive_calls)
        self.primitive_calls += 1
        if self.tracker.active:
            self.tracker.update(primitive_calls=1, rows=sum(len(pub[2]) for pub in pubs))
            self.tracker.record()
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
        by_shots: dict[int, list] = {}  # PUBs of per-call shots differ from the default
        for pub in pubs:
            shots = (self.estimator_shots if len(pub) == 3
                     else math.ceil(1.0 / pub[3] ** 2))
            by_shots.setdefault(shots, []).append(pub)
        cost = sum(estimate_qpu_seconds(
            [(len(rows), measurement_bases(obs[0] for obs in observables),
              circuit_duration(isa, backend)) for isa, observables, rows, *_ in group],
            shots, jobs=int(first == 0), backend=backend)
            for first, (shots, group) in enumerate(by_shots.items()))
        if self.qpu_seconds + cost > self.qpu_budget_seconds:
            raise RunStopped(  # the trainer records 'stopped' and adds how to resume
                f"QPU budget spent: {self.qpu_seconds:.1f} s used of "
                f"device.qpu_budget_seconds={self.qpu_budget_seconds:g} and the next call needs "
                f"~{cost:.1f} s; raise device.qpu_budget_seconds in the run's config.yaml")
        return cost


def keyword_config(config: DeviceConfig | None, backend: str | None, shots: Any,
                   options: dict[str, Any]) -> DeviceConfig:
    """The :class:`DeviceConfig` of ``qml.device("qmtl.estimator", backend=..., shots=...,
    **options)``: ``backend`` is its ``name``, every other keyword one of its fields (so fields
    added to ``DeviceConfig`` work as keywords without change here)."""
    if config is not None:
        if backend is not None or shots is not None or options:
            raise DeviceRefusal(
                "qmtl.estimator takes config=DeviceConfig(...) or keywords (backend=, shots=, "
                "noise=, ...), not both; move the keywords into the DeviceConfig")
        return config
    fields = [f for f in DeviceConfig.model_fields if f not in {"name", "shots"}]
    for key in options:
        if key not in fields:
            raise DeviceRefusal(
                f"unknown keyword '{key}' for qmtl.estimator"
                f"{nearest(key, ['backend', 'shots', *fields])}; valid "
                f"keywords: wires, backend, shots, {', '.join(fields)}")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int)):
        raise DeviceRefusal(
            f"qmtl.estimator's shots must be one positive integer, got {shots!r}; for a shot "
            "vector set it per call: qml.set_shots(qnode, shots=[100, 200])")
    try:
        return DeviceConfig(name=backend or "aer", shots=shots, **options)
    except pydantic.ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "options"
        raise DeviceRefusal(
            f"qmtl.estimator keyword '{where}': {first['msg'].removeprefix('Value error, ')}; "
            "see the device table in docs/howto/aer.md") from None


def precision_for_shots(shots: int) -> float:
    """The Estimator precision whose shot count ``ceil(1/precision**2)`` is ``shots``."""
    precision = 1.0 / math.sqrt(shots)
    while math.ceil(1.0 / precision**2) > shots:  # rounding can make 1/p**2 = shots + 1e-13
        precision = math.nextafter(precision, math.inf)
    return precision


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
        raise DeviceRefusal("trainable observable coefficients are not supported on a Qiskit "
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
