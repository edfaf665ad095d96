"""The bad-input corpus: every user mistake ends with exit code 2 and one line naming it.

Each case builds its inputs in a temporary directory and returns the ``qmtl`` argv; the
test checks the exit code, that stderr is exactly one ``qmtl: error:`` line containing the
expected words, and that no traceback is printed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml
from tiny_configs import TINY

from qmtl.cli import main

Case = Callable[[Path], list[str]]


def _config(tmp: Path, edit: Callable[[dict], None] | None = None, text: str | None = None) -> str:
    path = tmp / "config.yaml"
    if text is not None:
        path.write_text(text)
    else:
        raw = copy.deepcopy(TINY)
        if edit:
            edit(raw)
        path.write_text(yaml.safe_dump(raw))
    return str(path)


def _train(edit=None, *extra: str) -> Case:
    return lambda tmp: ["train", _config(tmp, edit), "--out", str(tmp / "run"), *extra]


def _csv(tmp: Path, body: str) -> Case:
    path = tmp / "data.csv"
    path.write_text(body)
    return path


def _csv_case(body: str, tasks=None) -> Case:
    def build(tmp: Path) -> list[str]:
        data = _csv(tmp, body)

        def edit(raw):
            raw["data"] = {"name": "csv", "path": str(data)}
            raw["tasks"] = tasks or [{"name": "label", "kind": "binary", "observables": ["Z0"]}]
        return ["train", _config(tmp, edit), "--out", str(tmp / "run")]
    return build


GOOD_CSV = "a,b,label\n" + "\n".join(f"{i * 0.1},{(i % 7) * 0.3},{i % 2}" for i in range(40)) + "\n"


def _finished_run(tmp: Path) -> Path:
    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 60
    raw["training"]["epochs"] = 1
    config = tmp / "ok.yaml"
    config.write_text(yaml.safe_dump(raw))
    assert main(["train", str(config), "--out", str(tmp / "done"), "--quiet"]) == 0
    return tmp / "done"


def _checkpoint_case(damage: Callable[[Path], None]) -> Case:
    def build(tmp: Path) -> list[str]:
        run = _finished_run(tmp)
        (run / "status.json").write_text('{"state": "running"}')
        for name in ("last.pt", "previous.pt"):
            damage(run / "checkpoints" / name)
        return ["train", "--resume", str(run)]
    return build


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a checkpoint")


class _Unsafe:
    def __reduce__(self):
        return (print, ("code ran",))


def _unsafe(path: Path) -> None:
    torch.save({"fingerprint": "x", "model": _Unsafe()}, path)


CASES: dict[str, tuple[Case, str]] = {
    # configs
    "unknown top-level key": (_train(lambda c: c.update(trainig={})), "did you mean 'training'"),
    "unknown nested key": (_train(lambda c: c["model"].update(n_qubit=4)), "did you mean 'n_qubits'"),
    "wrong type": (_train(lambda c: c["training"].update(epochs="ten")), "training.epochs"),
    "negative learning rate": (_train(lambda c: c["training"].update(lr=-1)), "training.lr"),
    "multiclass without classes": (_train(lambda c: c["tasks"][0].pop("classes")), "needs 'classes'"),
    "task without observables": (_train(lambda c: c["tasks"][1].update(observables=[])), "has no observables"),
    "observable beyond the qubits": (_train(lambda c: c["tasks"][1].update(observables=["Z4"])), "measures wire 4"),
    "bad Pauli word": (_train(lambda c: c["tasks"][1].update(observables=["Q0"])), "bad Pauli factor"),
    "duplicate task names": (_train(lambda c: c["tasks"][2].update(name="digit")), "appears twice"),
    "no tasks": (_train(lambda c: c.update(tasks=[])), "tasks"),
    "fractions leave no training data": (_train(lambda c: c["data"].update(val_fraction=0.5, test_fraction=0.45)), "under 10%"),
    "unknown architecture": (_train(lambda c: c["model"].update(architecture="hard")), "valid names"),
    "unknown ansatz": (_train(lambda c: c["model"]["ansatz"].update(name="strongly")), "unknown ansatz"),
    "unknown weighting": (_train(lambda c: c["training"].update(weighting="uncertainity")), "did you mean 'uncertainty'"),
    "unknown aggregator": (_train(lambda c: c["training"].update(aggregator="pcgard")), "did you mean 'pcgrad'"),
    "weighting with aggregator": (_train(lambda c: c["training"].update(weighting="dwa", aggregator="upgrad")), "set only one"),
    "unknown weighting option": (_train(lambda c: c["training"].update(weighting="dwa", weighting_options={"temp": 2})), "valid options"),
    "missing config file": (lambda tmp: ["train", str(tmp / "none.yaml")], "does not exist"),
    "invalid YAML": (lambda tmp: ["train", _config(tmp, text="tasks: [\n")], "not valid YAML"),
    "empty config": (lambda tmp: ["train", _config(tmp, text="")], "is empty"),
    "config is a list": (lambda tmp: ["train", _config(tmp, text="- a\n- b\n")], "must be a mapping"),
    "override without value": (_train(None, "--set", "training.lr"), "not key=value"),
    "override through a value": (_train(None, "--set", "seed.x=1"), "is not a section"),
    # data
    "digits given a path": (_train(lambda c: c["data"].update(path="x.csv")), "takes no data.path"),
    "digits unknown option": (_train(lambda c: c["data"].update(options={"halves": True})), "not known to 'digits'"),
    "csv without path": (_train(lambda c: c["data"].update(name="csv")), "needs a file"),
    "csv file missing": (_train(lambda c: c["data"].update(name="csv", path="/no/such.csv")), "does not exist"),
    "csv NaN feature": (_csv_case(GOOD_CSV.replace("\n0.30000000000000004,", "\nnan,", 1).replace("\n0.2,", "\ninf,", 1)), "has a NaN or infinite value"),
    "csv label out of range": (_csv_case(GOOD_CSV.replace(",1\n", ",3\n", 1)), "needs labels 0..1 but has 3"),
    "csv text in a number column": (_csv_case(GOOD_CSV.replace("0.1,", "abc,", 1)), "not a number"),
    "csv ragged row": (_csv_case(GOOD_CSV + "1,2\n"), "fields, the header has 3"),
    "csv missing task column": (_csv_case(GOOD_CSV, [{"name": "target", "kind": "binary", "observables": ["Z0"]}]), "task 'target' is not in"),
    "csv header only": (_csv_case("a,b,label\n"), "at least one data row"),
    "class missing from train": (_csv_case(GOOD_CSV, [{"name": "label", "kind": "multiclass", "classes": 3, "observables": ["Z0"]}]), "never occur in the training split"),
    # devices and circuits
    "unknown device": (_train(lambda c: c.update(device={"name": "aer_simulator"})), "unknown device"),
    "shots on an exact simulator": (_train(lambda c: c.update(device={"name": "default.qubit", "shots": 100})), "device.shots"),
    "non-positive shots": (_train(lambda c: c.update(device={"name": "aer", "shots": 0})), "shots"),
    "noise without shots": (_train(lambda c: c.update(device={"name": "aer", "noise": "fake_manila"})), "noise"),
    "unknown noise model": (_train(lambda c: c.update(device={"name": "aer", "shots": 100, "noise": "fake_mannila"})), "fake_manila"),
    "circuit wider than backend": (_train(lambda c: (c["model"].update(n_qubits=7), c.update(device={"name": "fake_manila"}))), "7"),
    # checkpoints and run directories
    "resume a missing run": (lambda tmp: ["train", "--resume", str(tmp / "nothing")], "no run to resume"),
    "resume a complete run": (lambda tmp: ["train", "--resume", str(_finished_run(tmp))], "already complete"),
    "resume with overrides": (lambda tmp: ["train", "--resume", str(_finished_run(tmp)), "--set", "seed=1"], "drop CONFIG and --set"),
    "truncated checkpoint": (_checkpoint_case(_truncate), "truncated, corrupted"),
    "garbage checkpoint": (_checkpoint_case(_garbage), "truncated, corrupted"),
    "unsafe checkpoint": (_checkpoint_case(_unsafe), "not a safe qmtl checkpoint"),
    "run directory reused": (lambda tmp: ["train", _config(tmp), "--out", str(_finished_run(tmp))], "already holds a run"),
    "eval of a non-run": (lambda tmp: ["eval", str(tmp)], "not a qmtl run directory"),
    "eval changing the model": (lambda tmp: ["eval", str(_finished_run(tmp)), "--set", "model.n_qubits=3"], "only device.* keys"),
    # command line
    "unknown command": (lambda tmp: ["trian"], "invalid choice"),
    "unknown flag": (lambda tmp: ["train", "--lr", "1"], "unrecognized arguments"),
    "train without config": (lambda tmp: ["train"], "needs a CONFIG.yaml"),
    "bad split name": (lambda tmp: ["eval", str(tmp), "--split", "dev"], "invalid choice"),
    "draw a missing config": (lambda tmp: ["circuits", "draw", str(tmp / "none.yaml")], "does not exist"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line(case, tmp_path, capsys):
    build, expected = CASES[case]
    argv = build(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
