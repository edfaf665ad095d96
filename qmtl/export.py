"""Circuit export: a run's trained circuit, and the catalogue of reference circuits.

``export_run`` writes, for a trained run, the shared circuit as OpenQASM 3
(``qiskit.qasm3.dumps``) twice: *parametrised* -- inputs ``x[i]`` (the encoder's angles)
and weights ``w[j]`` (the variational angles, flattened in the ``(layer, wire, angle)``
order of ``SharedCircuit.weights``) as ``input float`` parameters -- and *bound* to the
trained weights and the first test example.  Resources (qubits, depth, two-qubit gates,
parameters, observables) head each file as comments and go to ``resources.json``.

The circuit is the one the Qiskit devices run: the model's QNode, decomposed by the
``EstimatorDevice`` and built by :func:`qmtl.devices.compile.compile_tape`, before any
transpilation for a backend.  Which gate angle is which input or weight is found by
evaluating the tape at distinct marker values; an angle that matches no marker (an ansatz
computing angles from weights) keeps its generic name ``theta[k]``.

``catalogue`` regenerates ``circuits/`` from ``experiments/configs/*.yaml`` (each model
built with its config's seed; parametrised circuits only, so the files depend on code, not
on training); ``--check`` fails when the folder drifts from the code.

    python -m qmtl.export --catalogue [--check]      # same as qmtl circuits catalogue
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import ParameterVector
from qiskit.transpiler import PassManager

from qmtl.checkpoint import atomic_write_text
from qmtl.devices.compile import compile_tape, tape_angles
from qmtl.devices.cost import circuit_resources
from qmtl.errors import UserError
from qmtl.hardware.plan import EXACT_AER, circuit_tapes, shared_circuit, shared_circuit_model

CONFIGS = Path("experiments/configs")
CATALOGUE = Path("circuits")
_INPUT_MARK, _WEIGHT_MARK = 1000.0, 2000.0  # far outside the encoder's (-pi, pi) angles
KEEP = frozenset({"README.md"})


def _one_tape(circuit: Any, angles: torch.Tensor, weights: torch.Tensor):
    (tape,) = circuit_tapes(circuit, angles, weights)
    return tape


def parametrised_circuit(circuit: Any) -> tuple[QuantumCircuit, dict[str, int]]:
    """The shared circuit with inputs ``x`` and weights ``w`` as symbolic parameters."""
    n_inputs, n_weights = circuit.n_qubits, circuit.weights.numel()
    marks_x = _INPUT_MARK + torch.arange(n_inputs, dtype=torch.float64)
    marks_w = (_WEIGHT_MARK + torch.arange(n_weights, dtype=torch.float64)).reshape(
        circuit.weights.shape)
    tape = _one_tape(circuit, marks_x, marks_w)
    compiled = compile_tape(tape, circuit.qnode.device.wires, PassManager())
    x, w = ParameterVector("x", n_inputs), ParameterVector("w", n_weights)
    theta = compiled.circuit.parameters
    mapping = {}
    for parameter, value in zip(sorted(theta, key=lambda p: p.index), tape_angles(tape)):
        index = int(round(value - _INPUT_MARK))
        if value == _INPUT_MARK + index and 0 <= index < n_inputs:
            mapping[parameter] = x[index]
        elif 0 <= (j := int(round(value - _WEIGHT_MARK))) < n_weights and value == _WEIGHT_MARK + j:
            mapping[parameter] = w[j]
    return compiled.circuit.assign_parameters(mapping), {"inputs": n_inputs, "weights": n_weights}


def bound_circuit(circuit: Any, angles: torch.Tensor) -> QuantumCircuit:
    """The shared circuit with the trained weights and one example's input angles."""
    tape = _one_tape(circuit, angles.detach().double(), circuit.weights.detach().double())
    compiled = compile_tape(tape, circuit.qnode.device.wires, PassManager())
    return compiled.circuit.assign_parameters(tape_angles(tape))


def resources(circuit: Any, qc: QuantumCircuit, counts: dict[str, int]) -> dict[str, Any]:
    r = circuit_resources(qc)
    return {"qubits": qc.num_qubits, "active_qubits": r.qubits, "depth": r.depth,
            "two_qubit_gates": r.two_qubit_gates, "gates": sum(qc.count_ops().values()),
            "parameters": counts, "observables": list(circuit.observables)}


def qasm_with_header(qc: QuantumCircuit, info: dict[str, Any], title: str) -> str:
    p = info["parameters"]
    header = [
        f"// {title}",
        f"// qubits: {info['qubits']}, depth: {info['depth']}, two-qubit gates: "
        f"{info['two_qubit_gates']}, gates: {info['gates']}",
        f"// parameters: {p['inputs']} inputs x, {p['weights']} weights w "
        f"({qc.num_parameters} free in this file)",
        f"// measured (expectation values): {', '.join(info['observables'])}",
    ]
    return "\n".join(header) + "\n" + qasm3.dumps(qc)


def export_run(run_path: Path, out: Path | None = None) -> list[Path]:
    """Write the run's parametrised and bound circuits and their resources to ``out``."""
    from qmtl.run import load_run

    with load_run(run_path, EXACT_AER) as run:
        shared = shared_circuit_model(run.model, run.config.model.architecture)
        circuit = shared.circuit
        run.model.eval()
        with torch.no_grad():
            angles = shared.encoder(run.require_data().test.subset(slice(0, 1)).features)[0]
        parametrised, counts = parametrised_circuit(circuit)
        bound = bound_circuit(circuit, angles)
        info = resources(circuit, parametrised, counts)
    out = Path(out) if out is not None else Path(run_path) / "circuits"
    files = {
        out / "circuit_parametrised.qasm": qasm_with_header(
            parametrised, info, f"{run_path}: shared circuit, inputs and weights as parameters"),
        out / "circuit_bound.qasm": qasm_with_header(
            bound, info, f"{run_path}: trained weights, first test example's inputs"),
        out / "resources.json": json.dumps(
            {**info, "example_input": np.round(angles.double().numpy(), 12).tolist()},
            indent=2) + "\n",
    }
    try:
        for path, text in files.items():
            atomic_write_text(path, text)
    except OSError as error:
        raise UserError(f"cannot write to '{out}' ({error.strerror}); choose --out DIR") from None
    return list(files)


def catalogue_files(configs: Path = CONFIGS) -> dict[str, str]:
    """File name -> content of the catalogue for every ``*.yaml`` in ``configs``."""
    from qmtl.config import load_config
    from qmtl.run import build_run

    paths = sorted(configs.glob("*.yaml"))
    if not paths:
        raise UserError(f"no configs in '{configs}'; run from the repository root")
    files = {}
    for path in paths:
        config = load_config(path, EXACT_AER)
        # The circuit does not depend on the data's width; one input feature builds it.
        with build_run(config, input_dims=1) as run:
            try:
                circuit = shared_circuit(run.model, config.model.architecture)
            except UserError as error:
                files[f"{path.stem}.json"] = json.dumps({"config": path.as_posix(),
                                                        "skipped": str(error)}, indent=2) + "\n"
                continue
            qc, counts = parametrised_circuit(circuit)
            info = resources(circuit, qc, counts)
        files[f"{path.stem}.qasm"] = qasm_with_header(
            qc, info, f"{path.as_posix()}: shared circuit, inputs x and weights w as parameters")
        files[f"{path.stem}.json"] = json.dumps(
            {"config": path.as_posix(), "seed": config.seed, **info}, indent=2) + "\n"
    return files


def write_catalogue(folder: Path = CATALOGUE, configs: Path = CONFIGS) -> list[str]:
    """Regenerate ``folder`` (stale files removed, README kept); returns the file names."""
    files = catalogue_files(configs)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in files and stale.name not in KEEP:
            stale.unlink()
    for name, text in files.items():
        atomic_write_text(folder / name, text)
    return sorted(files)


def check_catalogue(folder: Path = CATALOGUE, configs: Path = CONFIGS) -> None:
    """Raise a :class:`UserError` naming the files that differ from a fresh catalogue."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        write_catalogue(fresh, configs)
        expected = {p.name: p.read_text() for p in fresh.iterdir()}
    present = {p.name: p.read_text() for p in folder.glob("*") if p.is_file()
               and p.name not in KEEP} if folder.is_dir() else {}
    drift = sorted(n for n in expected.keys() | present.keys()
                   if expected.get(n) != present.get(n))
    if drift:
        raise UserError(f"{folder}/ is out of date with the code ({', '.join(drift)}); "
                        "regenerate it with 'qmtl circuits catalogue'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qmtl.export", description=__doc__.split("\n")[0])
    parser.add_argument("--catalogue", action="store_true", required=True,
                        help="regenerate circuits/ from experiments/configs/*.yaml")
    parser.add_argument("--check", action="store_true", help="only check that circuits/ is current")
    args = parser.parse_args(argv)
    try:
        if args.check:
            check_catalogue()
            print(f"{CATALOGUE}/ is up to date")
        else:
            print("\n".join(str(CATALOGUE / n) for n in write_catalogue()))
    except UserError as error:
        print(f"qmtl: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
