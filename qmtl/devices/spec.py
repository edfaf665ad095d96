"""The ``device:`` block of a qmtl config: which simulator or backend runs the circuit.

Names (``DeviceConfig.name``):

* ``default.qubit`` / ``lightning.qubit`` -- PennyLane simulators, differentiated by backprop
  (``default.qubit``) or adjoint (``lightning.qubit``).
* ``aer`` -- Qiskit Aer through its ``EstimatorV2``; exact unless ``shots``/``precision`` is set;
  ``noise`` selects a noise model (a fake backend name such as ``fake_manila``, whose noise
  model, coupling map and basis gates are used, or a path to a saved ``NoiseModel``).
* ``fake_<backend>`` -- Runtime's client-side Estimator
  (``qiskit_ibm_runtime.executor_estimator``) in local testing mode on that fake backend (its
  noise, coupling map and basis; always shot-based; ``mitigation`` applied).
* ``ibm:<backend_name>`` -- a real IBM backend via ``QiskitRuntimeService`` in ``mode``.

Values are checked when the device is built (:func:`qmtl.devices.build_device`), so that
every mistake becomes a one-line :class:`qmtl.errors.UserError`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from qiskit_ibm_runtime.options_models.zne import ExtrapolatorType

RuntimeMode = Literal["job", "batch", "session"]
"""How work reaches an IBM backend: single jobs, a Runtime ``Batch`` or a ``Session``."""

MitigationTechnique = Literal["readout", "zne", "twirling", "dd", "pec"]
"""Error-mitigation techniques of Runtime's client-side Estimator (see
:mod:`qmtl.devices.mitigation`)."""


class MitigationConfig(BaseModel):
    """Error mitigation applied by the Runtime Estimator (``fake_*`` and ``ibm:`` devices).

    ``readout`` is TREX (twirled readout error extinction), ``zne`` zero-noise extrapolation
    by gate folding, ``twirling`` Pauli twirling of the two-qubit gates, ``dd`` dynamical
    decoupling; ``pec`` is refused (it needs a learned layer noise model).  A name or a list
    of names is shorthand for ``{techniques: [...]}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    techniques: tuple[MitigationTechnique, ...] = ()
    """Techniques combined in every Estimator call, e.g. ``[readout, zne]``."""
    zne_noise_factors: Annotated[tuple[Annotated[float, Field(ge=1)], ...],
                                 Field(min_length=2)] = (1.0, 3.0, 5.0)
    """``zne``: noise amplification factors (each >= 1, at least two)."""
    zne_extrapolator: Annotated[tuple[ExtrapolatorType, ...], Field(min_length=1)] = (
        "exponential", "linear")
    """``zne``: extrapolators tried in order; the first successful fit gives the value."""
    zne_amplifier: Literal["gate_folding", "gate_folding_front", "gate_folding_back", "pea"] = (
        "gate_folding")
    """``zne``: which two-qubit gates are folded when a factor needs only some of them
    (``pea``, probabilistic error amplification, is refused like ``pec``)."""
    randomizations: Annotated[int, Field(ge=1)] | Literal["auto"] = "auto"
    """``readout``/``twirling``: twirling randomizations the shots are split over."""
    dd_sequence: Literal["XX", "XpXm", "XY4"] = "XX"
    """``dd``: the pulse sequence inserted into idle periods."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"techniques": [data]}
        if isinstance(data, (list, tuple)):
            return {"techniques": list(data)}
        return data

    @model_validator(mode="after")
    def _distinct(self) -> MitigationConfig:
        if len(set(self.techniques)) != len(self.techniques):
            raise ValueError(f"mitigation techniques {list(self.techniques)} repeat a name; "
                             "list each technique once")
        return self


class DeviceConfig(BaseModel):
    """Where circuits run and how expectation values are estimated."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = "default.qubit"
    shots: int | None = Field(default=None, strict=True, le=1_000_000)
    """Shots per expectation value (1 to 10^6; IBM backends take at most 100,000 per circuit, and
    more than 10^6 is closer to exact than to sampling: leave it unset for exact values); the
    Estimator precision becomes ``1/sqrt(shots)``."""
    precision: float | None = None
    """Target standard error of each expectation value (alternative to ``shots``)."""
    noise: str | None = None
    """``aer`` only: a fake backend name (``fake_manila``) or a path to a saved NoiseModel."""
    mode: RuntimeMode = "job"
    """``ibm:`` only: submit as single jobs, in a Runtime ``Batch`` or in a ``Session``."""
    optimization_level: int = Field(default=1, strict=True, ge=0, le=3)
    """Qiskit preset pass-manager level used once per circuit structure."""
    seed: int | None = Field(default=None, strict=True, ge=0, le=2**32 - 1)
    """Simulator seed (shot noise, noisy trajectories); ``None`` uses the run seed."""
    max_rows_per_call: int | None = Field(default=None, strict=True, ge=1)
    """Split one batch into several primitive calls of at most this many parameter rows
    (a backend's documented job-size limit); ``None`` sends each batch in one call."""
    qpu_budget_seconds: float | None = None
    """``fake_*``/``ibm:`` only: stop (one-line error) before a call would take the QPU time
    used by this device past this many seconds (estimate: :mod:`qmtl.devices.cost`;
    replaced by the job's reported usage once it ran); ``None`` means no cap."""
    mitigation: MitigationConfig | None = None
    """``fake_*``/``ibm:`` only: error mitigation in every Estimator call, e.g. ``[readout]``
    or ``{techniques: [zne], zne_noise_factors: [1, 2, 3]}``; ``None`` means unmitigated."""

    @model_validator(mode="after")
    def _mitigation_needs_runtime(self) -> DeviceConfig:
        if self.mitigation is not None and self.mitigation.techniques and not (
                self.name.startswith(("fake_", "ibm:"))):
            raise ValueError(
                f"device.mitigation applies to the Runtime Estimator (device.name fake_<backend> "
                f"or ibm:<backend>), not '{self.name}'; drop device.mitigation (e.g. --set "
                "device.mitigation=null) or use e.g. device.name=fake_manila")
        return self
