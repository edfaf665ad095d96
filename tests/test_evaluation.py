import pytest

from qmtl.cli import main
from qmtl.errors import UserError
from qmtl.evaluation import delta_m_against, evaluate_run


def test_delta_m_uses_every_metric_but_the_loss():
    results = {"a": {"accuracy": 0.9, "macro_f1": 0.8, "loss": 0.1}, "b": {"mse": 0.5, "mae": 0.4, "r2": 0.5, "loss": 0.5}}
    baseline = {"a": {"accuracy": 0.8, "macro_f1": 0.8, "loss": 9.0}, "b": {"mse": 1.0, "mae": 0.4, "r2": 0.25, "loss": 1.0}}
    task_a = (0.125 + 0.0) / 2
    task_b = (0.5 + 0.0 + 1.0) / 3
    assert delta_m_against(results, baseline) == pytest.approx(100 * (task_a + task_b) / 2)


def test_eval_against_itself_gives_zero(tiny_config, write_config, tmp_path, capsys):
    tiny_config["data"]["limit"] = 80
    tiny_config["training"]["epochs"] = 1
    run = tmp_path / "run"
    assert main(["train", str(write_config(tiny_config)), "--out", str(run), "--quiet"]) == 0
    assert main(["eval", str(run), "--baseline", str(run)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"Δm% (LibMTL, higher is better) over {run}: +0.00"
    assert main(["eval", str(run), "--baseline", str(run), "--delta-m-convention", "nash_mtl"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"Δm% (Nash-MTL/FAMO, lower is better) over {run}: +0.00"


def test_an_unknown_split_is_refused_before_the_run_is_loaded(tmp_path):
    with pytest.raises(UserError, match="split 'validation' is not one of train, val, test"):
        evaluate_run(tmp_path / "no-such-run", "validation")
