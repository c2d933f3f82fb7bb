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
# (page-sweep)=
# # The learning-rate sweep
#
# The deck says that "train RMSE is similar for both methods when the learning rate is low enough"
# without showing a sweep. This page runs one: corrected SPSA (fresh directions every update, two
# directions, 1,024 shots), FDSA (1,024 shots) and the oracle (the exact gradient) at the same
# learning rates (Adam's step size, "lr" below), the same paired seeds (same initial parameters and
# window order for every arm and rate) and a **reduced budget**, stated below: the sweep trains on
# a subsample of the training windows spread evenly over the whole training span (as an epoch's
# windows are) for a few epochs, not the deck's 1,384 windows x 10 epochs. Its numbers are therefore not the full protocol's; they compare the estimators with each
# other at equal updates.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "sweep"

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.analysis import final_train_rmse, mean_ci
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.conclusions import baseline_value, by_side, common_mode, placed
from qrnn_study.results import load_sweep, read_results
from qrnn_study.runner import load_study
from qrnn_study.scorecard import SIMILAR, SWEEPS, learning_rate_rows, sweep_ratios
from qrnn_study.words import and_join, training_windows_words

show_banner(profile)
study = load_study(profile=profile)
sweeps = {m: load_sweep(results_dir, family, values=study.sweep_values(family)) for m, family in SWEEPS.items()}
shots = next((r.config["shots"] for p in sweeps.values() for r in p.values() if r.config["shots"]), 1024)
LABELS = {"spsa": f"SPSA corrected, {shots:,} shots", "fdsa": f"FDSA, {shots:,} shots", "exact": "oracle (exact gradient)"}
found = [r for points in sweeps.values() for r in points.values()]
# Every point scored alike: with shots when an estimator trains with shots, the oracle too (its exact
# score would leave out the shot noise every estimator's score has).
MODE = common_mode(found)
# The training-mean predictor's validation RMSE (windows protocol), the floor a useful model must beat.
baselines = read_results(results_dir, "baselines", "baselines.json")
mean_predictor = baseline_value(baselines, "mean", "windows") if baselines else None
if found:
    c = found[0].config
    display(Markdown(
        f"**Budget of every sweep run:** {training_windows_words(c)}, {c['epochs']} epochs "
        f"({c['train_sequences'] * c['epochs']:,} updates, batch 1), the original study's series, "
        f"{c['precision']}. **Rates:** {', '.join(f'{lr:g}' for lr in sorted({lr for p in sweeps.values() for lr in p}))}. "
        "**Finished seeds per rate:** " + "; ".join(
            f"{LABELS[m]} " + (", ".join(f"{lr:g}: {int(r.complete.sum())}" for lr, r in p.items()) or "none yet")
            for m, p in sweeps.items()) + "."))
else:
    display(Markdown(f"**No sweep run has finished an epoch yet** in `{results_dir}`: run "
                     "`python -m qrnn_study run` (this page fills in as they finish)."))

# %% tags=["hide-input"]
if found:
    fig = figures.sweep_figure({LABELS[m]: p for m, p in sweeps.items() if p}, mode=MODE)
    if mean_predictor is not None:  # on the validation panel (right): the training-mean predictor
        val_ax = fig.axes[1]
        line = val_ax.axhline(mean_predictor, color="k", ls="--", lw=1.2, label="training-mean predictor")
        val_ax.legend(handles=[line], loc="lower left", frameon=False, fontsize="small")
else:
    fig = figures.placeholder("learning-rate sweep: no finished run yet")
glue("sweep_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} sweep_fig
# :name: fig-sweep
# :alt: Final-epoch train RMSE and lowest validation RMSE against the learning rate for SPSA, FDSA and the oracle
#
# The learning-rate sweep. Left: the training RMSE averaged over the last epoch's updates; right: the
# lowest validation RMSE (mean of y and z) over epochs under the windows protocol, every point with
# 1,024-shot validation, the oracle's too (as the estimators are scored); the dashed line is the
# validation RMSE of the training-mean predictor (see [the baselines](baselines)), a model that
# ignores its input. Points are means over seeds, bars their 95 % bootstrap intervals (points of one
# rate are drawn slightly apart); $n$ in the legend is the fewest finished seeds at any rate.
# ```

# %% tags=["hide-input"]
rows, table = [], []
ratios = sweep_ratios(sweeps["spsa"], sweeps["fdsa"])
for lr in sorted({lr for p in sweeps.values() for lr in p}):
    cells = []
    for m in SWEEPS:
        r = sweeps[m].get(lr)
        est = mean_ci(final_train_rmse(r.train_rmse, r.epochs_done)[r.complete]) if r is not None and r.complete.any() else None
        cells.append(est.format(4, seeds=True) if est else "-")
        if est:
            table.append([m, lr, est.mean, est.low, est.high, est.n])
    ratio = ratios.get(lr)
    ratio_text = "-" if ratio is None else (f"{ratio.mean:.2f} [{ratio.low:.2f}, {ratio.high:.2f}]" if ratio.n > 1
                                            else f"{ratio.mean:.2f} (1 seed)")
    rows.append(f"| {lr:g} | " + " | ".join(cells) + f" | {ratio_text} |")
display(Markdown("| learning rate | " + " | ".join(LABELS[m] for m in SWEEPS) + " | SPSA / FDSA, paired |\n"
                 "|---|---|---|---|---|\n" + "\n".join(rows)
                 + "\n\nFinal-epoch train RMSE, mean over each estimator's finished seeds [95 % bootstrap interval] "
                 "(n: its seeds; the columns are over different seeds where their n differ, so they are not "
                 "paired); the last column is SPSA's over FDSA's seed by seed, over the seeds both finished."))
save_json(results_path(results_dir, run_name) / "sweep.json", {"columns": ["estimator", "lr", "mean", "low", "high", "n"],
                                                                "rows": table})
figures.csv_link(results_path(results_dir, run_name) / "sweep.csv", table,
                 ["estimator", "lr", "train_rmse_mean", "low", "high", "seeds"])

# %% tags=["hide-input"]
row = learning_rate_rows(sweeps)[0]
oracle = {lr: mean_ci(final_train_rmse(r.train_rmse, r.epochs_done)[r.complete]).mean
          for lr, r in sweeps["exact"].items() if r.complete.any()}
oracle_note = ""
if len(oracle) > 1:
    best_lr = min(oracle, key=oracle.get)
    oracle_note = (f"How much training this budget allows: the oracle's final train RMSE is {oracle[min(oracle)]:.4f} "
                   f"at the lowest rate ({min(oracle):g}) and {oracle[best_lr]:.4f} at its best rate ({best_lr:g}); "
                   "where every estimator is still near its start, similar numbers say little about the estimators."
                   + (" Its best rate is the grid's largest: the sweep does not bracket an optimum." if best_lr == max(oracle)
                      else ""))
NAMES = {"spsa": "corrected SPSA", "fdsa": "FDSA", "exact": "the oracle"}


def rates_text(lrs) -> str:
    """``rate 0.001`` or ``rates 0.0003, 0.001 and 0.003``."""
    return ("rate " if len(lrs) == 1 else "rates ") + and_join(f"{lr:g}" for lr in sorted(lrs))


def lowest_val(r):
    """Lowest windows-protocol validation RMSE over epochs per finished seed, as a mean with its interval
    (scored as in the figure)."""
    return mean_ci(np.nanmin(r.val["windows"][MODE][r.complete][:, :, 2], axis=1))


if mean_predictor is not None and found:
    # A method fails the constant predictor at a rate only where its whole interval lies above it.
    clauses, above = [], {}  # above: method -> the rates at which it does not beat the mean predictor
    for m, points in sweeps.items():
        val = {lr: lowest_val(r) for lr, r in points.items() if r.complete.any()}
        if not val:
            continue
        groups = by_side(val, mean_predictor)  # placed by the whole interval
        above[m] = groups.get("above", [])
        means = [v.mean for v in val.values()]
        span = f"{means[0]:.4f}" if len(val) == 1 else f"{min(means):.4f} to {max(means):.4f} across rates (means)"
        where = "; ".join(f"{placed(w)} at {'every swept rate' if len(lrs) == len(val) else rates_text(lrs)}"
                          for w, lrs in groups.items())
        clauses.append(f"{NAMES[m]} {span}, {where}")
    oracle_note += (" On validation (windows protocol), the training-mean predictor, which ignores its input, "
                    f"scores {mean_predictor:.4f} (the dashed line in {{numref}}`fig-sweep`; see "
                    "[the baselines](baselines)). Lowest validation RMSE, placed by its 95 % interval: "
                    + "; ".join(clauses) + ".")
    never = [NAMES[m] for m, lrs in above.items() if lrs and len(lrs) == sum(r.complete.any() for r in sweeps[m].values())]
    if any(above.values()):
        oracle_note += (" Where a method's interval lies above that line, its trained model predicts the unseen "
                        "rows no better than a constant: on this budget (the first windows of the training span only) "
                        + "; ".join(f"{NAMES[m]} does not generalise at any swept rate" if NAMES[m] in never
                                    else f"{NAMES[m]} does not at {rates_text(lrs)}" for m, lrs in above.items() if lrs)
                        + ".")
        if above.get("exact"):
            oracle_note += (f" The oracle, with the exact gradient, does not beat the constant predictor either at "
                            f"{rates_text(above['exact'])}: "
                            "there the limit is the reduced budget's, not the estimators'.")
similar = [lr for lr, r in ratios.items() if r.n > 1 and 1 - SIMILAR <= r.low and r.high <= 1 + SIMILAR]
glue("sweep_verdict", row["verdict"], display=False)
display(Markdown(
    f"**The deck's claim, tested.** Verdict: **{row['verdict']}** ({row['rule']}). Measured: {row['measured']}. "
    + (f"SPSA's train RMSE is within {SIMILAR * 100:.0f} % of FDSA's (the whole interval) at learning "
       f"{rates_text(similar)}. " if similar else
       f"At no swept rate does the whole interval of SPSA / FDSA lie within {SIMILAR * 100:.0f} % of 1. " if ratios
       else "")
    + oracle_note.strip()))
