"""qrnn_core.qpu: QPU time arithmetic, circuits per update, PUBs in local testing mode, chi-square."""

import numpy as np
import pytest

from qrnn_core import device, qpu
from qrnn_core.estimators import ParameterShift
from qrnn_core.train import step_gates


def test_layer_duration_schedules_as_soon_as_possible():
    # q0: 1; q1 waits for the pair gate (start 1, end 3); q2 waits for q1 (end 3 + 4)
    assert qpu.layer_duration([((0,), 1.0), ((0, 1), 2.0), ((1, 2), 4.0), ((0,), 1.0)]) == 7.0
    assert qpu.layer_duration([]) == 0.0


def test_qpu_time_on_a_hand_computed_case():
    circuit = qpu.circuit_duration(1e-6, 2e-6, 3e-6, 20)  # 20 * 6 us
    assert circuit == pytest.approx(120e-6)
    # 5 circuits x 1000 shots x (120 + 250) us = 1.85 s
    assert qpu.qpu_time(circuit, shots=1000, circuits=5, rep_delay=250e-6) == pytest.approx(1.85)


def test_circuits_per_update():
    assert qpu.circuits_per_update("spsa") == 5
    assert qpu.circuits_per_update("spsa", fixed_directions=True) == 5
    assert qpu.circuits_per_update("fdsa") == 221
    assert qpu.circuits_per_update("parameter_shift") == 1 + ParameterShift().circuits(n_params=110, steps=20, gates=step_gates(8))
    assert qpu.circuits_per_update("exact") is None


def test_qpu_time_table_two_generations():
    rows = qpu.qpu_time_table(("FakeMarrakesh", "FakeKingston"), updates_per_epoch=1384, epochs=2)
    assert {r["backend"] for r in rows} == {"FakeMarrakesh", "FakeKingston"}
    spsa = next(r for r in rows if r["backend"] == "FakeMarrakesh" and r["estimator"] == "spsa")
    assert spsa["update_s"] == pytest.approx(5 * 1024 * (spsa["circuit_s"] + 250e-6))
    assert spsa["run_h"] == pytest.approx(2 * spsa["epoch_h"]) == pytest.approx(2 * 1384 * spsa["update_s"] / 3600)
    assert 100e-6 < spsa["circuit_s"] < 200e-6
    exact = next(r for r in rows if r["estimator"] == "exact")
    assert exact["circuits"] is None and exact["update_s"] is None


def test_chi_square():
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert qpu.chi_square(np.array([[50, 50], [20, 80]]), p)["statistic"] == pytest.approx(0)
    assert qpu.chi_square(np.array([[90, 10], [20, 80]]), p)["p_value"] < 1e-6


def test_pubs_in_local_testing_mode_match_the_reference():
    angles = np.random.default_rng(5).uniform(-np.pi, np.pi, (1, 2, 13))  # n = 2, 2 steps
    (pub,) = pubs = qpu.update_pubs(angles, shots=2000)
    assert pub[1].shape == (1, 26) and pub[2] == 2000
    counts = qpu.run_local(pubs, seed=11)[0]
    assert counts.shape == (1, 2, 2) and (counts.sum(-1) == 2000).all()
    noise = device.device_noise(n_qubits=2).only("gates", "relaxation", "readout", "reset")
    expected = device.reference_probabilities(noise, angles[0])[None]
    assert qpu.chi_square(counts, expected)["p_value"] > 1e-3
    assert qpu.chi_square(counts, expected[..., ::-1])["p_value"] < 1e-6


def test_the_local_noise_model_is_the_backends_on_the_used_qubits():
    """Local testing mode runs on the fake backend cut to a PUB's qubits: each instruction's calibration on
    them (error, duration), their T1 and T2, renumbered in order; nothing of the other qubits."""
    target = device.fake_backend("FakeMarrakesh").target
    qubits = (3, 4, 16)
    cut = qpu._cut_target(target, qubits)
    assert cut.num_qubits == 3
    for name in ("sx", "x", "rz", "measure", "reset"):
        for i, q in enumerate(qubits):
            assert cut[name][(i,)].error == target[name][(q,)].error
            assert cut[name][(i,)].duration == target[name][(q,)].duration
    pair = next(p for p in target["cz"] if set(p) <= set(qubits))
    assert cut["cz"][tuple(qubits.index(q) for q in pair)].error == target["cz"][pair].error
    assert [p.t1 for p in cut.qubit_properties] == [target.qubit_properties[q].t1 for q in qubits]
    assert all(set(q) <= {0, 1, 2} for name in cut.operation_names for q in (cut[name] or {}) if q is not None)
