# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (page-conclusions)=
# # Conclusions: the estimators against the exact gradient and the baselines
#
# What the trained arms amount to, measured two ways: against the **exact gradient** (the *oracle*,
# what SPSA and FDSA estimate, computed by the adjoint method through the simulator) at the same learning rate
# and seeds, and against **baselines** that train no circuit, or use none. The deck's own claims have
# their verdicts on [the front page](page-summary).
#
# **How to read the numbers.** The measure is the deck's: each seed's lowest validation RMSE over its
# epochs (mean of y and z, scaled units). It is picked on the validation span itself, and this choice
# flatters the arms, most on the deck's protocol, so the answer below gives the last epoch beside it.
# The baselines chose their settings on the training span only. One scoring convention, the front
# page's: every arm, the oracle and the arms trained on exact probabilities too, is scored with 1,024-shot
# validation, so that the validation's own shot noise is alike for all (each arm's exact scores are on its
# own page). Each value is a mean over the finished seeds with its 95 % t
# interval; comparisons are paired by seed, with the paired t interval (named with its n) and the
# paired t-test's p beside it, which agree. The words *lower* and *higher* below need that interval to
# exclude 0 (p < 0.05) and at least three finished seeds; they describe arms, unadjusted: the deck's
# claims, Holm-adjusted as a family, are judged on [the front page](page-summary).
#
# **Words.** An *arm* is one training configuration (estimator, learning rate, shots or exact
# probabilities), run once per seed; *as originally run*: SPSA with the original code's fixed pair of
# directions; *corrected*: fresh directions every update ([methods](../../methods)). Two validation
# protocols: the deck's (*sequence*: the validation span as one 2,969-step sequence) and *windows*
# (20-step windows like the training ones, steps 5-19 scored). Baselines ([their page](page-baselines)):
# linear regression on x(t); NG-RC, a ridge regression on delayed inputs and their products; an
# echo-state network (ESN); and the QRNN's own circuit frozen at its initial parameters with only a
# ridge readout fitted (QESN).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "conclusions"
control_seeds = None  # the readout control's seeds per arm (the first finished ones); None: every finished seed

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study.conclusions import baseline_standing, common_mode, control_rows, oracle_gaps, readout_control
from qrnn_study.coverage import partial_warning, profile_note
from qrnn_study.figures import csv_link, placeholder
from qrnn_study.model import ARM_LABELS, PROTOCOL_IDS
from qrnn_study.pages import conclusions as page
from qrnn_study.pages import readout_control as control_page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_arms, load_sweeps, read_results
from qrnn_study.scorecard import scorecard
from qrnn_study.study_file import load_study

show_banner(profile)
display(Markdown(profile_note(profile)))
if (warning := partial_warning(profile)):
    display(Markdown(warning))
arms = load_arms(results_dir)
baselines = read_results(results_dir, "baselines", "baselines.json") or {}
# One scoring convention, the front page's: every arm with 1,024-shot validation (the oracle and the exact arms
# too), so that no score carries validation shot noise another's does not.
MODE = common_mode(arms.values())
gaps = {p: oracle_gaps(arms, p, mode=MODE) for p in PROTOCOL_IDS}
standing = {p: baseline_standing(arms, baselines, p, MODE) for p in PROTOCOL_IDS} if baselines else {}
timing = (read_results(results_dir, "timing", "timing.json") or {}).get("rows")  # the speed claim, on Aer
card = scorecard(arms, None, load_sweeps(results_dir, load_study(profile=profile)), timing)
out = results_path(results_dir, run_name)
# The readout control (below): each headline arm's trained circuits with the QESN's ridge readout.
control = readout_control(arms, shots=1024, per_arm=control_seeds) if baselines and arms else {}
by_protocol = {p: control_rows(arms, control, baselines, p, MODE) for p in PROTOCOL_IDS} if control else {}
save_json(out / "readout-control.json", control)

# %% [markdown]
# ## In short
#
# What the runs show, every number computed from them (lowest validation RMSE over the epochs, scored as
# above; paired comparisons by seed):

# %% tags=["hide-input"]
findings = page.synthesis(standing, gaps, ARM_LABELS) + [x for x in [control_page.finding(by_protocol, ARM_LABELS)] if x]
display(Markdown("\n".join(f"- {line}" for line in findings) or "No arm has finished seeds yet."))

# %% [markdown]
# ## The answer, from the runs

# %% tags=["hide-input"]
display(Markdown(page.answer(arms, baselines, card, ARM_LABELS)))

# %% tags=["hide-input"]
fig, plotted = page.standing_figure(arms, baselines, standing, ARM_LABELS)
glue("fig_standing", fig, display=False)
plt.close(fig)
csv_link(out / "standing.csv", plotted, page.STANDING_COLUMNS)
for name, value in page.qesn_exact(baselines).items():
    glue(name, value, display=False)

# %% [markdown]
# ```{glue:figure} fig_standing
# :name: fig-standing
# :alt: For each arm, its lowest validation RMSE with a 95 % interval on a linear axis spanning the arms, beside vertical lines for the baselines near them (the training mean, the linear regression, the frozen circuit), with the far better NG-RC and echo-state network named at the left edge with their values, under the two validation protocols
#
# Where each arm stands. Each arm's lowest validation RMSE (mean over its n finished seeds, 95 %
# t interval where n is two or more; every point scored with 1,024-shot validation; filled: trained with 1,024 shots,
# open: trained on exact probabilities; the colours of every figure of the book: blue, SPSA as originally run; green, SPSA corrected;
# orange, with Spall's gains; red, FDSA; black and grey, the oracle at lr 0.007 and 0.001) against the baselines (vertical lines: predicting the training
# mean, the linear regression, the frozen circuit (QESN, its readout fitted on 1,024-shot frequencies
# and scored with 1,024 shots, a mean over its seeds), NG-RC
# and the echo-state network; a baseline beyond the axis, as the echo-state network and NG-RC are, is named
# at that edge with its value: the axis spans the arms, whose differences a log axis would hide). Left: the deck's protocol; right: 20-step
# windows, as in training. With exact probabilities the frozen circuit scores
# {glue:text}`qesn_exact_sequence` on the deck's protocol and {glue:text}`qesn_exact_windows` on
# windows (not drawn).
# ```
#
# ## Each estimator against the exact gradient
#
# Each arm's lowest validation RMSE over the oracle's, per seed (above 1: the estimator ends worse than
# the exact gradient it estimates), and the paired difference. SPSA's arms are set against the oracle
# at their learning rate, 0.007, FDSA's against it at 0.001; both scored alike (the column *scored with*).
# Each value: the mean over the $n$ seeds both arms finished, with its 95 % paired t interval; $p$: the
# paired t-test.

# %% tags=["hide-input"]
display(Markdown(page.oracle_table(gaps, ARM_LABELS)))

# %% [markdown]
# ## Each arm against the baselines
#
# Each arm's lowest validation RMSE as a ratio to each classical baseline's (below 1: the arm does
# better), and its difference from the frozen circuit (QESN) started from the same parameters and
# scored alike, paired by seed, with its 95 % paired t interval (negative: training the circuit
# helped); *(exact)* in an arm's name: it trained on exact probabilities; each value over the arm's $n$
# finished seeds, with its 95 % t interval.

# %% tags=["hide-input"]
if standing:
    display(Markdown(page.baseline_table(baselines, standing, ARM_LABELS)))
    if note := page.qesn_note(arms, baselines):
        display(Markdown(note))
    save_json(out / "standing.json", page.standing_record(standing))
else:
    display(Markdown("The baselines have not run in this profile yet."))

# %% [markdown]
# ## The trained circuit or the readout? A control
#
# The difference from the QESN above mixes two things: the arm trained its circuit, and it trained its
# readout with Adam alongside, while the QESN fits its readout by ridge regression on the training span.
# To tell them apart, each headline arm's circuit after its last epoch gets a readout fitted exactly as the
# QESN's, for each protocol in that protocol's form (the windows readout on the training windows; the
# sequence readout on the training span as one sequence, its washout and penalty chosen on that span), with
# the same 1,024-shot streams: *trained circuit, ridge readout*. The arms' own readouts were trained by Adam on
# windows only, so on the deck's protocol the ridge readout has a form the arm's lacks: that is the point of
# the control, which asks what the circuits are worth with the readout fitted as the QESN's is. It uses the last
# epoch, not the lowest (no choice on the validation span), so it does not break down the lowest-epoch
# comparison with the QESN above. The headline arms only: the five the answer names. Then,
# paired by seed, *ridge − QESN* is what training the circuit did with the readout fitted alike (negative:
# it helped), and *arm − ridge* what the arm's own readout does against a ridge fit on the same circuit
# (positive: the ridge fit is better). Scored with 1,024-shot validation after the last epoch (no choice on
# the validation span), over the $n$ seeds the arm shares with the QESN. The table gives the two paired
# differences with their 95 % paired t intervals and the paired t-test's $p$, unadjusted over its 20 tests
# (a $p$ near 0.05 is not robust); the figure below it the three models' RMSE.

# %% tags=["hide-input"]
if by_protocol:
    display(Markdown(control_page.table(by_protocol, ARM_LABELS)))
    if text := control_page.words(by_protocol, ARM_LABELS):
        display(Markdown(text))
    fig, plotted = control_page.figure(by_protocol, ARM_LABELS)
    glue("fig_control", fig, display=False)
    plt.close(fig)
    csv_link(out / "readout-control.csv", plotted, control_page.CSV_COLUMNS)
else:
    glue("fig_control", placeholder("the baselines or the arms have not run yet"), display=False)

# %% [markdown]
# ```{glue:figure} fig_control
# :name: fig-control
# :alt: For each headline arm and each protocol, three points with intervals: the frozen initial circuit with a ridge readout, the trained circuit with a ridge readout, and the arm as trained
#
# The readout control. For each arm (a row) and protocol (a panel): the initial circuit with a ridge readout
# (the QESN, open square), the same seed's trained circuit after the last epoch with a ridge readout fitted
# the same way (diamond), and the arm as trained, its readout trained with the circuit (dot). Means over
# the seeds shared with the QESN with their 95 % t intervals, 1,024-shot validation; the colours of every
# figure of the book; where the QESN and the ridge refit score alike, as on the one sequence, the diamond
# covers the square.
# ```
#
# ## What is not settled
#
# The deck's claims whose verdict is *inconclusive* or *not tested*: what was measured, on what, and
# the rule that gave the verdict (the full scorecard is on [the front page](page-summary)).

# %% tags=["hide-input"]
display(Markdown(page.open_claims(card)))
