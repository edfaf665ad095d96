"""The run configuration: one YAML file, validated by a pydantic schema.

Every section forbids unknown keys, so a typo is caught before anything runs, with the
nearest valid key suggested.  ``--set key.path=value`` overrides are applied to the raw
YAML before validation, so they are checked exactly like the file.

Validation is strict, so that a config never means something other than what it says:

* an integer key takes only an integer (not ``true``, ``2.0`` or ``"2"``); a float key
  takes an integer or a float; a string key takes only a string; a switch only a boolean;
* every number anywhere in the config, options included, must be finite (no ``.inf``,
  ``.nan``);
* a mapping may not repeat a key (PyYAML would silently keep the last one);
* only plain YAML is read: no ``!!python/...`` or other tags, UTF-8 text only;
* aliases (``*name``) may not expand the config beyond :data:`MAX_EXPANDED_VALUES` values
  (a "billion laughs" file is tiny on disk but astronomically large once expanded);
* no value may equal a credential (:mod:`qmtl.secrets`): credentials come from the
  environment or a saved account, never from a config, so a run directory never holds one.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from qmtl.devices.spec import DeviceConfig
from qmtl.errors import UserError, nearest
from qmtl.observables import word_wires
from qmtl.secrets import credential_variable
from qmtl.tasks import TaskConfig

MAX_SEED = 2**32 - 1
"""Largest seed: numpy's legacy ``np.random.seed`` and Aer's ``seed_simulator`` take 0..2**32-1."""
MAX_WIDTH = 4096
"""Largest hidden-layer width of an encoder MLP (a 4096x4096 layer is already 16.8M weights)."""
MAX_EXPANDED_VALUES = 100_000
"""Most values (mapping entries, list items, scalars) a config may hold once aliases expand."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a config may have."""
MAX_INT = 2**63 - 1
"""Largest integer anywhere in a config (torch and numpy integers are 64-bit)."""
MAX_FILE_BYTES = 1 << 20
"""Largest config file read (1 MiB); a config is a small text file."""
TORCH_DEVICE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")
"""Valid ``training.torch_device`` values (whether the machine has that GPU is checked when the run is built)."""
_BYTE_SIZE = TypeAdapter(ByteSize)
_REPR = reprlib.Repr()  # bounded repr: a few items per level, two levels (Python 3.11 has no kwargs)
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxstring, _REPR.maxother = 2, 3, 3, 60, 60
_REPR_LIMIT = 80


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class DataConfig(_Section):
    """Where the examples come from and how they are split."""

    name: str = Field(default="digits", description="registered data set, e.g. digits, csv")
    path: str | None = Field(default=None, description="file for user-data loaders (csv)")
    features: list[str] | None = Field(
        default=None, description="feature columns (csv); default: every non-task column"
    )
    val_fraction: float = Field(default=0.15, gt=0.0, lt=1.0, description="share of examples for validation")
    test_fraction: float = Field(default=0.2, gt=0.0, lt=1.0, description="share of examples for the test split")
    limit: int | None = Field(default=None, ge=10, le=2**31 - 1, description="use only this many examples")
    options: dict[str, Any] = Field(default_factory=dict, description="loader-specific options")

    @model_validator(mode="after")
    def _fractions(self) -> DataConfig:
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError(
                "val_fraction + test_fraction leaves under 10% for training; lower them"
            )
        return self


class EncoderConfig(_Section):
    """Classical encoder: an MLP per modality, merged into bounded angles."""

    hidden: list[int] = Field(
        default_factory=lambda: [32], max_length=32, description="hidden layer widths of each MLP (1-4096)"
    )
    activation: Literal["tanh", "relu", "gelu", "silu"] = Field(default="tanh", description="between hidden layers")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout after each hidden layer")
    fusion: Literal["concat", "attention"] = Field(
        default="concat", description="how a dict of modalities is merged: concatenation or per-example "
        "softmax attention over the modalities (qmtl/encoders.py)")

    @field_validator("hidden")
    @classmethod
    def _widths(cls, hidden: list[int]) -> list[int]:
        for position, width in enumerate(hidden):
            if not 1 <= width <= MAX_WIDTH:
                raise ValueError(f"width {width} at position {position} is outside 1-{MAX_WIDTH}; fix the value")
        return hidden


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

    epochs: int = Field(default=30, ge=1, le=1_000_000, description="maximum number of epochs")
    batch_size: int = Field(default=32, ge=1, le=2**31 - 1, description="examples per step")
    lr: float = Field(default=0.02, gt=0.0, description="Adam learning rate")
    weight_decay: float = Field(default=0.0, ge=0.0, description="Adam weight decay")
    patience: int | None = Field(
        default=8, ge=1, le=1_000_000, description="early stopping on mean validation loss; null disables"
    )
    weighting: str = Field(default="equal", description="loss weighting, see docs/strategies.md")
    weighting_options: dict[str, Any] = Field(default_factory=dict, description="options of the weighting")
    aggregator: str | None = Field(default=None, description="torchjd gradient aggregator (replaces weighting)")
    aggregator_options: dict[str, Any] = Field(default_factory=dict, description="options of the aggregator")
    conflict_diagnostic: bool = Field(
        default=True, description="log pairwise task-gradient cosines every epoch"
    )
    checkpoint_every: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="also checkpoint every N steps (epochs always)"
    )
    torch_device: str = Field(
        default="auto", description="where encoder, heads, data batches and the default.qubit simulation run: "
        "auto (cuda if available, else cpu), cpu, cuda or cuda:N (docs/howto/gpu.md)"
    )
    max_state_memory: ByteSize | None = Field(
        default=None, ge=1, description="memory one step's state vectors may use, in bytes or e.g. 4GiB; a larger "
        "batch runs in chunks with the same gradient (qmtl/memory.py); null: half the RAM (or the GPU's memory)"
    )

    @field_validator("torch_device")
    @classmethod
    def _torch_device(cls, name: str) -> str:
        if not TORCH_DEVICE.fullmatch(name):
            raise ValueError(f"'{clip(name)}' is not a torch device qmtl runs on; use auto, cpu, cuda or cuda:N "
                             f"(N a GPU index)")
        return name

    @field_validator("max_state_memory", mode="before")
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            return _BYTE_SIZE.validate_python(value, strict=True)
        except ValidationError:
            raise ValueError(f"{short_repr(value)} is not a memory size; write bytes (e.g. 4294967296) or a "
                             f"number with a unit, e.g. 4GiB or 512MB") from None

    @model_validator(mode="after")
    def _options_of_the_chosen_strategy(self) -> TrainingConfig:
        # Options of a strategy that does not run would be silently ignored.
        if self.aggregator_options and self.aggregator is None:
            raise ValueError("aggregator_options are set but no aggregator is; set training.aggregator "
                             "(e.g. upgrad) or remove training.aggregator_options")
        if self.aggregator is not None and self.weighting_options:
            raise ValueError(f"training.aggregator '{self.aggregator}' replaces the loss weighting, so "
                             "training.weighting_options would be ignored; set only one of them")
        return self


class RunConfig(_Section):
    """A whole run: data, tasks, model, execution target and training."""

    seed: int = Field(
        default=0, ge=0, le=MAX_SEED,
        description="fixes split, initialisation, batch order and shot noise (0 to 2**32-1)",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    tasks: list[TaskConfig] = Field(min_length=1, description="the tasks, each with its observables")
    model: ModelConfig = Field(default_factory=ModelConfig)
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    @model_validator(mode="after")
    def _hardware_checkpoints(self) -> RunConfig:
        # QPU time is paid for: on hardware, losing one step's work to a crash is the most
        # a run may lose, so checkpoint after every step unless told otherwise.
        if self.device.name.startswith("ibm:") and self.training.checkpoint_every is None:
            self.training.checkpoint_every = 1
        return self

    @model_validator(mode="after")
    def _check_wires(self) -> RunConfig:
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


def clip(text: str) -> str:
    """``text`` cut to a few dozen characters, for quoting user input in a message."""
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _location(error: Mapping[str, Any]) -> str:
    return clip(".".join(str(part) for part in error["loc"])) or "config"


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The valid keys of the section an error location points into."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        section = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if section is None:
            return []
        current = section
    return list(current.model_fields)


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a few dozen characters, however large or deep the value is."""
    return clip(_REPR.repr(value))


def explain_validation_error(error: ValidationError, model: type[BaseModel] = RunConfig) -> str:
    """One line for the first problem of a pydantic error, with the fix."""
    first = error.errors(include_url=False, include_context=False)[0]
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
    fix = "quote it if it is text, e.g. '1'" if first["type"] == "string_type" and isinstance(
        value, int | float) else "fix the value"
    return f"config key '{where}' = {short_repr(value)}: {message.lower()}; {fix}"


class _DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping that sets the same key twice."""

    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        super().__init__(problem=f"duplicate key {key!r}")
        self.key, self.first_line, self.second_line = key, first_line, second_line


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that sets a key twice.

    YAML requires mapping keys to be unique; PyYAML instead keeps the last value, so a
    forgotten earlier ``lr:`` would silently be overridden by a later one.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *base' merges are explicitly overridable
            key = self.construct_object(key_node, deep=deep)
            try:
                first_line = seen.get(key)
            except TypeError:
                continue  # unhashable: the base loader reports it
            line = key_node.start_mark.line + 1
            if first_line is not None:
                raise _DuplicateKeyError(key, first_line, line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_TAG = re.compile(r"constructor for the tag '([^']*)'")


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong with a YAML text, and the fix, for an error of :func:`_parse_yaml`."""
    if isinstance(error, _DuplicateKeyError):
        return (f"sets '{clip(str(error.key))}' twice in one mapping (lines {error.first_line} and {error.second_line}); keep one")
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    tag = _TAG.search(getattr(error, "problem", None) or "")
    if tag:
        name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return (f"uses the YAML tag '{clip(name)}'{where}, which qmtl does not load; "
                f"remove the tag and write a plain value")
    if isinstance(error, yaml.reader.ReaderError):
        return (f"contains the control character U+{error.character:04X} at character "
                f"{error.position}, which YAML does not allow; remove it")
    return f"is not valid YAML{where}; fix its syntax"


def _parse_yaml(text: str) -> Any:
    """Parse YAML with :class:`_ConfigLoader`; too deep nesting or too long numbers are UserErrors."""
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError:
        raise UserError(f"nests deeper than {MAX_DEPTH} levels; flatten it") from None
    except ValueError:  # Python refuses to parse integers of over 4300 digits
        raise UserError("holds a number too long to read (thousands of digits); shorten it") from None


def check_values(raw: Any, origin: str) -> None:
    """Refuse a parsed YAML tree that cannot be a config value, naming the first problem.

    Walks each distinct node once (aliased nodes are shared, not copied, by PyYAML), so a
    "billion laughs" document is measured in time proportional to its size on disk.
    Refuses: self-referencing aliases, more than :data:`MAX_EXPANDED_VALUES` values once
    aliases are expanded, nesting deeper than :data:`MAX_DEPTH`, non-finite numbers,
    integers beyond 64 bits, NUL characters and values equal to a credential.  ``origin``
    names the file or ``--set`` in messages.
    """
    expanded: dict[int, int] = {}
    active: set[int] = set()

    def visit(value: Any, path: tuple[Any, ...]) -> int:
        def where() -> str:
            key = clip(".".join(map(str, path)))
            lead = "config key" if origin == "config" else f"{origin}: key"
            return f"{lead} '{key}'" if key else origin

        if id(value) in expanded:
            return expanded[id(value)]
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{where()} is {value}; every number must be finite, fix the value")
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            raise UserError(f"{where()} is an integer of {len(str(abs(value)))} digits, beyond the 64-bit "
                            f"range of every numeric key; fix the value")
        if isinstance(value, str) and "\x00" in value:
            raise UserError(f"{where()} contains a NUL character (\\0); remove it")
        if isinstance(value, str):
            variable = credential_variable(value)
            if variable is not None:
                raise UserError(
                    f"{where()} holds the value of the credential variable {variable}; a "
                    f"config never holds a credential (qmtl reads it from the environment), remove it"
                )
        if not isinstance(value, dict | list):
            return 1
        if id(value) in active:
            raise UserError(f"{where()} contains itself through a YAML alias; write the value out")
        if len(path) >= MAX_DEPTH:
            raise UserError(f"{where()} nests deeper than {MAX_DEPTH} levels; flatten it")
        active.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        size = 1
        for key, item in items:
            size += visit(key, path) + visit(item, (*path, key))
            if size > MAX_EXPANDED_VALUES:
                raise UserError(
                    f"{where()} expands to over {MAX_EXPANDED_VALUES} values through YAML "
                    f"aliases (*name); write the values out or reuse fewer aliases"
                )
        active.discard(id(value))
        expanded[id(value)] = size
        return size

    visit(raw, ())


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply ``key.path=value`` (value parsed as YAML) to the raw config dict in place.

    List entries are addressed by index (``tasks.0.weight=2``); a missing section is
    created, an index must exist.
    """
    if "=" not in assignment:
        raise UserError(f"--set '{clip(assignment)}' is not key=value; write e.g. --set training.lr=0.01")
    path, text = assignment.split("=", 1)
    keys = path.strip().split(".")
    if not all(key.strip() for key in keys):
        raise UserError(
            f"--set '{clip(assignment)}' has an empty key before '='; write a dotted path "
            f"such as --set training.lr=0.01"
        )
    path = ".".join(keys)
    origin = f"--set {clip(path)}"
    try:
        value = _parse_yaml(text)
    except UserError as error:
        raise UserError(f"{origin}: the value {error}") from None
    except _DuplicateKeyError as error:
        raise UserError(f"{origin}: the value {_yaml_problem(error)}") from None
    except yaml.YAMLError as error:
        if _TAG.search(getattr(error, "problem", None) or ""):
            raise UserError(f"{origin}: the value {_yaml_problem(error)}") from None
        value = text  # not YAML (e.g. an unbalanced bracket): the literal text
    check_values(value, origin)
    node: Any = raw
    for depth, key in enumerate(keys):
        parent = ".".join(keys[:depth])
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not (key.isascii() and key.isdigit()):
                raise UserError(
                    f"{origin}: '{parent}' is a list; address an entry by its index, e.g. "
                    f"{parent}.0{'.' + '.'.join(keys[depth + 1:]) if not last else ''}=..."
                )
            index = int(key)
            if index >= len(node):
                valid = f"indices 0-{len(node) - 1}" if node else "no entries"
                raise UserError(
                    f"{origin}: index {index} is out of range; '{parent}' has {len(node)} "
                    f"entr{'y' if len(node) == 1 else 'ies'} ({valid})"
                )
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[key] = value
            else:
                if node.get(key) is None:  # a missing (or empty) section is created
                    node[key] = {}
                node = node[key]
        else:
            raise UserError(f"{origin}: '{parent}' is not a section")


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping with the strict safe loader; user errors for missing or bad files."""
    if not path.exists():
        raise UserError(f"config file '{path}' does not exist; check the path")
    if path.is_dir():
        raise UserError(f"config path '{path}' is a directory; give a YAML file")
    if not path.is_file():  # a FIFO or device would block the read or never end
        raise UserError(f"config path '{path}' is not a regular file; give a YAML file")
    origin = f"config file '{path}'"
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"{origin} is {size} bytes, over the {MAX_FILE_BYTES}-byte limit of a config; "
                        f"check it is the YAML config and not a data file")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError(f"{origin} is UTF-16 text; save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(
            f"{origin} is not UTF-8 text (byte 0x{data[error.start]:02x} at line {line}); save it as UTF-8"
        ) from None
    try:
        raw = _parse_yaml(text)
    except UserError as error:
        raise UserError(f"{origin} {error}") from None
    except yaml.YAMLError as error:
        raise UserError(f"{origin} {_yaml_problem(error)}") from None
    if raw is None:
        raise UserError(f"{origin} is empty; start from experiments/configs/digits.yaml")
    if not isinstance(raw, dict):
        raise UserError(f"{origin} must be a mapping of sections (data, tasks, model, ...)")
    check_values(raw, origin)
    return raw


def validate_config(raw: dict[str, Any]) -> RunConfig:
    """Validate a raw mapping strictly, turning the first problem into a one-line UserError."""
    check_values(raw, "config")
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as error:
        raise UserError(explain_validation_error(error)) from None


def _data_sections(data: Any) -> list[dict[str, Any]]:
    """The raw ``data`` section and, for ``per_task`` data, each task's source: every
    mapping whose ``path`` names a data file."""
    if not isinstance(data, dict):
        return []
    options = data.get("options")
    sources = options.get("sources") if data.get("name") == "per_task" and isinstance(options, dict) else None
    return [data, *(s for s in sources.values() if isinstance(s, dict))] if isinstance(sources, dict) else [data]


def _data_path_from_file(raw: dict[str, Any], folder: Path) -> None:
    """A relative ``data.path`` (or per-task source ``path``) written in a config file is
    relative to that file's folder."""
    for section in _data_sections(raw.get("data")):
        if isinstance(section.get("path"), str) and section["path"]:
            written = _expand_user(section["path"])
            section["path"] = str(written if written.is_absolute() else (folder / written).resolve())


def _expand_user(path: str) -> Path:
    """``path`` with a leading ``~`` or ``~user`` expanded; a user error for an unknown user."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise UserError(f"data.path '{clip(path)}' starts with an unknown home folder; write the "
                        f"full path") from None


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
    return with_absolute_data_path(validate_config(raw))


def with_absolute_data_path(config: RunConfig) -> RunConfig:
    """``config`` with ``data.path`` (and per-task source paths) made absolute against the
    working directory (``~`` expanded)."""
    data = config.data.model_dump()
    sections = _data_sections(data)
    for section in sections:
        if isinstance(section.get("path"), str) and section["path"]:
            section["path"] = str(_expand_user(section["path"]).resolve())
    if data == config.data.model_dump():
        return config
    return config.model_copy(update={"data": DataConfig.model_validate(data)})


def dump_config(config: RunConfig) -> str:
    """The resolved config as YAML (every default filled in)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
