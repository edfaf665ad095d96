"""The run configuration: one YAML file, validated by a pydantic schema.

Every section forbids unknown keys, so a typo is caught before anything runs, with the
nearest valid key suggested.  ``--set key.path=value`` overrides are applied to the raw
YAML before validation, so they are checked exactly like the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qmtl.devices.spec import DeviceConfig
from qmtl.errors import UserError, nearest
from qmtl.observables import word_wires
from qmtl.tasks import TaskConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Section):
    """Where the examples come from and how they are split."""

    name: str = Field(default="digits", description="registered data set, e.g. digits, csv")
    path: str | None = Field(default=None, description="file for user-data loaders (csv)")
    features: list[str] | None = Field(
        default=None, description="feature columns (csv); default: every non-task column"
    )
    val_fraction: float = Field(default=0.15, gt=0.0, lt=1.0, description="share of examples for validation")
    test_fraction: float = Field(default=0.2, gt=0.0, lt=1.0, description="share of examples for the test split")
    limit: int | None = Field(default=None, ge=10, description="use only this many examples")
    options: dict[str, Any] = Field(default_factory=dict, description="loader-specific options")

    @model_validator(mode="after")
    def _fractions(self) -> "DataConfig":
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError(
                "val_fraction + test_fraction leaves under 10% for training; lower them"
            )
        return self


class EncoderConfig(_Section):
    """Classical encoder: an MLP per modality, merged into bounded angles."""

    hidden: list[int] = Field(default_factory=lambda: [32], description="hidden layer widths of each MLP")
    activation: Literal["tanh", "relu", "gelu", "silu"] = Field(default="tanh", description="between hidden layers")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout after each hidden layer")


class EncodingConfig(_Section):
    """How angles enter the circuit: one rotation per wire, optionally re-uploaded."""

    rotation: Literal["X", "Y", "Z"] = Field(default="Y", description="encoding rotation axis")
    reupload: bool = Field(default=False, description="re-encode the angles before every layer")
    scale: float = Field(default=math.pi, gt=0.0, description="angles = scale * tanh(encoder)")


class AnsatzConfig(_Section):
    """Variational layers of the shared circuit."""

    name: str = Field(default="strongly_entangling", description="strongly_entangling or hardware_efficient")
    layers: int = Field(default=3, ge=1, le=100, description="number of variational layers")


class ModelConfig(_Section):
    """The multi-task model: encoder, shared circuit and how tasks share it."""

    n_qubits: int = Field(default=8, ge=1, le=30, description="width of the shared circuit")
    architecture: str = Field(default="hard_sharing", description="see docs/architectures.md")
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    encoding: EncodingConfig = Field(default_factory=EncodingConfig)
    ansatz: AnsatzConfig = Field(default_factory=AnsatzConfig)
    options: dict[str, Any] = Field(default_factory=dict, description="architecture options")


class TrainingConfig(_Section):
    """Optimisation: Adam on the strategy-combined task gradients, early stopping."""

    epochs: int = Field(default=30, ge=1, description="maximum number of epochs")
    batch_size: int = Field(default=32, ge=1, description="examples per step")
    lr: float = Field(default=0.02, gt=0.0, description="Adam learning rate")
    weight_decay: float = Field(default=0.0, ge=0.0, description="Adam weight decay")
    patience: int | None = Field(default=8, ge=1, description="early stopping on mean validation loss; null disables")
    weighting: str = Field(default="equal", description="loss weighting, see docs/strategies.md")
    weighting_options: dict[str, Any] = Field(default_factory=dict, description="options of the weighting")
    aggregator: str | None = Field(default=None, description="torchjd gradient aggregator (replaces weighting)")
    aggregator_options: dict[str, Any] = Field(default_factory=dict, description="options of the aggregator")
    conflict_diagnostic: bool = Field(
        default=True, description="log pairwise task-gradient cosines every epoch"
    )
    checkpoint_every: int | None = Field(
        default=None, ge=1, description="also checkpoint every N steps (epochs always)"
    )


class RunConfig(_Section):
    """A whole run: data, tasks, model, execution target and training."""

    seed: int = Field(default=0, description="fixes split, initialisation, batch order and shot noise")
    data: DataConfig = Field(default_factory=DataConfig)
    tasks: list[TaskConfig] = Field(min_length=1, description="the tasks, each with its observables")
    model: ModelConfig = Field(default_factory=ModelConfig)
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    @model_validator(mode="after")
    def _hardware_checkpoints(self) -> "RunConfig":
        # QPU time is paid for: on hardware, losing one step's work to a crash is the most
        # a run may lose, so checkpoint after every step unless told otherwise.
        if self.device.name.startswith("ibm:") and self.training.checkpoint_every is None:
            self.training.checkpoint_every = 1
        return self

    @model_validator(mode="after")
    def _check_wires(self) -> "RunConfig":
        names = [task.name for task in self.tasks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"task names must be unique; '{duplicates[0]}' appears twice")
        for task in self.tasks:
            for word in task.observables:
                widest = max(word_wires(word))
                if widest >= self.model.n_qubits:
                    raise ValueError(
                        f"task '{task.name}' measures wire {widest} in '{word}' but the circuit has "
                        f"{self.model.n_qubits} qubits (wires 0-{self.model.n_qubits - 1}); "
                        f"raise model.n_qubits or change the observable"
                    )
        return self


def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"]) or "config"


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The valid keys of the section an error location points into."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    return list(current.model_fields) if isinstance(current, type) else []


def explain_validation_error(error: ValidationError, model: type[BaseModel] = RunConfig) -> str:
    """One line for the first problem of a pydantic error, with the fix."""
    first = error.errors()[0]
    where = _location(first)
    if first["type"] == "extra_forbidden":
        key = str(first["loc"][-1])
        valid = _valid_keys(model, first["loc"])
        hint = nearest(key, valid) or (f"; valid keys: {', '.join(valid)}" if valid else "")
        return f"unknown config key '{where}'{hint}"
    if first["type"] == "missing":
        return f"config key '{where}' is required; add it"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "value_error":
        return message if where == "config" else f"{where}: {message}"
    value = first.get("input")
    return f"config key '{where}' = {value!r}: {message.lower()}; fix the value"


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply ``key.path=value`` (value parsed as YAML) to the raw config dict in place."""
    if "=" not in assignment:
        raise UserError(f"--set '{assignment}' is not key=value; write e.g. --set training.lr=0.01")
    path, text = assignment.split("=", 1)
    keys = path.strip().split(".")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    node: Any = raw
    for depth, key in enumerate(keys[:-1]):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
            continue
        if not isinstance(node, dict):
            raise UserError(f"--set {path}: '{'.'.join(keys[:depth])}' is not a section")
        node = node.setdefault(key, {})
    if isinstance(node, list) and keys[-1].isdigit() and int(keys[-1]) < len(node):
        node[int(keys[-1])] = value
    elif isinstance(node, dict):
        node[keys[-1]] = value
    else:
        raise UserError(f"--set {path}: '{'.'.join(keys[:-1])}' is not a section")


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader; user errors for missing or bad files."""
    if not path.exists():
        raise UserError(f"config file '{path}' does not exist; check the path")
    if path.is_dir():
        raise UserError(f"config path '{path}' is a directory; give a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"config file '{path}' is not valid YAML{where}; fix its syntax") from None
    if raw is None:
        raise UserError(f"config file '{path}' is empty; start from experiments/configs/digits.yaml")
    if not isinstance(raw, dict):
        raise UserError(f"config file '{path}' must be a mapping of sections (data, tasks, model, ...)")
    return raw


def validate_config(raw: dict[str, Any]) -> RunConfig:
    """Validate a raw mapping, turning the first problem into a one-line UserError."""
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as error:
        raise UserError(explain_validation_error(error)) from None


def _data_path_from_file(raw: dict[str, Any], folder: Path) -> None:
    """A relative ``data.path`` written in a config file is relative to that file's folder."""
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("path"), str) and data["path"]:
        written = Path(data["path"]).expanduser()
        data["path"] = str(written if written.is_absolute() else (folder / written).resolve())


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override and validate a run config.

    ``data.path`` is made absolute, so the saved run config works from any directory: a
    relative path in the file is relative to the file's folder, one given with ``--set``
    relative to the working directory.
    """
    raw = read_yaml(Path(path))
    _data_path_from_file(raw, Path(path).absolute().parent)
    for assignment in overrides or []:
        apply_override(raw, assignment)
    config = validate_config(raw)
    if config.data.path:
        absolute = str(Path(config.data.path).expanduser().resolve())
        config = config.model_copy(update={"data": config.data.model_copy(update={"path": absolute})})
    return config


def dump_config(config: RunConfig) -> str:
    """The resolved config as YAML (every default filled in)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
