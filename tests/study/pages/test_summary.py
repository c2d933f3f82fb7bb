"""The front page's first screen on every shape the profiles give it: a full scorecard or one with nothing
tested, arms missing, one seed, unfinished seeds, baselines with seeds or with one value."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.model import ARM_LABELS
from qrnn_study.pages import summary as page
from qrnn_study.results import ComputeRow

from .fakes import fake_arm

LABELS = {"spsa-original-shots": "SPSA as run", "spsa-shots": "SPSA corrected", "fdsa-shots": "FDSA",
          "oracle-lr007": "oracle (lr 0.007)", "oracle-lr001": "oracle (lr 0.001)"}
NAN = math.nan


def row(verdict, id="a-claim", estimate=NAN, low=NAN, high=NAN, n=0, measured="-"):
    return {"id": id, "claim": f"the words of {id}", "verdict": verdict, "estimate": estimate, "low": low, "high": high, "n": n,
            "measured": measured}


def card(speed="reproduced", sequence=(-0.006, -0.012, 0.0002, 5), windows=(0.024, 0.004, 0.044, 5),
         comparable=("inconclusive", "not reproduced"), ratio=22.0):
    """A scorecard of the paper's shape: the speed row (FDSA's time over SPSA's ``ratio``), SPSA against FDSA
    per protocol (the deck's "better" and the equivalence rows, ``comparable`` their verdicts), and others."""
    out = [row(speed, "speed", ratio, measured=f"FDSA / SPSA = {ratio} [15.9, 28.0] per training epoch"),
           row("not tested", "fdsa-gpu")]
    for protocol, d, v in (("sequence", sequence, comparable[0]), ("windows", windows, comparable[1])):
        if d is not None:
            out.append(row("inconclusive", f"better-{protocol}", *d))
            out.append(row(v, f"comparable-{protocol}", *d) | {"margin": 0.016, "level": 0.90})
    return out + [row("not reproduced", "parameter-shift")]


def test_the_tally_counts_every_kind_in_order_zeros_included():
    counts = page.tally(card())
    assert counts == {"reproduced": 1, "not reproduced": 2, "inconclusive": 3, "not tested": 1}
    assert list(counts) == list(page.VERDICTS)
    assert page.tally([]) == dict.fromkeys(page.VERDICTS, 0)
    assert page.tally_words(counts) == "1 reproduced, 2 not reproduced, 3 inconclusive, 1 not tested"


def test_an_unknown_verdict_is_not_silently_left_out_of_the_tally():
    with pytest.raises(ValueError, match="maybe"):
        page.tally([row("maybe")])


def test_the_title_never_says_reproduced_when_most_claims_are_not():
    assert page.title_words({"reproduced": 1, "not reproduced": 4, "inconclusive": 10, "not tested": 2}) == \
        "1 of 17 claims reproduced"
    assert page.title_words({"reproduced": 1, "not reproduced": 0, "inconclusive": 0, "not tested": 0}) == \
        "1 of 1 claim reproduced"
    assert page.title_words({"reproduced": 0, "not reproduced": 0, "inconclusive": 0, "not tested": 5}) == \
        "no claim tested yet"
    assert page.title_words(page.tally([])) == "no claims"


def test_the_answer_is_no_when_spsa_is_shown_outside_the_margin_on_a_protocol():
    a = page.answer(card())
    assert a.outcome == "no"
    assert a.accuracy["sequence"][1] == "undecided" and a.accuracy["windows"][1] == "not comparable"
    assert a.accuracy["windows"][0].mean == pytest.approx(0.024) and a.speed_verdict == "reproduced"
    assert a.accuracy["windows"][2] == pytest.approx(0.016) and a.accuracy["windows"][0].level == 0.90


def test_the_answer_is_yes_only_when_the_cost_holds_and_spsa_is_comparable_everywhere():
    both = ("reproduced", "reproduced")
    assert page.answer(card(comparable=both)).outcome == "yes"
    assert page.answer(card(comparable=("reproduced", "inconclusive"))).outcome == "not shown"
    # the cost half is the question's "a tenth": the deck's own 14.5x missed by a larger ratio still answers it
    assert page.answer(card(speed="not reproduced", comparable=both, ratio=39.6)).outcome == "yes"
    assert page.answer(card(speed="not reproduced", comparable=both, ratio=6.0)).outcome == "no"


def test_the_answer_is_not_tested_with_too_few_seeds_or_rows_missing():
    assert page.answer(card(comparable=("not tested", "reproduced"))).outcome == "not tested"
    assert page.answer(card(sequence=None, windows=None)).outcome == "not tested"
    assert page.answer(card(ratio=NAN)).outcome == "not tested"
    assert page.answer([]).outcome == "not tested" and page.answer([]).speed_measured == "-"


BASELINES = {"mean": {"sequence": {"exact": {"rmse_mean": 0.178}}, "windows": {"exact": {"rmse_mean": 0.177}}},
             "esn": {"sequence": {"exact": {"rmse_mean": 0.003}}, "windows": {"exact": {"rmse_mean": 0.015}},
                     "per_seed": [{"seed": s, "sequence": {"exact": {"rmse_mean": 0.003 + 0.001 * k}},
                                   "windows": {"exact": {"rmse_mean": 0.015}}} for k, s in enumerate(range(1929, 1934))]}}


def _arms():
    """SPSA as run: 3 finished seeds falling then rising; FDSA: one seed; SPSA corrected: 2 of 3
    finished; the oracles missing."""
    s = fake_arm("spsa-original-shots", seeds=3, epochs=3)
    for k in ("sequence", "windows"):
        s.val[k]["shots"][:, :, 2] = [[0.12, 0.10, 0.11], [0.13, 0.11, 0.12], [0.14, 0.12, 0.13]]
        s.val[k]["exact"][:] = 9.0  # never read: the first screen scores with shots
    f = fake_arm("fdsa-shots", val=0.2, seeds=1)
    c = fake_arm("spsa-shots", val=np.array([0.1, 0.2, 0.3]), seeds=3, done=[3, 3, 1])
    return {"spsa-original-shots": s, "fdsa-shots": f, "spsa-shots": c}


def test_the_table_scores_with_shots_lowest_and_last_epoch_over_finished_seeds():
    rows = {r.label: r for r in page.first_screen_table(_arms(), BASELINES, LABELS)}
    s = rows["SPSA as run"]
    assert s.lowest["sequence"].mean == pytest.approx(0.11) and s.last["windows"].mean == pytest.approx(0.12)
    assert s.lowest["sequence"].n == 3 and s.lowest["sequence"].low <= 0.11 <= s.lowest["sequence"].high
    c = rows["SPSA corrected"]  # the unfinished seed (0.3) is left out
    assert (c.n, c.planned) == (2, 3) and c.lowest["windows"].mean == pytest.approx(0.15)


def test_missing_arms_keep_their_row_and_baselines_follow_in_order():
    rows = page.first_screen_table(_arms(), BASELINES, LABELS)
    assert [r.label for r in rows] == ["SPSA as run", "SPSA corrected", "FDSA", "oracle (lr 0.007)",
                                       "oracle (lr 0.001)", "echo-state network", "training mean"]
    oracle = rows[3]
    assert oracle.n == 0 and oracle.planned == 0 and page.cell(oracle.lowest["sequence"]) == "-"
    esn, mean = rows[5], rows[6]
    assert esn.n == 5 and esn.lowest["sequence"].mean == pytest.approx(0.005)
    assert mean.n == 1 and mean.lowest["windows"].mean == pytest.approx(0.177)
    assert page.first_screen_table({}, None, LABELS)[-1].label == "oracle (lr 0.001)"  # no baselines: no rows


def test_cells_say_what_their_numbers_are():
    assert page.cell(page.Estimate(0.0812, 0.079, 0.0834, 5)) == "0.081 [0.079,\u00a00.083]"  # wraps before "["
    assert page.cell(page.Estimate(0.2, NAN, NAN, 1)) == "0.200"
    assert page.cell(page.Estimate(0.15, 0.1, 0.2, 2)) == "0.150 [0.100,\u00a00.200]"
    assert page.cell(page.NONE) == "-"
    assert page.cell(page.Estimate(0.00292, 0.0027, 0.0035, 10)) == "0.0029 [0.0027,\u00a00.0035]"  # two digits kept


def test_two_seeds_get_their_t_interval_like_any_other_count():
    two = page.first_screen_table({"fdsa-shots": fake_arm("fdsa-shots", val=np.array([0.1, 0.2]), seeds=2)}, None, LABELS)
    assert "0.150 [-0.485,\u00a00.785]" in page.table_markdown(two)  # one degree of freedom: t = 12.7


def test_the_markdown_table_names_seeds_and_marks_what_did_not_run():
    lines = page.table_markdown(page.first_screen_table(_arms(), BASELINES, LABELS)).splitlines()
    assert lines[0].startswith("| | n | one sequence: lowest |") and len(lines) == 2 + 7
    assert lines[2].startswith("| SPSA as run | 3 | 0.110 [")
    assert lines[3].startswith("| SPSA corrected | 2 of 3 |")
    assert lines[4].startswith("| FDSA | 1 | 0.200 | 0.200 |")
    assert lines[5] == "| oracle (lr 0.007) | not run | - | - | - | - |"
    assert lines[7].startswith("| echo-state network | 5 | 0.0050 [")
    assert lines[8] == "| training mean | - | 0.178 | *baseline* | 0.177 | *baseline* |"
    assert all(line.count("|") == 7 for line in lines)


def test_the_answer_line_carries_the_computed_numbers():
    c = card()
    c[0].update(estimate=22.0, low=15.9, high=28.0, n=5)
    line = page.answer_line(page.answer(c))
    assert line.startswith("**Is SPSA as good as FDSA at a tenth of the cost? No.**")
    assert ("*Cost:* FDSA takes 22.0 [15.9, 28.0]x SPSA's time per training epoch: SPSA costs under a tenth. The "
            "deck's figures: 14.5x per epoch reproduced.") in line
    # With an Aer timing the cost is read per update, and both of the deck's figures are named.
    c.insert(1, row("not reproduced", "speed-update", 80.0, n=1,
                    measured="FDSA / SPSA = 80.0 per update on Aer exact; larger than the deck's: SPSA's advantage is "
                             "bigger than claimed"))
    assert ("FDSA takes 80.0x SPSA's time per update on Aer exact: SPSA costs under a tenth. The deck's figures: 33x "
            "per update not reproduced, 14.5x per epoch reproduced (ours 22.0 [15.9, 28.0]x).") in page.answer_line(page.answer(c))
    assert "0.0240 [0.0040, 0.0440] on windows (±0.0160: not comparable)" in line and "(5 seeds, 90 %" in line
    inside = card(sequence=(-0.006, -0.012, -0.001, 5))
    assert "(±0.0160: undecided; inside before Holm's adjustment, not after)" in page.answer_line(page.answer(inside))
    assert page.answer_line(page.answer([])) == "**Is SPSA as good as FDSA at a tenth of the cost? Not tested yet.**"
    split = page.answer_line(page.answer(card(comparable=("reproduced", "not reproduced"))))
    assert split.startswith("**Is SPSA as good as FDSA at a tenth of the cost? No (comparable on the one sequence, "
                            "not on windows).**")


def test_the_answer_in_full_reads_the_rows_by_claim_id():
    c = card()
    c[0].update(deck="14.5x")
    c[2]["measured"], c[4]["measured"] = "SPSA - FDSA = -0.006", "SPSA - FDSA = 0.024"
    c[3]["measured"], c[5]["measured"] = "SPSA - FDSA = -0.006 [...]", "SPSA - FDSA = 0.024 [...]"
    text = page.answer_in_full(c, {}, None, ARM_LABELS)
    assert text.startswith("**The answer in full.**\n\n**Speed and accuracy.** FDSA's time over SPSA's: "
                           "22.0 [15.9, 28.0] per training epoch (the deck: 14.5x): **reproduced**.")
    assert "is -0.006 on the deck's protocol (one sequence) and 0.024 on the windows protocol" in text
    assert ("\"comparable accuracy\", judged as equivalence within a tenth of FDSA's RMSE, is **inconclusive** on "
            "the deck's protocol (one sequence) and **not reproduced** on the windows protocol") in text
    assert text.endswith("is on [the conclusions page](conclusions).")
    assert page.answer_in_full([], {}, None, ARM_LABELS, partial=True) == (
        "**The answer in full so far.**\n\nNo arm has finished a seed yet: see the coverage below.")


def test_the_answer_in_full_says_how_the_oracle_moves_from_its_first_epoch_to_its_last():
    o = fake_arm("oracle-lr007", val=[0.10, 0.11, 0.12], seeds=3, epochs=2, shots=None, method="exact")
    for p, step in (("sequence", 0.02), ("windows", -0.02)):
        o.val[p]["shots"][:, 1, 2] += step + np.array([0.0, 0.001, -0.001])
    text = page.answer_in_full([], {"oracle-lr007": o}, None, ARM_LABELS)
    assert "**The deck's \"validation RMSE rises after an epoch\" is a property of its protocol" in text
    assert "(lr 0.007, 3 finished seeds, 1,024-shot validation)" in text
    two = fake_arm("oracle-lr007", seeds=2, epochs=2, shots=None, method="exact")  # below MIN_SEEDS: nothing said
    assert "exact gradient" not in page.answer_in_full([], {"oracle-lr007": two}, None, ARM_LABELS)


def test_the_key_figure_draws_the_finished_seeds_of_each_key_arm():
    arms = _arms()
    fig, rows = page.key_figure(arms, BASELINES, ARM_LABELS)
    assert [r[:2] for r in rows] == [[a, p] for p in ("sequence", "windows")
                                    for a in ("spsa-original-shots", "spsa-shots", "fdsa-shots")]
    assert rows[0][2:] == pytest.approx([0.13, 0.11, 0.12]) and len(rows[0]) == 2 + 3
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "SPSA corrected (n = 2)" in names and "baseline: training mean" in names and "FDSA (n = 1)" in names
    plt.close(fig)
    fig, rows = page.key_figure({"fdsa-shots": fake_arm("fdsa-shots", done=[0, 0, 0])}, None, ARM_LABELS)
    assert rows == []  # no finished seed: no curve
    plt.close(fig)


def compute_row(family, done_h, left_h, finished=3, measured=True):
    return ComputeRow(family, 3, finished, 2 * finished, 6, 0.01, 0.008, measured, 3600 * done_h, 3600 * left_h,
                      1800 * left_h)


def test_the_compute_table_names_arms_by_label_and_projects_what_is_left():
    arms = {"fdsa-shots": fake_arm("fdsa-shots")}
    for p in arms["fdsa-shots"].provenance:
        p["machine"] = {"cpu": "Xeon", "cores": 2}
    text = page.compute_markdown([compute_row("fdsa-shots", 2.0, 1.0, 1), compute_row("sweep-spsa", 1.0, 0.0,
                                                                                     measured=False)], arms, False, 8)
    lines = text.splitlines()
    assert lines[2] == "| FDSA | 1 of 3 | 2 of 6 | 0.010 (0.008) | 2.0 | 1.0 (0.5) |"
    assert lines[3].startswith("| sweep-spsa | 3 of 3 | 6 of 6 | 0.010 (0.008), borrowed |")
    assert "3.0 worker-hours spent and 1.0 left" in text and "on the Xeon machine with 2 cores" in text
    assert "of which about 0 hours remain" in text and "No GPU was lent" in text
    done = page.compute_markdown([compute_row("fdsa-shots", 2.0, 0.0)], {}, True, 4)
    assert "on the this machine with 4 cores" in done and ": every run has finished." in done
    assert "has an FDSA epoch timed on a GPU" in done


def test_the_tally_split_by_where_each_claim_was_judged():
    c = card()
    assert page.tally_by_protocol(c) == (
        "By where each claim was judged: on the deck's own protocol (one sequence) and the claims that need none: "
        "1 reproduced, 1 not reproduced, 2 inconclusive, 1 not tested; on windows, a protocol the deck did not run: "
        "0 reproduced, 1 not reproduced, 1 inconclusive, 0 not tested.")
    assert page.tally_by_protocol([]) == ""
