"""Read a step block's gates from its Qiskit circuit into the form the simulator evaluates.

The simulator never restates the gate list: it walks ``block.data`` here. What it relies on is the
block's *shape*, checked below with a ValueError where a circuit does not have it:

* the measured qubits are the readout register, the others are memory; measured qubits are reset;
* every two-qubit gate is a controlled rotation between one memory and one readout qubit;
* a memory qubit's single-qubit rotations all come before its first or after its last two-qubit
  gate (its ``pre`` and ``post`` unitaries);
* readout qubits take their turns: two readout qubits that touch the same memory qubit do not
  interleave their gates on it.

Under that shape a step is ``U_post · E_{s_last} ··· E_{s_first} · U_pre`` on the memory alone, where
``E_{s_r}`` is readout qubit ``r``'s Kraus operator for outcome bit ``s_r``: its own gates from
``|0>`` to the measurement, acting on the few memory qubits it touches. (Measuring a readout qubit
right after its last gate gives the same statistics as measuring all at the end, because no later
gate touches it.) In the seed's chain readout qubit ``k`` touches memory qubits ``k`` and ``k + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from qiskit.circuit import ParameterVectorElement, QuantumCircuit

from .circuit import CONTROLLED_ROTATIONS, ROTATIONS


@dataclass(frozen=True)
class Gate:
    """One rotation of the block: ``name`` in ``rx ry rz crx cry crz``, ``qubits`` = ``(q,)`` or
    ``(control, target)``, ``angle`` = index of its angle in the step's angle vector."""

    name: str
    qubits: tuple[int, ...]
    angle: int

    @property
    def axis(self) -> str:
        """The Pauli axis of the rotation: ``"x"``, ``"y"`` or ``"z"``."""
        return self.name[-1]


@dataclass(frozen=True)
class ReadoutFactor:
    """Everything one readout qubit does in a step, in circuit order.

    ``memory`` are the memory qubits its gates touch (in memory order); ``gates`` are all its
    rotations, single-qubit ones on it and controlled ones with a memory qubit; ``bit`` is its bit
    in the outcome integer.
    """

    qubit: int
    bit: int
    memory: tuple[int, ...]
    gates: tuple[Gate, ...]


@dataclass(frozen=True)
class StepProgram:
    """A step block read into memory unitaries and readout Kraus factors (see module docstring)."""

    n_qubits: int
    n_angles: int
    memory: tuple[int, ...]
    readout: tuple[int, ...]
    memory_pre: tuple[tuple[Gate, ...], ...]
    memory_post: tuple[tuple[Gate, ...], ...]
    factors: tuple[ReadoutFactor, ...]
    gates: tuple[Gate, ...]

    @property
    def n_outcomes(self) -> int:
        return 2 ** len(self.readout)


def read_step_program(block: QuantumCircuit) -> StepProgram:
    """Compile ``block`` (see :func:`qrnn_core.circuit.build_step_block`) into a StepProgram."""
    params = list(block.parameters)
    vectors = {p.vector for p in params if isinstance(p, ParameterVectorElement)}
    if len(vectors) != 1 or len(params) != len(next(iter(vectors))):
        raise ValueError("the block's parameters must be exactly one ParameterVector")

    gates: list[Gate] = []
    measured: dict[int, int] = {}  # readout qubit -> classical bit
    reset: set[int] = set()
    for inst in block.data:
        name = inst.operation.name
        qubits = tuple(block.find_bit(q).index for q in inst.qubits)
        if name in ROTATIONS + CONTROLLED_ROTATIONS:
            (param,) = inst.operation.params
            if not isinstance(param, ParameterVectorElement):
                raise ValueError(f"gate {name} on {qubits} must take one angle of the vector")
            if measured:
                raise ValueError(f"gate {name} on {qubits} comes after a measurement")
            gates.append(Gate(name, qubits, param.index))
        elif name == "measure":
            measured[qubits[0]] = block.find_bit(inst.clbits[0]).index
        elif name == "reset":
            reset.update(qubits)
        elif name != "barrier":
            raise ValueError(f"unsupported instruction {name!r} in the step block")
    if not measured:
        raise ValueError("the step block measures no qubit, so it has no readout register")
    if reset != set(measured):
        raise ValueError("the block must reset exactly the qubits it measures")

    readout = tuple(sorted(measured, key=measured.get))
    if sorted(measured.values()) != list(range(len(readout))):
        raise ValueError("readout qubits must be measured into bits 0..k-1 of the step register")
    memory = tuple(q for q in range(block.num_qubits) if q not in measured)
    pos_of_first_pair: dict[int, int] = {}
    pos_of_last_pair: dict[int, int] = {}
    for i, g in enumerate(gates):
        if len(g.qubits) == 2:
            kinds = sorted(q in measured for q in g.qubits)
            if kinds != [False, True]:
                raise ValueError(f"{g.name} on {g.qubits} must couple one memory and one readout qubit")
            for q in g.qubits:
                pos_of_first_pair.setdefault(q, i)
                pos_of_last_pair[q] = i

    def single(q: int, where) -> tuple[Gate, ...]:
        return tuple(g for i, g in enumerate(gates) if g.qubits == (q,) and where(i))

    memory_pre, memory_post = [], []
    for q in memory:
        first, last = pos_of_first_pair.get(q, len(gates)), pos_of_last_pair.get(q, len(gates))
        if single(q, lambda i: first < i < last):
            raise ValueError(f"memory qubit {q} has a rotation between its two-qubit gates")
        memory_pre.append(single(q, lambda i: i < first))
        memory_post.append(single(q, lambda i: i > last))

    factors = []
    for r in readout:
        own = tuple(g for g in gates if r in g.qubits)
        touched = {q for g in own for q in g.qubits if q != r}
        factors.append(ReadoutFactor(r, measured[r], tuple(q for q in memory if q in touched), own))
    factors.sort(key=lambda f: pos_of_first_pair.get(f.qubit, -1))
    _check_turns(gates, factors)
    return StepProgram(
        n_qubits=block.num_qubits,
        n_angles=len(params),
        memory=memory,
        readout=readout,
        memory_pre=tuple(memory_pre),
        memory_post=tuple(memory_post),
        factors=tuple(factors),
        gates=tuple(gates),
    )


def _check_turns(gates: list[Gate], factors: list[ReadoutFactor]) -> None:
    """Readout qubits sharing a memory qubit must use it one after the other, in factor order."""
    position = {g: i for i, g in enumerate(gates)}
    for i, a in enumerate(factors):
        for b in factors[i + 1 :]:
            for q in set(a.memory) & set(b.memory):
                last_a = max(position[g] for g in a.gates if q in g.qubits)
                first_b = min(position[g] for g in b.gates if q in g.qubits)
                if last_a > first_b:
                    raise ValueError(
                        f"readout qubits {a.qubit} and {b.qubit} interleave on memory qubit {q}"
                    )
