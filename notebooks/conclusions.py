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
# what SPSA and FDSA estimate, computed by autograd through the simulator) at the same learning rate
# and seeds, and against **baselines** that train no circuit, or use none. The deck's own claims have
# their verdicts on [the front page](page-summary).
#
# **How to read the numbers.** The measure is the deck's: each seed's lowest validation RMSE over its
# epochs (mean of y and z, scaled units). It is picked on the validation span itself, and this choice
# flatters the arms, most on the deck's protocol, so the answer below gives the last epoch beside it.
# The baselines chose their settings on the training span only. Each arm is
# scored with the probabilities it trained with: 1,024-shot validation for shot arms, exact
# probabilities for exact arms and the oracle. When a shot arm is set against the oracle or the frozen
# circuit, those are scored with 1,024 shots too, so that the validation's own shot noise is not
# counted against the estimator. Each value is a mean over the finished seeds with its 95 % bootstrap
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

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.analysis import MIN_SEEDS
from qrnn_study.conclusions import (BASELINE_NAMES as NAMES, CLASSICAL, FROZEN, HEADLINE, baseline_standing,
                                   baseline_value, beaten_by, bottom_line, common_mode, describe, frozen_per_seed,
                                   last, lowest, oracle_gaps, side)
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_arm, load_sweep, read_results
from qrnn_study.scorecard import SWEEPS, scorecard
from qrnn_study.coverage import partial_warning, profile_note
from qrnn_study.study_file import load_study

show_banner(profile)
display(Markdown(profile_note(profile)))
if (warning := partial_warning(profile)):
    display(Markdown(warning))
results = Path(results_dir)
arms = {a: r for a in figures.ARM_LABELS if (r := load_arm(results, a)) is not None}
baselines = read_results(results, "baselines", "baselines.json") or {}
PROTOCOLS = {"sequence": "the deck's protocol (one 2,969-step sequence)", "windows": "the windows protocol"}
LABEL = figures.ARM_LABELS
gaps = {p: oracle_gaps(arms, p) for p in PROTOCOLS}
standing = {p: baseline_standing(arms, baselines, p) for p in PROTOCOLS} if baselines else {}
study = load_study(profile=profile)
card = scorecard(arms, None, {m: load_sweep(results, f, values=study.sweep_values(f)) for m, f in SWEEPS.items()})


def est(e, digits=4):
    return e.format(digits, seeds=True)


def p_value(c):
    return "-" if c is None or c.difference.n < MIN_SEEDS or not np.isfinite(c.p) else f"{c.p:.3g}"


# %% [markdown]
# ## The answer, from the runs

# %% tags=["hide-input"]
lines = [f"**In short.** {text}"] if (text := bottom_line(arms, baselines, LABEL)) else []
# The headline arms against the baselines are scored as the answer scores them: with shots, the oracle too.
headline = {a: arms[a] for a in HEADLINE if a in arms}
head_mode = common_mode(headline.values())
rows = {p: {r["arm"]: r for r in baseline_standing(headline, baselines, p, head_mode)} for p in PROTOCOLS} \
    if baselines else {}
for p, where in PROTOCOLS.items():
    g = {r["arm"]: r for r in gaps[p]}
    said = [f"{LABEL[a]}, {est(r['ratio'], 2)} times the oracle's ({describe(r['difference'])})"
            for a in HEADLINE if (r := g.get(a))]
    if said:
        at_last = {r["arm"]: r for r in oracle_gaps(arms, p, last)}
        then = [f"{LABEL[a]} {est(r['ratio'], 2)}, {describe(r['difference'])}" for a in HEADLINE if (r := at_last.get(a))]
        lines.append(f"**Against the exact gradient, on {where}**, each estimator's lowest validation RMSE over the "
                     "oracle's at the same learning rate (0.007 for SPSA, 0.001 for FDSA) and seeds: " + "; ".join(said)
                     + ". After the last epoch, which no choice on the validation span flatters: " + "; ".join(then)
                     + ".")
for p, where in PROTOCOLS.items():
    here = rows.get(p)
    if not here or not {"linear", "ngrc", "esn"} <= set(baselines):
        continue
    best = min(here.values(), key=lambda r: r["rmse"].mean)
    lin = baseline_value(baselines, "linear", p)
    under = [LABEL[a] for a, r in here.items() if side(r["ratio"]["linear"]) == "below"]
    over = [LABEL[a] for a, r in here.items() if side(r["ratio"]["linear"]) == "above"]
    strongest = min(("ngrc", "esn"), key=lambda n: baseline_value(baselines, n, p))
    ref = baseline_value(baselines, strongest, p)
    text = (f"**Against the baselines, on {where}** (the arms of the answer above, scored as there, "
            f"{'with 1,024 shots, the oracle too' if head_mode == 'shots' else 'with exact probabilities'}): the "
            f"lowest mean is {LABEL[best['arm']]}'s, {est(best['rmse'])}. The linear regression on x(t) alone scores {lin:.4f}. Below it (interval wholly "
            f"under): {'; '.join(under) or 'none'}. Above it: {'; '.join(over) or 'none'}. The best classical "
            f"baseline, the {NAMES[strongest]}, scores {ref:.4f}; the best arm's RMSE is {best['rmse'].mean / ref:.1f} "
            f"times that.")
    lines.append(text)
for r in card:
    if r["claim"].startswith("SPSA found better parameters than FDSA"):
        lines.append(f"**SPSA as originally run against FDSA** ({r['claim'].split('(')[-1].rstrip(')')}): "
                     f"{r['measured']}; verdict **{r['verdict']}**.")
display(Markdown("\n\n".join(lines) if lines else "No arm has a finished seed yet."))

# %% tags=["hide-input"]
figures.style()
order = [a for a in figures.ARM_LABELS if a in arms]
fig, axes = plt.subplots(1, 2, figsize=(12, 2.4 + 0.5 * len(order)), sharey=True, sharex=True)
plotted = []
lines_drawn = {"mean": (":", "C7", "exact"), "linear": ("--", "tan", "exact"), FROZEN: ((0, (5, 1, 1, 1)), "C5", "shots"),
               "ngrc": ("-.", "C6", "exact"), "esn": ("-", "C8", "exact")}  # colours no arm uses
for ax, p in zip(axes, PROTOCOLS):
    here = {r["arm"]: r for r in standing.get(p, [])}
    for k, a in enumerate(order):
        if (r := here.get(a)) is None:
            continue
        e = r["rmse"]
        color = figures.arm_color(a)
        err = [[e.mean - e.low], [e.high - e.mean]] if e.n > 1 else None
        ax.errorbar(e.mean, k, xerr=err, fmt="o", color=color, mfc=color if arms[a].mode == "shots" else "white",
                    capsize=3, ms=7)
        plotted.append([a, p, e.mean, e.low, e.high, e.n])
    for name, (ls, color, mode) in lines_drawn.items():
        if name in baselines:
            ax.axvline(baseline_value(baselines, name, p, mode), color=color, ls=ls, lw=1.5,
                       label=NAMES[name] + (", 1,024 shots" if mode == "shots" else ""))
    ax.set(xscale="log", title=figures.PROTOCOL_TITLE[p], xlabel="lowest validation RMSE\n(mean of y, z; log axis)")
    ax.grid(alpha=0.3, axis="x")
ticks = [0.003, 0.01, 0.03, 0.1, 0.3]
axes[0].set_xticks(ticks, [f"{t:g}" for t in ticks])
axes[0].xaxis.set_minor_formatter(plt.NullFormatter())
finished = {a: int(arms[a].complete.sum()) for a in order}
axes[0].set_yticks(range(len(order)), [f"{LABEL[a]} (n = {finished[a]})" if finished[a] else
                                       f"{LABEL[a]} (no finished seed)" for a in order])
axes[0].invert_yaxis()
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
fig.tight_layout(rect=(0, 0.04 + 0.05 * ((len(labels) + 1) // 2), 1, 1))
glue("fig_standing", fig, display=False)
plt.close(fig)
out = results_path(results_dir, run_name)
figures.csv_link(out / "standing.csv", plotted, ["arm", "protocol", "lowest_rmse_mean", "ci_low", "ci_high", "seeds"])
if FROZEN in baselines:
    glue("qesn_exact_sequence", f"{baseline_value(baselines, FROZEN, 'sequence'):.3f}", display=False)
    glue("qesn_exact_windows", f"{baseline_value(baselines, FROZEN, 'windows'):.3f}", display=False)
else:
    glue("qesn_exact_sequence", "not run", display=False)
    glue("qesn_exact_windows", "not run", display=False)

# %% [markdown]
# ```{glue:figure} fig_standing
# :name: fig-standing
# :alt: For each arm, its lowest validation RMSE with a 95 % interval on a logarithmic axis, beside vertical lines for the linear regression, the frozen circuit, NG-RC and the echo-state network, under the two validation protocols
#
# Where each arm stands. Each arm's lowest validation RMSE (mean over its n finished seeds, 95 %
# bootstrap interval where n is three or more, the two seeds' range where n is two; filled: 1,024 shots, open: exact
# probabilities; the colours of every figure of the book: blue, SPSA as originally run; green, SPSA corrected;
# orange, with Spall's gains; red, FDSA; black and grey, the oracle at lr 0.007 and 0.001) against the baselines (vertical lines: predicting the training
# mean, the linear regression, the frozen circuit (QESN, its readout fitted on 1,024-shot frequencies
# and scored with 1,024 shots, a mean over its seeds), NG-RC
# and the echo-state network), on a logarithmic axis. Left: the deck's protocol; right: 20-step
# windows, as in training. With exact probabilities the frozen circuit scores
# {glue:text}`qesn_exact_sequence` on the deck's protocol and {glue:text}`qesn_exact_windows` on
# windows (not drawn).
# ```
#
# ## Each estimator against the exact gradient
#
# Each arm's lowest validation RMSE over the oracle's, per seed (above 1: the estimator ends worse than
# the exact gradient it estimates), and the paired difference. SPSA's arms are set against the oracle
# at their learning rate, 0.007, FDSA's against it at 0.001; both are scored with the arm's own
# validation (the column *scored with*).

# %% tags=["hide-input"]
SCORED = {"shots": "1,024 shots", "exact": "exact"}
table = [f"| {LABEL[r['arm']]} | {p} | {SCORED[r['mode']]} | {est(r['ratio'], 2)} | {r['difference'].difference} | "
         f"{p_value(r['difference'])} |" for p in PROTOCOLS for r in gaps[p]]
display(Markdown("| arm | protocol | scored with | arm / oracle | arm - oracle | p |\n|---|---|---|---|---|---|\n"
                 + "\n".join(table)
                 if table else "No estimator arm has finished seeds beside its oracle yet."))

# %% [markdown]
# ## Each arm against the baselines
#
# Each arm's lowest validation RMSE as a ratio to each classical baseline's (below 1: the arm does
# better), and its difference from the frozen circuit (QESN) started from the same parameters and
# scored with the same probabilities, paired by seed (negative: training the circuit helped).

# %% tags=["hide-input"]
if standing:
    names = [n for n in CLASSICAL if n in baselines and n != "mean"]
    head = ("| arm | protocol | scored with | lowest RMSE | " + " | ".join(f"ratio to {NAMES[n]}" for n in names)
            + " | difference from QESN | p |")
    table = [head, "|" + "---|" * (6 + len(names))]
    for p in PROTOCOLS:
        for r in standing[p]:
            table.append(f"| {LABEL[r['arm']]} | {p} | {SCORED[arms[r['arm']].mode]} | {est(r['rmse'])} | "
                         + " | ".join(r["ratio"][n].format(2) for n in names)
                         + f" | {r['frozen'].difference if r['frozen'] is not None else '-'} | {p_value(r['frozen'])} |")
    display(Markdown("\n".join(table)))
    if FROZEN in baselines and "mean" in baselines:
        q, m = baseline_value(baselines, FROZEN, "sequence"), baseline_value(baselines, "mean", "sequence")
        per_seed = frozen_per_seed(baselines, "sequence", "exact")
        shared = sorted(set(per_seed) & {s for r in arms.values() if r.mode == "exact" for s in lowest(r, "sequence")})
        if q > m and shared:
            worst = max(shared, key=per_seed.get)
            display(Markdown(
                f"The exact arms' large differences from the QESN on the deck's protocol say more about the QESN than "
                f"about them: with exact probabilities its ridge readout scores {q:.4f} there as a mean over its "
                f"{len(per_seed)} seeds, worse than predicting the training mean ({m:.4f})"
                + ("" if set(shared) == set(per_seed) else
                   f", and {np.mean([per_seed[s] for s in shared]):.4f} over the seeds the exact arms are paired with "
                   f"({', '.join(map(str, shared))})")
                + f"; seed {worst} scores {per_seed[worst]:.4f}. On windows it "
                f"scores {baseline_value(baselines, FROZEN, 'windows'):.4f}."))
    save_json(out / "standing.json", {p: [{"arm": r["arm"], "rmse": r["rmse"].__dict__,
                                           "ratio": {n: e.__dict__ for n, e in r["ratio"].items()},
                                           "beaten_by": beaten_by(r)} for r in standing[p]] for p in PROTOCOLS})
else:
    display(Markdown("The baselines have not run in this profile yet."))

# %% [markdown]
# ## What is not settled
#
# The deck's claims whose verdict is *inconclusive* or *not tested*: what was measured, on what, and
# the rule that gave the verdict (the full scorecard is on [the front page](page-summary)).

# %% tags=["hide-input"]
open_rows = [r for r in card if r["verdict"] in ("inconclusive", "not tested")]


def sentence(text):
    return text[:1].upper() + text[1:] if text else text


display(Markdown("\n".join(
    f"* {r['claim']}: **{r['verdict']}**. "
    + (f"{sentence(r['rule'])}." if r["verdict"] == "not tested" else
       f"Measured {r['measured']}. Basis: {r['basis']}. {sentence(r['rule'])}.")
    for r in open_rows) or "Every claim has a verdict."))
