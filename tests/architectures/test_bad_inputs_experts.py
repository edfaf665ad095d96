"""Bad expert options of cgc, ple and dselect_k: exit 2, one line naming the fix, nothing written."""

from __future__ import annotations

import pytest
from folder_state import folder_state

from qmtl.cli import main

CASES = [
    ("cgc", ["shared_experts=0"], "model.options.shared_experts for architecture 'cgc' must be >= 1, got 0"),
    ("cgc", ["task_experts=-1"], "model.options.task_experts for architecture 'cgc' must be >= 0, got -1"),
    ("cgc", ["experts=3"], "unknown model.options key 'experts' for architecture 'cgc'"),
    ("cgc", ["expert_qubits=2"], "model.options.expert_qubits = 2 must be between 4"),
    ("ple", ["levels=0"], "model.options.levels for architecture 'ple' must be >= 1, got 0"),
    ("ple", ["shared_experts=0"], "model.options.shared_experts for architecture 'ple' must be >= 1, got 0"),
    ("ple", ["level=2"], "unknown model.options key 'level' for architecture 'ple' (did you mean 'levels'?)"),
    ("dselect_k", ["experts=0"], "model.options.experts for architecture 'dselect_k' must be >= 1, got 0"),
    ("dselect_k", ["experts=3", "k=4"],
     "model.options.k = 4 for architecture 'dselect_k' exceeds model.options.experts = 3"),
    ("dselect_k", ["k=5"], "model.options.k = 5 for architecture 'dselect_k' exceeds model.options.experts = 4"),
    ("dselect_k", ["k=0"], "model.options.k for architecture 'dselect_k' must be >= 1, got 0"),
    ("dselect_k", ["gamma=0"], "model.options.gamma for architecture 'dselect_k' must be a positive number, got 0"),
    ("dselect_k", ["entropy=-0.1"], "model.options.entropy for architecture 'dselect_k' must be >= 0, got -0.1"),
    ("dselect_k", ["gate=dynamic"], "model.options.gate for architecture 'dselect_k' is 'dynamic'; choose one of"),
    ("dselect_k", ["top_k=2"], "unknown model.options key 'top_k' for architecture 'dselect_k'"),
]


@pytest.mark.parametrize(("architecture", "options", "expected"), CASES,
                         ids=[f"{a}-{'-'.join(o)}" for a, o, _ in CASES])
def test_bad_expert_option_exits_2_with_one_line(tiny_config, write_config, tmp_path, capsys,
                                                 architecture, options, expected):
    tiny_config["model"]["architecture"] = architecture
    config = write_config(tiny_config)
    before = folder_state(tmp_path)
    overrides = [arg for option in options for arg in ("--set", f"model.options.{option}")]
    capsys.readouterr()
    assert main(["train", str(config), "--out", str(tmp_path / "run"), *overrides]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qmtl: error: "), err
    assert expected in lines[0], lines[0]
    assert "Traceback" not in err
    assert folder_state(tmp_path) == before
