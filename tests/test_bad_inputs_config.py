"""Bad configs and command lines: exit 2, one line naming the problem, nothing written.

Data-driven: each case builds its inputs in a temporary folder and returns the ``qmtl``
argv.  The test snapshots the folder (names, sizes, modification times) before running and
checks that the refused command left it exactly as it was (no run directory, no figure),
that stderr is exactly one ``qmtl: error:`` line holding the expected words, and that no
traceback was printed.  Separate tests cover what the table cannot: credentials in the
environment, accepted inputs that look similar to refused ones, and real subprocesses.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tiny_configs import TINY

from qmtl.cli import main
from qmtl.config import MAX_EXPANDED_VALUES, apply_override, load_config, validate_config

Case = Callable[[Path], list[str]]


def _write(tmp: Path, edit: Callable[[dict], Any] | None = None) -> str:
    raw = copy.deepcopy(TINY)
    if edit is not None:
        edit(raw)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return str(path)


def _text(tmp: Path, text: str | bytes) -> str:
    path = tmp / "config.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def train(edit: Callable[[dict], Any] | None = None, *extra: str) -> Case:
    """``qmtl train`` of TINY changed by ``edit``, with extra arguments (e.g. --set)."""
    return lambda tmp: ["train", _write(tmp, edit), "--out", str(tmp / "run"), *extra]


def train_text(text: str | bytes) -> Case:
    """``qmtl train`` of a config file with exactly this content."""
    return lambda tmp: ["train", _text(tmp, text), "--out", str(tmp / "run")]


def draw(out: str) -> Case:
    """``qmtl circuits draw`` of TINY with ``--out`` relative to the temporary folder."""
    return lambda tmp: ["circuits", "draw", _write(tmp), "--out", str(tmp / out)]


def section(where: str, /, **values: Any) -> Callable[[dict], None]:
    """An edit that updates one section (a dotted path; ``""`` for the top level)."""
    def edit(raw: dict) -> None:
        node: Any = raw
        for part in filter(None, where.split(".")):
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node.update(values)
    return edit


TINY_YAML = yaml.safe_dump(TINY)
_LAUGHS = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 10)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
)
_BOMB = _LAUGHS + "\n" + TINY_YAML.replace("name: digits", "name: *l8")
_DEEP = TINY_YAML + "options: " + "[" * 300 + "]" * 300 + "\n"

CASES: dict[str, tuple[Case, str]] = {
    # ranges of numbers
    "encoder width 0": (train(section("model.encoder", hidden=[0])), "model.encoder.hidden: width 0 at position 0"),
    "encoder width negative": (train(section("model.encoder", hidden=[16, -4])), "width -4 at position 1"),
    "encoder width huge": (train(section("model.encoder", hidden=[10**9])), "outside 1-4096"),
    "seed negative": (train(section("", seed=-1)), "config key 'seed'"),
    "seed huge": (train(section("", seed=2**40)), "less than or equal to 4294967295"),
    "integer beyond 64 bits in an option": (train(section("training", weighting="dwa",
                                                          weighting_options={"temperature": 10**400})),
                                            "integer of 401 digits"),
    "float key given a 400-digit integer": (train(None, "--set", "training.lr=" + "9" * 400), "integer of 400 digits"),
    "optimization level 9": (train(section("device", optimization_level=9)), "device.optimization_level"),
    "optimization level negative": (train(section("device", optimization_level=-1)), "device.optimization_level"),
    "max rows per call 0": (train(section("device", max_rows_per_call=0)), "device.max_rows_per_call"),
    "device seed negative": (train(section("device", seed=-5)), "device.seed"),
    "zero qubits": (train(section("model", n_qubits=0)), "model.n_qubits"),
    "zero layers": (train(section("model.ansatz", layers=0)), "model.ansatz.layers"),
    "zero epochs": (train(section("training", epochs=0)), "training.epochs"),
    "zero batch size": (train(section("training", batch_size=0)), "training.batch_size"),
    "zero patience": (train(section("training", patience=0)), "training.patience"),
    "zero checkpoint interval": (train(section("training", checkpoint_every=0)), "training.checkpoint_every"),
    "one class": (train(section("tasks.0", classes=1)), "tasks.0.classes"),
    "negative task weight": (train(section("tasks.1", weight=-1.0)), "tasks.1.weight"),
    "dropout 1": (train(section("model.encoder", dropout=1.0)), "model.encoder.dropout"),
    "limit below 10": (train(section("data", limit=5)), "data.limit"),
    "empty task name": (train(section("tasks.1", name="")), "tasks.1.name"),
    # every number finite
    "lr inf": (train_text(TINY_YAML.replace("lr: 0.05", "lr: .inf")), "'training.lr' is inf"),
    "lr nan": (train_text(TINY_YAML.replace("lr: 0.05", "lr: .nan")), "'training.lr' is nan"),
    "weight decay -inf": (train(section("training", weight_decay=float("-inf"))), "'training.weight_decay' is -inf"),
    "encoding scale inf": (train(section("model.encoding", scale=float("inf"))), "model.encoding.scale"),
    "task weight nan": (train(section("tasks.2", weight=float("nan"))), "tasks.2.weight"),
    "device precision nan": (train(section("device", name="aer", precision=float("nan"))), "device.precision"),
    "qpu budget inf": (train(section("device", qpu_budget_seconds=float("inf"))), "device.qpu_budget_seconds"),
    "data option inf": (train(section("data", name="synthetic-correlated", options={"noise": float("inf")})),
                        "data.options.noise"),
    "architecture option inf": (train(section("model", architecture="soft_sharing", options={"penalty": float("inf")})),
                                "model.options.penalty"),
    "weighting option inf": (train(section("training", weighting="dwa", weighting_options={"temperature": float("inf")})),
                             "training.weighting_options.temperature"),
    "aggregator option nan": (train(section("training", aggregator="cagrad", aggregator_options={"c": float("nan")})),
                              "training.aggregator_options.c"),
    # strict types: no bool, float or text as an integer; no number as a string or switch
    "epochs true": (train(section("training", epochs=True)), "training.epochs"),
    "epochs 3.0": (train(section("training", epochs=3.0)), "training.epochs"),
    "epochs as text": (train(section("training", epochs="3")), "training.epochs"),
    "qubits true": (train(section("model", n_qubits=True)), "model.n_qubits"),
    "lr true": (train(section("training", lr=True)), "training.lr"),
    "switch as text": (train(section("model.encoding", reupload="yes")), "model.encoding.reupload"),
    "switch as number": (train(section("training", conflict_diagnostic=1)), "training.conflict_diagnostic"),
    "width true": (train(section("model.encoder", hidden=[True])), "model.encoder.hidden.0"),
    "seed 1.5": (train(section("", seed=1.5)), "config key 'seed'"),
    "shots true": (train(section("device", name="aer", shots=True)), "device.shots"),
    "task name a number": (train(section("tasks.1", name=5)), "quote it"),
    "observables a string": (train(section("tasks.1", observables="Z0")), "tasks.1.observables"),
    "architecture count true": (train(section("model", architecture="ansatz_heads", options={"head_layers": True})),
                                "model.options.head_layers"),
    "architecture count huge": (train(section("model", architecture="ansatz_heads", options={"head_layers": 10**6})),
                                "model.options.head_layers"),
    "architecture switch as text": (train(section("model", architecture="classical", options={"match_parameters": "no"})),
                                    "model.options.match_parameters"),
    "data integer option 100.0": (train(section("data", name="synthetic-correlated", options={"n_samples": 100.0})),
                                  "data.options.n_samples"),
    "aggregator count true": (train(section("training", aggregator="mgda", aggregator_options={"max_iters": True})),
                              "option 'max_iters'"),
    "aggregator count 0": (train(section("training", aggregator="mgda", aggregator_options={"max_iters": 0})),
                           "option 'max_iters'"),
    "aggregator vector of bools": (train(section("training", aggregator="upgrad",
                                                 aggregator_options={"pref_vector": [True, 1, 1]})),
                                   "option 'pref_vector'"),
    "aggregator object option": (train(section("training", aggregator="upgrad", aggregator_options={"projector": "x"})),
                                 "cannot be set in a config"),
    "aggregator choice": (train(section("training", aggregator="aligned_mtl", aggregator_options={"scale_mode": "max"})),
                          "choose one of"),
    "static weights with a bool": (train(section("training", weighting="static",
                                                 weighting_options={"weights": [True, 1, 1]})), "must be a number"),
    # YAML itself
    "duplicate top-level key": (train_text(TINY_YAML + "seed: 3\n"), "sets 'seed' twice"),
    "duplicate nested key": (train_text(TINY_YAML.replace("lr: 0.05", "lr: 0.05\n  lr: 0.5")),
                             "sets 'lr' twice in one mapping"),
    "python object tag": (train_text(TINY_YAML.replace("seed: 0", "seed: !!python/object/apply:os.getpid []")),
                          "YAML tag '!!python/object/apply:os.getpid'"),
    "python name tag": (train_text(TINY_YAML.replace("name: digits", "name: !!python/name:os.system")),
                        "YAML tag '!!python/name:os.system'"),
    "unknown local tag": (train_text(TINY_YAML.replace("seed: 0", "seed: !seed 0")), "YAML tag '!seed'"),
    "latin-1 file": (train_text(TINY_YAML.replace("name: digit\n", "name: d\xe9git\n").encode("latin-1")),
                     "is not UTF-8 text (byte 0xe9"),
    "UTF-16 file": (train_text(TINY_YAML.encode("utf-16")), "is UTF-16 text"),
    "alias bomb in a string field": (train_text(_BOMB), f"over {MAX_EXPANDED_VALUES} values"),
    "alias refers to itself": (train_text(TINY_YAML + "extra: &loop [*loop]\n"), "contains itself"),
    "control character": (train_text(TINY_YAML.replace("seed: 0", "seed: 0\x07")), "control character U+0007"),
    "nesting too deep": (train_text(_DEEP), "nests deeper"),
    "integer of 5000 digits": (train_text(TINY_YAML.replace("seed: 0", "seed: " + "9" * 5000)), "number too long"),
    "--set integer of 5000 digits": (train(None, "--set", "seed=" + "9" * 5000), "number too long"),
    "NUL in a string": (train_text(TINY_YAML.replace("name: digits", 'name: "dig\\0its"')), "NUL character"),
    "file too large": (train_text(TINY_YAML + "#" + "x" * (1 << 20) + "\n"), "over the 1048576-byte limit"),
    "binary file": (train_text(bytes(range(256)) * 4), "is not UTF-8 text"),
    # --set
    "--set index out of range": (train(None, "--set", "tasks.5.weight=2"),
                                 "index 5 is out of range; 'tasks' has 3 entries (indices 0-2)"),
    "--set empty key": (train(None, "--set", "=5"), "has an empty key"),
    "--set leading dot": (train(None, "--set", ".lr=1"), "has an empty key"),
    "--set empty path part": (train(None, "--set", "training..lr=1"), "has an empty key"),
    "--set blank key": (train(None, "--set", "  =1"), "has an empty key"),
    "--set name into a list": (train(None, "--set", "tasks.first.weight=1"), "'tasks' is a list"),
    "--set negative index": (train(None, "--set", "tasks.-1.weight=1"), "'tasks' is a list"),
    "--set non-ASCII digit index": (train(None, "--set", "tasks.\u00b2.weight=1"), "'tasks' is a list"),
    "--set inf": (train(None, "--set", "training.lr=.inf"), "--set training.lr is inf"),
    "--set bool as int": (train(None, "--set", "training.epochs=true"), "training.epochs"),
    "--set python tag": (train(None, "--set", "seed=!!python/name:os.system"), "YAML tag '!!python/name:os.system'"),
    "--set duplicate key": (train(None, "--set", "training={lr: 1, lr: 2}"), "sets 'lr' twice"),
    "--set without =": (train(None, "--set", "training.lr"), "not key=value"),
    "--set through a value": (train(None, "--set", "training.lr.x=1"), "'training.lr' is not a section"),
    # circuits draw --out
    "draw to a text file": (draw("x.txt"), "cannot draw to '.txt' files"),
    "draw into a missing folder": (draw("missing/x.png"), "does not exist"),
    "draw to a name without extension": (draw("figure"), "neither an existing folder nor a file name"),
    "draw with a bad config": (lambda tmp: ["circuits", "draw", _text(tmp, TINY_YAML + "seed: 1\n"),
                                            "--out", str(tmp / "c.png")], "sets 'seed' twice"),
}


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    build, expected = CASES[case]
    argv = build(tmp_path)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
    assert "Traceback" not in err + out
    assert _snapshot(tmp_path) == before


def test_corpus_covers_every_class():
    assert len(CASES) >= 60


# --- inputs that resemble refused ones but are fine -----------------------------------


LOOK_ALIKES = """\
seed: 4294967295
data: {name: digits, limit: 300}
tasks:
- {name: digit, kind: multiclass, classes: 10, observables: &four [Z0, Z1, Z2, Z3]}
- {name: parity, kind: binary, observables: *four}
model: {n_qubits: 4, encoder: {hidden: [16]}, ansatz: {layers: 1}}
training: {<<: {lr: 0.1, epochs: 1}, lr: 1, batch_size: 64}
"""


def test_look_alikes_of_refused_inputs_load(tmp_path):
    """An int for a float key, a small alias, a merge key overridden, the largest seed."""
    path = tmp_path / "c.yaml"
    path.write_text(LOOK_ALIKES)
    config = load_config(path)
    assert config.training.lr == 1.0 and isinstance(config.training.lr, float)
    assert config.training.epochs == 1 and config.seed == 2**32 - 1
    assert config.tasks[1].observables == ["Z0", "Z1", "Z2", "Z3"]


def test_set_creates_missing_sections_and_indexes_lists(tiny_config):
    tiny_config.pop("training")
    apply_override(tiny_config, "training.lr=0.5")
    apply_override(tiny_config, "tasks.2.weight=3")
    config = validate_config(tiny_config)
    assert config.training.lr == 0.5 and config.tasks[2].weight == 3.0


# --- credentials ---------------------------------------------------------------------

TOKEN = "qmtl-test-token-8c1f5e2a9b"


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    return TOKEN


def test_a_config_value_equal_to_a_credential_is_refused(token, tmp_path, capsys):
    config = _write(tmp_path, section("data", path=token))
    before = _snapshot(tmp_path)
    assert main(["train", config, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "credential variable QISKIT_IBM_TOKEN" in err and token not in err
    assert _snapshot(tmp_path) == before


def test_debug_traceback_is_redacted(token, tmp_path, capsys):
    missing = tmp_path / token / "config.yaml"
    assert main(["--debug", "train", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "UserError" in err
    assert token not in err and "***" in err


def test_saved_config_keeps_a_path_containing_a_credential_and_eval_works(token, tmp_path, capsys):
    """The saved config is never rewritten by redaction: eval reads the same data path."""
    folder = tmp_path / f"data-{token}"
    folder.mkdir()
    data = folder / "data.csv"
    data.write_text("a,b,label\n" + "".join(f"{i * 0.1},{(i % 7) * 0.3},{i % 2}\n" for i in range(60)))
    raw = copy.deepcopy(TINY)
    raw["data"] = {"name": "csv", "path": str(data)}
    raw["tasks"] = [{"name": "label", "kind": "binary", "observables": ["Z0"]}]
    raw["training"]["epochs"] = 1
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw))
    run = tmp_path / f"run-{token}"
    assert main(["train", str(config), "--out", str(run), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert token not in out + err and "***" in out  # the printed run path is redacted
    assert str(data) in (run / "config.yaml").read_text()
    assert main(["eval", str(run)]) == 0, capsys.readouterr().err


# --- real processes ------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (["--set", "training.lr=.nan"], "--set training.lr is nan"),
    pytest.param(["--set", "tasks.9.weight=2"], "index 9 is out of range", marks=pytest.mark.slow),
])
def test_subprocess_exits_2_with_one_line(tmp_path, args, expected):
    """The installed module as a real process (a fresh interpreter: ~10-30 s of imports)."""
    config = _write(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "qmtl.cli", "train", config, "--out", str(tmp_path / "run"),
                             *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert not (tmp_path / "run").exists()
    assert time.monotonic() - started < 300
