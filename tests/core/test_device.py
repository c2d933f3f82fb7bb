"""qrnn_core.device: the channels' maths, the device noise as data, Aer's reference, bad input."""

import math

import numpy as np
import pytest
import torch

from qrnn_core import device as d
from qrnn_core.circuit import n_angles
from qrnn_core.program import read_step_program
from qrnn_core.circuit import build_step_block


# ---- channels (pure numpy) ------------------------------------------------------------------------
def _is_trace_preserving(kraus):
    d_ = kraus.shape[-1]
    return np.allclose(np.einsum("kji,kjl->il", kraus.conj(), kraus), np.eye(d_))


@pytest.mark.parametrize("t1,t2,time", [(100e-6, 80e-6, 1e-6), (100e-6, 200e-6, 5e-6), (50e-6, 300e-6, 1e-3)])
def test_thermal_relaxation_is_trace_preserving_and_decays_as_t1_t2(t1, t2, time):
    K = d.thermal_relaxation_kraus(t1, t2, time)
    assert K.shape == (4, 2, 2) and K.dtype == np.complex128 and _is_trace_preserving(K)
    rho = d.apply_kraus(np.array([[0.5, 0.5], [0.5, 0.5]], dtype=complex), K)  # |+>
    assert rho[1, 1].real == pytest.approx(0.5 * math.exp(-time / t1))
    assert abs(rho[0, 1]) == pytest.approx(0.5 * math.exp(-time / min(t2, 2 * t1)))


def test_thermal_relaxation_limits():
    assert np.allclose(d.apply_kraus(np.diag([0, 1.0]).astype(complex), d.thermal_relaxation_kraus(1e-6, 1e-6, 0.0)),
                       np.diag([0, 1.0]))
    assert np.allclose(d.apply_kraus(np.diag([0, 1.0]).astype(complex), d.thermal_relaxation_kraus(1e-6, 1e-6, 1.0)),
                       np.diag([1.0, 0]))
    # infinite T1, T2 (noise scale 0): the identity
    K = d.thermal_relaxation_kraus(math.inf, math.inf, 1e-3)
    assert d.process_fidelity(K) == pytest.approx(1.0)


def test_thermal_relaxation_matches_aers_channel():
    from qiskit.quantum_info import Kraus, SuperOp
    from qiskit_aer.noise import thermal_relaxation_error

    ours = SuperOp(Kraus(list(d.thermal_relaxation_kraus(120e-6, 90e-6, 3e-6)))).data
    aers = SuperOp(thermal_relaxation_error(120e-6, 90e-6, 3e-6)).data
    assert np.allclose(ours, aers)


@pytest.mark.parametrize("n", [1, 2])
def test_depolarizing_kraus_limits(n):
    dim = 2**n
    rho = np.zeros((dim, dim), complex)
    rho[0, 0] = 1
    assert _is_trace_preserving(d.depolarizing_kraus(0.3, n))
    assert np.allclose(d.apply_kraus(rho, d.depolarizing_kraus(0.0, n)), rho)
    assert np.allclose(d.apply_kraus(rho, d.depolarizing_kraus(1.0, n)), np.eye(dim) / dim)
    # average infidelity of depolarizing alone: p (d - 1) / d
    assert 1 - d.average_gate_fidelity(d.depolarizing_kraus(0.01, n)) == pytest.approx(0.01 * (dim - 1) / dim)


def test_depolarizing_from_gate_error_reproduces_the_gate_error():
    relax = d.thermal_relaxation_kraus(200e-6, 120e-6, 68e-9)
    error = 3.2e-3
    p = d.depolarizing_from_gate_error(error, [d.process_fidelity(relax)] * 2, 2)
    two = np.array([np.kron(a, b) for a in relax for b in relax])
    composed = np.array([k2 @ k1 for k1 in d.depolarizing_kraus(p, 2) for k2 in two])  # depolarize, then relax
    assert 1 - d.average_gate_fidelity(composed) == pytest.approx(error)
    # relaxation alone already explains a tiny error: no depolarizing
    assert d.depolarizing_from_gate_error(1e-9, [d.process_fidelity(relax)], 1) == 0.0


def test_readout_error_acts_bit_by_bit():
    p = np.zeros(4)
    p[0b01] = 1.0  # readout bit 0 is 1, bit 1 is 0
    out = d.apply_readout_error(p, [d.readout_matrix(0.0, 0.1), d.readout_matrix(0.2, 0.0)])
    assert out[0b01] == pytest.approx(0.9 * 0.8) and out[0b00] == pytest.approx(0.1 * 0.8)
    assert out[0b11] == pytest.approx(0.9 * 0.2) and out.sum() == pytest.approx(1)
    batch = np.random.default_rng(0).dirichlet(np.ones(8), size=(3, 2))
    assert np.allclose(d.apply_readout_error(batch, [np.eye(2)] * 3), batch)


# ---- layouts and bad input ------------------------------------------------------------------------
def test_find_line_takes_the_first_path():
    edges = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5)]
    assert d.find_line(edges, 3) == (0, 1, 2)
    assert d.find_line(edges, 5) == (3, 2, 1, 4, 5)
    assert d.find_line(edges, 7) is None


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(ValueError, match="unknown backend 'FakeNowhere': choose one of .*FakeMarrakesh"):
        d.fake_backend("FakeNowhere")
    for bad in (-0.5, math.nan, math.inf, "1", True):
        with pytest.raises(ValueError, match="noise scale must be a finite number >= 0"):
            d.device_noise(scale=bad)
    with pytest.raises(ValueError, match=r"layout \(0, 1, 2, 9\) does not fit fake_marrakesh"):
        d.device_noise(n_qubits=4, layout=(0, 1, 2, 9))
    with pytest.raises(ValueError, match="does not fit"):
        d.device_noise(n_qubits=2, layout=(0, 0))


# ---- the noise model as data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def noise4():
    return d.device_noise("FakeMarrakesh", 4)


def test_device_noise_follows_the_blocks_gates(noise4):
    assert noise4.layout == (0, 1, 2, 3) and noise4.measure_name == "measure" and noise4.reset_name == "reset"
    assert [g.gate for g in noise4.gates] == list(read_step_program(build_step_block(4)).gates)
    crx = [g for g in noise4.gates if g.gate.name == "crx"]
    assert len(crx) == 3 and all([op.name for op in g.ops].count("cz") == 2 for g in crx)
    assert all(0 < g.depolarizing_2q < 0.05 for g in crx)
    rz = [g for g in noise4.gates if g.gate.name == "rz"]
    assert all(op.duration == 0 and op.depolarizing == 0 for g in rz for op in g.ops)  # virtual
    assert [r.qubit for r in noise4.idle] == [0, 2]
    assert noise4.idle_duration == pytest.approx(2584e-9 + 2720e-9)  # FakeMarrakesh measure + reset
    assert len(noise4.readout) == len(noise4.reset_error) == 2


def test_noise_scale_multiplies_rates():
    one, two, zero = (d.device_noise(n_qubits=2, scale=s) for s in (1.0, 2.0, 0))
    assert two.idle[0].t1 == pytest.approx(one.idle[0].t1 / 2) and two.idle[0].t2 == pytest.approx(one.idle[0].t2 / 2)
    assert two.readout[0][0] == pytest.approx(2 * one.readout[0][0])
    assert math.isinf(zero.idle[0].t1) and zero.readout == ((0.0, 0.0),) and zero.reset_error == (0.0,)
    assert all(op.depolarizing == 0 for g in zero.gates for op in g.ops)


def test_mid_circuit_variants_where_calibrated():
    boston = d.device_noise("FakeBoston", 2)
    assert (boston.measure_name, boston.reset_name) == ("measure_2", "reset_2")
    assert boston.idle_duration == pytest.approx(1624e-9 + 1656e-9)


# ---- the reference ---------------------------------------------------------------------------------
def test_noiseless_reference_is_the_studys_circuit(noise4):
    from qrnn_core.aer_backend import AerBackend

    angles = np.random.default_rng(3).uniform(-np.pi, np.pi, (3, n_angles(4)))
    ours = d.reference_probabilities(noise4.only(), angles)
    assert ours.shape == (3, 4)
    assert np.allclose(ours, AerBackend(4).probabilities(torch.from_numpy(angles)).numpy(), atol=1e-12)


def test_each_source_moves_the_distributions(noise4):
    angles = np.random.default_rng(4).uniform(-np.pi, np.pi, (3, n_angles(4)))
    exact = d.reference_probabilities(noise4.only(), angles)
    for source in d.NOISE_SOURCES:
        p = d.reference_probabilities(noise4.only(source), angles)
        assert np.allclose(p.sum(-1), 1)
        assert 1e-5 < d.total_variation(p, exact).mean() < 0.05, source
    with pytest.raises(ValueError, match="unknown noise source"):
        noise4.only("cosmic rays")


def test_aer_gets_each_error_as_one_exact_channel():
    """Aer drops a mixture error's terms of probability <= 1e-10; each error goes to it as one Kraus
    channel, equal to depolarizing-then-relaxation composed (FakeMarrakesh's CZ on qubits 3, 4 as a
    mixture has a term of 6e-14)."""
    from qiskit.quantum_info import SuperOp
    from qiskit_aer.noise import depolarizing_error, thermal_relaxation_error

    noise = d.device_noise("FakeMarrakesh", 6)
    model = d.aer_noise_model(noise)
    op = next(op for g in noise.gates for op in g.ops if op.name == "cz" and op.qubits == (3, 4))
    error = model._local_quantum_errors["cz"][op.qubits]
    assert error.size == 1 and error.probabilities == [1.0]
    relax = [thermal_relaxation_error(r.t1, r.t2, r.duration) for r in op.relaxation]
    composed = depolarizing_error(op.depolarizing, 2).compose(relax[0].expand(relax[1]))
    assert np.allclose(SuperOp(error).data, SuperOp(composed).data, atol=1e-14)
    assert min(composed.probabilities) < 1e-10  # what a mixture would have lost
