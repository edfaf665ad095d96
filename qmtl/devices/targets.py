"""Resolve a :class:`DeviceConfig` to a Qiskit target: an ``EstimatorV2``-shaped estimator
plus the pass manager that turns a virtual circuit into that target's ISA circuit.

Targets
-------
* ``aer``: :class:`qmtl.devices.sampling.ShotSampledEstimator`, Aer's ``EstimatorV2`` with
  honest shot noise.  It evaluates exact expectation values (``save_expectation_value``) and,
  when a precision ``p`` is set, draws each estimate with the variance of measuring every
  qubit-wise commuting group of its Pauli terms with ``1/p**2`` shots, seeded by
  ``run_options['seed_simulator']``.  With a noise model the exact noisy expectation values
  (and variances) before that sampling noise are Aer's density-matrix values, computed for all
  rows of a call in one vectorised Pauli-transfer pass (:mod:`qmtl.devices.transfer`; Aer's
  own density-matrix method, one experiment per row, for circuits that pass declines).
* ``fake_<backend>``: Runtime's client-side Estimator
  (:class:`qiskit_ibm_runtime.executor_estimator.Estimator`, built on the Executor) with
  ``mode=<fake backend>``, the Runtime *local testing mode*: twirling, gate folding and
  dynamical decoupling transform the circuits on the client, the Executor samples them on
  the backend's noisy Aer simulator, and TREX / ZNE post-process the counts on the client --
  so ``device.mitigation`` is applied offline exactly as on hardware.  It measures
  ``ceil(1/p**2)`` shots; its seed (shots and twirling randomizations) is
  ``options.simulator.seed_simulator`` (``fake_provider/executor/run_quantum_program.py``).
* ``ibm:<name>``: the same Estimator on ``QiskitRuntimeService().backend(name)``, in job,
  ``Batch`` or ``Session`` mode.  Its ``run(pubs)`` and results have the ``EstimatorV2``
  shape, so the device sends one call per training step whatever the target.

Shots and precision are related by the Runtime convention ``precision = 1/sqrt(shots)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from qiskit.primitives import BaseEstimatorV2
from qiskit.transpiler import PassManager
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from qmtl.devices.noise import load_noise_model, looks_like_path
from qmtl.devices.sampling import ShotSampledEstimator
from qmtl.devices.spec import DeviceConfig, MitigationConfig
from qmtl.errors import UserError, unknown_name

QISKIT_NAMES = ("aer",)
IBM_PREFIX = "ibm:"
# Aer's density matrix doubles the qubit count of a statevector: a noisy Aer estimate of a
# circuit acting on more qubits than this no longer fits in memory and time (idle qubits of
# a wide backend are truncated away, so this bounds the circuit after layout, not the backend).
MAX_DENSITY_MATRIX_QUBITS = 12


@dataclass(frozen=True)
class Target:
    """An estimator and the compilation that produces circuits it accepts."""

    label: str
    estimator: BaseEstimatorV2
    pass_manager: PassManager
    num_qubits: int | None
    max_rows_per_call: int | None = None
    session: Any = None
    """The Runtime ``Batch``/``Session`` to close when done, if any."""
    backend: Any = None
    """The Runtime backend (fake or real) whose timings estimate QPU time; else ``None``."""
    base_seed: int | None = None
    """Simulator seed of the run; ``None`` for real hardware."""
    mitigation: MitigationConfig | None = None
    """Error mitigation the Runtime Estimator applies in every call; ``None`` for none."""
    analytic: bool = False
    """Whether the estimator can return exact expectation values (precision 0): noiseless
    Aer only; every other target samples shots."""

    def reseed(self, call: int) -> None:
        """Seed the simulator for primitive call number ``call``.

        Every call gets its own seed, derived from ``(base_seed, call)``: shot noise is fresh
        at every training step (one fixed seed would repeat the same noise draw every step)
        and still reproducible, also across a resume that restores the call count.
        """
        if self.base_seed is None:
            return
        seed = int(np.random.SeedSequence([self.base_seed, call]).generate_state(1)[0]) or 1
        if isinstance(self.estimator, AerEstimatorV2):
            self.estimator.options.run_options["seed_simulator"] = seed
        else:  # Runtime local testing mode
            self.estimator.options.simulator.seed_simulator = seed


@cache
def _fake_backend_classes() -> dict[str, type[Any]]:
    # Importing the fake provider takes seconds; do it only when a fake name is needed.
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    classes = (getattr(fake_provider, n) for n in dir(fake_provider) if n.startswith("Fake"))
    return {
        # qiskit-ibm-runtime is untyped, so issubclass does not narrow cls to FakeBackendV2.
        cls.backend_name: cls  # type: ignore[attr-defined]
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, FakeBackendV2)
        and getattr(cls, "backend_name", None)
    }


def fake_backend_names() -> list[str]:
    """Names of the fake IBM backends usable as ``fake_<backend>`` or ``noise``."""
    return sorted(_fake_backend_classes())


def fake_backend(name: str) -> Any:
    """Instantiate the fake backend ``name`` (e.g. ``fake_manila``)."""
    classes = _fake_backend_classes()
    if name not in classes:
        raise unknown_name("fake backend", name, classes)
    return classes[name]()


def ibm_backend(name: str) -> Any:
    """The real backend ``name`` from the saved IBM Quantum account."""
    from qmtl.devices.account import runtime_service

    service = runtime_service()  # a missing account is its own one-line error
    try:
        return service.backend(name)
    except Exception as exc:  # network and name errors need the user
        raise UserError(
            f"cannot open IBM backend '{name}': {exc}; check the backend name with "
            "QiskitRuntimeService().backends()"
        ) from exc


def estimator_precision(config: DeviceConfig) -> float | None:
    """The Estimator precision the config asks for, or ``None`` for exact execution."""
    if config.shots is not None and config.precision is not None:
        raise UserError("set either device.shots or device.precision, not both")
    if config.shots is not None:
        if config.shots <= 0:
            raise UserError(f"device.shots must be a positive integer, got {config.shots}; "
                            "use e.g. --set device.shots=4000, or leave it unset for exact")
        return 1.0 / math.sqrt(config.shots)
    if config.precision is not None and config.precision <= 0:
        raise UserError(f"device.precision must be > 0, got {config.precision}; "
                        "leave it unset for exact expectation values")
    return config.precision


def resolve_target(config: DeviceConfig, seed: int,
                   noise_model: NoiseModel | None = None) -> Target:
    """Build the :class:`Target` for a Qiskit device name (``aer``, ``fake_*``, ``ibm:*``)."""
    precision = estimator_precision(config)
    if config.name == "aer":
        return _aer_target(config, seed, precision, noise_model)
    if noise_model is not None or config.noise is not None:
        raise UserError(f"device.noise applies to device.name=aer only, not '{config.name}'; "
                        "a fake backend brings its own noise model")
    if config.name.startswith(IBM_PREFIX):
        if not config.name.removeprefix(IBM_PREFIX).strip():
            raise UserError(f"device.name '{config.name}' names no backend; write ibm:<backend name>, "
                            "e.g. ibm:ibm_brisbane")
        backend = ibm_backend(config.name.removeprefix(IBM_PREFIX))
        return _runtime_target(config, seed, precision, backend, local=False)
    if config.name.startswith("fake_"):
        return _runtime_target(config, seed, precision, fake_backend(config.name), local=True)
    raise AssertionError(f"not a Qiskit device name: {config.name}")


def _aer_target(config: DeviceConfig, seed: int, precision: float | None,
                noise_model: NoiseModel | None) -> Target:
    backend = None
    if noise_model is None and config.noise is not None:
        if looks_like_path(config.noise):
            noise_model = load_noise_model(config.noise)
        else:
            backend = fake_backend(config.noise)
    noisy = noise_model is not None or backend is not None
    if noisy and precision is None:
        raise UserError("a noise model needs shot-based estimation: set device.shots "
                        "(e.g. 4000) or device.precision, or drop device.noise for exact runs")
    options = {"default_precision": precision or 0.0, "run_options": {"seed_simulator": seed}}
    if backend is not None:
        simulator = AerSimulator.from_backend(backend, method="density_matrix")
        estimator = ShotSampledEstimator.from_backend(simulator, options=options)
        estimator.max_active_qubits = MAX_DENSITY_MATRIX_QUBITS
        estimator.pauli_transfer = True
        manager = generate_preset_pass_manager(
            config.optimization_level, backend=backend, seed_transpiler=seed)
        return Target(f"aer+{backend.name}", estimator, manager, backend.num_qubits,
                      config.max_rows_per_call, base_seed=seed)
    if noise_model is not None:
        options["backend_options"] = {"noise_model": noise_model, "method": "density_matrix"}
        manager = generate_preset_pass_manager(
            config.optimization_level, basis_gates=noise_model.basis_gates,
            seed_transpiler=seed)
        estimator = ShotSampledEstimator(options=options)
        estimator.max_active_qubits = MAX_DENSITY_MATRIX_QUBITS
        estimator.pauli_transfer = True
        return Target("aer+noise", estimator, manager, None, config.max_rows_per_call,
                      base_seed=seed)
    # No coupling map: layout is trivial and the circuit keeps its own width.
    manager = generate_preset_pass_manager(config.optimization_level, seed_transpiler=seed)
    return Target("aer", ShotSampledEstimator(options=options), manager, None,
                  config.max_rows_per_call, base_seed=seed, analytic=True)


def _runtime_target(config: DeviceConfig, seed: int, precision: float | None, backend: Any,
                    local: bool) -> Target:
    from qiskit_ibm_runtime import Batch, Session
    from qiskit_ibm_runtime.executor_estimator import Estimator

    from qmtl.devices.mitigation import apply_mitigation

    estimator = Estimator(mode=backend)
    apply_mitigation(estimator.options, config.mitigation)  # checked before any session opens
    session = {"job": None, "batch": Batch, "session": Session}[config.mode]
    if session is not None:
        session = session(backend=backend)
        estimator = Estimator(mode=session, options=estimator.options)
    if config.shots is not None:
        estimator.options.default_shots = config.shots
    elif precision is not None:
        estimator.options.default_precision = precision
    if local:
        estimator.options.simulator.seed_simulator = seed
    manager = generate_preset_pass_manager(
        config.optimization_level, backend=backend, seed_transpiler=seed)
    return Target(backend.name, estimator, manager, backend.num_qubits,
                  config.max_rows_per_call, session, backend, base_seed=seed if local else None,
                  mitigation=config.mitigation)
