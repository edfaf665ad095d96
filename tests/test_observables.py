import pennylane as qml
import pytest

from qmtl.observables import canonical_word, measurement_groups, parse_pauli_word, qubitwise_commute, to_observable


def test_parse_and_canonical_spelling():
    assert parse_pauli_word("z1 X0") == {1: "Z", 0: "X"}
    assert canonical_word("z1  X0") == "X0 Z1"
    assert canonical_word("Z0 I3") == "Z0"


@pytest.mark.parametrize("bad", ["", "Q0", "Z", "Z0 Z0", "I0"])
def test_bad_words_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_pauli_word(bad)


def test_observable_matrix_matches_tensor_product():
    observable = to_observable("X0 Z1")
    expected = qml.matrix(qml.PauliX(0) @ qml.PauliZ(1), wire_order=[0, 1])
    assert (qml.matrix(observable, wire_order=[0, 1]) == expected).all()


def test_qubitwise_commuting_groups():
    assert qubitwise_commute("Z0 Z1", "Z1 X2")
    assert not qubitwise_commute("Z0", "X0")
    assert measurement_groups(["Z0", "Z1", "X0", "Z0 Z1", "X0 X1"]) == [["Z0", "Z1", "Z0 Z1"], ["X0", "X0 X1"]]
