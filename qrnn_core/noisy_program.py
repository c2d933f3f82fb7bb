"""A device step (:class:`~qrnn_core.device.DeviceNoise`) compiled into Pauli transfer matrices.

The noisy engine (:class:`qrnn_core.noisy_kernel.NoisyKernelSimulator`: the compiled loops of
:mod:`qrnn_core.noisy_forward` and :mod:`qrnn_core.noisy_adjoint`) and its torch check
(:mod:`qrnn_core.noisy_torch`) all run the tables built here; nothing else restates the step.

Representation
--------------
A state of the ``h`` memory qubits is the real vector ``c_P = tr(P rho)`` over the ``4**h`` Pauli
strings ``P`` (memory position ``j`` the ``j``-th most significant base-4 digit, digits
``I X Y Z = 0 1 2 3``). A channel on ``k`` qubits is its Pauli transfer matrix (PTM)
``R_PQ = tr(P Phi(Q)) / 2**k``, real, acting as ``c' = R c``. A partial trace keeps the entries
whose traced digits are ``I`` (no sum) and the trace is the entry ``I...I``. So the density matrix,
every gate and every noise channel are real matrices on a few base-4 digits: no complex arithmetic,
no ``2**n x 2**n`` operator.

The step
--------
The seed's chain (:func:`qrnn_core.circuit.build_step_block`): readout qubit ``r = 2f + 1`` (factor
``f``, outcome bit ``f``) couples memory position ``f`` (qubit ``2f``, "a") and then position
``f + 1`` (qubit ``2f + 2``, "b"; the last factor has no b). Measuring ``r`` right after its last
gate gives the step's statistics (no later gate touches it), so a step is, per factor in order,
the instrument ``R_f[s]`` (``s`` its outcome bit) on the factor's memory digits::

    R_f[s][(a', b'), (a, b)] = sum_r u_f[(a', r), a] W_f[s][(r, b), b']

``u_f`` (16 x 4) is stage A run forward on the slots ``(a, r)`` from ``a ⊗ v``, ``v`` the readout
qubit's Pauli vector after its reset (``|0>`` at step 0, then ``|1>`` with the reset error);
stage A holds a's memory channel where ``f`` is the first factor to touch it, then ``r``'s gates up
to its last gate on ``a``. ``W_f[s]`` (16 x 2 nb) is stage B run backwards (the Heisenberg
picture: transposed ops in reverse) on the slots ``(r, b)`` from ``r``'s effect for outcome ``s``
(its readout assignment error folded in, and the 1/2 of the trace) times ``1_b``; stage B holds
b's memory channel and ``r``'s remaining gates. A memory qubit's channel for step ``t`` is the
previous step's rotations after its last two-qubit gate, its idle relaxation during the readout's
measurement and reset, then step ``t``'s rotations before its first two-qubit gate (the first two
skipped at step 0), composed into one 4 x 4 PTM per step (:data:`MEM`).

Device ops (from :class:`~qrnn_core.device.DeviceOp`): ``rz`` is virtual and exact, a rotation of
the X, Y digits by an angle affine in one logical angle (:func:`qrnn_core.device.op_angle`); any
other device gate is a fixed matrix: its unitary, then the depolarizing channel, then the thermal
relaxation of each of its qubits (Aer's order, as :func:`qrnn_core.device.aer_noise_model`). Runs
of fixed ops are multiplied out here, once.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .circuit import build_step_block
from .device import DeviceNoise, depolarizing_kraus, op_angle, thermal_relaxation_kraus
from .program import read_step_program

#: Op kinds of the stage tables (column 0 of ``ints``): a rotation ``RZ`` (slot, angle index or -1,
#: previous step?; floats ``coef, const``), a fixed one-qubit PTM ``FIX1`` (slot, matrix, previous
#: step?), a fixed two-qubit PTM ``FIX2`` (-, matrix, -), a memory channel ``MEM`` (slot, memory
#: position, transposed?).
RZ, FIX1, FIX2, MEM = range(4)

_PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


@functools.lru_cache(maxsize=None)
def _pauli_basis(k: int) -> np.ndarray:
    """The ``4**k`` Pauli strings on ``k`` qubits, ``(4**k, 2**k, 2**k)``, the first qubit most significant."""
    out = np.ones((1, 1, 1), dtype=complex)
    for _ in range(k):
        out = np.einsum("aij,bkl->abikjl", out, _PAULI).reshape(len(out) * 4, out.shape[1] * 2, -1)
    return out


def ptm(kraus: np.ndarray) -> np.ndarray:
    """The Pauli transfer matrix ``(4**k, 4**k)`` float64 of the channel with Kraus operators
    ``kraus (m, 2**k, 2**k)`` (qubit order: the first most significant)."""
    d = kraus.shape[-1]
    P = _pauli_basis(int(round(math.log2(d))))
    images = np.einsum("kij,qjl,kml->qim", kraus, P, kraus.conj())  # Phi(Q) for every Q
    R = np.einsum("pij,qji->pq", P, images) / d
    assert np.abs(R.imag).max() < 1e-12
    return np.ascontiguousarray(R.real)


def rz_ptm(angle: float) -> np.ndarray:
    """PTM (4, 4) of ``rz(angle)``: X -> cos X + sin Y, Y -> cos Y - sin X."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1.0]])


def _unitary(name: str, reverse: bool) -> np.ndarray:
    """A fixed device gate's unitary in slot order (Qiskit's is little-endian: ``reverse`` swaps)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.quantum_info import Operator

    op = Operator(get_standard_gate_name_mapping()[name])
    return (op.reverse_qargs() if reverse else op).data


def _fixed_op_ptm(op, slot_of: dict[int, int]) -> tuple[tuple[int, ...], np.ndarray]:
    """``(slots, PTM)`` of a fixed device op with its noise: relaxation ∘ depolarizing ∘ unitary."""
    slots = tuple(slot_of[q] for q in op.qubits)
    U = _unitary(op.name, reverse=len(slots) == 2 and slots[0] < slots[1])
    R = ptm(U[None])
    if op.depolarizing > 0:
        R = ptm(depolarizing_kraus(op.depolarizing, len(slots))) @ R
    relax = [np.eye(4)] * len(slots)
    for r in op.relaxation:
        if r.duration > 0 and math.isfinite(r.t1):  # as Aer's model: none where T1 is infinite (s = 0)
            relax[sorted(slots).index(slot_of[r.qubit])] = ptm(r.kraus())
    return tuple(sorted(slots)), functools.reduce(np.kron, relax) @ R


@dataclass
class _Op:
    """One stage op (see :data:`RZ`): ``prev`` is the table's flag (for ``MEM``: transposed)."""

    kind: int
    slots: tuple[int, ...]
    matrix: np.ndarray | None = None
    angle: int = -1
    prev: int = 0
    coef: float = 0.0
    const: float = 0.0


def _gate_ops(noise: DeviceNoise, gate_noise, slot_of: dict[int, int], prev: int) -> list[_Op]:
    """A logical gate's device ops as stage ops (``prev``: it runs in the previous step)."""
    out = []
    for op in gate_noise.ops:
        if op.name == "rz":
            coef, const = op_angle(noise, gate_noise.gate.name, op.param)
            if coef == 0:
                out.append(_Op(FIX1, (slot_of[op.qubits[0]],), rz_ptm(const), prev=prev))
            else:
                out.append(_Op(RZ, (slot_of[op.qubits[0]],), angle=gate_noise.gate.angle, prev=prev,
                               coef=coef, const=const))
        elif op.param is not None:
            raise ValueError(f"device gate {op.name} with angle {op.param}: only rz may take an angle")
        else:
            slots, R = _fixed_op_ptm(op, slot_of)
            out.append(_Op(FIX1 if len(slots) == 1 else FIX2, slots, R, prev=prev))
    return out


def _fuse(ops: list[_Op]) -> list[_Op]:
    """Multiply out runs of fixed ops: consecutive one-qubit ones on a slot, and one-qubit ones next
    to a two-qubit one (both with the same ``prev``)."""
    out: list[_Op] = []
    for op in ops:
        last = out[-1] if out else None
        if last is None or op.kind not in (FIX1, FIX2) or last.kind not in (FIX1, FIX2) or op.prev != last.prev:
            out.append(op)
        elif op.kind == last.kind == FIX1 and op.slots == last.slots:
            last.matrix = op.matrix @ last.matrix
        elif FIX2 in (op.kind, last.kind):
            lift = lambda o: o.matrix if o.kind == FIX2 else (  # noqa: E731
                np.kron(o.matrix, np.eye(4)) if o.slots == (0,) else np.kron(np.eye(4), o.matrix))
            out[-1] = _Op(FIX2, (0, 1), lift(op) @ lift(last), prev=op.prev)
        else:
            out.append(op)
    return out


def _backwards(ops: list[_Op]) -> list[_Op]:
    """A stage for the Heisenberg picture: ops reversed, each transposed (``rz(φ)^T = rz(-φ)``)."""
    out = []
    for op in reversed(ops):
        if op.kind == RZ:
            out.append(_Op(RZ, op.slots, angle=op.angle, prev=op.prev, coef=-op.coef, const=-op.const))
        elif op.kind == MEM:
            out.append(_Op(MEM, op.slots, angle=op.angle, prev=1))
        else:
            out.append(_Op(op.kind, op.slots, op.matrix.T.copy(), prev=op.prev))
    return out


#: The parts of a stage (:func:`_split`): one-qubit ops before the first two-qubit op on slot 0 and
#: on slot 1, the body from the first to the last two-qubit op, one-qubit ops after it per slot.
PARTS = ("head0", "head1", "body", "tail0", "tail1")


def _split(ops: list[_Op]) -> list[list[_Op]]:
    """A stage as its :data:`PARTS`, each fused (:func:`_fuse`), the one-slot parts on slot 0.

    One-qubit ops on different slots commute, so the heads act on the stage's initial matrix while
    it is still a product of a slot-0 and a slot-1 factor (4 x 4 work each, not 16 x ncol), and
    each tail composes into one 4 x 4 before it touches the stage (:func:`qrnn_core.noisy_forward._stage`).
    """
    two = [i for i, op in enumerate(ops) if op.kind == FIX2]
    lo, hi = (two[0], two[-1] + 1) if two else (len(ops), len(ops))
    one = lambda part, slot: [_Op(o.kind, (0,), o.matrix, o.angle, o.prev, o.coef, o.const)  # noqa: E731
                              for o in part if o.slots == (slot,)]
    return [_fuse(one(ops[:lo], 0)), _fuse(one(ops[:lo], 1)), _fuse(ops[lo:hi]),
            _fuse(one(ops[hi:], 0)), _fuse(one(ops[hi:], 1))]


@dataclass(frozen=True)
class NoisyStep:
    """A :class:`DeviceNoise`'s step as the noisy engines' tables (module docstring).

    ``mats1 (n1, 4, 4)``, ``mats2 (n2, 16, 16)`` float64: the fixed PTMs. Stage tables, ``S`` stages
    (the memory channels ``0 .. h-1``, then stage A and stage B of each factor: ``h + 2 f`` and
    ``h + 2 f + 1``), each in its 5 :data:`PARTS`: ``ints (S, 5, max_ops, 4)`` int64 rows
    ``(kind, slot, index, flag)``, ``floats (S, 5, max_ops, 2)`` the rotations' ``(coef, const)``,
    ``n_ops (S, 5)``; matrix 0 of each table is the identity (unused). ``init (F, 2, 4)``: each
    readout qubit's Pauli vector at step 0 and after a reset; ``effect (F, 2, 4)``: its effect per
    outcome bit with the readout error, halved. ``nb (F,)``: 4 where the factor has a "b", else 1.
    """

    n_qubits: int
    n_angles: int
    mats1: np.ndarray
    mats2: np.ndarray
    ints: np.ndarray
    floats: np.ndarray
    n_ops: np.ndarray
    init: np.ndarray
    effect: np.ndarray
    nb: np.ndarray

    @property
    def h(self) -> int:
        return self.n_qubits // 2

    @property
    def n_outcomes(self) -> int:
        return 2 ** (self.n_qubits // 2)

    def tables(self) -> tuple:
        """The arrays the compiled engine takes, in its order: ``mats2`` as sparse rows
        ``where (n2, width, 2)`` (row, column), ``values (n2, width)``, ``nnz (n2,)``."""
        keep = np.abs(self.mats2) > 0
        nnz = keep.sum((1, 2))
        where = np.zeros((len(nnz), nnz.max(), 2), dtype=np.int64)
        values = np.zeros((len(nnz), nnz.max()))
        for i, m in enumerate(keep):
            rows, cols = np.nonzero(m)
            where[i, :len(rows)] = np.stack([rows, cols], 1)
            values[i, :len(rows)] = self.mats2[i][rows, cols]
        return (self.ints, self.floats, self.n_ops, self.mats1, where, values, nnz.astype(np.int64),
                self.init, self.effect, self.nb)


def compile_step(noise: DeviceNoise) -> NoisyStep:
    """The tables of ``noise``'s step; a step block without the seed's chain is refused."""
    n = noise.n_qubits
    program = read_step_program(build_step_block(n))
    h, F = len(program.memory), len(program.factors)
    gate_noise = {g.gate: g for g in noise.gates}
    if set(gate_noise) != set(program.gates):
        raise ValueError("the noise model's gates are not the step block's")
    stages: list[list[_Op]] = []
    for j, q in enumerate(program.memory):  # memory channels: post(t - 1), idle, pre(t)
        ops = [o for g in program.memory_post[j] for o in _gate_ops(noise, gate_noise[g], {q: 0}, 1)]
        idle = noise.idle[j]
        if idle.duration > 0 and math.isfinite(idle.t1):
            ops.append(_Op(FIX1, (0,), ptm(idle.kraus()), prev=1))
        ops += [o for g in program.memory_pre[j] for o in _gate_ops(noise, gate_noise[g], {q: 0}, 0)]
        stages.append([_fuse(ops), [], [], [], []])
    nb = []
    for f, fac in enumerate(program.factors):
        r = fac.qubit
        if r != 2 * f + 1 or fac.bit != f or fac.memory != tuple(q for q in (2 * f, 2 * f + 2) if q < n):
            raise ValueError(f"readout qubit {r} does not follow the seed's chain")
        a, b = fac.memory[0], (fac.memory[1] if len(fac.memory) == 2 else None)
        last_a = max(i for i, g in enumerate(fac.gates) if a in g.qubits)
        if any(b in g.qubits for g in fac.gates[:last_a + 1]):
            raise ValueError(f"readout qubit {r} interleaves its gates on qubits {a} and {b}")
        A = [_Op(MEM, (0,), angle=0)] if f == 0 else []
        A += [o for g in fac.gates[:last_a + 1] for o in _gate_ops(noise, gate_noise[g], {a: 0, r: 1}, 0)]
        B = [_Op(MEM, (1,), angle=f + 1)] if b is not None else []
        B += [o for g in fac.gates[last_a + 1:] for o in _gate_ops(noise, gate_noise[g], {r: 0, b: 1}, 0)]
        stages += [_split(A), _split(_backwards(B))]
        nb.append(4 if b is not None else 1)

    mats1, mats2 = [np.eye(4)], [np.eye(16)]
    width = max(len(part) for stage in stages for part in stage)
    ints = np.zeros((len(stages), len(PARTS), width, 4), dtype=np.int64)
    floats = np.zeros((len(stages), len(PARTS), width, 2))
    for i, stage in enumerate(stages):
        for j, part in enumerate(stage):
            for k, op in enumerate(part):
                index = op.angle
                if op.kind == FIX1:
                    index, mats1 = len(mats1), mats1 + [op.matrix]
                elif op.kind == FIX2:
                    index, mats2 = len(mats2), mats2 + [op.matrix]
                ints[i, j, k] = (op.kind, op.slots[0] if len(op.slots) == 1 else 0, index, op.prev)
                floats[i, j, k] = (op.coef, op.const)

    init = np.zeros((F, 2, 4))
    effect = np.zeros((F, 2, 4))
    for f in range(F):
        init[f, 0] = (1, 0, 0, 1)
        init[f, 1] = (1, 0, 0, 1 - 2 * noise.reset_error[f])
        p10, p01 = noise.readout[f]
        effect[f, 0] = 0.5 * np.array([1 - p10 + p01, 0, 0, 1 - p10 - p01])
        effect[f, 1] = 0.5 * np.array([1 + p10 - p01, 0, 0, p10 + p01 - 1])
    return NoisyStep(n, program.n_angles, np.ascontiguousarray(mats1), np.ascontiguousarray(mats2), ints, floats,
                     np.array([[len(p) for p in stage] for stage in stages], dtype=np.int64), init, effect, np.array(nb, dtype=np.int64))
