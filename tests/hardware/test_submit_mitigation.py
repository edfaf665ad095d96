"""Mitigation through Runtime's client-side Estimator: applied offline on fake backends,
measured against exact values, costed in executed shots, and refused with one line where
it cannot run."""

from __future__ import annotations

import json
import sys

import numpy as np
import pennylane as qml
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit_ibm_runtime.executor_estimator.prepare import prepare
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmtl.cli import main
from qmtl.devices import build_device
from qmtl.devices.cost import executed_shots
from qmtl.devices.mitigation import estimator_options
from qmtl.devices.spec import DeviceConfig, MitigationConfig

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "devices"))
from device_circuits import N_QUBITS, make_circuit, random_inputs  # noqa: E402


def _comparison(run, backend: str) -> dict:
    return json.loads((run / "hardware" / backend / "comparison.json").read_text())


def _sources(comparison: dict) -> dict[str, dict]:
    return {s["mitigation"]: s for s in comparison["sources"] if s["kind"] == "backend"}


@pytest.mark.parametrize("technique", ["readout", "zne"])
def test_fake_jakarta_submission_applies_and_measures_mitigation(capsys, trained_run, submissions,
                                                                  technique):
    code = main(["submit", str(trained_run), "--backend", "fake_jakarta", "--shots", "2000",
                 "--mitigation", technique, "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = out[out.index("source"):]
    assert "mean |<O>-exact|" in table and "shots" in table
    assert f"fake_jakarta ({technique})" in table and "NOT applied" not in out
    sources = _sources(_comparison(trained_run, "fake_jakarta"))
    none, mitigated = sources["none"], sources[technique]
    assert mitigated["applied"] and len(submissions) == 2
    circuits = 20  # 20 test examples, all-Z observables: one basis each
    assert none["shots"] == circuits * 2000
    if technique == "zne":
        assert mitigated["shots"] == 3 * none["shots"]  # noise factors 1, 3, 5
    else:  # shots split over twirling randomizations, plus the calibration circuit
        assert mitigated["shots"] > none["shots"]
    # Mitigation changes the estimate, and the comparison measures how far each is from exact.
    assert mitigated["evs_error"]["mean"] != none["evs_error"]["mean"]
    if technique == "readout":  # TREX removes the readout bias the noise model puts on <Z>
        assert mitigated["evs_error"]["mean"] < none["evs_error"]["mean"]


def test_readout_mitigation_removes_readout_bias_in_training_device():
    """device.mitigation on a fake backend: still one Estimator call per step, and TREX
    brings the noisy values closer to exact."""
    def values(mitigation):
        config = DeviceConfig(name="fake_manila", shots=4000, mitigation=mitigation)
        device, diff_method = build_device(config, N_QUBITS, 3)
        qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"), device,
                          interface="torch", diff_method=diff_method)
        inputs, weights = random_inputs("hardware_efficient", 6)
        result = torch.stack(list(qnode(inputs, weights)))
        result.sum().backward()
        assert device.primitive_calls == 1 and weights.grad.abs().sum() > 0
        return result.detach()

    exact_qnode = qml.QNode(make_circuit("hardware_efficient", "three_tasks"),
                            qml.device("default.qubit", wires=N_QUBITS), interface="torch")
    exact = torch.stack(list(exact_qnode(*random_inputs("hardware_efficient", 6)))).detach()
    unmitigated = (values(None) - exact).abs().mean()
    mitigated = (values("readout") - exact).abs().mean()
    assert mitigated < unmitigated


@pytest.mark.parametrize("mitigation", [
    None, MitigationConfig(techniques=["readout"]), MitigationConfig(techniques=["zne"]),
    MitigationConfig(techniques=["twirling", "dd"]),
    MitigationConfig(techniques=["readout", "zne"], zne_noise_factors=[1, 2, 3, 4]),
    MitigationConfig(techniques=["readout"], randomizations=5)])
@pytest.mark.parametrize("shots", [1000, 333])
def test_executed_shots_match_the_program_the_estimator_builds(mitigation, shots):
    backend = FakeManilaV2()
    angles = ParameterVector("a", 3)
    circuit = QuantumCircuit(3)
    for i in range(3):
        circuit.ry(angles[i], i)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    isa = generate_preset_pass_manager(1, backend=backend, seed_transpiler=0).run(circuit)
    observables = [[SparsePauliOp(w).apply_layout(isa.layout)] for w in ("ZII", "IXI", "ZZZ")]
    rows = np.random.default_rng(0).uniform(0, 3, (7, 3))
    pubs = [(isa, observables, rows), (isa, observables[:1], rows[:2])]  # 2 bases, then 1
    program, _ = prepare(pubs, estimator_options(mitigation, shots), None, add_tags=True,
                         backend=backend)
    built = program.shots * sum(item.size() for item in program.items)
    assert executed_shots([(7, 2), (2, 1)], shots, 1, mitigation) == built


@pytest.mark.parametrize("argv, message", [
    (["--mitigation", "pec"], "needs a learned layer noise model"),
    (["--mitigation", "zne", "--zne-amplifier", "pea"], "needs a learned layer noise model"),
    (["--mitigation", "zne", "--zne-noise-factors", "0.5,1,3"], "--zne-noise-factors"),
    (["--mitigation", "zne", "--zne-noise-factors", "one,three"], "comma-separated"),
    (["--mitigation", "zne", "--zne-extrapolator", "cubic"], "--zne-extrapolator 'cubic'"),
    (["--mitigation", "readout", "--randomizations", "0"], "--randomizations 0"),
    (["--zne-noise-factors", "1,3,5"], "without a mitigation"),
    (["--mitigation", "magic"], "invalid choice"),
])
def test_bad_mitigation_is_one_line_and_sends_nothing(capsys, trained_run, submissions, argv,
                                                      message):
    code = main(["submit", str(trained_run), "--backend", "fake_manila", "--yes", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.count("\n") <= 2 and "Traceback" not in err  # argparse adds its usage line
    assert submissions == [] and not (trained_run / "hardware").exists()


@pytest.mark.parametrize("device, message", [
    ({"name": "aer", "mitigation": "readout"}, "device.mitigation applies to the Runtime Estimator"),
    ({"name": "default.qubit", "mitigation": ["zne"]}, "device.mitigation applies to the Runtime"),
    ({"name": "fake_manila", "shots": 100, "mitigation": "pec"}, "needs a learned layer noise model"),
    ({"name": "fake_manila", "shots": 100, "mitigation": {"techniques": ["zne"],
                                                          "zne_noise_factors": [1]}}, "zne_noise_factors"),
    ({"name": "fake_manila", "shots": 100, "mitigation": "magic"}, "mitigation"),
])
def test_bad_device_mitigation_is_one_line_before_training(capsys, tiny_config, write_config,
                                                           tmp_path, device, message):
    tiny_config["device"] = device
    out = tmp_path / "run"
    code = main(["train", str(write_config(tiny_config)), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (out / "checkpoints").exists()
