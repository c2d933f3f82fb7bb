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
# (page-gradients)=
# # Gradient estimators against the exact gradient
#
# For one training window ({glue:text}`grad_window`) and the initial parameters of the study's runs
# with seed {glue:text}`grad_seed`, each estimator's gradient of that window's training loss (the
# mean squared error over steps {glue:text}`grad_scored`, as in training) with respect to the
# {glue:text}`grad_n_params` input-layer parameters, against the exact gradient (autograd through the
# simulator), and what it costs in circuit evaluations ({numref}`fig-gradients-error`). Probabilities are exact, so only the estimators' own errors are
# measured. SPSA is random: its error is shown over many independent draws.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "gradients"  # this run's folder under results_dir
n_qubits = 8
steps = 20  # steps of the window taken (20: a whole training window)
seed = 1929
spsa_draws = 200
fdsa_steps = [0.4, 0.2, 0.1, 0.05, 0.025]

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study.pages import gradients as page
from qrnn_study.report import results_path, save_json, show_banner

show_banner(profile)
# The first training window of the original's series (batch 1) at the initial parameters of this seed.
g = page.compare(n_qubits, steps, seed, spsa_draws, fdsa_steps)
save_json(results_path(results_dir, run_name) / "gradients.json", g.record())
display(Markdown(page.table(g)))
for name, value in page.values(g).items():
    glue(name, value, display=False)

# %% tags=["hide-input"]
fig = page.figure(g)
glue("fig_gradients", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_gradients
# :name: fig-gradients-error
# :alt: Left, a log-log scatter of each gradient estimator's relative error against its circuit evaluations per backward pass, for parameter-shift, FDSA at several step sizes, one SPSA draw with its spread and the mean of many SPSA draws; right, a histogram of the cosine between single SPSA estimates and the exact gradient
#
# Left: how far each estimator's gradient is from the exact one (relative error, log scale) against
# what it costs (circuit evaluations per backward pass, log scale); lower and further left is better.
# FDSA's points share one cost and differ by step size $h$ (the first and last labelled); the SPSA
# square is the median of single draws with their 5-95 % range. Right: the cosine between single
# SPSA estimates and the exact gradient over {glue:text}`grad_spsa_draws` draws (1 = the exact
# direction, 0 = unrelated); the dashed line marks the median.
# ```
#
# Parameter-shift, applied per gate and per time step through the mid-circuit measurement and
# reset, equals the exact gradient to {glue:text}`grad_ps_error` (relative): the original dropped it
# believing the measure-and-reset made it impossible. A single SPSA estimate
# ({glue:text}`grad_spsa_directions` directions, {glue:text}`grad_spsa_circuits` circuits) is a
# rough direction, median cosine {glue:text}`grad_spsa_cosine` with the exact gradient
# ({numref}`fig-gradients-error`, right), which only averages out over many updates; FDSA at the
# study's $h =$ {glue:text}`grad_fdsa_h` is within {glue:text}`grad_fdsa_error` of it.
