"""Bad data: every case ends with exit code 2, one line naming the problem, and nothing written.

Each case writes its own data file (CSV or NPZ) and config into a temporary directory
and runs ``qmtl train`` in-process.  The test checks the exit code, that stderr is
exactly one ``qmtl: error:`` line containing the expected words, that no traceback is
printed, and that the temporary directory is exactly as it was before the command (no
run directory, finished-looking or not, and no file touched).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from folder_state import folder_state
from tiny_configs import TINY

from qmtl.cli import main
from qmtl.config import DataConfig
from qmtl.data import load_data
from qmtl.data.base import RawData, prepare, split_sizes
from qmtl.tasks import TaskConfig

Case = Callable[[Path], list[str]]

BINARY = [{"name": "label", "kind": "binary", "observables": ["Z0"]}]
ROWS = 40


def _table(header: str = "a,b,label", rows: int = ROWS, row: Callable[[int], str] | None = None) -> str:
    make = row or (lambda i: f"{i * 0.1:.1f},{(i % 7) * 0.3:.1f},{i % 2}")
    return header + "\n" + "\n".join(make(i) for i in range(rows)) + "\n"


GOOD_CSV = _table()


def _write_config(tmp: Path, data: dict[str, Any], tasks: list[dict[str, Any]] | None = None) -> str:
    raw = copy.deepcopy(TINY)
    raw["data"] = data
    raw["tasks"] = tasks or BINARY
    raw["training"]["epochs"] = 1
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def _argv(tmp: Path, data: dict[str, Any], tasks: list[dict[str, Any]] | None = None) -> list[str]:
    return ["train", _write_config(tmp, data, tasks), "--out", str(tmp / "run"), "--quiet"]


def csv_case(content: str | bytes, tasks: list[dict[str, Any]] | None = None, **data: Any) -> Case:
    """A CSV file with ``content`` (text or raw bytes) as ``data.path``, plus other data keys."""
    def build(tmp: Path) -> list[str]:
        path = tmp / "data.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return _argv(tmp, {"name": "csv", "path": str(path), **data}, tasks)
    return build


def _npz_arrays(n: int = ROWS) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"X": rng.normal(size=(n, 3)), "y_label": np.arange(n) % 2}


def npz_case(write: Callable[[Path], None], tasks: list[dict[str, Any]] | None = None) -> Case:
    """An ``.npz`` path written by ``write`` as ``data.path``."""
    def build(tmp: Path) -> list[str]:
        path = tmp / "data.npz"
        write(path)
        return _argv(tmp, {"name": "npz", "path": str(path)}, tasks)
    return build


def arrays(**changes: Any) -> Callable[[Path], None]:
    """Write the good arrays with ``changes`` (``None`` drops an array) via numpy.savez."""
    def write(path: Path) -> None:
        content = {**_npz_arrays(), **changes}
        with path.open("wb") as handle:
            np.savez(handle, **{k: v for k, v in content.items() if v is not None})
    return write


def _npy(path: Path) -> None:
    with path.open("wb") as handle:
        np.save(handle, np.ones((ROWS, 3)))


def _pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"X": np.ones((ROWS, 3)), "y_label": np.zeros(ROWS)}))


def _object_array(path: Path) -> None:
    content = _npz_arrays()
    content["X"] = np.array([[1.0, "a", None]] * ROWS, dtype=object)
    with path.open("wb") as handle:
        np.savez(handle, **content)


def regression(name: str = "score", outputs: int = 1) -> list[dict[str, Any]]:
    return [{"name": name, "kind": "regression", "outputs": outputs, "observables": ["Z0", "Z1"][:outputs]}]


def digits_case(**data: Any) -> Case:
    return lambda tmp: _argv(tmp, {"name": "digits", "limit": 100, **data},
                             [{"name": "parity", "kind": "binary", "observables": ["Z0"]}])


def synthetic_case(**data: Any) -> Case:
    return lambda tmp: _argv(tmp, {"name": "synthetic-correlated", "options": {"n_samples": 50, "n_features": 4},
                                   **data}, regression("t0"))


CASES: dict[str, tuple[Case, str]] = {
    # CSV: the file itself
    "csv empty file": (csv_case(""), "is empty; it needs a header row"),
    "csv only blank lines": (csv_case("\n\n  \n"), "is empty"),
    "csv header only": (csv_case("a,b,label\n"), "has a header but no data rows"),
    "csv one data row": (csv_case("a,b,label\n1,2,0\n"), "1 example(s) are too few"),
    "csv too few rows for the splits": (csv_case(_table(rows=2)), "use at least 3 examples"),
    "csv too few rows for large fractions": (csv_case(_table(rows=4), val_fraction=0.4, test_fraction=0.45), "too few"),
    "data.path is a directory": (lambda tmp: _argv(tmp, {"name": "csv", "path": str(tmp)}), "is a directory"),
    "data.path missing": (lambda tmp: _argv(tmp, {"name": "csv", "path": str(tmp / "nope.csv")}), "does not exist"),
    "data.path a device": (lambda tmp: _argv(tmp, {"name": "csv", "path": "/dev/zero"}), "is not a regular file"),
    "npz data.path a device": (lambda tmp: _argv(tmp, {"name": "npz", "path": "/dev/null"}), "is not a regular file"),
    "csv not UTF-8": (csv_case(b"a,b,label\n" + "caf\xe9,1,0\n".encode("latin-1") * ROWS), "is not UTF-8 text"),
    "csv with a NUL byte": (csv_case(GOOD_CSV.replace("0.3,1", "0.3\x00,1", 1)), "line 3 holds '0.3\\x00', not a number"),
    "csv binary file": (csv_case(b"PK\x03\x04\x00\x00\xff\xfe\x00\x01" * 50), "is not UTF-8 text"),
    "csv giant field": (csv_case("a,b,label\n" + "1" * 200_000 + ",1,0\n" + GOOD_CSV.split("\n", 1)[1]), "field larger"),
    # CSV: the header
    "csv duplicate header": (csv_case(GOOD_CSV.replace("a,b,label", "a,a,label", 1)), "(columns 1 and 2); rename one"),
    "csv nameless column": (csv_case(GOOD_CSV.replace("a,b,label", "a,,label", 1)), "column 2 of the header"),
    "csv no header row": (csv_case(GOOD_CSV.split("\n", 1)[1]), "holds numbers, not column names; add a header row"),
    "csv missing task column": (csv_case(GOOD_CSV, [{"name": "target", "kind": "binary", "observables": ["Z0"]}]), "task 'target' is not in"),
    "csv task and indexed task columns": (csv_case(_table("a,score,score[0]"), regression()), "keep one form"),
    "csv task columns misnumbered": (csv_case(_table("a,score[0],score[2]"), regression(outputs=2)), "numbered [0, 2]"),
    "csv outputs mismatch": (csv_case(_table("a,b,score"), regression(outputs=2)), "declares outputs: 2 but the data has 1"),
    # CSV: columns chosen
    "csv label listed as a feature": (csv_case(GOOD_CSV, features=["a", "label"]), "is the target of task 'label'"),
    "csv feature column missing": (csv_case(GOOD_CSV, features=["a", "c"]), "feature column 'c' is not in"),
    "csv feature listed twice": (csv_case(GOOD_CSV, features=["a", "a"]), "listed twice"),
    "csv no feature columns": (csv_case(_table("label,b", row=lambda i: f"{i % 2},{i}"), features=[]), "no feature columns"),
    "csv modalities not a mapping": (csv_case(GOOD_CSV, options={"modalities": True}),
                                     "data.options.modalities for data set 'csv' must be a mapping"),
    "csv modalities and features": (csv_case(GOOD_CSV, features=["a"], options={"modalities": {"m": ["a"]}}), "not both"),
    "csv column in two modalities": (csv_case(GOOD_CSV, options={"modalities": {"m": ["a"], "n": ["a", "b"]}}), "in both 'm' and 'n'"),
    "csv label inside a modality": (csv_case(GOOD_CSV, options={"modalities": {"m": ["a", "label"]}}), "is the target of task 'label'"),
    "csv unknown option": (csv_case(GOOD_CSV, options={"separator": ";"}), "not known to 'csv'"),
    # CSV: cells (line numbers as an editor shows them: the header is line 1)
    "csv text cell": (csv_case(GOOD_CSV.replace("0.3,1\n", "abc,1\n", 1)), "column 'b' line 3 holds 'abc', not a number"),
    "csv empty cell": (csv_case(GOOD_CSV.replace("0.3,1\n", ",1\n", 1)), "column 'b' line 3 is empty"),
    "csv NaN cell": (csv_case(GOOD_CSV.replace("\n0.5,", "\nnan,", 1)), "feature 'a' has a NaN or infinite value (line 7: 'nan')"),
    "csv NaN cell after blank lines": (csv_case(GOOD_CSV.replace("\n0.5,", "\n\n\nNaN,", 1)), "feature 'a' has a NaN or infinite value (line 9: 'NaN')"),
    "csv infinite cell": (csv_case(GOOD_CSV.replace("\n0.5,", "\n-inf,", 1)), "(line 7: '-inf')"),
    "csv NaN label": (csv_case(GOOD_CSV.replace("0.3,1\n", "0.3,nan\n", 1)), "task 'label' has a NaN or infinite label (line 3: 'nan')"),
    "csv short row": (csv_case(GOOD_CSV + "1,2\n"), f"line {ROWS + 2} has 2 fields, the header has 3"),
    "csv long row": (csv_case(GOOD_CSV.replace("0.3,1\n", "0.3,1,7\n", 1)), "line 3 has 4 fields"),
    "csv decimal commas": (csv_case("a;b;label\n" + "\n".join(f"{i},5;1,2;{i % 2}" for i in range(ROWS))), "use '.' as the decimal mark"),
    "csv huge features overflow": (csv_case(_table(row=lambda i: f"{(-1) ** i * 1e308},{i},{i % 2}")), "too large to standardise"),
    "csv regression target beyond float32": (csv_case(_table("a,b,score", row=lambda i: f"{i},{i % 3},{1e39 * (i + 1)}"), regression()), "beyond the float32 range"),
    # CSV: labels
    "binary labels all one class": (csv_case(_table(row=lambda i: f"{i},{i % 3},1")), "every label of task 'label' (binary) is 1"),
    # One positive, in row 4, which seed 0 puts in the test split.
    "binary class missing from train": (csv_case(_table(row=lambda i: f"{i},{i % 3},{int(i == 4)}")), "class(es) [1] never occur in the training split"),
    "binary label 2": (csv_case(GOOD_CSV.replace("0.3,1\n", "0.3,2\n", 1)), "needs labels 0..1 but has 2"),
    "binary label 0.5": (csv_case(GOOD_CSV.replace("0.3,1\n", "0.3,0.5\n", 1)), "needs labels 0..1 but has 0.5"),
    "negative label": (csv_case(GOOD_CSV.replace("0.3,1\n", "0.3,-1\n", 1)), "needs labels 0..1 but has -1"),
    "multiclass label beyond classes": (csv_case(_table(row=lambda i: f"{i},{i % 3},{i % 4}"), [{"name": "label", "kind": "multiclass", "classes": 3, "observables": ["Z0"]}]), "needs labels 0..2 but has 3"),
    "many classes missing": (csv_case(GOOD_CSV, [{"name": "label", "kind": "multiclass", "classes": 40, "observables": ["Z0"]}]), "class(es) [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (38 in all)] never occur"),
    "multiclass class missing from train": (csv_case(GOOD_CSV, [{"name": "label", "kind": "multiclass", "classes": 3, "observables": ["Z0"]}]), "class(es) [2] never occur"),
    # NPZ
    "npz is a .npy": (npz_case(_npy), "is a single .npy array, not an .npz archive"),
    "npz empty file": (npz_case(lambda p: p.write_bytes(b"")), "is not a readable .npz"),
    "npz is text": (npz_case(lambda p: p.write_text("X,y\n1,2\n")), "is not a readable .npz"),
    "npz is a pickle": (npz_case(_pickle), "is not a readable .npz"),
    "npz truncated": (npz_case(lambda p: (arrays()(p), p.write_bytes(p.read_bytes()[:300]))), "is not a readable .npz"),
    "npz object array": (npz_case(_object_array), "is not a readable .npz of plain arrays"),
    "npz directory": (lambda tmp: _argv(tmp, {"name": "npz", "path": str(tmp)}), "is a directory"),
    "npz complex features": (npz_case(arrays(X=np.ones((ROWS, 3)) * (1 + 2j))), "holds complex numbers"),
    "npz complex labels": (npz_case(arrays(y_label=(np.arange(ROWS) % 2) * (1 + 1j))), "has complex labels"),
    "npz one-hot binary labels": (npz_case(arrays(y_label=np.eye(2)[np.arange(ROWS) % 2])), "needs one class label per row"),
    "npz scalar labels": (npz_case(arrays(y_label=np.array(1))), "has 1 labels for 40 feature rows"),
    "npz labels too short": (npz_case(arrays(y_label=np.arange(ROWS - 1) % 2)), "has 39 labels for 40 feature rows"),
    "npz string labels": (npz_case(arrays(y_label=np.array(["yes", "no"] * (ROWS // 2)))), "labels, not numbers"),
    "npz string features": (npz_case(arrays(X=np.array([["a", "b"]] * ROWS))), "not numbers"),
    "npz datetime features": (npz_case(arrays(X=np.array(["2024-01-01"] * ROWS, dtype="datetime64[D]").reshape(ROWS, 1))), "not numbers"),
    "npz 1-D features": (npz_case(arrays(X=np.arange(ROWS, dtype=float))), "must be a non-empty 2-D table"),
    "npz 3-D features": (npz_case(arrays(X=np.ones((ROWS, 2, 2)))), "reshape it to (n_examples, n_features)"),
    "npz no feature columns": (npz_case(arrays(X=np.ones((ROWS, 0)))), "non-empty 2-D table"),
    "npz no rows": (npz_case(arrays(X=np.ones((0, 3)), y_label=np.zeros(0))), "non-empty 2-D table"),
    "npz NaN feature": (npz_case(arrays(X=np.where(np.arange(ROWS * 3).reshape(ROWS, 3) == 13, np.nan, 1.0))), "feature 'X[1]' has a NaN or infinite value (row index 4)"),
    "npz missing X": (npz_case(arrays(X=None)), "has no features"),
    "npz missing labels": (npz_case(arrays(y_label=None)), "needs the array 'y_label'"),
    "npz nameless modality": (npz_case(arrays(X=None, X_=np.ones((ROWS, 2)))), "names no modality"),
    "npz modalities of different lengths": (npz_case(arrays(X=None, X_a=np.ones((ROWS, 2)), X_b=np.ones((ROWS - 1, 2)))), "different numbers of rows"),
    "npz infinite regression target": (npz_case(arrays(y_score=np.full(ROWS, np.inf)), regression()), "has an infinite label"),
    # Keys a loader does not read
    "digits given data.path": (digits_case(path="x.csv"), "takes no data.path"),
    "synthetic given data.path": (synthetic_case(path="x.csv"), "takes no data.path"),
    "npz given data.features": (lambda tmp: (arrays()(tmp / "d.npz"), _argv(tmp, {"name": "npz", "path": str(tmp / "d.npz"), "features": ["X"]}))[1], "takes no data.features"),
    "digits modalities not a bool": (digits_case(options={"modalities": "yes"}), "must be true or false"),
}



@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_data_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    build, expected = CASES[case]
    argv = build(tmp_path)
    before = folder_state(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err
    assert folder_state(tmp_path) == before
    assert not (tmp_path / "run").exists()


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


# What must still load: the accepted variants of the refused inputs above.

def _load(tmp_path: Path, content: str, tasks: list[TaskConfig] | None = None, **data: Any):
    path = tmp_path / "data.csv"
    path.write_text(content, encoding="utf-8")
    tasks = tasks or [TaskConfig(name="label", kind="binary", observables=["Z0"])]
    return load_data(DataConfig(name="csv", path=str(path), **data), tasks, seed=0)


@pytest.mark.parametrize("variant", [
    "\ufeff" + GOOD_CSV,                       # byte-order mark
    GOOD_CSV.replace(",", ";"),                # semicolons
    GOOD_CSV.replace(",", "\t"),               # tabs
    GOOD_CSV.replace("\n", "\r\n"),            # Windows line ends
    GOOD_CSV.replace("\n", "\n\n"),            # blank lines
])
def test_csv_dialects_read_the_same_table(tmp_path, variant):
    reference = _load(tmp_path, GOOD_CSV)
    data = _load(tmp_path, variant)
    assert data.feature_names == ["a", "b"]
    assert np.array_equal(data.train.features.numpy(), reference.train.features.numpy())
    assert np.array_equal(data.test.targets["label"].numpy(), reference.test.targets["label"].numpy())


def test_csv_text_columns_not_in_use_are_ignored(tmp_path):
    content = _table("id,a,b,label", row=lambda i: f"row-{i},{i * 0.1:.1f},{(i % 7) * 0.3:.1f},{i % 2}")
    data = _load(tmp_path, content, features=["a", "b"])
    assert data.input_dims == 2


def test_npz_boolean_and_column_labels_are_class_indices(tmp_path):
    path = tmp_path / "d.npz"
    x = np.random.default_rng(0).normal(size=(ROWS, 3))
    labels = np.arange(ROWS) % 2
    np.savez(path, X=x, y_label=labels.astype(bool), y_other=labels[:, None])
    tasks = [TaskConfig(name="label", kind="binary", observables=["Z0"]),
             TaskConfig(name="other", kind="binary", observables=["Z0"])]
    data = load_data(DataConfig(name="npz", path=str(path)), tasks, seed=0)
    assert data.train.targets["label"].shape == (len(data.train),)
    assert np.array_equal(data.train.targets["label"].numpy(), data.train.targets["other"].numpy())


@pytest.mark.parametrize("n", [3, 4, 7, 10, 13, 20, 57, 300])
@pytest.mark.parametrize("fractions", [(0.15, 0.2), (0.1, 0.1), (0.3, 0.5), (0.05, 0.05)])
def test_split_sizes_predict_the_split(n, fractions):
    """``split_sizes`` (used to refuse too little data) agrees with the split actually made."""
    val_fraction, test_fraction = fractions
    sizes = split_sizes(n, val_fraction, test_fraction)
    if min(sizes) < 1:
        return
    x = np.random.default_rng(n).normal(size=(n, 2))
    tasks = [TaskConfig(name="y", kind="regression", observables=["Z0"])]
    data = prepare(RawData(x, {"y": x[:, 0]}, ["p", "q"], "test"), tasks, val_fraction, test_fraction, seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == sizes
