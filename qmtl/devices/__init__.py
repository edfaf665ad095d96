"""Devices: pick where qmtl's circuits run from the config's ``device:`` block.

Public API::

    build_device(config, n_wires, seed, *, noise_model=None) -> (device, diff_method)
    device_names() -> list[str]          # every valid DeviceConfig.name pattern
    DEVICE_NAMES, FAKE_BACKENDS          # the same lists, computed on first access
    DeviceConfig, EstimatorDevice, UserError
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points
from typing import Any

import pennylane as qml
from qiskit_aer.noise import NoiseModel

from qmtl.devices.spec import DeviceConfig
from qmtl.devices.targets import IBM_PREFIX, fake_backend_names
from qmtl.errors import UserError, unknown_name

PENNYLANE_NAMES = ("default.qubit", "lightning.qubit", "lightning.gpu")
PENNYLANE_DIFF_METHODS = {"default.qubit": "backprop", "lightning.qubit": "adjoint", "lightning.gpu": "adjoint"}

__all__ = ["DEVICE_NAMES", "FAKE_BACKENDS", "DeviceConfig", "EstimatorDevice", "UserError",
           "build_device", "device_names", "fake_backend_names"]


def device_names() -> list[str]:
    """Valid ``device.name`` values: simulators, ``aer``, every ``fake_*``, ``ibm:<backend>``."""
    names = ["default.qubit"]
    if importlib.util.find_spec("pennylane_lightning") is not None:
        names.append("lightning.qubit")
    if _has_lightning_gpu():
        names.append("lightning.gpu")
    return [*names, "aer", *fake_backend_names(), f"{IBM_PREFIX}<backend_name>"]


def __getattr__(attr: str) -> Any:
    # Listing fake backends imports qiskit_ibm_runtime's fake provider (seconds): lazily.
    if attr == "DEVICE_NAMES":
        return device_names()
    if attr == "FAKE_BACKENDS":
        return fake_backend_names()
    if attr == "EstimatorDevice":
        from qmtl.devices.estimator import EstimatorDevice

        return EstimatorDevice
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def _has_lightning_gpu() -> bool:
    """Whether the ``pennylane-lightning-gpu`` plugin (NVIDIA cuQuantum statevector) is installed."""
    return bool(entry_points(group="pennylane.plugins", name="lightning.gpu"))


def _is_qiskit_name(name: str) -> bool:
    return name == "aer" or name.startswith(IBM_PREFIX) or name in fake_backend_names()


def build_device(config: DeviceConfig, n_wires: int, seed: int, *,
                 noise_model: NoiseModel | None = None) -> tuple[qml.devices.Device, str]:
    """Build the device named by ``config`` for ``n_wires`` qubits.

    Returns the device and the ``diff_method`` the QNode must use: ``"backprop"`` for
    ``default.qubit``, ``"adjoint"`` for ``lightning.qubit`` and ``lightning.gpu``, ``"device"`` (batched
    parameter shift in one Estimator call) for every Qiskit target.  ``seed`` is the run
    seed, used when ``config.seed`` is ``None``.  ``noise_model`` passes an Aer
    ``NoiseModel`` object directly (``aer`` only).  Mistakes raise :class:`UserError`.
    """
    if n_wires <= 0:
        raise UserError(f"the circuit needs at least one qubit, got n_wires={n_wires}")
    if config.name == "lightning.gpu" and not _has_lightning_gpu():
        raise UserError("device.name 'lightning.gpu' needs the pennylane-lightning-gpu plugin and a CUDA GPU: "
                        "pip install 'pennylane-lightning-gpu==0.45.*' (docs/howto/gpu.md), or use "
                        "default.qubit with training.torch_device: cuda")
    if config.name in PENNYLANE_NAMES and config.name in device_names():
        extras = {k: v for k, v in config.model_dump().items()
                  if k in {"shots", "precision", "noise"} and v is not None}
        if extras or noise_model is not None:
            raise UserError(
                f"device.{', device.'.join(extras) or 'noise'} applies to Qiskit devices "
                f"(aer, fake_*, ibm:*), not {config.name}; use --set device.name=aer")
        return (qml.device(config.name, wires=n_wires, seed=seed) if config.name ==
                "default.qubit" else qml.device(config.name, wires=n_wires),
                PENNYLANE_DIFF_METHODS[config.name])
    if not _is_qiskit_name(config.name):
        raise unknown_name("device", config.name, device_names())
    from qmtl.devices.estimator import EstimatorDevice

    device = EstimatorDevice(wires=n_wires, config=config, seed=seed, noise_model=noise_model)
    return device, "device"
