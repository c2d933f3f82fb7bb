"""The scorecard's rules on constructed arms: verdicts follow the data, and mismatched arms are refused."""

import numpy as np

from qrnn_core.results import ArmResults
from qrnn_core.scorecard import accuracy_rows, scorecard, speed_rows

CONFIG = {"data": {"source": "original"}, "epochs": 4, "train_sequences": None, "batch_size": 1, "warmup": 5,
          "val_steps": None, "val_shots": 1024, "n_qubits": 8}


def arm(name, curves, seconds, config=CONFIG):
    """``curves (S, E)``: the mean validation RMSE per seed and epoch (y = mean - .02, z = mean + .02)."""
    curves = np.asarray(curves, dtype=float)
    S, E = curves.shape
    v = np.stack([curves - 0.02, curves + 0.02, curves], axis=-1)
    val = {p: {"exact": v, "shots": v} for p in ("sequence", "windows")}
    return ArmResults(name, list(range(1929, 1929 + S)), np.full(S, E), val, np.zeros((S, E, 3)),
                      np.zeros((S, E + 1, 144)), np.full((S, E), seconds, dtype=float), config, 5, 1024, [{}] * S)


def rows_by_claim(rows):
    return {r["claim"].split(" (")[0]: r for r in rows}


def test_verdicts_follow_constructed_curves():
    rng = np.random.default_rng(0)
    spsa = arm("spsa-original-shots", 0.11 + np.array([0.0, 0.01, 0.02, 0.03]) + rng.normal(0, 1e-3, (6, 4)), 10)
    fdsa = arm("fdsa-shots", 0.13 + np.array([0.02, 0.01, 0.0, 0.01]) + rng.normal(0, 1e-3, (6, 4)), 300)
    rows = rows_by_claim(accuracy_rows({"spsa-original-shots": spsa, "fdsa-shots": fdsa}, "sequence"))
    assert rows["Validation RMSE starts rising after 1 epoch with SPSA"]["verdict"] == "reproduced"
    assert rows["... and after about 3 epochs with FDSA"]["verdict"] == "reproduced"
    assert rows["SPSA found better parameters than FDSA"]["verdict"] == "reproduced"
    assert rows["Lowest RMSE observed with SPSA: .09"]["verdict"] == "reproduced"  # y = .11 - .02
    assert rows["Lowest RMSE observed with FDSA: .11"]["verdict"] == "not reproduced"  # .13
    speed = rows_by_claim(speed_rows({"spsa-original-shots": spsa, "fdsa-shots": fdsa}))
    assert speed["SPSA is about 14.5x faster per epoch than FDSA on CPU"]["verdict"] == "not reproduced"  # 30x


def test_arms_that_differ_in_updates_are_not_compared():
    spsa = arm("spsa-original-shots", np.full((3, 4), 0.1), 10, {**CONFIG, "train_sequences": 460})
    fdsa = arm("fdsa-shots", np.full((3, 4), 0.1), 300, {**CONFIG, "train_sequences": 150})
    rows = accuracy_rows({"spsa-original-shots": spsa, "fdsa-shots": fdsa}, "windows")
    assert len(rows) == 1 and rows[0]["verdict"] == "not tested" and "train_sequences" in rows[0]["rule"]


def test_one_seed_is_never_a_verdict():
    spsa = arm("spsa-original-shots", [[0.1, 0.2, 0.3, 0.4]], 10)
    fdsa = arm("fdsa-shots", [[0.3, 0.2, 0.1, 0.2]], 300)
    rows = scorecard({"spsa-original-shots": spsa, "fdsa-shots": fdsa})
    assert {r["verdict"] for r in rows} == {"not tested"}
