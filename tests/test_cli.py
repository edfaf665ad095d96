import json
import subprocess
import sys

import pytest

from qmtl.cli import main


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["training"].update(epoch=3), "unknown config key 'training.epoch' (did you mean 'epochs'?)"),
        (lambda c: c["training"].update(lr="fast"), "config key 'training.lr' = 'fast'"),
        (lambda c: c["tasks"][0].update(observables=[]), "task 'digit' has no observables"),
        (lambda c: c["tasks"][0].update(observables=["Z9"]), "measures wire 9"),
        (lambda c: c.update(device={"name": "default.qbit"}), "unknown device 'default.qbit'"),
        (lambda c: c["model"].update(architecture="soft"), "unknown architecture 'soft'"),
        (lambda c: c["data"].update(name="mnist"), "unknown data set 'mnist'"),
    ],
)
def test_config_mistakes_exit_2_with_one_line(capsys, tiny_config, write_config, tmp_path, edit, message):
    edit(tiny_config)
    code, out, err = _run(capsys, ["train", str(write_config(tiny_config)), "--out", str(tmp_path / "run")])
    assert code == 2
    assert err.strip().count("\n") == 0 and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_usage_mistakes_exit_2(capsys, tmp_path):
    for argv in (["train"], ["trian"], ["train", str(tmp_path / "nope.yaml")], ["eval", str(tmp_path)],
                 ["train", "--resume", str(tmp_path)]):
        code, _, err = _run(capsys, argv)
        assert code == 2 and err.startswith("qmtl: error: ") and err.strip().count("\n") == 0, (argv, err)


def test_debug_shows_the_traceback(capsys, tmp_path):
    code, _, err = _run(capsys, ["--debug", "train", str(tmp_path / "nope.yaml")])
    assert code == 2 and "Traceback" in err


def test_train_eval_draw_info(capsys, tiny_config, write_config, tmp_path):
    config = write_config(tiny_config)
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, ["train", str(config), "--out", str(out), "--quiet"])
    assert code == 0
    final = json.loads((out / "final.json").read_text())
    for task in ("digit", "parity", "ge5"):
        assert f"{final['test'][task]['accuracy']:.4f}" in stdout

    code, stdout, _ = _run(capsys, ["eval", str(out)])
    assert code == 0 and f"{final['test']['digit']['accuracy']:.4f}" in stdout

    png = tmp_path / "circuit.png"
    code, stdout, _ = _run(capsys, ["circuits", "draw", str(config), "--out", str(png)])
    assert code == 0 and png.stat().st_size > 1000 and "RY" in stdout and "<Z@Z>" in stdout

    code, stdout, _ = _run(capsys, ["info"])
    assert code == 0 and "pennylane:" in stdout and "hard_sharing" in stdout and "default.qubit" in stdout


def test_console_script_exit_code(tmp_path):
    result = subprocess.run([sys.executable, "-m", "qmtl.cli", "train", str(tmp_path / "x.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"qmtl: error: config file '{tmp_path / 'x.yaml'}' does not exist; check the path"
