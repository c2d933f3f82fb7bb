"""The seed's QRNN circuit, defined once, in Qiskit.

Qubit layout (the one state convention of this package)
-------------------------------------------------------
``n`` qubits, ``n`` even. Even qubits ``0, 2, 4, ...`` carry the memory, odd qubits ``1, 3, 5, ...``
form the readout register. Readout qubit ``k`` is qubit ``2k + 1``; it is measured into bit ``k`` of
its step's classical register, so a readout outcome is the integer ``s = sum_k b_k 2**k``
(Qiskit's little-endian order). Every probability vector in this package, from every backend, is
indexed by that ``s`` and has ``2 ** (n // 2)`` entries.

One time step (:func:`build_step_block`) applies, in order,

1. ``RZ(a) RX(b) RZ(c)`` on every qubit ``0..n-1`` (3 angles per qubit, qubit order),
2. a chain of ``n - 1`` ``CRX`` gates, qubit ``k`` controlling qubit ``k + 1``,
3. a second ``RZ RX RZ`` layer on every qubit,

then measures the readout qubits and resets them to ``|0>``. That is ``6n + n - 1`` angles a step
(55 for 8 qubits). The memory is never measured. The ``T``-step circuit
(:func:`build_sequence_circuit`) repeats the block with its own angles and its own register per step.

Everything else (the PyTorch simulator, the Aer backend, the parameter-shift rule) reads its gates
from these circuits; nothing restates the gate list.
"""

from __future__ import annotations

from qiskit.circuit import ClassicalRegister, ParameterVector, QuantumCircuit, QuantumRegister

#: Instruction names allowed in a step block, and how the simulator and shift rule treat them.
ROTATIONS = ("rx", "ry", "rz")
CONTROLLED_ROTATIONS = ("crx", "cry", "crz")


def check_n_qubits(n_qubits: int) -> int:
    """Return ``n_qubits`` if it is an even integer >= 2, else raise a ValueError naming it."""
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int):
        raise ValueError(f"n_qubits must be an even integer >= 2, got {n_qubits!r}")
    if n_qubits < 2 or n_qubits % 2:
        raise ValueError(f"n_qubits must be an even integer >= 2, got {n_qubits}")
    return n_qubits


def memory_qubits(n_qubits: int) -> list[int]:
    """The memory qubits ``[0, 2, ..., n-2]``."""
    return list(range(0, check_n_qubits(n_qubits), 2))


def readout_qubits(n_qubits: int) -> list[int]:
    """The readout qubits ``[1, 3, ..., n-1]``; readout qubit ``k`` is bit ``k`` of an outcome."""
    return list(range(1, check_n_qubits(n_qubits), 2))


def n_angles(n_qubits: int) -> int:
    """Angles per time step: two ``RZ RX RZ`` layers (6 per qubit) and ``n - 1`` CRX gates."""
    return 7 * check_n_qubits(n_qubits) - 1


def n_outcomes(n_qubits: int) -> int:
    """Readout outcomes per step, ``2 ** (n // 2)``."""
    return 2 ** (check_n_qubits(n_qubits) // 2)


def build_step_block(n_qubits: int = 8, name: str = "θ") -> QuantumCircuit:
    """One QRNN time step as a circuit over ``n_qubits`` qubits and one ``n // 2``-bit register.

    Parameters
    ----------
    n_qubits : even number of qubits (8 in the seed).
    name : name of the ``ParameterVector`` of ``n_angles(n_qubits)`` angles.

    The angle order is the gate order: ``θ[3q : 3q+3]`` are qubit ``q``'s first ``RZ RX RZ``,
    ``θ[3n + k]`` is the CRX from qubit ``k`` to ``k + 1`` and ``θ[4n - 1 + 3q : 4n + 2 + 3q]`` are
    qubit ``q``'s second ``RZ RX RZ``.
    """
    n = check_n_qubits(n_qubits)
    theta = ParameterVector(name, n_angles(n))
    angles = iter(theta)
    qc = QuantumCircuit(QuantumRegister(n, "q"), ClassicalRegister(n // 2, "c"), name="qrnn_step")

    def euler_layer() -> None:
        for q in range(n):
            qc.rz(next(angles), q)
            qc.rx(next(angles), q)
            qc.rz(next(angles), q)

    euler_layer()
    for k in range(n - 1):
        qc.crx(next(angles), k, k + 1)
    euler_layer()
    readout = readout_qubits(n)
    qc.measure(readout, list(range(n // 2)))
    qc.reset(readout)
    return qc


def build_sequence_circuit(
    n_qubits: int = 8, n_steps: int = 20, readout: str = "measure"
) -> QuantumCircuit:
    """The ``n_steps``-step QRNN as one circuit, built from :func:`build_step_block`.

    Step ``t`` uses the ``ParameterVector`` ``θ{t}`` and, with ``readout="measure"`` (the seed's
    way), measures into its own register ``c{t}``. With ``readout="probabilities"`` each measure is
    replaced by a ``save_probabilities`` of the readout qubits labelled ``p{t}`` (Aer's exact,
    density-matrix way); resets stay, so the memory carries over exactly as with measurement.
    """
    if readout not in ("measure", "probabilities"):
        raise ValueError(f"readout must be 'measure' or 'probabilities', got {readout!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    n = check_n_qubits(n_qubits)
    qreg = QuantumRegister(n, "q")
    qc = QuantumCircuit(qreg, name=f"qrnn_{n_steps}_steps")
    for t in range(n_steps):
        step = build_step_block(n, name=f"θ{t}")
        creg = ClassicalRegister(n // 2, f"c{t}")
        qc.add_register(creg)
        saved = False
        for inst in step.data:
            qubits = [qreg[step.find_bit(q).index] for q in inst.qubits]
            if inst.operation.name == "measure":
                if readout == "measure":
                    clbits = [creg[step.find_bit(c).index] for c in inst.clbits]
                    qc.append(inst.operation, qubits, clbits)
                elif not saved:
                    _save_probabilities(qc, [qreg[q] for q in readout_qubits(n)], f"p{t}")
                    saved = True
            else:
                qc.append(inst.operation, qubits, [])
    return qc


def _save_probabilities(qc: QuantumCircuit, qubits, label: str) -> None:
    # Imported here so that building the measured circuit needs only qiskit.
    from qiskit_aer.library import SaveProbabilities

    qc.append(SaveProbabilities(len(qubits), label=label), qubits)
