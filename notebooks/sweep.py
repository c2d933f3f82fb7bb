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
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.conclusions import baseline_value, common_mode
from qrnn_study.pages import sweep as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_sweeps, read_results
from qrnn_study.study_file import load_study

show_banner(profile)
study = load_study(profile=profile)
sweeps = load_sweeps(results_dir, study)
# Every point scored alike: with shots when an estimator trains with shots, the oracle too (its exact
# score would leave out the shot noise every estimator's score has).
MODE = common_mode(page.found(sweeps))
# The training-mean predictor's validation RMSE (windows protocol), the floor a useful model must beat.
baselines = read_results(results_dir, "baselines", "baselines.json")
mean_predictor = baseline_value(baselines, "mean", "windows") if baselines else None
display(Markdown(page.budget_text(sweeps, results_dir)))

# %% tags=["hide-input"]
fig = page.figure(sweeps, MODE, mean_predictor)
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
# ignores its input. Points are means over seeds, bars their 95 % t intervals (points of one
# rate are drawn slightly apart); $n$ in the legend is the fewest finished seeds at any rate.
# ```

# %% tags=["hide-input"]
table = page.sweep_table(sweeps)
display(Markdown(table.markdown))
save_json(results_path(results_dir, run_name) / "sweep.json", {"columns": page.JSON_COLUMNS, "rows": table.rows})
figures.csv_link(results_path(results_dir, run_name) / "sweep.csv", table.rows, page.CSV_COLUMNS)

# %% tags=["hide-input"]
claim = page.claim(sweeps, MODE, mean_predictor)
glue("sweep_verdict", claim.verdict, display=False)
display(Markdown(claim.markdown))
