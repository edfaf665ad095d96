"""The light-cone rule on small circuits whose answer is known by hand."""

from __future__ import annotations

import pennylane as qml

from qmtl.lightcone import live_markers, record


def test_rz_before_cnots_and_z_words_is_dead_and_live_before_x():
    def circuit():
        qml.RY(0.5, wires=0)  # data angle (not a marker)
        qml.RZ(1.0, wires=0)  # marker 1
        qml.CNOT(wires=[0, 1])
        qml.RZ(2.0, wires=1)  # marker 2: after the CNOT; Z1 commutes with every Z word

    ops = record(circuit)
    assert live_markers(ops, 2, ["Z0", "Z1", "Z0 Z1"]).tolist() == [False, False]
    # Z on the control passes the CNOT unchanged and commutes with X1; Z1 itself does not
    assert live_markers(ops, 2, ["X1"]).tolist() == [False, True]
    assert live_markers(ops, 2, ["X0"]).tolist() == [True, False]  # Z1 commutes with X0


def test_a_later_rotation_at_any_angle_spreads_the_generator():
    def circuit():
        qml.RZ(1.0, wires=0)  # marker 1
        qml.RY(0.5, wires=0)  # data angle: Z -> cos Z + sin X, which no longer commutes with Z
    assert live_markers(record(circuit), 1, ["Z0"]).tolist() == [True]


def test_rotations_outside_the_measured_light_cone_are_dead():
    def circuit():
        qml.RY(1.0, wires=2)  # marker 1, never entangled with wire 0
        qml.CNOT(wires=[1, 2])
        qml.RY(2.0, wires=0)  # marker 2
    assert live_markers(record(circuit), 2, ["Z0"]).tolist() == [False, True]


def test_rot_is_split_into_its_three_angles():
    ops = record(lambda: qml.Rot(1.0, 2.0, 3.0, wires=0))
    assert [op.name for op in ops] == ["RZ", "RY", "RZ"]
    assert live_markers(ops, 3, ["Z0"]).tolist() == [True, True, False]
