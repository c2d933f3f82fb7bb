"""Verdict rules and statistics on constructed data with known answers."""

import math

import numpy as np
import pytest

from qrnn_study.analysis import (Estimate, best_epoch, comparable, holm, mean_ci, paired, proportion, rounding_band,
                                subspace_rank, verdict_band, verdict_less, verdict_proportion)


def test_mean_ci_covers_the_mean_and_shrinks_with_seeds():
    rng = np.random.default_rng(1)
    few, many = rng.normal(0.1, 0.01, 5), rng.normal(0.1, 0.01, 200)
    a, b = mean_ci(few), mean_ci(many)
    assert a.low < a.mean < a.high and b.low < 0.1 < b.high
    assert (b.high - b.low) < (a.high - a.low)
    assert math.isnan(mean_ci([0.3]).low) and mean_ci([0.3]).n == 1
    assert mean_ci([0.1, np.nan, 0.3]).n == 2


def test_paired_difference_sign_test_and_effect_size():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    c = paired(a, a - 0.5 + np.array([0.01, -0.01, 0.02, -0.02, 0.0]))
    assert c.difference.mean == pytest.approx(0.5) and c.p < 1e-4 and c.d_z > 10
    same = paired(a, a)  # identical arms: no evidence of a difference
    assert (same.p, same.d_z) == (1.0, 0.0)
    constant = paired(a, a - 0.5)  # the same difference on every seed: as strong as it gets
    assert constant.p == 0.0 and constant.d_z == math.inf


@pytest.mark.parametrize(
    "est, outcome",
    [
        (Estimate(-0.02, -0.03, -0.01, 5), "reproduced"),
        (Estimate(0.02, 0.01, 0.03, 5), "not reproduced"),
        (Estimate(0.0, -0.01, 0.01, 5), "inconclusive"),
        (Estimate(-0.02, math.nan, math.nan, 1), "not tested"),
    ],
)
def test_verdict_less(est, outcome):
    assert verdict_less(est, "a < b").outcome == outcome


def test_a_verdict_needs_three_seeds():
    """Over two seeds a percentile bootstrap interval is just their range: no verdict either way."""
    two = paired([0.10, 0.12], [0.20, 0.22])
    assert two.difference.high < 0
    assert verdict_less(two.difference, "a < b", p=two.p).outcome == "not tested"
    v = verdict_band(Estimate(2.0, 2.0, 2.0, 2), 2, 4, "epochs")
    assert v.outcome == "not tested" and "needs at least 3 seeds, has 2" in v.rule


def test_the_paired_interval_is_the_paired_t_interval_and_agrees_with_its_test():
    """Hand-computed: differences -0.01, -0.005, -0.015: mean -0.01, sd 0.005, t_2 = 4.303."""
    c = paired([0.10, 0.12, 0.10], [0.11, 0.125, 0.115])
    half = 4.302652729911275 * 0.005 / math.sqrt(3)
    assert (c.difference.low, c.difference.high) == pytest.approx((-0.01 - half, -0.01 + half))
    assert c.difference.method == "paired t" and c.difference.high > 0 and c.p > 0.05  # interval and test agree
    assert "95 % paired t interval, n = 3" in c.format() and "p = 0.0742" in c.format()
    strong = paired([0.10, 0.11, 0.12, 0.10, 0.11], [0.13, 0.14, 0.15, 0.13, 0.141])
    assert strong.difference.high < 0 and strong.p < 0.05
    assert verdict_less(strong.difference, "a < b", p=strong.p).outcome == "reproduced"
    # an adjusted p (Holm, over a family of claims) can fail where the unadjusted interval excludes 0
    v = verdict_less(strong.difference, "a < b", p=0.2, test="paired t-test, Holm-adjusted")
    assert v.outcome == "inconclusive" and "p < 0.05 (paired t-test, Holm-adjusted)" in v.rule


def test_holm_on_a_hand_computed_family():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005, 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([math.nan, 0.01, 0.04])  # a claim without a test is not in the family
    assert math.isnan(out[0]) and out[1:] == pytest.approx([0.02, 0.04])
    assert holm([0.5, 0.6]).tolist() == [1.0, 1.0] and holm([]).tolist() == []
    assert holm([0.003]).tolist() == [0.003]


def test_a_proportion_of_seeds_has_a_clopper_pearson_interval_never_zero_width():
    share, p = proportion([True, True, True])
    assert share.mean == 1.0 and share.n == 3 and share.method == "Clopper-Pearson"
    assert (share.low, share.high) == pytest.approx((0.025 ** (1 / 3), 1.0))  # 0.292: three of three is not "all"
    assert p == pytest.approx(0.25)
    none, _ = proportion([False] * 5)
    assert (none.low, none.high) == pytest.approx((0.0, 1 - 0.025 ** (1 / 5)))
    ten, p10 = proportion(np.ones(10))
    assert p10 == pytest.approx(2 / 1024) and ten.low > 0.5
    assert verdict_proportion(ten, p10, "most seeds").outcome == "reproduced"
    assert verdict_proportion(share, p, "most seeds").outcome == "inconclusive"  # [0.29, 1] straddles 1/2
    assert verdict_proportion(none, 0.06, "most seeds").outcome == "inconclusive"  # 0 of 5: p = 0.0625
    zero, pz = proportion(np.zeros(10))
    assert verdict_proportion(zero, pz, "most seeds").outcome == "not reproduced"
    assert proportion([True, np.nan, False])[0].n == 2  # a seed without an outcome is left out


@pytest.mark.parametrize(
    "est, outcome",
    [
        (Estimate(0.09, 0.087, 0.093, 10), "reproduced"),
        (Estimate(0.12, 0.11, 0.13, 10), "not reproduced"),
        (Estimate(0.094, 0.090, 0.098, 10), "inconclusive"),
    ],
)
def test_verdict_band_against_a_rounded_deck_figure(est, outcome):
    lo, hi = rounding_band(0.09, 2)
    assert (lo, hi) == pytest.approx((0.085, 0.095))
    assert verdict_band(est, lo, hi, "the deck's .09").outcome == outcome


def test_runs_that_differ_in_data_or_updates_are_not_comparable():
    base = {"data": {"source": "original"}, "epochs": 10, "train_sequences": None, "batch_size": 1,
            "warmup": 5, "val_steps": None, "val_shots": 1024, "n_qubits": 8, "lr": 0.007}
    assert comparable(base, {**base, "lr": 0.001}) == []
    assert comparable(base, {**base, "train_sequences": 150, "epochs": 4}) == ["epochs", "train_sequences"]


def test_best_epoch_and_the_rank_of_the_quirk():
    curves = np.array([[0.3, 0.2, 0.25], [0.1, 0.2, 0.3], [np.nan, np.nan, np.nan]])
    assert best_epoch(curves)[:2].tolist() == [2, 1] and math.isnan(best_epoch(curves)[2])
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=50)
    span = rng.normal(size=(2, 50))
    fixed = np.array([theta0] + [theta0 + rng.normal(size=2) @ span for _ in range(8)])
    fresh = np.array([theta0] + [theta0 + rng.normal(size=50) for _ in range(8)])
    assert subspace_rank(fixed).max() == 2
    assert subspace_rank(fresh).tolist() == list(range(1, 9))


def test_two_seeds_have_their_wide_t_interval_and_are_not_tested():
    two = mean_ci([0.10, 0.12])
    assert (two.low, two.high) == pytest.approx((0.11 - 12.706 * 0.01, 0.11 + 12.706 * 0.01), abs=1e-4)  # 1 dof
    assert two.format() == "0.1100 [-0.0171, 0.2371]" and two.quiet  # the page names the t interval once
    assert "p =" not in str(paired([0.10, 0.12], [0.11, 0.15]))
    assert "p =" in str(paired([0.10, 0.12, 0.13], [0.11, 0.15, 0.17]))


def test_equivalence_is_two_one_sided_t_tests_with_the_90_percent_interval():
    from scipy import stats

    from qrnn_study.analysis import TOST_METHOD, equivalence, verdict_equivalent

    a = np.array([0.130, 0.128, 0.135, 0.131, 0.129])
    b = np.array([0.131, 0.130, 0.133, 0.132, 0.131])
    est, p = equivalence(a, b, margin=0.013)
    d = a - b
    se = d.std(ddof=1) / np.sqrt(5)
    assert est.method == TOST_METHOD and est.level == pytest.approx(0.90)
    assert est.high - est.mean == pytest.approx(stats.t.ppf(0.95, 4) * se)
    # by hand: the larger of the two one-sided p-values
    assert p == pytest.approx(max(stats.t.sf((d.mean() + 0.013) / se, 4), stats.t.cdf((d.mean() - 0.013) / se, 4)))
    assert verdict_equivalent(est, 0.013, "c", p=p).outcome == "reproduced"
    assert verdict_equivalent(est, 0.013, "c", p=0.2).outcome == "inconclusive"  # e.g. after Holm
    far, p_far = equivalence(a + 0.05, b, margin=0.013)
    assert verdict_equivalent(far, 0.013, "c", p=p_far).outcome == "not reproduced" and p_far > 0.5
    wide, p_wide = equivalence(np.array([0.10, 0.16, 0.12]), np.array([0.13, 0.13, 0.13]), margin=0.013)
    assert verdict_equivalent(wide, 0.013, "c", p=p_wide).outcome == "inconclusive"
    two, _ = equivalence(a[:2], b[:2], margin=0.013)
    assert verdict_equivalent(two, 0.013, "c").outcome == "not tested"


def test_a_value_that_rounds_to_zero_loses_its_sign():
    from qrnn_study.analysis import fixed

    assert fixed(-0.0002, 3) == "0.000" and fixed(-0.002, 3) == "-0.002" and fixed(0.0004, 3) == "0.000"
    assert Estimate(-0.0002, -0.008, 0.007, 5).format(3).startswith("0.000 [-0.008, 0.007]")
