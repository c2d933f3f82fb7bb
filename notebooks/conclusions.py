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
# What the trained arms amount to, measured two ways: against the **exact gradient** (the oracle, what
# SPSA and FDSA estimate) at the same learning rate and seeds, and against **baselines** that need no
# training of the circuit, or no quantum circuit at all. The measure is the deck's: each seed's lowest
# validation RMSE over its epochs (mean of y and z, scaled units). It is picked on the validation span
# itself, so it flatters the arms a little; the baselines chose their settings on the training span
# only. Shot arms are scored with 1,024-shot validation, exact arms and the oracle with exact
# probabilities. Every figure is a mean over finished seeds with its 95 % bootstrap interval;
# comparisons are paired by seed. The deck's own claims have their verdicts on
# [the front page](page-summary).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "conclusions"

# %% tags=["hide-input"]
# %matplotlib inline
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import figures
from qrnn_core.conclusions import (CLASSICAL, FROZEN, baseline_standing, baseline_value, beaten_by, describe,
                                   oracle_gaps, side)
from qrnn_core.report import count, partial_warning, results_path, save_json, show_banner
from qrnn_core.results import load_arm, load_sweep
from qrnn_core.scorecard import SWEEPS, scorecard

show_banner(profile)
if (warning := partial_warning(profile)):
    display(Markdown(warning))
results = Path(results_dir)
arms = {a: r for a in figures.ARM_LABELS if (r := load_arm(results, a)) is not None}
baselines_file = results / "baselines" / "baselines.json"
baselines = json.loads(baselines_file.read_text()) if baselines_file.exists() else {}
NAMES = {"mean": "training mean", "linear": "linear regression on x(t)", "ngrc": "NG-RC",
         "esn": "echo-state network", FROZEN: "frozen circuit (QESN)"}
PROTOCOLS = {"sequence": "the deck's protocol (one 2,969-step sequence)", "windows": "the windows protocol"}
LABEL = figures.ARM_LABELS
gaps = {p: oracle_gaps(arms, p) for p in PROTOCOLS}
standing = {p: baseline_standing(arms, baselines, p) for p in PROTOCOLS} if baselines else {}


def est(e, digits=4):
    return e.format(digits, seeds=True)


# %% [markdown]
# ## The answer, from the runs

# %% tags=["hide-input"]
HEADLINE = ("spsa-original-shots", "spsa-shots", "fdsa-shots", "oracle-lr001", "oracle-lr007")
lines = []
for p, where in PROTOCOLS.items():
    g = {r["arm"]: r for r in gaps[p]}
    said = [f"{LABEL[a]}, {est(r['ratio'], 2)} times the oracle's ({describe(r['difference'])})"
            for a in HEADLINE if (r := g.get(a))]
    if said:
        lines.append(f"**Against the exact gradient, on {where}**, the lowest validation RMSE of each estimator over the "
                     "oracle's at the same learning rate (0.007 for SPSA, 0.001 for FDSA) and seeds: " + "; ".join(said)
                     + ". Lower or higher means the paired difference's interval excludes 0 and its t-test gives p < 0.05.")
for p, where in PROTOCOLS.items():
    rows = {r["arm"]: r for r in standing.get(p, []) if r["arm"] in HEADLINE}
    if not rows or "linear" not in baselines:
        continue
    best = min(rows.values(), key=lambda r: r["rmse"].mean)
    lin = baseline_value(baselines, "linear", p)
    under = [LABEL[a] for a, r in rows.items() if side(r["ratio"]["linear"]) == "below"]
    over = [LABEL[a] for a, r in rows.items() if side(r["ratio"]["linear"]) == "above"]
    strongest = min(("ngrc", "esn"), key=lambda n: baseline_value(baselines, n, p))
    text = (f"**Against the baselines, on {where}:** the best of the estimators and the oracle is {LABEL[best['arm']]}, "
            f"at {est(best['rmse'])}. The linear regression on x(t) alone scores {lin:.4f}. Below it (interval wholly "
            f"under): {'; '.join(under) or 'none'}. Above it: {'; '.join(over) or 'none'}. The best classical "
            f"baseline, the {NAMES[strongest]}, scores {baseline_value(baselines, strongest, p):.4f}: "
            f"{best['rmse'].mean / baseline_value(baselines, strongest, p):.0f} times lower than the best arm.")
    frozen = {a: r["frozen"] for a, r in rows.items() if r["frozen"] is not None and r["frozen"].difference.n >= 2}
    if frozen:
        words = "; ".join(f"{LABEL[a]}, {describe(c)}" for a, c in frozen.items())
        text += (" Against the same circuit frozen at its initial parameters with only a ridge readout fitted (QESN, "
                 f"paired by seed), training the circuit gives: {words}.")
    lines.append(text)
card = scorecard(arms, None, {m: load_sweep(results, f) for m, f in SWEEPS.items()})
for r in card:
    if r["claim"].startswith(("SPSA found better parameters than FDSA", "Accuracy claims")):
        lines.append(f"**SPSA as originally run against FDSA** ({r['claim'].split('(')[-1].rstrip(')')}): "
                     f"{r['measured']}: **{r['verdict']}**.")
if not any(r["claim"].startswith("SPSA found better") for r in card):
    f = arms.get("fdsa-shots")
    lines.append("**SPSA as originally run against FDSA:** not compared yet: FDSA has "
                 f"{count(int(f.complete.sum()) if f is not None else 0, 'finished seed')}, and the comparison needs "
                 "seeds both arms have finished.")
display(Markdown("\n\n".join(lines) if lines else "No arm has a finished seed yet."))

# %% tags=["hide-input"]
figures.style()
order = [a for a in figures.ARM_LABELS if a in arms]
fig, axes = plt.subplots(1, 2, figsize=(12, 2.4 + 0.5 * len(order)), sharey=True, sharex=True)
plotted = []
lines_drawn = {"mean": (":", "0.45"), "linear": ("--", "tan"), FROZEN: ((0, (5, 1, 1, 1)), "C5"), "ngrc": ("-.", "C4"),
               "esn": ("-", "C2")}
for ax, p in zip(axes, PROTOCOLS):
    rows = {r["arm"]: r for r in standing.get(p, [])}
    for k, a in enumerate(order):
        if (r := rows.get(a)) is None:
            continue
        e = r["rmse"]
        color = "k" if a.startswith("oracle") else "C3" if a.startswith("fdsa") else "C0"
        err = [[e.mean - e.low], [e.high - e.mean]] if e.n > 1 else None
        ax.errorbar(e.mean, k, xerr=err, fmt="o", color=color, mfc=color if a.endswith("shots") else "white",
                    capsize=3, ms=7)
        plotted.append([a, p, e.mean, e.low, e.high, e.n])
    for name, (ls, color) in lines_drawn.items():
        if name in baselines:
            mode = "shots" if name == FROZEN else "exact"
            ax.axvline(baseline_value(baselines, name, p, mode), color=color, ls=ls, lw=1.5,
                       label=NAMES[name] + (", 1,024 shots" if name == FROZEN else ""))
    ax.set(xscale="log", title=figures.PROTOCOL_TITLE[p], xlabel="lowest validation RMSE\n(mean of y, z; log axis)")
    ax.grid(alpha=0.3, axis="x")
ticks = [0.003, 0.01, 0.03, 0.1, 0.3]
axes[0].set_xticks(ticks, [f"{t:g}" for t in ticks])
axes[0].xaxis.set_minor_formatter(plt.NullFormatter())
seeds = {a: int(arms[a].complete.sum()) for a in order}
axes[0].set_yticks(range(len(order)), [f"{LABEL[a]} (n = {seeds[a]})" for a in order])
axes[0].invert_yaxis()
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
fig.tight_layout(rect=(0, 0.04 + 0.05 * ((len(labels) + 2) // 3), 1, 1))
glue("fig_standing", fig, display=False)
plt.close(fig)
out = results_path(results_dir, run_name)
figures.csv_link(out / "standing.csv", plotted, ["arm", "protocol", "lowest_rmse_mean", "ci_low", "ci_high", "seeds"])

# %% [markdown]
# ```{glue:figure} fig_standing
# :name: fig-standing
# :alt: For each arm, its lowest validation RMSE with a 95 % interval on a logarithmic axis, beside vertical lines for the training mean, the linear regression, NG-RC and the echo-state network, under the two validation protocols
#
# Where each arm stands. Each arm's lowest validation RMSE (mean over its n finished seeds, 95 %
# bootstrap interval where n is two or more; filled: 1,024 shots, open: exact probabilities; black:
# the oracle, red: FDSA, blue: SPSA) against the baselines (vertical lines; the frozen circuit with
# 1,024 shots, mean over its seeds), on a logarithmic axis. Left: the deck's protocol; right: 20-step
# windows, as in training.
# ```
#
# ## Each estimator against the exact gradient
#
# The arm's lowest validation RMSE over the oracle's at the same learning rate, per seed (a ratio
# above 1: the estimator ends worse than the exact gradient it estimates), and the paired difference
# with its test.

# %% tags=["hide-input"]
rows = [f"| {LABEL[r['arm']]} | {LABEL[r['oracle']]} | {PROTOCOLS[p]} | {est(r['ratio'], 2)} | {r['difference']} |"
        for p in PROTOCOLS for r in gaps[p]]
display(Markdown("| arm | oracle | protocol | arm / oracle | arm - oracle |\n|---|---|---|---|---|\n" + "\n".join(rows)
                 if rows else "No estimator arm has finished seeds beside its oracle yet."))

# %% [markdown]
# ## Each arm against the baselines
#
# The arm's lowest validation RMSE over each classical baseline's (per seed of the arm; a ratio below
# 1: the arm does better), and its difference from the frozen circuit with a fitted readout (QESN,
# paired by seed: the same initial parameters, scored with the same probabilities). The baselines and
# their settings are on [their page](page-baselines).

# %% tags=["hide-input"]
if standing:
    names = [n for n in CLASSICAL if n in baselines]
    head = "| arm | protocol | lowest RMSE | " + " | ".join(f"/ {NAMES[n]}" for n in names) + " | - frozen circuit |"
    rows = [head, "|" + "---|" * (4 + len(names))]
    for p in PROTOCOLS:
        for r in standing[p]:
            rows.append(f"| {LABEL[r['arm']]} | {p} | {est(r['rmse'])} | "
                        + " | ".join(r["ratio"][n].format(2) for n in names)
                        + f" | {r['frozen'] if r['frozen'] is not None else '-'} |")
    display(Markdown("\n".join(rows)))
    save_json(out / "standing.json", {p: [{"arm": r["arm"], "rmse": r["rmse"].__dict__,
                                           "ratio": {n: e.__dict__ for n, e in r["ratio"].items()},
                                           "beaten_by": beaten_by(r)} for r in standing[p]] for p in PROTOCOLS})
else:
    display(Markdown("The baselines have not run in this profile yet."))

# %% [markdown]
# ## What is not settled
#
# The deck's claims whose verdict is *inconclusive* or *not tested*, and why (the full scorecard, with
# the rule of each verdict, is on [the front page](page-summary)).

# %% tags=["hide-input"]
open_rows = [r for r in card if r["verdict"] in ("inconclusive", "not tested")]
display(Markdown("\n".join(f"* {r['claim']}: **{r['verdict']}**. {r['rule'] if r['verdict'] == 'not tested' else r['measured']}"
                           for r in open_rows) or "Every claim has a verdict."))
