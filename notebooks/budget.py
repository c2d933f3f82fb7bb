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

from qrnn_core import figures
from qrnn_core.analysis import comparable, final_train_rmse, mean_ci, paired
from qrnn_core.report import results_path, save_json, show_banner
from qrnn_core.results import load_arm, load_sweep
from qrnn_core.scorecard import SWEEPS

show_banner(profile)
FULL = {figures.ARM_LABELS[a]: a for a in ("spsa-original-shots", "spsa-shots", "spsa-spall-shots", "fdsa-shots")}
full = {label: r for label, a in FULL.items() if (r := load_arm(results_dir, a)) is not None}

# %% tags=["hide-input"]
if full:
    fig = figures.budget_curves(full)
    rows = []
    for label, r in full.items():
        per_epoch = r.circuits_per_update * r.train_rmse.shape[2]
        rows.append(f"| {label} | {r.circuits_per_update} | {r.circuits_per_update * r.shots_per_circuit:,} | "
                    f"{per_epoch:,} | {per_epoch * r.config['epochs']:,} | {int(r.complete.sum())} of {len(r.seeds)} started |")
    display(Markdown(f"| arm ({next(iter(full.values())).shots_per_circuit:,} shots) | circuits per update | shots per update | circuits per epoch | "
                     "circuits in all epochs | seeds finished |\n|---|---|---|---|---|---|\n" + "\n".join(rows)))
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
# circuits x 1,024); mean over seeds with the 95 % bootstrap band where two seeds or more have run the
# epoch. Left the deck's protocol (one
# sequence), right the windows protocol.
# ```

# %% tags=["hide-input"]
def label(r):
    c = r.config
    what = {"spsa": f"SPSA, {c['spsa_directions']} directions", "fdsa": "FDSA", "exact": "oracle, the exact gradient"}
    return f"{what[c['method']]} ({r.circuits_per_update} circuit{'s' * (r.circuits_per_update > 1)} an update)"


expected = {"SPSA with 110 directions (budget-spsa110)": load_arm(results_dir, "budget-spsa110"),
            f"FDSA at lr {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["fdsa"]).get(equal_lr),
            f"2-direction SPSA at lr {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["spsa"]).get(equal_lr),
            f"the oracle at lr {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["exact"]).get(equal_lr)}
found = [r for r in expected.values() if r is not None and r.complete.any()]
not_yet = [name for name, r in expected.items() if r is None or not r.complete.any()]
# Only runs of one protocol and learning rate are compared (the budget arm's, when it has results).
base = found[0].config if found else None
arms = {label(r): r for r in found if not comparable(r.config, base) and r.config["lr"] == base["lr"]}
left_out = [r.arm for r in found if label(r) not in arms]
ref = next((r for r in arms.values() if r.config["method"] == "fdsa"), None)
rows, table = [], []
for label, r in arms.items():
    done = np.flatnonzero(r.complete)
    train = final_train_rmse(r.train_rmse, r.epochs_done)
    mode = "shots" if r.config["shots"] else "exact"
    val = np.nanmin(r.val["windows"][mode][:, :, 2], axis=1)
    vs = "-"
    if ref is not None and r is not ref:
        common = [s for s in r.seeds if s in ref.seeds and r.complete[r.seeds.index(s)] and ref.complete[ref.seeds.index(s)]]
        if common:
            a = [r.seeds.index(s) for s in common]
            b = [ref.seeds.index(s) for s in common]
            vs = str(paired(train[a], final_train_rmse(ref.train_rmse, ref.epochs_done)[b]))
    t, v = mean_ci(train[done]), mean_ci(val[done])
    rows.append(f"| {label} | {t} | {v} | {vs} |")
    table.append([label, t.mean, t.low, t.high, v.mean, v.low, v.high, t.n])
if rows:
    c = next(iter(arms.values())).config
    display(Markdown(
        f"**Equal budget per update** (learning rate {c['lr']:g}; the first {c['train_sequences']} training windows x "
        f"{c['epochs']} epochs; {c['shots']:,} shots):\n\n| arm | final-epoch train RMSE | lowest validation RMSE "
        "(windows) | train RMSE minus FDSA's, paired |\n|---|---|---|---|\n" + "\n".join(rows)
        + "\n\nMeans over finished seeds [95 % bootstrap interval]; the last column is paired by seed, with a "
        "paired t-test and the effect size."
        + (f" Left out, as their protocol or learning rate differs: {', '.join(left_out)}." if left_out else "")
        + (f"\n\n**Not finished yet** (no seed done): {'; '.join(not_yet)}; the comparison fills in as they land."
           if not_yet else "")))
    figures.csv_link(results_path(results_dir, run_name) / "equal_budget.csv", table,
                     ["arm", "train_mean", "train_low", "train_high", "val_mean", "val_low", "val_high", "seeds"])
    save_json(results_path(results_dir, run_name) / "equal_budget.json", {"rows": table})
else:
    display(Markdown(f"**The equal-budget runs have not finished a seed yet** ({'; '.join(not_yet)}): run "
                     "`python -m qrnn_core study`."))
