"""The scorecard's rules on constructed arms: verdicts follow the data, and mismatched arms are refused."""

import numpy as np
import pytest

from qrnn_study.results import ArmResults
from qrnn_study.scorecard import accuracy_rows, learning_rate_rows, scorecard, speed_rows

CONFIG = {"data": {"source": "original"}, "epochs": 4, "train_sequences": None, "batch_size": 1, "warmup": 5,
          "val_steps": None, "val_shots": 1024, "n_qubits": 8}


def arm(name, curves, seconds, config=CONFIG, train=None):
    """``curves (S, E)``: the mean validation RMSE per seed and epoch (y = mean - .02, z = mean + .02)."""
    curves = np.asarray(curves, dtype=float)
    S, E = curves.shape
    v = np.stack([curves - 0.02, curves + 0.02, curves], axis=-1)
    val = {p: {"exact": v, "shots": v} for p in ("sequence", "windows")}
    train = np.zeros((S, E, 3)) if train is None else np.broadcast_to(np.asarray(train, float)[:, None, None], (S, E, 3))
    return ArmResults(name, list(range(1929, 1929 + S)), np.full(S, E), val, train,
                      np.zeros((S, E + 1, 144)), np.full((S, E), seconds, dtype=float), config, 5, 1024, [{}] * S)


def rows_by_claim(rows):
    return {r["id"]: r for r in rows}


def test_verdicts_follow_constructed_curves():
    rng = np.random.default_rng(0)
    spsa = arm("spsa-original-shots", 0.11 + np.array([0.0, 0.01, 0.02, 0.03]) + rng.normal(0, 1e-3, (6, 4)), 10)
    fdsa = arm("fdsa-shots", 0.13 + np.array([0.02, 0.01, 0.0, 0.01]) + rng.normal(0, 1e-3, (6, 4)), 300)
    rows = rows_by_claim(accuracy_rows({"spsa-original-shots": spsa, "fdsa-shots": fdsa}, "sequence"))
    assert rows["rises-spsa-sequence"]["verdict"] == "reproduced"
    assert rows["rises-fdsa-sequence"]["verdict"] == "reproduced"
    assert rows["better-sequence"]["verdict"] == "reproduced"
    assert rows["better-sequence"]["claim"] == "SPSA found better parameters than FDSA (deck's protocol, one sequence)"
    assert rows["lowest-spsa-sequence"]["verdict"] == "reproduced"  # y = .11 - .02
    assert rows["lowest-fdsa-sequence"]["verdict"] == "reproduced"  # y = .13 - .02, as SPSA's
    speed = rows_by_claim(speed_rows({"spsa-original-shots": spsa, "fdsa-shots": fdsa}))
    assert speed["speed"]["claim"] == "SPSA is about 14.5x faster per epoch than FDSA on CPU"
    assert speed["speed"]["verdict"] == "not reproduced"  # 30x on every seed
    assert speed["speed-update"]["verdict"] == "not tested"  # no Aer timing


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


def sweep(final_train_by_lr, config={**CONFIG, "train_sequences": 230}):
    """``{lr: (S,) final train RMSE per seed}`` as a sweep of arms."""
    return {lr: arm(f"sweep-lr{lr:g}", np.full((len(t), 4), 0.1), 10, {**config, "lr": lr}, train=t)
            for lr, t in final_train_by_lr.items()}


def test_the_learning_rate_claim_is_judged_at_the_lowest_rate_both_ran():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1e-3, 5)
    fdsa = sweep({0.001: 0.30 + noise, 0.01: 0.20 + noise, 0.1: 0.25 + noise})
    close = sweep({0.001: 0.31 + noise, 0.01: 0.26 + noise})  # 3 % above FDSA at the lowest rate
    far = sweep({0.001: 0.40 + noise, 0.01: 0.26 + noise})  # 33 % above
    row = learning_rate_rows({"spsa": close, "fdsa": fdsa})[0]
    assert row["verdict"] == "reproduced" and "at lr 0.001" in row["rule"] and "lr 0.01: 1.30" in row["measured"]
    assert learning_rate_rows({"spsa": far, "fdsa": fdsa})[0]["verdict"] == "not reproduced"
    assert learning_rate_rows({"spsa": {}, "fdsa": fdsa})[0]["verdict"] == "not tested"
    one_seed = learning_rate_rows({"spsa": sweep({0.001: [0.3]}), "fdsa": sweep({0.001: [0.3]})})[0]
    assert one_seed["verdict"] == "not tested"


def test_the_card_holds_its_numbers_and_holm_adjusts_the_tested_claims():
    import math

    from qrnn_study.analysis import VERDICT_CODES, holm
    from qrnn_study.scorecard import NUMBERS, csv_table

    rng = np.random.default_rng(2)
    spsa = arm("spsa-original-shots", 0.11 + np.array([0.0, 0.01, 0.02, 0.03]) + rng.normal(0, 1e-3, (10, 4)), 10)
    fdsa = arm("fdsa-shots", 0.13 + np.array([0.02, 0.01, 0.0, 0.01]) + rng.normal(0, 1e-3, (10, 4)), 300)
    card = scorecard({"spsa-original-shots": spsa, "fdsa-shots": fdsa})
    tested = [r for r in card if r["test"]]
    assert len(tested) == 10  # five tested claims under each of the two protocols
    assert np.allclose([r["p_holm"] for r in tested], holm([r["p"] for r in tested]))
    assert all(r["p_holm"] >= r["p"] and "Holm-adjusted over 10 claims" in r["measured"] for r in tested)
    assert all(math.isnan(r["p_holm"]) for r in card if not r["test"])
    rising = rows_by_claim(card)["rises-spsa-sequence"]
    assert (rising["estimate"], rising["n"], rising["interval"]) == (1.0, 10, "Clopper-Pearson")
    assert rising["low"] < 1.0 and rising["verdict"] == "reproduced"  # p = 2/1024, x 10 still < 0.05
    table, header = csv_table(card)
    assert header == ["id", "claim", "interval", "level", *NUMBERS, "verdict_code"]
    for row in table:
        assert all(isinstance(v, (int, float)) for v in row[3:])
    assert {r[-1] for r in table} <= set(VERDICT_CODES.values())


def test_a_claim_significant_alone_can_fail_after_holm():
    from qrnn_study.scorecard import BINOMIAL_TEST, PAIRED_TEST, _row, adjust
    from qrnn_study.analysis import Estimate, Verdict
    from qrnn_study.model import claim

    def tested(p, test=PAIRED_TEST):
        est = Estimate(-0.01, -0.02, -0.001, 5, "paired t") if test == PAIRED_TEST else Estimate(0.9, 0.6, 1.0, 10, "Clopper-Pearson")
        return _row(claim("better-sequence"), "-", "m", Verdict("reproduced", "r"), "b", est, p, test)

    rows = adjust([tested(0.03), tested(0.04), tested(0.001, BINOMIAL_TEST), _row(claim("speed-gpu"), "-", "-", Verdict("not tested", "r"), "")])
    assert [r["p_holm"] for r in rows[:3]] == pytest.approx([0.06, 0.06, 0.003])
    assert [r["verdict"] for r in rows] == ["inconclusive", "inconclusive", "reproduced", "not tested"]


def test_the_speed_claims_are_judged_like_with_like():
    """Per epoch (the deck's 14.5x) on the study's training epochs, paired by seed; per update (the deck's
    39.58 s / 1.2 s = 33x) on the timing page's Aer rows, shots first, else exact."""
    from qrnn_study.scorecard import aer_update_ratio, speed_rows

    timing = [{"group": "update", "name": "spsa | Aer exact", "seconds": 1.6},
              {"group": "update", "name": "fdsa | Aer exact", "seconds": 69.8},
              {"group": "update", "name": "spsa | Aer 1,024 shots", "seconds": 7.2},
              {"group": "simulator", "name": "Aer exact (density matrix), batch 4", "seconds": 0.3}]
    assert aer_update_ratio(timing) == (69.8 / 1.6, "Aer exact")  # no FDSA timing with shots: exact on both
    timing.append({"group": "update", "name": "fdsa | Aer 1,024 shots", "seconds": 7.2 * 80})
    assert aer_update_ratio(timing) == pytest.approx((80.0, "Aer 1,024 shots"))
    assert aer_update_ratio(None) is None and aer_update_ratio(timing[:1]) is None
    rng = np.random.default_rng(3)
    spsa = arm("spsa-original-shots", 0.11 + rng.normal(0, 1e-3, (5, 4)), 10)
    fdsa = arm("fdsa-shots", 0.13 + rng.normal(0, 1e-3, (5, 4)), 300)  # 30x per epoch
    arms = {"spsa-original-shots": spsa, "fdsa-shots": fdsa}
    epoch, update, *gpu = speed_rows(arms, timing)
    assert epoch["id"] == "speed" and epoch["n"] == 5 and epoch["estimate"] == pytest.approx(30.0)
    assert epoch["measured"].startswith("FDSA / SPSA = 30.0") and "per training epoch" in epoch["measured"]
    assert epoch["verdict"] == "not reproduced" and "bigger than claimed" in epoch["measured"]  # 30 > 2 x 14.5
    assert update["id"] == "speed-update" and update["estimate"] == pytest.approx(80.0) and update["n"] == 1
    assert update["measured"] == ("FDSA / SPSA = 80.0 per update on Aer 1,024 shots; larger than the deck's: SPSA's "
                                  "advantage is bigger than claimed")
    assert update["verdict"] == "not reproduced"  # 80 lies outside a factor 2 of the deck's 33x
    _, inside, *_ = speed_rows(arms, [dict(r, seconds=r["seconds"] / 2) if r["name"].startswith("fdsa") else r
                                      for r in timing])
    assert inside["verdict"] == "reproduced" and inside["estimate"] == pytest.approx(40.0)
    _, untimed, *_ = speed_rows(arms)
    assert untimed["verdict"] == "not tested" and "Aer timing" in untimed["rule"]
    assert [r["verdict"] for r in speed_rows({}, None)] == ["not tested", "not tested"]  # GPU claims join later
    no_epochs, aer_only, *rest = speed_rows({}, timing)
    assert no_epochs["verdict"] == "not tested" and aer_only["verdict"] == "not reproduced"
    assert all("no device yet" in r["rule"] for r in rest)
