import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

from qrnn_core.circuit import (
    build_sequence_circuit,
    build_step_block,
    memory_qubits,
    n_angles,
    n_outcomes,
    readout_qubits,
)
from qrnn_core.program import read_step_program


def test_seed_block_has_the_seed_gates_in_order():
    block = build_step_block(8)
    names = [inst.operation.name for inst in block.data]
    assert n_angles(8) == 55 and block.num_parameters == 55
    assert names[:24] == ["rz", "rx", "rz"] * 8
    assert names[24:31] == ["crx"] * 7
    assert names[31:55] == ["rz", "rx", "rz"] * 8
    assert names[55:] == ["measure"] * 4 + ["reset"] * 4
    crx = [tuple(block.find_bit(q).index for q in inst.qubits) for inst in block.data[24:31]]
    assert crx == [(k, k + 1) for k in range(7)]
    # angle order is gate order
    angles = [inst.operation.params[0].index for inst in block.data[:55]]
    assert angles == list(range(55))


def test_layout_even_memory_odd_readout():
    assert memory_qubits(8) == [0, 2, 4, 6]
    assert readout_qubits(8) == [1, 3, 5, 7]
    assert n_outcomes(8) == 16
    measured = [block_q for block_q in _measured(build_step_block(8))]
    assert measured == [(1, 0), (3, 1), (5, 2), (7, 3)]


def _measured(block):
    for inst in block.data:
        if inst.operation.name == "measure":
            yield block.find_bit(inst.qubits[0]).index, block.find_bit(inst.clbits[0]).index


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10])
def test_any_even_qubit_count(n):
    block = build_step_block(n)
    assert block.num_qubits == n and block.num_parameters == 7 * n - 1
    program = read_step_program(block)
    assert program.memory == tuple(range(0, n, 2))
    assert program.readout == tuple(range(1, n, 2))


@pytest.mark.parametrize("bad", [3, 7, 0, -2, 2.0, "8", True])
def test_bad_qubit_count(bad):
    with pytest.raises(ValueError, match="n_qubits"):
        build_step_block(bad)


def test_sequence_circuit_has_a_register_per_step():
    qc = build_sequence_circuit(8, 20)
    assert [c.name for c in qc.cregs] == [f"c{t}" for t in range(20)]
    assert qc.num_parameters == 20 * 55
    assert qc.count_ops()["measure"] == 80 and qc.count_ops()["reset"] == 80
    exact = build_sequence_circuit(8, 3, readout="probabilities")
    assert exact.count_ops()["save_probabilities"] == 3 and "measure" not in exact.count_ops()


def test_sequence_circuit_bad_arguments():
    with pytest.raises(ValueError, match="n_steps"):
        build_sequence_circuit(8, 0)
    with pytest.raises(ValueError, match="readout"):
        build_sequence_circuit(8, 2, readout="sample")


def test_program_rejects_blocks_it_cannot_simulate():
    theta = ParameterVector("t", 2)
    qc = QuantumCircuit(4, 2)
    qc.crx(theta[0], 0, 2)  # memory-memory coupling
    qc.rx(theta[1], 1)
    qc.measure([1, 3], [0, 1])
    qc.reset([1, 3])
    with pytest.raises(ValueError, match="one memory and one readout"):
        read_step_program(qc)
    qc = QuantumCircuit(2, 1)
    qc.rx(ParameterVector("u", 1)[0], 1)
    qc.h(0)
    qc.measure(1, 0)
    qc.reset(1)
    with pytest.raises(ValueError, match="unsupported instruction 'h'"):
        read_step_program(qc)


def test_program_of_the_seed_chain():
    program = read_step_program(build_step_block(8))
    assert [f.qubit for f in program.factors] == [1, 3, 5, 7]
    assert [f.memory for f in program.factors] == [(0, 2), (2, 4), (4, 6), (6,)]
    assert all(len(pre) == 3 and len(post) == 3 for pre, post in zip(program.memory_pre, program.memory_post))
