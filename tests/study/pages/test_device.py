"""The "On a device" page at the tiny profile's size: the noise table by engine and Aer, the QPU table and
figure, one update's PUBs run in local testing mode, the values the prose glues."""

import math

import matplotlib.pyplot as plt
import pytest

from qrnn_study.pages import device as page


@pytest.fixture(scope="module")
def sources():
    return page.noise_sources("FakeMarrakesh", 2, 3, 0)


def test_the_engine_and_aer_agree_on_what_each_noise_source_does(sources):
    assert [r["noise"] for r in sources.rows][-1] == "1024 shots, noiseless" and len(sources.rows) == 10
    assert sources.largest_difference < 1e-10
    assert all(r["engine"] >= 0 for r in sources.rows)
    table = page.noise_table(sources)
    assert table.count("\n") == 1 + len(sources.rows) and "| all |" in table


def test_qpu_time_per_estimator_and_device_with_the_exact_gradient_unable_to_run():
    rows = page.qpu_rows(("FakeMarrakesh", "FakeKingston"), 8)
    assert len(rows) == 10 and {r["backend"] for r in rows} == {"FakeMarrakesh", "FakeKingston"}
    exact = [r for r in rows if r["estimator"].startswith("exact")]
    assert all(r["circuits"] is None and r["epoch_h"] is None for r in exact)
    fdsa = next(r for r in rows if r["estimator"] == "FDSA" and r["backend"] == "FakeMarrakesh")
    # the formula of the page, by hand: C * S * (circuit + rep delay), 1,384 updates an epoch
    assert fdsa["update_s"] == pytest.approx(221 * 1024 * (fdsa["circuit_s"] + fdsa["rep_delay_s"]))
    assert fdsa["epoch_h"] == pytest.approx(fdsa["update_s"] * 1384 / 3600)
    table = page.qpu_table(rows)
    assert "cannot run on a device" in table and table.count("\n") == 1 + len(rows)
    slower = page.qpu_rows(("FakeMarrakesh",), 8, rep_delay=1e-3)
    assert next(r for r in slower if r["estimator"] == "FDSA")["update_s"] > fdsa["update_s"]
    fig = page.qpu_figure(rows)
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].patches) == 8  # 4 estimators x 2 devices
    plt.close(fig)


def test_one_update_runs_in_local_testing_mode_and_the_values_are_glued(sources, monkeypatch):
    # Local testing mode itself (Aer built from the 156-qubit backend, about 10 s) is tested in
    # tests/core/test_qpu.py and runs in the tiny study's page; here its counts are drawn from the engine's
    # distributions of the noise it simulates, which is what the page tests them against.
    import numpy as np

    from qrnn_core.device import device_noise
    from qrnn_core.noisy_kernel import engine_probabilities

    def run_local(pubs, *, backend, seed):
        (circuit, values, shots), = pubs
        rng = np.random.default_rng(seed)
        noise = device_noise(backend, 2).only(*page.LOCAL_MODE_NOISE)
        angles = np.random.default_rng(0).uniform(-np.pi, np.pi, (1, 2, 13))  # local_run's draw for seed 0
        p = np.stack([engine_probabilities(noise, a) for a in angles])
        return [np.array([[rng.multinomial(shots, row / row.sum()) for row in c] for c in p])]

    monkeypatch.setattr(page, "run_local", run_local)
    local = page.local_run("FakeMarrakesh", 2, 2, 0, circuits=1, shots=256)
    assert local.dof > 0 and 0 <= local.p_value <= 1 and 0 <= local.p_full <= 1
    assert local.p_value > 1e-3  # the counts come from the noise the local mode simulates
    rows = page.qpu_rows(("FakeMarrakesh",), 8)
    values = page.values(sources, rows, local)
    assert values["dev_qpu_backend"] == "FakeMarrakesh" and values["dev_ps_epoch"].endswith("days")
    assert values["dev_local_shots"] == "256" and values["dev_local_full_words"]
    assert "dev_local_p" not in page.values(sources, rows, None)
    record = page.record(sources, rows, local)
    assert record["local_run"]["circuits"] == 1 and math.isfinite(record["noise_sources"]["engine_seconds"])
    calib = page.calibration("FakeMarrakesh", 8)
    assert calib["dev_layout"].count(",") == 7 and float(calib["dev_measure_us"]) > 0

