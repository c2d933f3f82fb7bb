"""Verdict rules and statistics on constructed data with known answers."""

import math

import numpy as np
import pytest

from qrnn_study.analysis import (Estimate, best_epoch, comparable, mean_ci, paired, rounding_band,
                                subspace_rank, verdict_band, verdict_less)


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


def test_a_comparison_needs_its_paired_test_too():
    """Three seeds: the bootstrap interval can exclude 0 while the t-test does not give p < 0.05."""
    c = paired([0.10, 0.12, 0.10], [0.11, 0.125, 0.115])
    assert c.difference.high < 0 and c.p > 0.05
    assert verdict_less(c.difference, "a < b").outcome == "reproduced"
    v = verdict_less(c.difference, "a < b", p=c.p)
    assert v.outcome == "inconclusive" and "p < 0.05 (paired t-test)" in v.rule
    strong = paired([0.10, 0.11, 0.12, 0.10, 0.11], [0.13, 0.14, 0.15, 0.13, 0.141])
    assert verdict_less(strong.difference, "a < b", p=strong.p).outcome == "reproduced"


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


def test_two_seeds_are_shown_as_their_range_and_not_tested():
    two = mean_ci([0.10, 0.12])
    assert (two.low, two.high) == (0.10, 0.12)  # the percentile bootstrap over two values: their range
    assert two.format() == "0.1100 (2 seeds, range 0.1000 to 0.1200, no interval)"
    assert "p =" not in str(paired([0.10, 0.12], [0.11, 0.15]))
    assert "p =" in str(paired([0.10, 0.12, 0.13], [0.11, 0.15, 0.17]))
