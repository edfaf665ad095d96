"""Pauli words as tasks declare them in configs, e.g. ``"Z0"``, ``"Z0 Z1"``, ``"X2 Y3"``.

A word is a product of single-qubit Paulis on distinct wires.  Words that are
qubit-wise commuting can be estimated from one measurement setting, so every task whose
words commute with each other is read from a single circuit execution.
"""

from __future__ import annotations

import re

import pennylane as qml

_FACTOR = re.compile(r"^([IXYZ])([0-9]+)$")  # ASCII digits: \d would also take e.g. Arabic-Indic ones
_PAULI = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}


def parse_pauli_word(word: str) -> dict[int, str]:
    """``"Z0 X2"`` -> ``{0: "Z", 2: "X"}``; raises ``ValueError`` naming the bad factor."""
    factors: dict[int, str] = {}
    tokens = word.replace("*", " ").replace("@", " ").split()
    if not tokens:
        raise ValueError("empty Pauli word; write e.g. 'Z0' or 'Z0 Z1'")
    for token in tokens:
        match = _FACTOR.match(token.upper())
        if match is None:
            raise ValueError(
                f"bad Pauli factor '{token}' in '{word}'; write a Pauli letter and a wire, e.g. 'Z0 X1'"
            )
        letter, wire = match.group(1), int(match.group(2))
        if wire in factors:
            raise ValueError(f"wire {wire} appears twice in '{word}'; use each wire once per word")
        if letter != "I":
            factors[wire] = letter
    if not factors:
        raise ValueError(f"'{word}' is the identity; measure at least one of X, Y, Z")
    return factors


def canonical_word(word: str) -> str:
    """One spelling per word: factors sorted by wire, e.g. ``"z1  Z0"`` -> ``"Z0 Z1"``."""
    return " ".join(f"{letter}{wire}" for wire, letter in sorted(parse_pauli_word(word).items()))


def word_wires(word: str) -> list[int]:
    """Wires a Pauli word acts on."""
    return sorted(parse_pauli_word(word))


def to_observable(word: str) -> qml.operation.Operator:
    """The PennyLane observable of a Pauli word."""
    factors = parse_pauli_word(word)
    ops = [_PAULI[letter](wire) for wire, letter in sorted(factors.items())]
    return ops[0] if len(ops) == 1 else qml.prod(*ops)


def qubitwise_commute(a: str, b: str) -> bool:
    """True when the two words agree on every wire both act on."""
    fa, fb = parse_pauli_word(a), parse_pauli_word(b)
    return all(fa[w] == fb[w] for w in fa.keys() & fb.keys())


def measurement_groups(words: list[str]) -> list[list[str]]:
    """Greedy partition into qubit-wise commuting groups (one measurement setting each)."""
    groups: list[list[str]] = []
    for word in words:
        for group in groups:
            if all(qubitwise_commute(word, other) for other in group):
                group.append(word)
                break
        else:
            groups.append([word])
    return groups
