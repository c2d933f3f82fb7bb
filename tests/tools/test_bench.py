"""The benchmark's rows that the timing page shows, on sizes small enough for a test."""

from qrnn_tools.bench import scaling_rows


def test_scaling_rows_time_every_engine_aer_included():
    rows = scaling_rows(ns=(2,), aer_max=2)
    assert {r["engine"] for r in rows} == {"kernel", "torch", "aer"}
    for r in rows:
        assert r["seconds_per_circuit"] > 0 and r["seconds_per_fdsa_update"] > 0, r
        assert r["fdsa_circuits"] == 1 + 4 * (7 * 2 - 1)
