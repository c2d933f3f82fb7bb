"""The sweep page's analysis on every shape the profiles give it: several rates or one, several seeds
or one, unfinished seeds, a method with no rate yet, no results at all, no baseline."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.pages import sweep as page

from .fakes import fake_arm


def sweeps(spsa=None, fdsa=None, exact=None):
    """``{method: {lr: arm}}`` from ``{lr: (train, val)}`` per method (per-seed arrays or scalars)."""
    out = {}
    for m, points in (("spsa", spsa), ("fdsa", fdsa), ("exact", exact)):
        out[m] = {lr: fake_arm(f"sweep-{m}-lr{lr:g}", train=t, val=v, method=m, lr=lr,
                               shots=0 if m == "exact" else 1024, seeds=np.size(t))
                  for lr, (t, v) in (points or {}).items()}
    return out


NOISE = np.array([0.0, 0.001, -0.001])
FULL = sweeps(spsa={0.001: (0.30 + NOISE, 0.15), 0.007: (0.20 + NOISE, 0.12)},
              fdsa={0.001: (0.31 + NOISE, 0.15), 0.007: (0.25 + NOISE, 0.12)},
              exact={0.001: (0.28 + NOISE, 0.14), 0.007: (0.10 + NOISE, 0.11)})


def test_the_table_has_a_row_per_rate_and_a_csv_row_per_method_and_rate():
    table = page.sweep_table(FULL)
    assert [r[:2] for r in table.rows] == [["spsa", 0.001], ["fdsa", 0.001], ["exact", 0.001],
                                           ["spsa", 0.007], ["fdsa", 0.007], ["exact", 0.007]]
    lines = table.markdown.splitlines()
    assert lines[0] == ("| learning rate | SPSA corrected, 1,024 shots | FDSA, 1,024 shots | oracle (exact gradient) "
                        "| SPSA / FDSA, paired |")
    assert lines[2].startswith("| 0.001 | 0.3000 [") and lines[2].endswith("|")
    assert table.rows[0][2] == pytest.approx(0.30) and table.rows[0][5] == 3


def test_one_seed_is_shown_without_an_interval_and_its_ratio_says_so():
    one = sweeps(spsa={0.001: (0.3, 0.1)}, fdsa={0.001: (0.3, 0.1)})
    table = page.sweep_table(one)
    assert "1.00 (1 seed)" in table.markdown and table.rows[0][5] == 1
    claim = page.claim(one, "shots", None)
    assert claim.verdict == "not tested"
    assert "At no swept rate does the whole interval" in claim.markdown


def test_unfinished_seeds_are_left_out_and_a_rate_none_finished_is_a_dash():
    s = sweeps(spsa={0.001: (0.3 + NOISE, 0.1)}, fdsa={0.001: (0.3 + NOISE, 0.1)})
    s["fdsa"][0.001] = fake_arm("sweep-fdsa-lr0.001", train=0.3 + NOISE, method="fdsa", lr=0.001, done=[3, 1, 0])
    s["fdsa"][0.007] = fake_arm("sweep-fdsa-lr0.007", train=0.3, method="fdsa", lr=0.007, done=[0, 0, 0])
    table = page.sweep_table(s)
    fdsa = [r for r in table.rows if r[0] == "fdsa"]
    assert len(fdsa) == 1 and fdsa[0][:3] == ["fdsa", 0.001, pytest.approx(0.3)] and fdsa[0][5] == 1  # one seed
    assert np.isnan(fdsa[0][3:5]).all()  # one seed has no interval
    assert "| 0.007 | - | - | - | - |" in table.markdown
    assert "Finished seeds per rate:** SPSA corrected, 1,024 shots 0.001: 3; FDSA, 1,024 shots 0.001: 1, 0.007: 0; " \
           "oracle (exact gradient) none yet." in page.budget_text(s, "results/x")


def test_nothing_run_yet_says_so_and_draws_a_placeholder():
    empty = sweeps()
    assert page.budget_text(empty, "results/x").startswith("**No sweep run has finished an epoch yet** in `results/x`")
    assert page.sweep_table(empty).rows == []
    fig = page.figure(empty, "shots", 0.2)
    plt.close(fig)
    claim = page.claim(empty, "shots", 0.2)
    assert claim.verdict == "not tested" and "has no finished seed yet" in claim.markdown


def test_the_claim_places_each_method_against_the_mean_predictor():
    claim = page.claim(FULL, "shots", 0.13)
    assert "scores 0.1300" in claim.markdown and "corrected SPSA 0.1200 to 0.1500 across rates (means)" in claim.markdown
    # the validation is constant per seed: a zero-width interval lies wholly on one side of the line
    assert "corrected SPSA does not at rate 0.001" in claim.markdown
    assert "the oracle does not at rate 0.001" in claim.markdown and "The oracle, with the exact gradient" in claim.markdown
    assert "its best rate (0.007)" in claim.markdown and "the sweep does not bracket an optimum" in claim.markdown
    assert "mean predictor" not in page.claim(FULL, "shots", None).markdown


def test_a_method_without_any_rate_is_left_out_of_the_placement():
    s = sweeps(spsa={0.001: (0.3 + NOISE, 0.1)}, fdsa={0.001: (0.3 + NOISE, 0.1)})
    text = page.against_mean_predictor(s, "shots", 0.2)
    assert "corrected SPSA" in text and "FDSA" in text and "the oracle" not in text
    assert page.oracle_budget_note(s) == ""


def test_the_figure_draws_the_mean_predictor_on_the_validation_panel():
    fig = page.figure(FULL, "shots", 0.13)
    assert [line.get_label() for line in fig.axes[1].get_lines()].count("training-mean predictor") == 1
    plt.close(fig)
