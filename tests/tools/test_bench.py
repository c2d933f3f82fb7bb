"""The benchmark's rows that the timing page shows, on sizes small enough for a test."""

from qrnn_tools.bench import scaling_rows


def test_scaling_rows_time_every_engine_aer_included():
    rows = scaling_rows(ns=(2,), aer_max=2)
    assert {r["engine"] for r in rows} == {"kernel", "torch", "aer"}
    for r in rows:
        assert r["seconds_per_circuit"] > 0 and r["seconds_per_fdsa_update"] > 0, r
        assert r["fdsa_circuits"] == 1 + 4 * (7 * 2 - 1)


def test_noisy_rows_time_the_noisy_engine_beside_the_kernel():
    from qrnn_tools.bench import noisy_rows, noisy_targets, tables

    rows = noisy_rows(repeats=2, batches=(1, 3), n_qubits=4)
    assert [(r.name.split(" (")[0], r.name.split("), ", 1)[1], r.circuits) for r in rows] == [
        (engine, what, b) for what, b in (("batch 1", 1), ("batch 3", 3), ("exact gradient (adjoint), batch 1", 1))
        for engine in ("KernelSimulator", "NoisyKernelSimulator")]
    assert all(r.seconds > 0 for r in rows)
    assert [t[0] for t in noisy_targets(rows)] == ["noisy / noiseless, batch 1 ≤ 3", "noisy / noiseless, batch 3 ≤ 3",
                                                   "noisy / noiseless, exact gradient (adjoint), batch 1"]
    assert any(header[0].startswith("device noise") for header, _ in tables(rows))
