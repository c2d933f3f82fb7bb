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
# (page-budget)=
# # Equal budgets: accuracy per circuit, not per epoch
#
# An epoch is not a fixed cost: an SPSA update evaluates 5 circuits (the forward and two directions,
# each twice), an FDSA update 221 (the forward and each of the 110 parameters, each twice). Comparing
# the estimators after the same number of epochs therefore gives FDSA 44 times SPSA's circuits. This
# page puts the full-protocol arms on the axis of what they spent (circuits and shots), and runs one
# comparison at **equal budget per update**: SPSA with 110 directions, so that its update costs
# FDSA's 221 circuits, beside FDSA and two-direction SPSA at the same learning rate (0.001) and the
# sweep's reduced budget (see [the learning-rate sweep](sweep)).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "budget"
equal_lr = 0.001  # the sweep's rate the budget arm is compared at (the budget arm's own, the deck's FDSA's)

# %% tags=["hide-input"]
# %matplotlib inline

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.analysis import comparable, final_train_rmse, mean_ci, paired
from qrnn_study.conclusions import baseline_value, common_mode
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_arm, load_sweep, read_results
from qrnn_study.scorecard import SWEEPS
from qrnn_study.study_file import load_study
from qrnn_study.words import count, training_windows_words

show_banner(profile)
study = load_study(profile=profile)
# The training-mean predictor's validation RMSE (windows protocol): what a model that learnt nothing scores.
baselines = read_results(results_dir, "baselines", "baselines.json")
mean_predictor = baseline_value(baselines, "mean", "windows") if baselines else None


def seeds_done(r) -> str:
    """``3 of 5`` seeds finished (of those the study file plans), with those still under way."""
    finished, started = int(r.complete.sum()), len(r.seeds)
    return f"{finished} of {len(study.arm_runs(r.arm)) or started}" + (f" ({started - finished} under way)" if started > finished else "")


FULL = {figures.ARM_LABELS[a]: a for a in ("spsa-original-shots", "spsa-shots", "spsa-spall-shots", "fdsa-shots")}
full = {label: r for label, a in FULL.items() if (r := load_arm(results_dir, a)) is not None}

# %% tags=["hide-input"]
if full:
    fig = figures.budget_curves(full)
    rows = []
    for label, r in full.items():
        per_epoch = r.circuits_per_update * r.train_rmse.shape[2]
        rows.append(f"| {label} | {r.circuits_per_update} | {r.circuits_per_update * r.shots_per_circuit:,} | "
                    f"{per_epoch:,} | {per_epoch * r.config['epochs']:,} | {seeds_done(r)} |")
    display(Markdown(f"| arm ({next(iter(full.values())).shots_per_circuit:,} shots) | circuits per update | shots per update | circuits per epoch | "
                     "circuits in all epochs | seeds finished, of those planned |\n|---|---|---|---|---|---|\n"
                     + "\n".join(rows)))
    if "FDSA" in full and "SPSA corrected" in full:
        f, s = full["FDSA"], full["SPSA corrected"]
        ratio = (f.circuits_per_update) / s.circuits_per_update
        glue("budget_ratio", f"{ratio:.0f}", display=False)
        display(Markdown(
            f"One FDSA epoch costs as many circuits as {ratio:.0f} SPSA epochs, so the deck's {s.config['epochs']} "
            f"SPSA epochs spend what FDSA spends in {s.config['epochs'] / ratio:.2f} of an epoch. Every arm here "
            f"runs {s.shots_per_circuit:,} shots a circuit, so the shots axis is the circuits axis scaled."))
else:
    fig = figures.placeholder("no full-protocol arm has finished an epoch yet")
glue("budget_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} budget_fig
# :name: fig-budget
# :alt: Validation RMSE against the number of circuits evaluated in training, log scale, for the SPSA and FDSA arms
#
# Validation RMSE (mean of y and z, 1,024-shot validation) after each epoch against the circuits
# evaluated in training up to that epoch (log scale; validation circuits not counted; shots are
# circuits x 1,024); mean over seeds with the 95 % bootstrap band where three seeds or more have run the
# epoch (over two, the band is their range). Left the deck's protocol (one
# sequence), right the windows protocol.
# ```

# %% tags=["hide-input"]
def label(r):
    c = r.config
    if c["method"] == "exact":
        return "oracle, the exact gradient (1 simulated circuit and an autograd pass an update)"
    what = {"spsa": f"SPSA, {c['spsa_directions']} directions", "fdsa": "FDSA"}[c["method"]]
    return f"{what} ({count(r.circuits_per_update, 'circuit')} an update)"


def short(r):
    c = r.config
    return {"spsa": f"{c['spsa_directions']}-direction SPSA", "fdsa": "FDSA", "exact": "the oracle"}[c["method"]]


expected = {"SPSA with 110 directions (budget-spsa110)": load_arm(results_dir, "budget-spsa110"),
            f"FDSA at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["fdsa"], values=[equal_lr]).get(equal_lr),
            f"2-direction SPSA at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["spsa"], values=[equal_lr]).get(equal_lr),
            f"the oracle at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["exact"], values=[equal_lr]).get(equal_lr)}
found = [r for r in expected.values() if r is not None and r.complete.any()]
not_yet = [name for name, r in expected.items() if r is None or not r.complete.any()]
# Only runs of one protocol and learning rate are compared (the budget arm's, when it has results).
base = found[0].config if found else None
arms = {label(r): r for r in found if not comparable(r.config, base) and r.config["lr"] == base["lr"]}
left_out = [r.arm for r in found if label(r) not in arms]
# Every row over the same seeds, those every arm has finished (paired: same initial parameters and
# window order); each row over its own finished seeds only when no seed is common to all.
finished = {name: {s for s, ok in zip(r.seeds, r.complete) if ok} for name, r in arms.items()}
common = sorted(set.intersection(*finished.values())) if arms else []
ref = next((r for r in arms.values() if r.config["method"] == "fdsa"), None)
# Like with like: every row scored with the validation of the estimators that train with shots (the
# oracle too: its exact-validation score would leave out the shot noise every estimator's score has).
mode = common_mode(arms.values())
rows, table, vals = [], [], []
for name, r in arms.items():
    seeds = common or sorted(finished[name])
    idx = [r.seeds.index(s) for s in seeds]
    train = final_train_rmse(r.train_rmse, r.epochs_done)
    val = np.nanmin(r.val["windows"][mode][:, :, 2], axis=1)
    vs = "-"
    if ref is not None and r is not ref:
        pairs = [s for s in seeds if s in finished[label(ref)]]
        if pairs:
            vs = str(paired(train[[r.seeds.index(s) for s in pairs]],
                            final_train_rmse(ref.train_rmse, ref.epochs_done)[[ref.seeds.index(s) for s in pairs]]))
    t, v = mean_ci(train[idx]), mean_ci(val[idx])
    vals.append((short(r), v))
    rows.append(f"| {name} | {len(seeds)} | {t} | {v} | {vs} |")
    table.append([name, t.mean, t.low, t.high, v.mean, v.low, v.high, t.n])
if rows:
    c = next(iter(arms.values())).config
    more = [f"{short(r)} {len(finished[name])}" for name, r in arms.items() if len(finished[name]) > len(common)]
    seeds_note = (
        f"Every row is over the same {count(len(common), 'seed')} ({', '.join(map(str, common))}), those every arm "
        "here has finished, so the rows are paired (same initial parameters, same window order). "
        + (f"Some arms have finished more seeds ({', '.join(more)}); [the learning-rate sweep](sweep) averages "
           "over all of them. " if more else "")
        if common else
        "No seed is finished by every arm yet: each row is over its own finished seeds (n), so the rows are not "
        "paired and their means are not over the same seeds. ")
    oracle_note = ("\n\nThe oracle's cost is not a circuit count a quantum computer could run: it is one forward "
                   "pass of the exact simulator followed by a backward pass through it (autograd), a cost on the "
                   "simulator only. Hardware has no backward pass; an exact gradient there needs parameter shift "
                   "(see [the estimators](../../methods)), far more circuits than FDSA's."
                   if any(r.config["method"] == "exact" for r in arms.values()) else "")
    reach = [name for name, v in vals if mean_predictor is not None and v.low < mean_predictor]
    display(Markdown(
        f"**Equal budget per update** (learning rate {c['lr']:g}; {training_windows_words(c)} x "
        f"{c['epochs']} epochs; {c['shots']:,} shots):\n\n| arm | seeds (n) | final-epoch train RMSE | lowest validation "
        "RMSE (windows) | train RMSE minus FDSA's, paired |\n|---|---:|---|---|---|\n" + "\n".join(rows)
        + "\n\n" + seeds_note + "Means [95 % bootstrap interval]; every row's validation "
        + (f"with {c['val_shots']:,} shots, the oracle's too (scored as the estimators are)" if mode == "shots"
           else "with exact probabilities")
        + "; the last column is paired by seed, with a paired t-test and the effect size."
        + (f" Left out, as their protocol or learning rate differs: {', '.join(left_out)}." if left_out else "")
        + oracle_note
        + (f"\n\n**What these runs predict.** At this budget every row's mean lowest validation RMSE lies above the "
           f"{mean_predictor:.4f} of predicting the training mean (windows protocol, [the baselines](baselines))"
           + (", each with its whole interval" if not reach else
              f"; only the interval of {', '.join(reach)} reaches below it")
           + ": these runs have not shown that they predict unseen rows better than a constant, so this table compares how "
           "far each estimator trains in a fixed budget, not how well it predicts."
           if mean_predictor is not None and vals and all(v.mean >= mean_predictor for _, v in vals) else "")
        + (f"\n\n**Not finished yet** (no seed done): {'; '.join(not_yet)}; the comparison fills in as they land."
           if not_yet else "")))
    figures.csv_link(results_path(results_dir, run_name) / "equal_budget.csv", table,
                     ["arm", "train_mean", "train_low", "train_high", "val_mean", "val_low", "val_high", "seeds"])
    save_json(results_path(results_dir, run_name) / "equal_budget.json", {"rows": table, "seeds": common})
else:
    display(Markdown(f"**The equal-budget runs have not finished a seed yet** ({'; '.join(not_yet)}): run "
                     "`python -m qrnn_study run`."))
