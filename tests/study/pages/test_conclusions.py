"""The conclusions page on every shape the profiles give it: no arm yet, one seed or several, unfinished
seeds, the baselines not run or run with one seed, a protocol's claim row missing from the scorecard."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.conclusions import baseline_standing, oracle_gaps
from qrnn_study.model import ARM_LABELS, PROTOCOL_IDS
from qrnn_study.pages import conclusions as page

from .fakes import fake_arm, fake_baselines

SEEDS_VAL = [0.10, 0.11, 0.12]


def arms(seeds=3, done=None):
    """The headline arms and their oracles: shot arms at twice the oracle's RMSE (FDSA at 1.5 times)."""
    val = SEEDS_VAL[:seeds]
    return {"spsa-original-shots": fake_arm("spsa-original-shots", [2 * v for v in val], seeds=seeds, done=done),
            "spsa-shots": fake_arm("spsa-shots", [2 * v for v in val], seeds=seeds),
            "fdsa-shots": fake_arm("fdsa-shots", [1.5 * v for v in val], seeds=seeds, method="fdsa"),
            "oracle-lr007": fake_arm("oracle-lr007", val, seeds=seeds, shots=None, method="exact"),
            "oracle-lr001": fake_arm("oracle-lr001", val, seeds=seeds, shots=None, method="exact")}


def analysis(a, b):
    gaps = {p: oracle_gaps(a, p) for p in PROTOCOL_IDS}
    standing = {p: baseline_standing(a, b, p) for p in PROTOCOL_IDS} if b else {}
    return gaps, standing


def row(id, verdict="inconclusive", claim="a claim", measured="m", rule="the rule", basis="b"):
    return {"id": id, "claim": claim, "verdict": verdict, "measured": measured, "rule": rule, "basis": basis}


def test_nothing_run_yet_says_so_everywhere():
    gaps, standing = analysis({}, {})
    assert page.answer({}, {}, [], ARM_LABELS) == "No arm has a finished seed yet."
    assert page.oracle_table(gaps, ARM_LABELS) == "No estimator arm has finished seeds beside its oracle yet."
    assert page.qesn_exact({}) == {"qesn_exact_sequence": "not run", "qesn_exact_windows": "not run"}
    assert page.qesn_note({}, {}) is None
    fig, plotted = page.standing_figure({}, {}, standing, ARM_LABELS)
    assert plotted == []
    plt.close(fig)


def test_the_answer_sets_the_estimators_against_the_oracle_and_the_baselines():
    a, b = arms(), fake_baselines()
    card = [row("better-sequence", measured="SPSA - FDSA = 0.01"), row("speed")]  # no windows row: left out
    text = page.answer(a, b, card, ARM_LABELS)
    assert text.startswith("**In short.** ")
    assert "**Against the exact gradient, on the deck's protocol (one 2,969-step sequence)**" in text
    assert "SPSA as originally run, 2.00 [" in text and "times the oracle's (higher)" in text
    assert "**Against the baselines, on the windows protocol** (the arms of the answer above, scored as there, " \
           "with 1,024 shots, the oracle too)" in text
    assert "the echo-state network, scores 0.0060" in text  # the strongest classical baseline (mean of 3 seeds)
    assert "**SPSA as originally run against FDSA** (deck's protocol, one sequence): SPSA - FDSA = 0.01; " \
           "verdict **inconclusive**." in text
    assert "windows protocol): " not in text


def test_one_seed_gives_values_without_intervals_and_no_p():
    a, b = arms(seeds=1), fake_baselines(seeds=(1929,))
    gaps, standing = analysis(a, b)
    table = page.oracle_table(gaps, ARM_LABELS)
    assert table.count("\n") == 2 + 2 * 3 - 1  # header, rule, three estimator arms per protocol
    assert all(line.endswith("| - |") for line in table.splitlines()[2:])  # no p with one seed
    fig, plotted = page.standing_figure(a, b, standing, ARM_LABELS)
    assert len(plotted) == 2 * len(a) and all(r[5] == 1 for r in plotted)
    plt.close(fig)


def test_unfinished_seeds_are_left_out_and_an_arm_with_none_has_no_point():
    a = arms(done=[0, 0, 0])  # SPSA as originally run has not finished a seed
    gaps, standing = analysis(a, fake_baselines())
    assert {r["arm"] for r in gaps["sequence"]} == {"spsa-shots", "fdsa-shots"}
    fig, plotted = page.standing_figure(a, fake_baselines(), standing, ARM_LABELS)
    assert "spsa-original-shots" not in {r[0] for r in plotted}
    assert "SPSA as originally run\n(no finished seed)" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)


def test_the_baseline_table_has_a_column_per_classical_baseline_and_the_qesn():
    a, b = arms(), fake_baselines()
    _, standing = analysis(a, b)
    lines = page.baseline_table(b, standing, ARM_LABELS).splitlines()
    assert lines[0] == ("| arm | protocol | n | lowest RMSE | ratio to linear regression on x(t) | "
                        "ratio to NG-RC | ratio to echo-state network | difference from QESN | p |")
    assert len(lines) == 2 + 2 * len(a) and all(line.count("|") == 10 for line in lines)
    assert page.qesn_exact(b) == {"qesn_exact_sequence": "0.101", "qesn_exact_windows": "0.101"}
    record = page.standing_record(standing)
    assert set(record) == {"sequence", "windows"} and json.dumps(record)
    # 0.2 and more, three seeds: the t interval reaches down to the mean predictor's 0.18, so it is not "beaten"
    assert record["sequence"][0]["beaten_by"] == ["linear", "ngrc", "esn"]


def test_the_qesn_note_needs_it_worse_than_the_mean_and_an_exact_arm_on_its_seeds():
    a = arms()
    assert page.qesn_note(a, fake_baselines()) is None  # the QESN beats the mean
    worse = fake_baselines(qesn=0.3)
    note = page.qesn_note(a, worse)
    assert "scores 0.3010 there as a mean over its 3 seeds, worse than predicting the training mean (0.1800)" in note
    assert "seed 1931 scores 0.3020" in note
    one = {k: v for k, v in a.items() if k.startswith("oracle")}
    one = {k: fake_arm(k, 0.1, seeds=1, shots=None) for k in one}  # paired with the first seed only
    assert "over the seeds the exact arms are paired with (1929)" in page.qesn_note(one, worse)


def test_open_claims_list_the_unsettled_with_their_rule():
    card = [row("speed", "reproduced"), row("better-sequence", "not tested", rule="needs three seeds"),
            row("better-windows", "inconclusive", claim="SPSA found better", rule="the interval holds 0")]
    text = page.open_claims(card).splitlines()
    assert text == ["* a claim: **not tested**. Needs three seeds.",
                    "* SPSA found better: **inconclusive**. Measured m. Basis: b. The interval holds 0."]
    assert page.open_claims([row("speed", "reproduced")]) == "Every claim has a verdict."


def test_p_values_need_three_seeds():
    assert page.p_value(None) == "-"
    three, _ = analysis(arms(), {})
    one, _ = analysis(arms(seeds=1), {})
    assert 0 <= float(page.p_value(three["sequence"][0]["difference"])) <= 1
    assert page.p_value(one["sequence"][0]["difference"]) == "-"


def test_the_standing_axis_spans_the_arms_and_names_a_far_baseline_at_its_edge():
    """Figure 14 of the referee's read: on a log axis down to the echo-state network the arms' differences
    vanished; the axis now spans the arms (and the baselines near them), and a baseline far off it is named
    in the axis label."""
    assert page._span([0.12, 0.13, 0.15], [0.003, 0.016, 0.11, 0.178]) == pytest.approx((0.11 - 0.08 * 0.068, 0.178 + 0.08 * 0.068))
    a = {k: fake_arm(k, [0.12, 0.13, 0.125], seeds=3) for k in ("spsa-original-shots", "spsa-shots")}
    b = fake_baselines()  # the echo-state network at 0.006 (its seeds' mean), NG-RC at 0.02: far below the arms
    gaps, standing = analysis(a, b)
    fig, plotted = page.standing_figure(a, b, standing, ARM_LABELS)
    for ax, p in zip(fig.axes[:2], ("sequence", "windows")):
        lo, hi = ax.get_xlim()
        points = [v for r in plotted if r[1] == p for v in r[2:5] if np.isfinite(v)]
        assert lo <= min(points) and max(points) <= hi and ax.get_xscale() == "linear"
        assert hi < 0.25 and lo > 0.05  # the arms fill the axis, not the span down to the echo-state network
        assert "left of the axis:" in ax.get_xlabel() and "ESN 0.006" in ax.get_xlabel()
    plt.close(fig)


def test_the_synthesis_says_what_the_runs_show_from_the_numbers():
    a, b = arms(), fake_baselines()
    gaps, standing = analysis(a, b)
    lines = page.synthesis(standing, gaps, ARM_LABELS)
    assert len(lines) == 2 and lines[0].startswith("**Deck's protocol")
    assert "times the echo-state network's" in lines[0] and "QESN" in lines[0]
    assert page.synthesis({}, {}, ARM_LABELS) == []
