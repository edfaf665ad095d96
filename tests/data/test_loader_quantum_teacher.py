import numpy as np
import pytest

from qmtl.data.quantum_teacher import load_quantum_teacher
from qmtl.errors import UserError


def _targets(**options) -> np.ndarray:
    raw = load_quantum_teacher({"n_samples": 400, **options})
    return np.stack([raw.targets[f"t{t}"] for t in range(len(raw.targets))], axis=1)


def _mean_pairwise(matrix: np.ndarray) -> float:
    return float(matrix[np.triu_indices(len(matrix), 1)].mean())


def test_fully_shared_teacher_gives_identical_labels():
    labels = _targets(tasks=3, shared_fraction=1.0)
    assert labels.dtype == np.int64 and 0.1 < labels.mean() < 0.9
    assert (labels == labels[:, :1]).all()


def test_less_sharing_gives_less_related_tasks():
    def relatedness(fraction: float) -> float:
        # Averaged over teacher seeds: one teacher is one draw of a random circuit.
        return float(np.mean([
            _mean_pairwise(np.corrcoef(_targets(tasks=4, shared_fraction=fraction, kind="regression", seed=s).T))
            for s in range(4)
        ]))

    def agreement(fraction: float) -> float:
        labels = _targets(tasks=4, shared_fraction=fraction)
        return _mean_pairwise((labels[:, :, None] == labels[:, None, :]).mean(axis=0))

    correlations = [relatedness(f) for f in (1.0, 0.5, 0.0)]
    assert correlations[0] == pytest.approx(1.0)
    assert correlations[0] > correlations[1] > correlations[2], correlations
    assert agreement(1.0) == 1.0 > agreement(0.5)


def test_regression_values_are_expectation_values_and_options_are_checked():
    values = _targets(kind="regression", n_qubits=2, layers=2)
    assert np.abs(values).max() <= 1.0 and values.std() > 0.05
    with pytest.raises(UserError, match=r"shared_fraction for data set 'quantum-teacher' must be in \[0, 1\], got 1.5"):
        load_quantum_teacher({"shared_fraction": 1.5})
    with pytest.raises(UserError, match="kind for data set 'quantum-teacher' is 'multiclass'; choose one of binary, "
                                        "regression"):
        load_quantum_teacher({"kind": "multiclass"})
