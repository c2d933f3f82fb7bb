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
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.conclusions import baseline_value
from qrnn_study.pages import budget as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_arm, load_sweep, read_results
from qrnn_study.model import SWEEPS
from qrnn_study.study_file import load_study

show_banner(profile)
study = load_study(profile=profile)
# The training-mean predictor's validation RMSE (windows protocol): what a model that learnt nothing scores.
baselines = read_results(results_dir, "baselines", "baselines.json")
mean_predictor = baseline_value(baselines, "mean", "windows") if baselines else None
full = {label: r for label, a in page.FULL.items() if (r := load_arm(results_dir, a)) is not None}

# %% tags=["hide-input"]
fig = page.figure(full)
if full:
    display(Markdown(page.cost_table(full, {a: len(study.arm_runs(a)) for a in page.FULL.values()})))
    if ratio := page.epochs_ratio(full):
        glue("budget_ratio", f"{ratio[0]:.0f}", display=False)
        display(Markdown(ratio[1]))
glue("budget_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} budget_fig
# :name: fig-budget
# :alt: Validation RMSE against the number of circuits evaluated in training, log scale, for the SPSA and FDSA arms
#
# Validation RMSE (mean of y and z, 1,024-shot validation) after each epoch against the circuits
# evaluated in training up to that epoch (log scale; validation circuits not counted; shots are
# circuits x 1,024); mean over seeds with its 95 % t band where two seeds or more have run the
# epoch. Left the deck's protocol (one
# sequence), right the windows protocol.
# ```

# %% tags=["hide-input"]
expected = {"SPSA with 110 directions (budget-spsa110)": load_arm(results_dir, "budget-spsa110"),
            f"FDSA at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["fdsa"], values=[equal_lr]).get(equal_lr),
            f"2-direction SPSA at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["spsa"], values=[equal_lr]).get(equal_lr),
            f"the oracle at learning rate {equal_lr:g} (the sweep's)": load_sweep(results_dir, SWEEPS["exact"], values=[equal_lr]).get(equal_lr)}
comparison = page.equal_budget(expected, mean_predictor)
display(Markdown(comparison.markdown))
if comparison.rows:
    figures.csv_link(results_path(results_dir, run_name) / "equal_budget.csv", comparison.rows, page.CSV_COLUMNS)
    save_json(results_path(results_dir, run_name) / "equal_budget.json", {"rows": comparison.rows, "seeds": comparison.seeds})
