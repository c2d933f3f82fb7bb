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
# (page-baselines)=
# # Baselines: what a validation RMSE means here
#
# The QRNN's validation RMSE is in the scaled units of the original study's series (each of x, y, z
# min-max scaled to [0, 1] over a longer trajectory than its 9,900 rows, so the rows used here span
# part of that range: see [the data](data)). To read a number such as 0.09, this page scores five simple predictors
# of $(y, z)(t+1)$ from $x(t)$ on the same task and on both validation protocols: the deck's (the
# whole 2,969-step validation span as one sequence started fresh, every step scored) and the windows
# protocol (590 windows of 20 steps, each started fresh, steps 5..19 scored). Every baseline is
# fitted on the training span only (rows before 6,930); its hyperparameters are chosen by fitting on
# the first 80 % of that span and scoring on the last 20 %, never on validation data.
#
# * **mean**: always predict the training mean of $(y, z)$. Its RMSE is about the spread of the
#   targets: a model that scores near it has learnt nothing from $x$.
# * **linear**: least squares $(y, z)(t+1) = a\,x(t) + b$, no memory. Since $\dot x = \sigma(y - x)$,
#   $x$ alone says a good deal about $y$ and almost nothing about $z$.
# * **NG-RC**: next-generation reservoir computing {cite:p}`gauthier2021next`: a constant, $k$ delayed
#   inputs $x(t), x(t-s), \dots, x(t-(k-1)s)$ and all their quadratic products, with a ridge
#   readout. Missing history at the start of a sequence or window is the first value repeated.
# * **ESN**: a classical echo-state network used as a "reservoir observer" {cite:p}`lu2017reservoir`: a
#   random 300-unit tanh reservoir (reservoirpy) driven by $x(t)$, with only a ridge readout of its
#   state trained; several reservoir seeds. It starts from a zero state in each sequence or window.
# * **QESN**: the QRNN's own circuit frozen at the random initialisation the trained runs start from,
#   with only its linear readout (16 outcome probabilities and an intercept) fitted by ridge
#   regression: the quantum echo-state network of {cite:t}`connerty2025quantum` (a research paper by the
#   deck's first author with others, the work the deck cites; not the deck). It measures what training
#   the circuit adds. Scored with exact probabilities and with 1,024-shot frequencies.
#
# NG-RC, ESN and QESN are fitted once for each protocol, in that protocol's form (the QESN's windows
# readout on the training windows, as the trained runs are; its sequence readout with its washout and
# ridge penalty chosen, like every other setting here, on the training span alone). For the deck's protocol
# the readout is fitted so that, as in validation, the first steps after a fresh start count (without
# this, a readout fitted on settled reservoir states alone makes errors of order 1 to 100 in the first
# few dozen steps). The settings each baseline chose are listed below the table.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "baselines"  # this run's folder under results_dir
seeds = None  # the ESN's reservoir seeds and the QESN's circuit seeds; None: the profile's (the trained arms' seeds)
esn_candidates = None  # the ESN's hyperparameters to choose from, [{sr, lr, input_scaling}]; None: the whole grid

# %% tags=["hide-input"]
# %matplotlib inline
import time

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.baselines import SHOTS, run_baselines
from qrnn_core.data import DataConfig, make_task
from qrnn_study import figures
from qrnn_study.pages import baselines as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.study_file import load_study

show_banner(profile)
task = make_task(DataConfig(source="original"))
t0 = time.perf_counter()
if seeds is None:
    seeds = load_study(profile=profile).seeds
results = run_baselines(task, seeds=seeds, shots=SHOTS, esn_candidates=esn_candidates)
seconds = time.perf_counter() - t0
out_dir = results_path(results_dir, run_name)
save_json(out_dir / "baselines.json", results)
glue("baselines_seconds", f"{seconds:.0f}", display=False)
glue("baselines_n_seeds", f"{len(seeds)} seed{'s' * (len(seeds) != 1)}", display=False)

# %% tags=["hide-input"]
text, values = page.table(results, seeds)
for name, value in values.items():
    glue(name, value, display=False)
display(Markdown(text))
display(Markdown(page.settings(results)))

# %% tags=["hide-input"]
fig, rows = page.figure(results, seeds)
glue("baselines_fig", fig, display=False)
plt.close(fig)
figures.csv_link(out_dir / "baselines.csv", rows, page.CSV_COLUMNS)

# %% [markdown]
# ```{glue:figure} baselines_fig
# :name: fig-baselines
# :alt: Bar chart on a logarithmic axis of the validation RMSE, mean of y and z, for the mean, linear, NG-RC, ESN and QESN baselines, with one bar for the deck's one-sequence protocol and one for the windows protocol
#
# Validation RMSE (mean of y and z, scaled units, logarithmic axis) of each baseline on the deck's
# protocol (one 2,969-step sequence) and the windows protocol (steps 5..19 of 20-step windows), exact
# probabilities; ESN and QESN bars are means over seeds with their standard deviation. The mean
# predictor marks "learnt nothing"; the classical reservoirs (NG-RC, ESN) show how small the error
# can get from $x$ alone; the QESN is the untrained circuit with only its readout fitted.
# ```

# %% [markdown]
# The whole run took {glue:text}`baselines_seconds` s ({glue:text}`baselines_n_seeds`). On the
# deck's protocol the mean predictor scores {glue:text}`baseline_mean_sequence_mean`, the linear fit
# {glue:text}`baseline_linear_sequence_mean` (y {glue:text}`baseline_linear_sequence_y`, z
# {glue:text}`baseline_linear_sequence_z`), NG-RC {glue:text}`baseline_ngrc_sequence_mean`, the ESN
# {glue:text}`baseline_esn_sequence_mean` and the frozen circuit (QESN)
# {glue:text}`baseline_qesn_sequence_mean` with exact probabilities; on the windows protocol the QESN
# scores {glue:text}`baseline_qesn_windows_mean`.

# %% tags=["hide-input"]
# Every baseline against the training mean, each protocol and each way it is fitted and applied.
display(Markdown(page.against_mean(results)))
