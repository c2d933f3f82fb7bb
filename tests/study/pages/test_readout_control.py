"""The readout control on constructed results: its rows pair the arm, its refitted circuit and the QESN by
seed; the table, the words and the figure draw every shape (several seeds, one seed, a protocol missing)."""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.conclusions import control_rows
from qrnn_study.model import ARM_LABELS, PROTOCOL_IDS
from qrnn_study.pages import readout_control as page

from .fakes import fake_arm, fake_baselines


def control(arm_values: dict) -> dict:
    """``readout_control``'s shape: per arm, per seed (1929, ...) its refitted circuit's RMSE under both
    protocols, exact and with shots alike."""
    return {a: [{"seed": 1929 + k, **{p: {m: {"rmse_mean": v} for m in ("exact", "shots")} for p in PROTOCOL_IDS}}
                for k, v in enumerate(values)] for a, values in arm_values.items()}


def setup(seeds=5):
    rng = np.random.default_rng(0)
    noise, other = rng.normal(0, 1e-3, seeds), rng.normal(0, 1e-4, seeds)
    arms = {"fdsa-shots": fake_arm("fdsa-shots", 0.08 + noise, seeds=seeds, method="fdsa"),
            "spsa-shots": fake_arm("spsa-shots", 0.09 + noise, seeds=seeds)}
    baselines = fake_baselines(seeds=tuple(range(1929, 1929 + seeds)))  # QESN 0.1 (+0.001 a seed), 1.1x with shots
    refit = control({"fdsa-shots": list(0.06 + noise + other), "spsa-shots": list(0.09 + noise + 1e-4 + other)})
    return arms, baselines, refit


def test_rows_pair_the_arm_its_refit_and_the_qesn_by_seed():
    arms, baselines, refit = setup()
    rows = {r["arm"]: r for r in control_rows(arms, refit, baselines, "windows", "shots")}
    f = rows["fdsa-shots"]
    assert f["refit"].n == f["frozen"].n == f["trained"].n == 5
    qesn = np.array([1.1 * (0.1 + 0.001 * k) for k in range(5)])
    assert f["frozen"].mean == pytest.approx(qesn.mean())
    assert f["circuit"].difference.mean == pytest.approx(f["refit"].mean - qesn.mean())
    assert f["readout"].difference.mean == pytest.approx(0.02, abs=2e-4)  # the arm 0.08, its ridge refit 0.06
    assert page.words({"windows": list(rows.values())}, ARM_LABELS).count("lower") >= 1
    # a seed the QESN lacks is left out of every column alike
    fewer = {r["arm"]: r for r in control_rows(arms, refit, fake_baselines(seeds=(1929, 1930, 1931)), "windows", "shots")}
    assert fewer["fdsa-shots"]["refit"].n == fewer["fdsa-shots"]["trained"].n == 3


@pytest.mark.parametrize("seeds", [1, 2, 5])
def test_table_words_and_figure_draw_every_number_of_rows(seeds, tmp_path):
    arms, baselines, refit = setup(seeds)
    rows = {p: control_rows(arms, refit, baselines, p, "shots") for p in PROTOCOL_IDS}
    table = page.table(rows, ARM_LABELS)
    assert table.count("\n") == 1 + 2 * len(PROTOCOL_IDS)
    assert "FDSA" in table and "SPSA corrected" in table
    words = page.words(rows, ARM_LABELS)
    assert ("not enough seeds" in words) == (seeds < 3)
    fig, csv = page.figure(rows, ARM_LABELS)
    assert len(csv) == 2 * 3 * len(PROTOCOL_IDS) and {c["model"] for c in csv} == set(page.MODELS)
    plt.close(fig)


def test_nothing_to_control_gives_no_words_and_an_empty_figure():
    assert page.words({}, ARM_LABELS) is None
    assert page.table({}, ARM_LABELS).count("\n") == 1
    fig, csv = page.figure({}, ARM_LABELS)
    assert csv == []
    plt.close(fig)


def test_the_finding_sums_the_control_up_and_says_when_training_left_the_circuit_as_it_was():
    arms, baselines, refit = setup()
    rows = {p: control_rows(arms, refit, baselines, p, "shots") for p in PROTOCOL_IDS}
    text = page.finding(rows, ARM_LABELS)
    assert text.startswith("**Trained circuit or readout?**") and text.count("lower beyond chance for 2 of 2 arms") == 2
    assert "measure readouts trained on windows" not in text  # the circuits did train here
    flat = {p: [dict(r, circuit=dataclasses.replace(r["circuit"], p=0.9,
                                                    difference=dataclasses.replace(r["circuit"].difference,
                                                                                   low=-0.01, high=0.01)))
                for r in rs] for p, rs in rows.items()}
    assert "measure readouts trained on windows" in page.finding(flat, ARM_LABELS)
    assert page.finding({}, ARM_LABELS) is None
