"""OpenQASM 3 export of a run's circuits and the circuits/ catalogue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from qiskit.quantum_info import SparsePauliOp, Statevector

from qmtl.cli import main
from qmtl.errors import UserError
from qmtl.export import bound_circuit, check_catalogue, parametrised_circuit, write_catalogue
from qmtl.hardware.plan import EXACT_AER
from qmtl.run import load_run

REPO = Path(__file__).resolve().parents[2]


def test_export_writes_bound_and_parametrised_qasm_with_resources(capsys, trained_run, tmp_path):
    out = tmp_path / "export"
    assert main(["circuits", "export", str(trained_run), "--out", str(out)]) == 0
    parametrised = (out / "circuit_parametrised.qasm").read_text()
    bound = (out / "circuit_bound.qasm").read_text()
    resources = json.loads((out / "resources.json").read_text())
    assert "OPENQASM 3.0;" in parametrised and "OPENQASM 3.0;" in bound
    # 4 encoder angles and 1 layer x 4 wires x 2 live Rot angles (the last RZ before Z
    # words is no parameter, qmtl.lightcone), all named
    assert parametrised.count("input float[64] _x_") == 4
    assert parametrised.count("input float[64] _w_") == 8
    assert "input float" not in bound
    assert resources["parameters"] == {"inputs": 4, "weights": 8}
    assert resources["qubits"] == 4 and resources["two_qubit_gates"] == 4
    assert "// qubits: 4, depth:" in parametrised and "two-qubit gates: 4" in bound


def test_bound_circuit_reproduces_the_models_expectation_values(trained_run):
    with load_run(trained_run, EXACT_AER) as run:
        data, model = run.data, run.model
    with torch.no_grad():
        angles = model.encoder(data.test.subset(slice(0, 1)).features)[0]
        expected = model.circuit(angles[None])[0]
    qc = bound_circuit(model.circuit, angles)
    state = Statevector(qc)
    z0 = SparsePauliOp.from_sparse_list([("Z", [0], 1.0)], num_qubits=4)
    z0z1 = SparsePauliOp.from_sparse_list([("ZZ", [0, 1], 1.0)], num_qubits=4)
    columns = model.circuit.observables
    assert state.expectation_value(z0).real == pytest.approx(float(expected[columns.index("Z0")]), abs=1e-5)
    assert state.expectation_value(z0z1).real == pytest.approx(
        float(expected[columns.index("Z0 Z1")]), abs=1e-5)

    # Binding the parametrised export by name gives the same circuit.
    symbolic, _ = parametrised_circuit(model.circuit)
    values = {p: (float(angles[p.index]) if p.vector.name == "x"
                  else float(model.circuit.weights.detach().flatten()[p.index]))
              for p in symbolic.parameters}
    assert Statevector(symbolic.assign_parameters(values)).equiv(state)


def test_catalogue_is_current(monkeypatch):
    monkeypatch.chdir(REPO)
    check_catalogue()  # raises naming the drifted files; fix: qmtl circuits catalogue
    assert (REPO / "circuits" / "README.md").exists()


def test_catalogue_check_catches_drift_and_stale_files(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    shutil.copy(REPO / "experiments/configs/digits.yaml", configs)
    folder = tmp_path / "circuits"
    assert write_catalogue(folder, configs) == ["digits.json", "digits.qasm"]
    check_catalogue(folder, configs)
    qasm = folder / "digits.qasm"
    qasm.write_text(qasm.read_text().replace("cx", "cz", 1))
    with pytest.raises(UserError, match=r"out of date .*digits\.qasm.*qmtl circuits catalogue"):
        check_catalogue(folder, configs)
    write_catalogue(folder, configs)
    (folder / "removed-config.qasm").write_text("OPENQASM 3.0;\n")
    with pytest.raises(UserError, match="removed-config.qasm"):
        check_catalogue(folder, configs)
    write_catalogue(folder, configs)
    assert not (folder / "removed-config.qasm").exists()
