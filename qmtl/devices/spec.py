"""The ``device:`` block of a qmtl config: which simulator or backend runs the circuit.

Names (``DeviceConfig.name``):

* ``default.qubit`` / ``lightning.qubit`` -- PennyLane simulators, differentiated by backprop
  (``default.qubit``) or adjoint (``lightning.qubit``).
* ``aer`` -- Qiskit Aer through its ``EstimatorV2``; exact unless ``shots``/``precision`` is set;
  ``noise`` selects a noise model (a fake backend name such as ``fake_manila``, whose noise
  model, coupling map and basis gates are used, or a path to a saved ``NoiseModel``).
* ``fake_<backend>`` -- ``qiskit_ibm_runtime.EstimatorV2`` in Runtime local testing mode on
  that fake backend (its noise, coupling map and basis; always shot-based).
* ``ibm:<backend_name>`` -- a real IBM backend via ``QiskitRuntimeService`` in ``mode``.

Values are checked when the device is built (:func:`qmtl.devices.build_device`), so that
every mistake becomes a one-line :class:`qmtl.errors.UserError`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class DeviceConfig(BaseModel):
    """Where circuits run and how expectation values are estimated."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = "default.qubit"
    shots: int | None = None
    """Shots per expectation value; the Estimator precision becomes ``1/sqrt(shots)``."""
    precision: float | None = None
    """Target standard error of each expectation value (alternative to ``shots``)."""
    noise: str | None = None
    """``aer`` only: a fake backend name (``fake_manila``) or a path to a saved NoiseModel."""
    mode: Literal["job", "batch", "session"] = "job"
    """``ibm:`` only: submit as single jobs, in a Runtime ``Batch`` or in a ``Session``."""
    optimization_level: int = 1
    """Qiskit preset pass-manager level used once per circuit structure."""
    seed: int | None = None
    """Simulator seed (shot noise, noisy trajectories); ``None`` uses the run seed."""
    max_rows_per_call: int | None = None
    """Split one batch into several primitive calls of at most this many parameter rows
    (a backend's documented job-size limit); ``None`` sends each batch in one call."""
    qpu_budget_seconds: float | None = None
    """``fake_*``/``ibm:`` only: stop (one-line error) before a call would take the QPU time
    used by this device past this many seconds (estimate: :mod:`qmtl.hardware.cost`;
    replaced by the job's reported usage once it ran); ``None`` means no cap."""
