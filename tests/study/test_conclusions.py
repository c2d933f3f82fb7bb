"""Where the arms stand, on constructed arms and baselines with known answers."""

import numpy as np
import pytest

from qrnn_study.conclusions import (_against, baseline_standing, beaten_by, bottom_line, by_side, common_mode, describe,
                                   first_to_last, last, lowest, oracle_gaps, placed, side)
from qrnn_study.analysis import Estimate, mean_ci, paired

from .test_scorecard import CONFIG
from .test_scorecard import arm as _arm


def arm(name, curves):
    """An arm whose every seed has finished the epochs of ``curves (S, E)``; trained with 1,024 shots when
    its name says so, as the study's arms are."""
    shots = 1024 if name.endswith("-shots") else None
    return _arm(name, curves, 1, {**CONFIG, "epochs": np.shape(curves)[1], "shots": shots})


def baselines(mean=0.2, linear=0.1, ngrc=0.02, esn=0.01, frozen=None):
    """A ``baselines.json`` whose RMSEs are the same under both protocols; ``frozen``: ``{seed: RMSE}``."""
    out = {name: {p: {"exact": {"rmse_mean": v}} for p in ("sequence", "windows")}
           for name, v in (("mean", mean), ("linear", linear), ("ngrc", ngrc), ("esn", esn))}
    if frozen:
        out["qesn"] = {"per_seed": [{"seed": s, **{p: {"exact": {"rmse_mean": v}, "shots": {"rmse_mean": v}}
                                                  for p in ("sequence", "windows")}} for s, v in frozen.items()]}
    return out


def test_lowest_takes_each_finished_seeds_minimum_with_the_arms_own_probabilities():
    r = arm("spsa-shots", [[0.3, 0.1, 0.2], [0.5, 0.4, 0.6]])
    r.val["windows"]["exact"] = r.val["windows"]["exact"] + 1.0  # exact must not be read for a shot arm
    r.epochs_done[1] = 2  # unfinished: left out
    assert r.mode == "shots" and arm("oracle-lr007", [[0.1]]).mode == "exact"
    assert lowest(r, "windows") == {1929: pytest.approx(0.1)}
    assert lowest(r, "windows", "exact") == {1929: pytest.approx(1.1)}
    assert last(r, "windows") == {1929: pytest.approx(0.2)}


def test_an_estimator_at_twice_the_oracles_rmse_is_twice_it_and_higher():
    rng = np.random.default_rng(1)
    o = 0.05 + rng.normal(0, 1e-3, (5, 3))
    arms = {"oracle-lr007": arm("oracle-lr007", o), "spsa-shots": arm("spsa-shots", 2 * o),
            "fdsa-shots": arm("fdsa-shots", o)}  # its oracle (lr 0.001) is missing: no row
    (row,) = oracle_gaps(arms, "sequence")
    assert row["arm"] == "spsa-shots" and row["ratio"].mean == pytest.approx(2.0)
    assert describe(row["difference"]) == "higher"


def test_a_shot_arm_meets_the_oracle_scored_with_shots_too():
    """Validation shot noise is not counted against the estimator: like is compared with like."""
    o = np.full((3, 2), 0.05) + np.array([[0.0], [1e-3], [2e-3]])
    oracle = arm("oracle-lr007", o)
    oracle.val["sequence"]["shots"] = oracle.val["sequence"]["shots"] + 0.01  # shot noise adds 0.01
    arms = {"oracle-lr007": oracle, "spsa-shots": arm("spsa-shots", o + 0.01), "spsa-exact": arm("spsa-exact", o)}
    rows = {r["arm"]: r for r in oracle_gaps(arms, "sequence")}
    assert rows["spsa-shots"]["mode"] == "shots" and rows["spsa-exact"]["mode"] == "exact"
    for r in rows.values():
        assert r["ratio"].mean == pytest.approx(1.0) and r["difference"].difference.mean == pytest.approx(0.0)


def test_ratios_to_baselines_and_the_frozen_circuit_paired_by_seed():
    a = arm("spsa-shots", [[0.05, 0.06], [0.05, 0.07], [0.05, 0.05]])
    b = baselines(frozen={1929: 0.10, 1930: 0.11, 1931: 0.09, 1999: 0.0})  # 1999: no such seed in the arm
    (row,) = baseline_standing({"spsa-shots": a}, b, "windows")
    assert row["rmse"].mean == pytest.approx(0.05)
    assert row["ratio"]["linear"].mean == pytest.approx(0.5) and side(row["ratio"]["linear"]) == "below"
    assert row["ratio"]["esn"].mean == pytest.approx(5.0)
    assert beaten_by(row) == ["ngrc", "esn"]
    assert row["frozen"].difference.n == 3 and row["frozen"].difference.mean == pytest.approx(-0.05)


def test_side_and_describe_need_an_interval_and_a_test():
    assert side(Estimate(0.5, 0.4, 0.6, 3)) == "below" and side(Estimate(2, 1.5, 2.5, 3)) == "above"
    assert side(Estimate(1, 0.9, 1.1, 3)) == "either side" and side(Estimate(0.5, np.nan, np.nan, 1)) == "1 seed"
    assert side(Estimate(0.5, 0.4, 0.6, 2)) == "2 seeds"  # fewer than a verdict needs
    # the paired t interval agrees with its test: far from significant, it holds 0: no clear difference
    c = paired([0.10, 0.20, 0.12], [0.09, 0.10, 0.115])
    assert c.difference.low < 0 < c.difference.high and c.p > 0.05 and describe(c) == "no clear difference"
    assert describe(paired([0.1], [0.2])) == "not enough seeds"


def test_arms_are_grouped_by_where_their_whole_interval_lies_and_said_once():
    est = {"a": Estimate(2, 1.5, 2.5, 3), "b": Estimate(0.5, 0.4, 0.6, 3), "c": Estimate(1, 0.9, 1.1, 3),
           "d": Estimate(0.5, np.nan, np.nan, 1), "e": Estimate(0.6, 0.5, 0.7, 4)}
    groups = by_side(est, 1.0)
    assert groups == {"below": ["b", "e"], "either side": ["c"], "above": ["a"], "1 seed": ["d"]}
    assert list(groups) == ["below", "either side", "above", "1 seed"]  # the order they are said in
    assert placed("1 seed") == "at 1 seed only, too few to say"
    labels = {k: k.upper() for k in est}
    assert _against(est, 1.0, labels) == ("B and E lie wholly below it; C has it inside its interval; A lies wholly "
                                          "above it; D is at 1 seed only, too few to say")
    assert _against({"a": est["a"], "c": Estimate(3, 2, 4, 5)}, 1.0, labels) == "every one of them lies wholly above it"


def test_the_bottom_line_states_the_computed_numbers_and_what_is_missing():
    rng = np.random.default_rng(2)
    arms = {"spsa-original-shots": arm("spsa-original-shots", 0.12 + rng.normal(0, 1e-3, (3, 2))),
            "oracle-lr007": arm("oracle-lr007", 0.16 + rng.normal(0, 1e-3, (3, 2)))}
    windows = arms["oracle-lr007"].val["windows"]
    windows["exact"], windows["shots"] = windows["exact"] * 0 + 0.04, windows["shots"] * 0 + 0.05
    labels = {"spsa-original-shots": "SPSA as originally run", "oracle-lr007": "oracle (lr 0.007)"}
    assert bottom_line(arms, {}, labels) is None
    text = bottom_line(arms, baselines(mean=0.178, linear=0.137, esn=0.003), labels)
    spsa, oracle = (mean_ci(list(lowest(arms[a], "sequence").values())) for a in ("spsa-original-shots", "oracle-lr007"))
    assert "every arm scored with 1,024-shot validation, the oracle too" in text
    assert (f"the lowest validation RMSE over the epochs runs from {spsa.format(3)} for SPSA as originally run to "
            f"{oracle.format(3)} for oracle (lr 0.007)") in text
    # each arm placed against the baseline by its whole interval
    assert "scores 0.137: SPSA as originally run lies wholly below it; oracle (lr 0.007) lies wholly above it." in text
    assert f"{spsa.mean / 0.003:.1f} to {oracle.mean / 0.003:.1f} times lower than the arms" in text
    assert text.startswith("The arms here: SPSA as originally run and oracle (lr 0.007).")
    ends = {a: mean_ci(list(last(arms[a], "sequence").values())) for a in arms}
    assert f"the arms run from {ends['spsa-original-shots'].format(3)}" in text and "training mean scores 0.178" in text
    assert "do not carry" not in text  # no arm ends wholly above the training mean
    # the oracle is scored as the shot arm is: 0.05 with shots, not 0.04 exact
    assert "from 0.050 [0.050, 0.050] for oracle (lr 0.007)" in text
    assert "FDSA has 0 finished seeds of the 3 a verdict needs" in text
    # an echo-state network no better than an arm is placed like any baseline, never "0 times lower"
    text = bottom_line(arms, baselines(mean=0.178, linear=0.137, esn=0.14), labels)
    assert ("echo-state network scores 0.1400: SPSA as originally run lies wholly below it; oracle (lr 0.007) "
            "lies wholly above it.") in text and "times lower" not in text


def test_first_to_last_pairs_each_finished_seeds_first_and_last_epoch():
    curves = np.array([[0.20, 0.15, 0.10], [0.22, 0.16, 0.12], [0.21, 0.18, 0.14], [0.30, 0.30, 0.30]])
    res = arm("oracle-lr007", curves)
    res.epochs_done[3] = 2  # not finished: left out
    first, final, change = first_to_last(res, "windows")
    assert (first.n, final.n) == (3, 3)
    assert np.isclose(first.mean, 0.21) and np.isclose(final.mean, 0.12)
    assert np.isclose(change.difference.mean, -0.09) and describe(change) == "lower"


def test_oracle_gaps_at_the_last_epoch():
    # The estimator's lowest is its first epoch; at the last epoch it is 3 times the oracle's.
    arms = {"fdsa-exact": arm("fdsa-exact", np.array([[0.10, 0.30]] * 3) + np.arange(3)[:, None] * 1e-3),
            "oracle-lr001": arm("oracle-lr001", np.array([[0.12, 0.10]] * 3) + np.arange(3)[:, None] * 1e-3)}
    (lowest_row,), (last_row,) = oracle_gaps(arms, "windows"), oracle_gaps(arms, "windows", last)
    assert lowest_row["ratio"].mean == pytest.approx(np.mean([0.100 / 0.100, 0.101 / 0.101, 0.102 / 0.102]))
    assert last_row["ratio"].mean == pytest.approx(np.mean([0.300 / 0.100, 0.301 / 0.101, 0.302 / 0.102]))


def test_arms_are_compared_with_shots_when_any_trains_with_shots():
    shot, exact = arm("spsa-shots", np.full((3, 2), 0.1)), arm("oracle-lr007", np.full((3, 2), 0.1))
    assert common_mode([shot, exact]) == "shots" and common_mode([exact]) == "exact"
