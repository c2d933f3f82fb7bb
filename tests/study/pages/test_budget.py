"""The equal-budget page's analysis on every shape the profiles give it: every arm or some, one seed or
several, seeds unfinished or not shared by every arm, runs not yet started, no baseline."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.pages import budget as page

from .fakes import fake_arm

NOISE = np.array([0.0, 0.001, -0.001])


def full(*labels):
    arms = {"SPSA as originally run": ("spsa-original-shots", 5), "SPSA corrected": ("spsa-shots", 5),
            "FDSA": ("fdsa-shots", 221)}
    return {label: fake_arm(arms[label][0], circuits=arms[label][1], updates=10) for label in labels}


def test_the_cost_table_counts_circuits_and_seeds_of_those_planned():
    arms = full("SPSA corrected", "FDSA")
    arms["FDSA"] = fake_arm("fdsa-shots", circuits=221, updates=10, done=[3, 1, 0])
    text = page.cost_table(arms, {"spsa-shots": 10, "fdsa-shots": 5})
    assert "| SPSA corrected | 5 | 5,120 | 50 | 150 | 3 of 10 |" in text
    assert "| FDSA | 221 | 226,304 | 2,210 | 6,630 | 1 of 5 (2 under way) |" in text
    ratio, sentence = page.epochs_ratio(arms)
    assert ratio == pytest.approx(44.2) and "as many circuits as 44 SPSA epochs" in sentence
    assert page.epochs_ratio(full("SPSA corrected")) is None  # FDSA not run yet
    assert page.cost_table({}, {}) == ""
    assert "3 of 3" in page.cost_table(full("SPSA corrected"), {})  # planned unknown: of those started


def test_nothing_run_draws_a_placeholder():
    fig = page.figure({})
    plt.close(fig)


def expected(spsa=None, fdsa=None, oracle=None):
    return {"SPSA with 110 directions (budget-spsa110)": spsa, "FDSA at learning rate 0.001 (the sweep's)": fdsa,
            "the oracle at learning rate 0.001 (the sweep's)": oracle}


def test_equal_budget_rows_are_paired_over_the_seeds_every_arm_finished():
    spsa = fake_arm("budget-spsa110", train=0.2 + NOISE, val=0.3, spsa_directions=110, circuits=221)
    fdsa = fake_arm("sweep-fdsa-lr0.001", train=0.25 + NOISE, val=0.3, method="fdsa", circuits=221, done=[3, 3, 1])
    out = page.equal_budget(expected(spsa, fdsa, None), 0.2)
    assert out.seeds == [1929, 1930] and [r[0] for r in out.rows] == [
        "SPSA, 110 directions (221 circuits an update)", "FDSA (221 circuits an update)"]
    assert out.rows[0][7] == 2 and out.rows[0][1] == pytest.approx(0.2005)
    assert "Some arms have finished more seeds (110-direction SPSA 3)" in out.markdown
    assert "**Not finished yet** (no seed done): the oracle at learning rate 0.001" in out.markdown
    assert "every row's mean lowest validation RMSE lies above the 0.2000" in out.markdown


def test_no_seed_common_to_every_arm_makes_unpaired_rows():
    spsa = fake_arm("budget-spsa110", spsa_directions=110, done=[3, 0, 0])
    fdsa = fake_arm("sweep-fdsa-lr0.001", method="fdsa", done=[0, 3, 3])
    out = page.equal_budget(expected(spsa, fdsa, None), None)
    assert out.seeds == [] and "No seed is finished by every arm yet" in out.markdown
    assert [r[7] for r in out.rows] == [1, 2] and "predict" not in out.markdown.split("Means")[1].split("\n\n")[0]


def test_another_learning_rate_is_left_out_and_the_oracle_explained():
    spsa = fake_arm("budget-spsa110", spsa_directions=110)
    oracle = fake_arm("sweep-oracle-lr0.001", method="exact", shots=0)
    fdsa = fake_arm("sweep-fdsa-lr0.007", method="fdsa", lr=0.007)
    out = page.equal_budget(expected(spsa, fdsa, oracle), None)
    assert "Left out, as their protocol or learning rate differs: sweep-fdsa-lr0.007" in out.markdown
    assert "The oracle's cost is not a circuit count" in out.markdown
    assert "with 1,024 shots, the oracle's too" in out.markdown


def test_nothing_finished_says_so():
    out = page.equal_budget(expected(None, fake_arm(done=[0, 0, 0]), None), 0.2)
    assert out.rows == [] and out.markdown.startswith("**The equal-budget runs have not finished a seed yet**")
