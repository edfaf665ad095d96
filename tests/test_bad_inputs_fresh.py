"""A fresh red-team corpus of bad inputs and faults, across every command.

Each case builds its inputs in a temporary folder (copying one finished run where it needs
one), snapshots the folder, runs ``qmtl`` in process and checks the promise: exit code 2,
exactly one line on stderr starting ``qmtl: error:`` that holds the expected words, no
traceback, and the folder exactly as it was (names, sizes and bytes; run locks aside).
Faults (full disk, failing disk, Ctrl-C) are injected with monkeypatch; a few cases run a
real subprocess.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from folder_state import folder_state
from tiny_configs import TINY, finished_tiny_run

from qmtl.cli import main
from qmtl.hardware import jobs


@dataclass
class Inputs:
    """The temporary folder of one case, and a lazily copied finished run inside it."""

    tmp: Path
    trained: Path

    def run(self, name: str = "run") -> Path:
        """A private copy of the finished run (trained, submitted to fake_manila)."""
        target = self.tmp / name
        if not target.exists():
            shutil.copytree(self.trained, target)
        return target

    def config(self, edit: Callable[[dict], Any] | None = None, name: str = "config.yaml") -> str:
        raw = copy.deepcopy(TINY)
        raw["data"]["limit"] = 60
        raw["training"]["epochs"] = 1
        if edit is not None:
            edit(raw)
        path = self.tmp / name
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return str(path)

    def text(self, text: str, name: str = "config.yaml") -> str:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)


Build = Callable[[Inputs], list[str]]


def train(edit: Callable[[dict], Any] | None = None, *extra: str) -> Build:
    return lambda io: ["train", io.config(edit), "--out", str(io.tmp / "out"), "--quiet", *extra]


def train_text(text: str) -> Build:
    return lambda io: ["train", io.text(text), "--out", str(io.tmp / "out"), "--quiet"]


def put(path: str, value: Any) -> Callable[[dict], None]:
    """An edit setting one dotted key (list positions as numbers) to ``value``."""
    def edit(raw: dict) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return edit


def task(index: int, **values: Any) -> Callable[[dict], None]:
    return lambda raw: raw["tasks"][index].update(values)


TASK_TEXT = "tasks: [{name: t, kind: binary, observables: [Z0]}]\n"


def spoil_run(spoil: Callable[[Path], None], *command: str) -> Build:
    """``command`` (with ``{run}`` for the run path) on a copy of the finished run spoilt first."""
    def build(io: Inputs) -> list[str]:
        run = io.run()
        spoil(run)
        return [part.replace("{run}", str(run)) for part in command]
    return build


def write(relative: str, content: str | bytes) -> Callable[[Path], None]:
    def spoil(run: Path) -> None:
        path = run / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return spoil


def remove(relative: str) -> Callable[[Path], None]:
    def spoil(run: Path) -> None:
        path = run / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return spoil


def replace_with_folder(relative: str) -> Callable[[Path], None]:
    def spoil(run: Path) -> None:
        remove(relative)(run)
        (run / relative).mkdir()
    return spoil


def edit_config(old: str, new: str) -> Callable[[Path], None]:
    def spoil(run: Path) -> None:
        path = run / "config.yaml"
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    return spoil


def truncate(relative: str, keep: int) -> Callable[[Path], None]:
    def spoil(run: Path) -> None:
        path = run / relative
        path.write_bytes(path.read_bytes()[:keep])
    return spoil


def unfinished(*more: Callable[[Path], None]) -> Callable[[Path], None]:
    """Mark the run as interrupted (so --resume is allowed), then apply ``more``."""
    def spoil(run: Path) -> None:
        (run / "status.json").write_text(json.dumps({"state": "running"}))
        for step in more:
            step(run)
    return spoil


def resume(*spoils: Callable[[Path], None]) -> Build:
    return spoil_run(unfinished(*spoils), "train", "--resume", "{run}", "--quiet")


def submit(*options: str, spoil: Callable[[Path], None] | None = None) -> Build:
    return spoil_run(spoil or (lambda run: None), "submit", "{run}", "--backend", "fake_manila",
                     "--shots", "100", "--yes", *options)


def sweep_file(text: str, *options: str) -> Build:
    def build(io: Inputs) -> list[str]:
        path = io.tmp / "sweep.yaml"
        path.write_text(text, encoding="utf-8")
        return ["sweep", str(path), "--out", str(io.tmp / "sweep-out"), "--quiet", *options]
    return build


TINY_INLINE = ("config:\n  data: {name: digits, limit: 60}\n"
               "  tasks: [{name: parity, kind: binary, observables: [Z0]}]\n"
               "  model: {n_qubits: 2, encoder: {hidden: [4]}, ansatz: {layers: 1}}\n"
               "  training: {epochs: 1}\n")


def sweep(body: str, *options: str) -> Build:
    return sweep_file(TINY_INLINE + body, *options)


# (argv builder, words the one error line must hold)
CASES: dict[str, tuple[Build, str]] = {
    # --- config structure and section types
    "tasks a mapping": (train(put("tasks", {"digit": {"kind": "binary"}})), "tasks"),
    "task a bare string": (train(put("tasks", ["digit"])), "tasks.0"),
    "task null": (train(put("tasks", [None])), "tasks.0"),
    "model a list": (train(put("model", [1, 2])), "model"),
    "data a string": (train(put("data", "digits")), "data"),
    "device a number": (train(put("device", 7)), "device"),
    "training a list": (train(put("training", ["epochs", 1])), "training"),
    "encoder a string": (train(put("model.encoder", "mlp")), "model.encoder"),
    "ansatz a number": (train(put("model.ansatz", 3)), "model.ansatz"),
    "integer top-level key": (train_text(TASK_TEXT + "1: x\n"), "1"),
    "null top-level key": (train_text(TASK_TEXT + "~: x\n"), "config"),
    "unicode look-alike key": (train(lambda raw: raw.update({"trainíng": {}})), "did you mean 'training'"),
    "tasks missing": (train(lambda raw: raw.pop("tasks")), "tasks"),
    "options a list": (train(put("model.options", [1])), "model.options"),
    "data options a string": (train(put("data.options", "x")), "data.options"),
    # --- YAML oddities
    "tab indentation": (train_text("data:\n\tname: digits\n" + TASK_TEXT), "YAML"),
    "two documents": (train_text(TASK_TEXT + "---\n" + TASK_TEXT), "YAML"),
    "scalar document": (train_text("42\n"), "mapping"),
    "set tag": (train_text(TASK_TEXT + "seed: !!set {a, b}\n"), "seed"),
    "binary tag": (train_text(TASK_TEXT + "seed: !!binary aGVsbG8=\n"), "seed"),
    "complex key": (train_text(TASK_TEXT + "? [a, b]\n: 1\n"), "YAML"),
    "date as seed": (train_text(TASK_TEXT + "seed: 2001-12-14\n"), "seed"),
    "lr written 1e-3 (a string in YAML 1.1)": (train_text(TASK_TEXT + "training: {lr: 1e-3}\n"), "training.lr"),
    "unclosed quote": (train_text(TASK_TEXT + "data: {name: 'digits}\n"), "YAML"),
    "merge of a scalar": (train_text(TASK_TEXT + "model: {<<: 3}\n"), "YAML"),
    "undefined alias": (train_text(TASK_TEXT + "model: *nothing\n"), "YAML"),
    # --- types and ranges
    "seed a string": (train(put("seed", "0")), "seed"),
    "seed 2**32": (train(put("seed", 2**32)), "seed"),
    "seed float": (train(put("seed", 0.0)), "seed"),
    "31 qubits": (train(put("model.n_qubits", 31)), "model.n_qubits"),
    "a million qubits": (train(put("model.n_qubits", 10**6)), "model.n_qubits"),
    "hidden a scalar": (train(put("model.encoder.hidden", 16)), "model.encoder.hidden"),
    "hidden of strings": (train(put("model.encoder.hidden", ["16"])), "model.encoder.hidden"),
    "33 hidden layers": (train(put("model.encoder.hidden", [2] * 33)), "model.encoder.hidden"),
    "activation capitalised": (train(put("model.encoder.activation", "Tanh")), "tanh"),
    "rotation lower case": (train(put("model.encoding.rotation", "y")), "model.encoding.rotation"),
    "encoding scale zero": (train(put("model.encoding.scale", 0)), "model.encoding.scale"),
    "encoding scale negative": (train(put("model.encoding.scale", -1.0)), "model.encoding.scale"),
    "101 layers": (train(put("model.ansatz.layers", 101)), "model.ansatz.layers"),
    "dropout negative": (train(put("model.encoder.dropout", -0.1)), "model.encoder.dropout"),
    "epochs over a million": (train(put("training.epochs", 1_000_001)), "training.epochs"),
    "batch size negative": (train(put("training.batch_size", -8)), "training.batch_size"),
    "batch size 2**31": (train(put("training.batch_size", 2**31)), "training.batch_size"),
    "lr zero": (train(put("training.lr", 0)), "training.lr"),
    "weight decay negative": (train(put("training.weight_decay", -0.01)), "training.weight_decay"),
    "patience negative": (train(put("training.patience", -1)), "training.patience"),
    "checkpoint_every negative": (train(put("training.checkpoint_every", -3)), "training.checkpoint_every"),
    "conflict diagnostic null": (train(put("training.conflict_diagnostic", None)), "training.conflict_diagnostic"),
    "weighting empty": (train(put("training.weighting", "")), "weighting"),
    "aggregator empty": (train(put("training.aggregator", "")), "aggregator"),
    "weighting a list": (train(put("training.weighting", ["dwa"])), "training.weighting"),
    "weighting options a list": (train(put("training.weighting_options", [1])), "training.weighting_options"),
    "static weights too few": (train(lambda raw: raw["training"].update(
        weighting="static", weighting_options={"weights": [1.0]})), "weights"),
    "aggregator options without aggregator": (train(put("training.aggregator_options", {"x": 1})), "aggregator"),
    "device shots beyond a million": (train(put("device", {"name": "aer", "shots": 10**15})), "device.shots"),
    "ibm device naming no backend": (train(put("device", {"name": "ibm:"})), "names no backend"),
    "weighting options with aggregator": (train(lambda raw: raw.setdefault("training", {}).update(
        aggregator="upgrad", weighting_options={"temperature": 2.0})), "weighting_options"),
    "val fraction zero": (train(put("data.val_fraction", 0)), "data.val_fraction"),
    "test fraction one": (train(put("data.test_fraction", 1)), "data.test_fraction"),
    "test fraction negative": (train(put("data.test_fraction", -0.2)), "data.test_fraction"),
    "limit 9": (train(put("data.limit", 9)), "data.limit"),
    "limit 2**31": (train(put("data.limit", 2**31)), "data.limit"),
    "data name upper case": (train(put("data.name", "DIGITS")), "digits"),
    "data name empty": (train(put("data.name", "")), "data"),
    "features a string": (train(put("data.features", "a")), "data.features"),
    "features on digits": (train(put("data.features", ["a"])), "features"),
    "path null name csv": (train(lambda raw: raw["data"].update(name="csv", path=None)), "data.path"),
    # --- tasks: kinds, classes, observables, names
    "kind unknown": (train(task(1, kind="multilabel")), "kind"),
    "kind capitalised": (train(task(1, kind="Binary")), "kind"),
    "classes on regression": (train(task(1, kind="regression", classes=3)), "classes"),
    "classes on binary": (train(task(1, classes=5)), "classes"),
    "classes zero": (train(task(0, classes=0)), "classes"),
    "classes negative": (train(task(0, classes=-3)), "classes"),
    "classes a billion": (train(task(0, classes=10**9)), "classes"),
    "classes a string": (train(task(0, classes="10")), "classes"),
    "observable repeats a wire": (train(task(1, observables=["Z0 Z0"])), "Z0 Z0"),
    "observable negative wire": (train(task(1, observables=["Z-1"])), "Z-1"),
    "observable fractional wire": (train(task(1, observables=["Z0.5"])), "Z0.5"),
    "observable identity only": (train(task(1, observables=["I0"])), "I0"),
    "observable empty string": (train(task(1, observables=[""])), "observable"),
    "observable blank": (train(task(1, observables=["   "])), "observable"),
    "observable Arabic-Indic digit": (train(task(1, observables=["Z\u0663"])), "Z\u0663"),
    "observable superscript digit": (train(task(1, observables=["Z\u00b2"])), "Z\u00b2"),
    "observable nested list": (train(task(1, observables=[["Z0"]])), "observables"),
    "observable a number": (train(task(1, observables=[0])), "observables"),
    "observable huge wire": (train(task(1, observables=["Z99999999999999999999"])), "Z99999999999999999999"),
    "observables null": (train(task(1, observables=None)), "observables"),
    "task name with newline": (train(task(1, name="par\nity")), "not in data set"),
    "task name with slash": (train(task(1, name="a/b")), "not in data set"),
    "task name 10 000 characters": (train(task(1, name="x" * 10_000)), "name"),
    "task unknown key": (train(task(1, loss="mse")), "loss"),
    "task weight a string": (train(task(1, weight="1")), "weight"),
    # --- devices in the config
    "device name empty": (train(put("device", {"name": ""})), "device"),
    "device name trailing space": (train(put("device", {"name": "default.qubit "})), "default.qubit"),
    "device name bare ibm:": (train(put("device", {"name": "ibm:"})), "IBM"),
    "device shots negative": (train(put("device", {"name": "aer", "shots": -1})), "shots"),
    "device noise on default.qubit": (train(put("device", {"name": "default.qubit", "noise": "fake_manila"})), "noise"),
    "device noise an IBM name": (train(put("device", {"name": "aer", "shots": 100, "noise": "ibm_brisbane"})), "fake_brisbane"),
    "device unknown key": (train(put("device", {"nam": "aer"})), "device"),
    # --- --set forms
    "--set unknown key": (train(None, "--set", "training.lrr=0.1"), "did you mean 'lr'"),
    "--set equals only": (train(None, "--set", "="), "--set"),
    "--set value with newline": (train(None, "--set", "training.weighting=dw\na"), "weighting"),
    "--set unclosed list": (train(None, "--set", "model.encoder.hidden=[16"), "model.encoder.hidden"),
    "--set mapping for a number": (train(None, "--set", "training.lr={a: 1}"), "training.lr"),
    "--set tasks to null": (train(None, "--set", "tasks=null"), "tasks"),
    "--set alias": (train(None, "--set", "training.lr=*x"), "training.lr"),
    "--set huge float": (train(None, "--set", "training.lr=1e400"), "training.lr"),
    "--set nan": (train(None, "--set", "training.lr=.nan"), "training.lr"),
    "--set index past the end": (train(None, "--set", "tasks.7.weight=1"), "tasks"),
    "--set section to a scalar": (train(None, "--set", "model=3"), "model"),
    # --- paths
    "config is a directory": (lambda io: ["train", str(io.tmp)], "directory"),
    "config missing with spaces and unicode": (lambda io: ["train", str(io.tmp / "mé config.yaml")], "does not exist"),
    "config dangling symlink": (lambda io: (io.tmp.joinpath("link.yaml").symlink_to(io.tmp / "gone.yaml"),
                                            ["train", str(io.tmp / "link.yaml")])[1], "does not exist"),
    "config /dev/null": (lambda io: ["train", "/dev/null", "--out", str(io.tmp / "out")], "not a regular file"),
    "--out an existing file": (lambda io: (io.tmp.joinpath("file").write_text("x"),
                                           ["train", io.config(), "--out", str(io.tmp / "file")])[1], "file"),
    "--out below a file": (lambda io: (io.tmp.joinpath("file").write_text("x"),
                                       ["train", io.config(), "--out", str(io.tmp / "file" / "run")])[1], "file"),
    "--out a dangling symlink": (lambda io: (io.tmp.joinpath("out").symlink_to(io.tmp / "nowhere"),
                                             ["train", io.config(), "--out", str(io.tmp / "out")])[1], "out"),
    "csv path is the config itself": (lambda io: ["train", io.config(lambda raw: raw.update(
        data={"name": "csv", "path": str(io.tmp / "config.yaml")}, tasks=[{
            "name": "label", "kind": "binary", "observables": ["Z0"]}])), "--out", str(io.tmp / "out")], "not in data file"),
    # --- run directories: resume
    "resume a file": (lambda io: ["train", "--resume", io.config()], "no run to resume"),
    "resume with --force": (spoil_run(unfinished(), "train", "--resume", "{run}", "--force"), "--force"),
    "resume with --out": (spoil_run(unfinished(), "train", "--resume", "{run}", "--out", "{run}2"), "--out"),
    "resume config emptied": (resume(write("config.yaml", "")), "config"),
    "resume config edited to invalid": (resume(write("config.yaml", TASK_TEXT + "seed: -4\n")), "seed"),
    "resume config not YAML": (resume(write("config.yaml", "tasks: [\n")), "YAML"),
    "resume without checkpoints": (resume(remove("checkpoints")), "checkpoint"),
    "resume checkpoint emptied": (resume(write("checkpoints/last.pt", b""), write("checkpoints/previous.pt", b"")),
                                  "checkpoint"),
    "resume checkpoint is a directory": (resume(replace_with_folder("checkpoints/last.pt"),
                                                replace_with_folder("checkpoints/previous.pt")), "checkpoint"),
    "resume metrics a directory": (resume(replace_with_folder("metrics.jsonl")), "metrics.jsonl"),
    "resume checkpoint of another run": (resume(edit_config("seed: 0", "seed: 5")), "checkpoint"),
    # --- run directories: eval
    "eval a config file": (lambda io: ["eval", io.config()], "run directory"),
    "eval without config": (spoil_run(remove("config.yaml"), "eval", "{run}"), "run directory"),
    "eval invalid config": (spoil_run(write("config.yaml", "tasks: 3\n"), "eval", "{run}"), "tasks"),
    "eval best.pt garbage": (spoil_run(write("checkpoints/best.pt", b"\x80\x04garbage"), "eval", "{run}"), "checkpoint"),
    "eval unknown device": (spoil_run(lambda run: None, "eval", "{run}", "--set", "device.name=qpu"), "unknown device"),
    "eval zero shots": (spoil_run(lambda run: None, "eval", "{run}", "--set", "device.name=aer", "--set",
                                  "device.shots=0"), "shots"),
    "eval seed override": (spoil_run(lambda run: None, "eval", "{run}", "--set", "seed=3"), "device"),
    "eval missing baseline": (spoil_run(lambda run: None, "eval", "{run}", "--baseline", "{run}/none"), "none"),
    "eval baseline a file": (spoil_run(lambda run: None, "eval", "{run}", "--baseline", "{run}/config.yaml"),
                             "config.yaml"),
    "eval baseline with other tasks": (spoil_run(lambda run: (
        shutil.copytree(run, run.parent / "other"),
        (run.parent / "other" / "config.yaml").write_text(
            (run / "config.yaml").read_text().replace("name: parity", "name: odd"))),
        "eval", "{run}", "--baseline", "{run}/../other"), "task"),
    "eval split missing value": (lambda io: ["eval", str(io.tmp), "--split"], "--split"),
    "eval bad convention": (lambda io: ["eval", str(io.tmp), "--delta-m-convention", "up"], "invalid choice"),
    # --- submit numbers and names
    "submit shots nan": (submit("--shots", "nan"), "--shots"),
    "submit shots 1e3": (submit("--shots", "1e3"), "--shots"),
    "submit shots huge": (submit("--shots", str(10**15)), "--shots"),
    "submit shots inf": (submit("--shots", "inf"), "--shots"),
    "submit rows per job negative": (submit("--rows-per-job", "-1"), "--rows-per-job"),
    "submit rows per job nan": (submit("--rows-per-job", "nan"), "--rows-per-job"),
    "submit qpu seconds 1e400": (submit("--max-qpu-seconds", "1e400"), "--max-qpu-seconds"),
    "submit qpu seconds -0": (submit("--max-qpu-seconds", "-0"), "--max-qpu-seconds"),
    "submit qpu seconds text": (submit("--max-qpu-seconds", "ten"), "--max-qpu-seconds"),
    "submit randomizations zero": (submit("--mitigation", "twirling", "--randomizations", "0"), "--randomizations"),
    "submit randomizations negative": (submit("--mitigation", "twirling", "--randomizations", "-2"), "--randomizations"),
    "submit randomizations huge": (submit("--mitigation", "twirling", "--randomizations", str(10**12)),
                                   "--randomizations"),
    "submit randomizations without twirling": (submit("--randomizations", "4"), "--randomizations"),
    "zne factors empty": (submit("--mitigation", "zne", "--zne-noise-factors", ""), "--zne-noise-factors"),
    "zne factors blank entry": (submit("--mitigation", "zne", "--zne-noise-factors", "1,,3"), "--zne-noise-factors"),
    "zne factor below 1": (submit("--mitigation", "zne", "--zne-noise-factors", "0.5,1,3"), "--zne-noise-factors"),
    "zne factor nan": (submit("--mitigation", "zne", "--zne-noise-factors", "nan,1,3"), "--zne-noise-factors"),
    "zne factor inf": (submit("--mitigation", "zne", "--zne-noise-factors", "1,3,inf"), "--zne-noise-factors"),
    "zne factors repeated": (submit("--mitigation", "zne", "--zne-noise-factors", "1,1,1"), "repeats a factor"),
    "zne factors words": (submit("--mitigation", "zne", "--zne-noise-factors", "one,three"), "--zne-noise-factors"),
    "zne factors without zne": (submit("--zne-noise-factors", "1,3,5"), "zne"),
    "zne unknown extrapolator": (submit("--mitigation", "zne", "--zne-extrapolator", "cubic"), "extrapolator"),
    "zne polynomial degree 9": (submit("--mitigation", "zne", "--zne-extrapolator", "polynomial_degree_9"),
                                "extrapolator"),
    "zne amplifier pea": (submit("--mitigation", "zne", "--zne-amplifier", "pea"), "pea"),
    "mitigation pec": (submit("--mitigation", "pec"), "pec"),
    "submit backend empty": (submit("--backend", ""), "backend"),
    "submit backend with spaces": (submit("--backend", "fake manila"), "backend"),
    "submit ibm without account": (submit("--backend", "ibm_brisbane", "--dry-run"), "account"),
    "submit bad mode": (submit("--mode", "sessions"), "invalid choice"),
    "submit without --backend": (spoil_run(lambda run: None, "submit", "{run}"), "--backend"),
    # --- jobs and ledgers
    "jobs of a missing run": (lambda io: ["jobs", str(io.tmp / "none")], "none"),
    "jobs of a file": (lambda io: ["jobs", io.config()], "run directory"),
    "jobs ledger of another backend": (submit(spoil=write(
        "hardware/fake_manila/jobs.json", '{"backend": "fake_lima", "local": true, "jobs": []}')), "fake_lima"),
    "jobs ledger a list": (spoil_run(write("hardware/fake_manila/jobs.json", "[]"), "jobs", "{run}"), "jobs.json"),
    "jobs ledger truncated": (spoil_run(truncate("hardware/fake_manila/jobs.json", 20), "jobs", "{run}"), "jobs.json"),
    "jobs ledger not UTF-8": (spoil_run(write("hardware/fake_manila/jobs.json", b"\xff\xff"), "jobs", "{run}"),
                              "jobs.json"),
    "jobs ledger a directory": (spoil_run(replace_with_folder("hardware/fake_manila/jobs.json"), "jobs", "{run}"),
                                "jobs.json"),
    # --- circuits export and draw
    "export a missing run": (lambda io: ["circuits", "export", str(io.tmp / "none")], "none"),
    "export --out an existing file": (spoil_run(lambda run: (run.parent / "file.qasm").write_text("x"),
                                                "circuits", "export", "{run}", "--out", "{run}/../file.qasm"), "file"),
    "export --out below a file": (spoil_run(lambda run: (run.parent / "file").write_text("x"),
                                            "circuits", "export", "{run}", "--out", "{run}/../file/sub"), "file"),
    "export garbage best.pt": (spoil_run(write("checkpoints/best.pt", b"junk"), "circuits", "export", "{run}"),
                               "checkpoint"),
    "export invalid config": (spoil_run(write("config.yaml", "seed: x\n" + TASK_TEXT), "circuits", "export", "{run}"),
                              "seed"),
    "draw --out below a file": (lambda io: (io.tmp.joinpath("file").write_text("x"),
                                            ["circuits", "draw", io.config(), "--out", str(io.tmp / "file" / "c.png")])[1],
                                "file"),
    "draw unknown image type": (lambda io: ["circuits", "draw", io.config(), "--out", str(io.tmp / "c.xyz")], "xyz"),
    "draw bad --set": (lambda io: ["circuits", "draw", io.config(), "--set", "model.n_qubits=0"], "model.n_qubits"),
    "draw config a directory": (lambda io: ["circuits", "draw", str(io.tmp)], "directory"),
    "circuits without action": (lambda io: ["circuits"], "circuits"),
    "catalogue unknown flag": (lambda io: ["circuits", "catalogue", "--chek"], "--chek"),
    # --- sweeps
    "sweep file missing": (lambda io: ["sweep", str(io.tmp / "none.yaml")], "none.yaml"),
    "sweep file empty": (sweep_file(""), "sweep"),
    "sweep file a list": (sweep_file("- a\n- b\n"), "sweep"),
    "sweep neither base nor config": (sweep_file("grid: {training.lr: [0.1]}\n"), "base"),
    "sweep base and config": (sweep("base: x.yaml\n"), "base"),
    "sweep base missing": (sweep_file("base: nowhere.yaml\n"), "nowhere.yaml"),
    "sweep base a directory": (lambda io: sweep_file(f"base: {io.tmp}\n")(io), "directory"),
    "sweep grid key missing": (sweep("grid: {training.lrr: [0.1]}\n"), "training.lrr"),
    "sweep grid key empty": (sweep("grid: {'': [1]}\n"), "empty key"),
    "sweep grid not a mapping": (sweep("grid: [training.lr, 0.1]\n"), "grid"),
    "sweep grid value a scalar": (sweep("grid: {training.lr: 0.1}\n"), "training.lr"),
    "sweep grid empty list": (sweep("grid: {training.lr: []}\n"), "training.lr"),
    "sweep grid bad value": (sweep("grid: {training.lr: [fast]}\n"), "training.lr"),
    "sweep grid nan value": (sweep("grid: {training.lr: [.nan]}\n"), "training.lr"),
    "sweep list entry a scalar": (sweep("list: [1]\n"), "list"),
    "sweep list unknown key": (sweep("list: [{training.wieghting: dwa}]\n"), "training.wieghting"),
    "sweep seeds empty": (sweep("seeds: []\n"), "seeds"),
    "sweep seeds negative": (sweep("seeds: [-1]\n"), "seed"),
    "sweep seeds text": (sweep("seeds: [a]\n"), "seeds"),
    "sweep seeds fractional": (sweep("seeds: [1.5]\n"), "seeds"),
    "sweep seeds a bool": (sweep("seeds: [true]\n"), "seeds"),
    "sweep seeds a quoted number": (sweep("seeds: ['1']\n"), "seeds"),
    "sweep seeds huge": (sweep("seeds: [1099511627776]\n"), "seed"),
    "sweep seeds repeated": (sweep("seeds: [0, 0]\n"), "twice"),
    "sweep seeds a scalar": (sweep("seeds: 3\n"), "seeds"),
    "sweep seed in grid": (sweep("grid: {seed: [1, 2]}\n"), "seeds"),
    "sweep unknown key": (sweep("seedz: [1]\n"), "seedz"),
    "sweep name escapes": (lambda io: ["sweep", sweep_file(TINY_INLINE + "name: ../escape\n")(io)[1], "--quiet"],
                           "name"),
    "sweep name a number": (sweep("name: 5\n"), "name"),
    "sweep name a tag": (sweep("name: !!python/name:os.system\n"), "tag"),
    "sweep invalid inline config": (sweep_file("config: {tasks: []}\n"), "tasks"),
    "sweep config a list": (sweep_file("config: [1]\n"), "config"),
    "sweep workers zero": (sweep("", "--workers", "0"), "--workers"),
    "sweep workers negative": (sweep("", "--workers", "-2"), "--workers"),
    "sweep workers text": (sweep("", "--workers", "two"), "--workers"),
    "sweep retries negative": (sweep("", "--retries", "-1"), "--retries"),
    "sweep retries nan": (sweep("", "--retries", "nan"), "--retries"),
    "sweep address without ray": (sweep("", "--address", "auto"), "--address"),
    "sweep --out a file": (lambda io: (io.tmp.joinpath("f").write_text("x"),
                                       sweep("")(io)[:2] + ["--out", str(io.tmp / "f"), "--quiet"])[1], "file"),
    "sweep YAML error": (sweep_file("grid: {a: [1\n"), "YAML"),
    # --- command line combinations
    "train --resume without value": (lambda io: ["train", "--resume"], "--resume"),
    "train config and --resume": (lambda io: ["train", io.config(), "--resume", str(io.tmp)], "--resume"),
    "--debug after a bad flag value": (lambda io: ["sweep", "x.yaml", "--workers", "many"], "--workers"),
    "info with an argument": (lambda io: ["info", "extra"], "unrecognized"),
    "backends with a flag": (lambda io: ["backends", "--all"], "unrecognized"),
    "double dash config missing": (lambda io: ["train", "--", str(io.tmp / "-x.yaml")], "does not exist"),
    "empty command string": (lambda io: [""], "invalid choice"),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One tiny finished run with a finished fake_manila submission, made once and copied per case."""
    return finished_tiny_run(tmp_path_factory.mktemp("trained"), submitted=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """An empty home folder, outside each case's snapshot: no saved IBM account."""
    return tmp_path_factory.mktemp("home")



def assert_one_line_refusal(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("qmtl: error: "), err
    assert expected.lower() in err.lower(), err


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(CASES))
def test_fresh_bad_input_is_one_line_exit_2_and_changes_nothing(case, trained, home, tmp_path, capsys, monkeypatch):
    build, expected = CASES[case]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(jobs, "_LOCAL_JOBS", {})
    for variable in [name for name in os.environ if name.startswith("QISKIT_IBM")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(home))  # no saved IBM account
    argv = build(Inputs(tmp_path, trained))
    before = folder_state(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert_one_line_refusal(code, err, expected)
    assert folder_state(tmp_path) == before


def test_corpus_has_at_least_120_cases():
    assert len(CASES) >= 120


# --- faults: storage errors and Ctrl-C injected where the command writes or reads

def _raise(error: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error
    return fail


def _disk_full(path: str = "last.pt") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


FAULTS: dict[str, tuple[str, Callable[[Inputs], list[str]], BaseException, str]] = {
    # (attribute patched to raise, argv, what it raises, words of the one line)
    "train: disk full on the checkpoint": (
        "torch.save", lambda io: ["train", io.config(), "--out", str(io.tmp / "out"), "--quiet"],
        _disk_full(), "qmtl train --resume"),
    "train: read-only file system": (
        "torch.save", lambda io: ["train", io.config(), "--out", str(io.tmp / "out"), "--quiet"],
        OSError(errno.EROFS, os.strerror(errno.EROFS), "last.pt"), "Read-only file system"),
    "eval: disk error reading the checkpoint": (
        "qmtl.run.load_checkpoint", lambda io: ["eval", str(io.run())],
        OSError(errno.EIO, os.strerror(errno.EIO), "best.pt"), "cannot use 'best.pt' (Input/output error)"),
    "draw: disk full writing the figure": (
        "matplotlib.figure.Figure.savefig", lambda io: ["circuits", "draw", io.config(), "--out",
                                                        str(io.tmp / "c.png")],
        _disk_full("c.png"), "No space left on device"),
    "export: quota exceeded": (
        "qmtl.export.atomic_write_text", lambda io: ["circuits", "export", str(io.run()), "--out",
                                                     str(io.tmp / "qasm")],
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), "model.qasm"), "Disk quota exceeded"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(FAULTS))
def test_storage_fault_is_one_line_exit_2(case, trained, tmp_path, capsys, monkeypatch):
    target, build, error, expected = FAULTS[case]
    monkeypatch.chdir(tmp_path)
    argv = build(Inputs(tmp_path, trained))
    monkeypatch.setattr(target, _raise(error))
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert_one_line_refusal(code, err, expected)
    if not argv[0] == "train":  # only train may leave a run behind to resume
        assert "--resume" not in err


@pytest.mark.parametrize("argv, advice", [
    (lambda io: ["eval", str(io.run())], "qmtl: interrupted; run the same command again"),
    (lambda io: ["train", io.config(), "--out", str(io.tmp / "out"), "--quiet"], "qmtl train --resume"),
])
def test_ctrl_c_is_the_documented_interrupt_line(argv, advice, trained, tmp_path, capsys, monkeypatch):
    argv = argv(Inputs(tmp_path, trained))
    monkeypatch.setattr("qmtl.run.load_data" if argv[0] == "eval" else "torch.save", _raise(KeyboardInterrupt()))
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1 and err.startswith("qmtl: interrupted; "), err
    assert advice in err and "Traceback" not in err


# --- look-alikes of refused inputs that must keep working

def test_a_status_file_that_is_not_a_json_object_reads_as_interrupted_and_resumes(trained, tmp_path, capsys):
    for content in (b"[1, 2]", b"\xff\xfe\x00", b'{"sta'):
        run = Inputs(tmp_path, trained).run(f"run{len(content)}")
        (run / "status.json").write_bytes(content)
        assert main(["train", "--resume", str(run), "--quiet"]) == 0, capsys.readouterr().err
        assert json.loads((run / "status.json").read_text())["state"] == "complete"


def test_distinct_noise_factors_and_lower_case_observables_are_accepted(tmp_path):
    from qmtl.devices.mitigation import parse_noise_factors
    from qmtl.observables import canonical_word

    assert parse_noise_factors("1,1.5,3") == (1.0, 1.5, 3.0)
    assert canonical_word("z1 x0") == "X0 Z1"


# --- real processes: the console script, and a config path that would block a read

def _qmtl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qmtl.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_a_fifo_as_config_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "config.yaml")
    result = _qmtl("train", "config.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "not a regular file" in result.stderr, result.stderr


def test_a_bad_sweep_in_a_subprocess_is_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text(TINY_INLINE + "seeds: [true]\n")
    result = _qmtl("sweep", "s.yaml", "--quiet", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("qmtl: error: ") and "seeds" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
