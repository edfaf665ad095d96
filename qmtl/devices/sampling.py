r"""Aer shot noise with the variance of real measurement: :class:`ShotSampledEstimator`.

Aer's ``EstimatorV2`` turns a precision :math:`p` into ``N(0, p)`` noise on every expectation
value, whatever the observable: ``5 Z0 + 3 X1`` gets the spread of a single Pauli.  A real
Estimator (``qiskit.primitives.BackendEstimatorV2``, IBM Runtime) measures each group of
qubit-wise commuting Pauli terms with :math:`N = \lceil 1/p^2 \rceil` shots.  Writing the
observable as :math:`O = \sum_g S_g`, with :math:`S_g` the sum of group :math:`g`'s terms, the
shot estimate of :math:`O` therefore has variance

.. math:: \operatorname{Var}[\hat O] = \frac1N \sum_g \left(\langle S_g^2\rangle
          - \langle S_g\rangle^2\right).

Qubit-wise commuting Paulis multiply to Paulis, so :math:`S_g^2` is again a Pauli sum and the
variance follows from exact expectation values.  This estimator evaluates :math:`\langle
S_g\rangle` and :math:`\langle \sum_g S_g^2\rangle` exactly (Aer, precision 0; the density
matrix under a noise model) in the same simulator run as the observable, and draws the
estimate from the Gaussian of that mean and variance: the central-limit law of the
:math:`N`-shot estimate (Kandala et al., Nature 549, 242 (2017), Methods, estimate the same
per-group variance).  Groups are formed per observable with
``SparsePauliOp.group_commuting(qubit_wise=True)``, the grouping ``BackendEstimatorV2`` uses.

The noise is drawn from ``numpy`` generators seeded by ``run_options['seed_simulator']``
(which :meth:`qmtl.devices.targets.Target.reseed` sets per call), one independent stream per
PUB; Aer's own estimator reuses one seed for every PUB of a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import PrimitiveResult, PubResult
from qiskit.primitives.containers import DataBin
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import Pauli, SparsePauliOp
from qiskit_aer.noise import NoiseModel
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from qmtl.devices.transfer import TransferProgram, transfer_program


@dataclass(frozen=True)
class ShotMoments:
    """What the shot variance of one observable needs, as Pauli sums (label -> coefficient)
    plus constants (the identity terms, whose value needs no simulation)."""

    group_sums: tuple[tuple[dict[str, float], float], ...]
    """Each qubit-wise commuting group's sum :math:`S_g`."""
    square: tuple[dict[str, float], float]
    """:math:`\\sum_g S_g^2`."""


def _split_identity(op: SparsePauliOp) -> tuple[dict[str, float], float]:
    terms: dict[str, float] = {}
    constant = 0.0
    for label, coeff in op.simplify().to_list():
        if set(label) == {"I"}:
            constant += coeff.real
        else:
            terms[label] = terms.get(label, 0.0) + coeff.real
    return terms, constant


@cache
def shot_moments(observable: tuple[tuple[str, float], ...]) -> ShotMoments:
    """The group sums and summed group squares of ``observable`` (sorted label/coeff pairs)."""
    op = SparsePauliOp.from_list(list(observable))
    groups = op.group_commuting(qubit_wise=True)
    square = sum((group @ group for group in groups[1:]), groups[0] @ groups[0])
    return ShotMoments(tuple(_split_identity(group) for group in groups), _split_identity(square))


def active_qubits(circuit: QuantumCircuit) -> list[int]:
    """Indices of the qubits some instruction of ``circuit`` acts on (barriers aside)."""
    return sorted({circuit.find_bit(qubit).index for instruction in circuit.data
                   if instruction.operation.name != "barrier" for qubit in instruction.qubits})


class ShotSampledEstimator(AerEstimatorV2):
    """Aer's ``EstimatorV2`` whose shot noise has the variance of measuring each
    qubit-wise commuting group with ``1/precision**2`` shots (see the module docstring).
    A PUB with precision 0 is exact, as in Aer's estimator; unlike it, a circuit without
    parameters may have many parameter rows."""

    max_active_qubits: int | None = None
    """The most qubits a circuit may act on (density-matrix targets); ``None``: no limit."""
    pauli_transfer: bool = False
    """Evaluate noisy expectation values of all rows in one vectorised pass
    (:mod:`qmtl.devices.transfer`) instead of one Aer density-matrix experiment per row; the
    same values (to ~1e-9).  Circuits that picture does not cover still run on Aer."""

    def __init__(self, *, options: dict | None = None) -> None:
        super().__init__(options=options)
        # Compiled transfer programs by circuit (the device passes the same ISA circuit object
        # at every step); the circuit is kept so its id is not reused.
        self._programs: dict[tuple[int, tuple[int, ...]],
                             tuple[QuantumCircuit, TransferProgram | None]] = {}

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult[PubResult]:
        seed = self.options.run_options.get("seed_simulator")
        streams = np.random.SeedSequence(seed).spawn(len(pubs))
        return PrimitiveResult(
            [self._sampled_pub(pub, np.random.default_rng(stream))
             for pub, stream in zip(pubs, streams)], metadata={"version": 2})

    def _sampled_pub(self, pub: EstimatorPub, rng: np.random.Generator) -> PubResult:
        observables = [dict(obs) for obs in pub.observables.ravel().tolist()]
        if pub.precision == 0:
            means = self._exact_values(pub, [(obs, 0.0) for obs in observables])
            return self._pub_result(pub, means, np.zeros_like(means))
        moments = [shot_moments(tuple(sorted(obs.items()))) for obs in observables]
        # Every Pauli sum to evaluate exactly: each observable, its group sums when it has
        # more than one group (with one group, the sum is the observable), its square.
        sums: list[tuple[dict[str, float], float]] = []
        for obs, moment in zip(observables, moments):
            sums.append((obs, 0.0))
            if len(moment.group_sums) > 1:
                sums.extend(moment.group_sums)
            sums.append(moment.square)
        exact = self._exact_values(pub, sums)
        observable_means: list[np.ndarray] = []
        variances: list[np.ndarray] = []
        slot = 0
        for moment in moments:
            groups = len(moment.group_sums)
            mean = exact[slot]
            group_means = exact[slot + 1:slot + 1 + groups] if groups > 1 else exact[slot][None]
            square = exact[slot + 1 + (groups if groups > 1 else 0)]
            observable_means.append(mean)
            variances.append(np.maximum(square - np.square(group_means).sum(axis=0), 0.0))
            slot += 2 + (groups if groups > 1 else 0)
        stds = pub.precision * np.sqrt(np.stack(variances))
        return self._pub_result(pub, np.asarray(rng.normal(np.stack(observable_means), stds)), stds)

    @staticmethod
    def _pub_result(pub: EstimatorPub, evs: np.ndarray, stds: np.ndarray) -> PubResult:
        """The result of ``pub`` from ``(observables, rows)`` arrays, broadcast to its shape."""
        shape = np.broadcast_shapes(pub.observables.shape, pub.parameter_values.shape)
        obs_index, row_index = np.broadcast_arrays(
            np.arange(pub.observables.size).reshape(pub.observables.shape),
            np.arange(pub.parameter_values.size).reshape(pub.parameter_values.shape))
        return PubResult(
            DataBin(evs=evs[obs_index, row_index], stds=stds[obs_index, row_index],
                    shape=shape),
            metadata={"target_precision": pub.precision, "circuit_metadata": pub.circuit.metadata,
                      "shots": int(np.ceil(1 / pub.precision ** 2)) if pub.precision else None})

    def _exact_values(self, pub: EstimatorPub, sums: list[tuple[dict[str, float], float]]
                      ) -> np.ndarray:
        """Exact values of ``sums`` at every parameter row: shape ``(len(sums), rows)``."""
        # Identity terms are constants: <I> = 1 needs no simulation (nor any qubit).
        constants = [constant + sum(coeff for label, coeff in terms.items() if set(label) == {"I"})
                     for terms, constant in sums]
        values = np.repeat(np.array(constants, dtype=float)[:, None],
                           pub.parameter_values.size, axis=1)
        labels = sorted({label for terms, _ in sums for label in terms if set(label) != {"I"}})
        if not labels:
            return values
        live = [i for i, (terms, _) in enumerate(sums) if set(terms) & set(labels)]
        # Save each Pauli on the qubits the circuit acts on (plus the Paulis' support) only,
        # not on all of them as Aer's estimator does: Aer's truncation then simulates just
        # those, so a small circuit laid out on a wide fake backend fits a density matrix.
        support = {q for label in labels for q, p in enumerate(reversed(label)) if p != "I"}
        qubits = sorted(set(active_qubits(pub.circuit)) | support)
        program = self._transfer_program(pub.circuit, qubits)
        if program is not None:
            # Without parameters every row has the one value of the circuit.
            rows = (pub.parameter_values.as_array(pub.circuit.parameters).reshape(
                -1, pub.circuit.num_parameters) if pub.circuit.num_parameters
                else np.zeros((1, 0)))
            paulis = program.expectation_values(rows, labels)
            return self._add_terms(values, sums, live, labels, paulis)
        circuit = pub.circuit.copy()
        for label in labels:
            circuit.save_expectation_value(Pauli(label)[qubits], qubits=qubits, label=label)
        options = dict(self.options.run_options)
        if circuit.num_parameters:
            angles = pub.parameter_values.as_array(circuit.parameters)
            options["parameter_binds"] = [{p: angles[..., j].ravel()
                                           for j, p in enumerate(circuit.parameters)}]
        # Without parameters Aer simulates the circuit once; every row shares that value.
        result = self._backend.run(circuit, **options).result()
        paulis = np.array([[result.data(row)[label] for label in labels]
                           for row in range(len(result.results))])
        return self._add_terms(values, sums, live, labels, paulis)

    @staticmethod
    def _add_terms(values: np.ndarray, sums: list[tuple[dict[str, float], float]],
                   live: list[int], labels: list[str], paulis: np.ndarray) -> np.ndarray:
        """Add to ``values`` (sums x rows) the Pauli terms of ``sums`` from the Paulis'
        values ``paulis`` (rows x labels; one row broadcasts to all)."""
        coefficients = np.array([[sums[i][0].get(label, 0.0) for label in labels]
                                 for i in live])
        values[live] += coefficients @ paulis.T
        return values

    def _transfer_program(self, circuit: QuantumCircuit, qubits: list[int]
                          ) -> TransferProgram | None:
        """The vectorised noisy program of ``circuit`` on ``qubits``, or ``None`` where Aer
        runs it: a noiseless or non-density-matrix simulator, or a circuit it declines."""
        noise_model = self._backend.options.noise_model
        if (not self.pauli_transfer or not isinstance(noise_model, NoiseModel)
                or self._backend.options.method != "density_matrix"):
            return None
        key = (id(circuit), tuple(qubits))
        if key not in self._programs:
            self._programs[key] = (circuit, transfer_program(circuit, qubits, noise_model))
        return self._programs[key][1]
