// experiments/configs/linnerud.yaml: shared circuit, inputs x and weights w as parameters
// qubits: 2, depth: 10, two-qubit gates: 4, gates: 16
// parameters: 2 inputs x, 10 weights w (12 free in this file)
// measured (expectation values): Z0, Z1, Z0 Z1
OPENQASM 3.0;
include "stdgates.inc";
input float[64] _w_0_;
input float[64] _w_1_;
input float[64] _w_2_;
input float[64] _w_3_;
input float[64] _w_4_;
input float[64] _w_5_;
input float[64] _w_6_;
input float[64] _w_7_;
input float[64] _w_8_;
input float[64] _w_9_;
input float[64] _x_0_;
input float[64] _x_1_;
qubit[2] q;
ry(_x_0_) q[0];
ry(_x_1_) q[1];
rz(_w_0_) q[0];
ry(_w_1_) q[0];
rz(_w_2_) q[0];
rz(_w_3_) q[1];
ry(_w_4_) q[1];
rz(_w_5_) q[1];
cx q[0], q[1];
cx q[1], q[0];
rz(_w_6_) q[0];
ry(_w_7_) q[0];
rz(_w_8_) q[1];
ry(_w_9_) q[1];
cx q[0], q[1];
cx q[1], q[0];
