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
# (page-data)=
# # The task and its data
#
# The task is *cross prediction* on the Lorenz system
#
# $$\dot x = \sigma (y - x), \qquad \dot y = x(\rho - z) - y, \qquad \dot z = x y - \beta z$$
#
# with $\sigma = 10$, $\rho = 28$, $\beta = 8/3$, sampled every $dt = 0.01$: the QRNN sees only
# $x(t)$ and predicts $y(t+1)$ and $z(t+1)$, inferring variables it never sees.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "data"  # this run's folder under results_dir
source = "original"  # "original": the original study's own series (data/original/); "generated": integrated here
n_samples = 9900
window = 20
stride = 5
train_fraction = 0.7
scaling = "whole"

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.data import DataConfig
from qrnn_core.train import TrainConfig
from qrnn_study.pages import data as page
from qrnn_study.report import results_path, save_json, show_banner

show_banner(profile)
config = DataConfig(n_samples=n_samples, window=window, stride=stride, train_fraction=train_fraction,
                    scaling=scaling, source=source)
tasks = page.both_sources(config)
task = tasks[source]
warmup = TrainConfig().warmup  # steps of each window left out of the loss (the deck's 5)
ranges = page.ranges(tasks)
counts = page.counts(task, config, warmup, ranges)
save_json(results_path(results_dir, run_name) / "data.json", counts)
for name, value in page.values(task, config, counts).items():
    glue(name, value, display=False)
display(Markdown(page.ranges_table(tasks, source, ranges)))

# %% [markdown]
# **The series shown on this page** is {glue:text}`data_source_name`. The two sources are in
# different units: the original file was min-max scaled over a longer trajectory than the
# {glue:text}`data_samples` rows it keeps, so within those rows its columns do not span [0, 1]
# ({glue:text}`data_original_ranges`), while a generated series is scaled on its own rows (the table
# above). RMSEs on the two sources are therefore never compared; the training arms of `study.yml`
# use the original series.
#
# The series has {glue:text}`data_samples` rows. A window starting at row $s$ reads $x$ in the
# {glue:text}`data_window` rows from $s$ on and is scored on $y$ and $z$ one row later, so
# {glue:text}`data_n_starts` rows can start a window. Training uses the
# {glue:text}`data_train_sequences` windows of {glue:text}`data_window` steps that start every
# {glue:text}`data_stride` rows among the first {glue:text}`data_train_share` of those starts (rows
# 0, {glue:text}`data_stride`, ..., {glue:text}`data_last_start`, all before row
# {glue:text}`data_start_limit`). Validation uses the last {glue:text}`data_val_share` of the series,
# from row {glue:text}`data_val_start`; {glue:text}`data_reaching` (see
# [the deviations](../../deviations)). {numref}`fig-data-attractor` shows both spans,
# {numref}`fig-data-window` one training window.

# %% tags=["hide-input"]
fig = page.attractor_figure(task, config)
glue("fig_data_attractor", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_data_attractor
# :name: fig-data-attractor
# :alt: Left, a 3-D line plot of the butterfly-shaped Lorenz attractor in scaled x, y, z; right, three stacked time series of x, y and z against row, the last 30 percent of the rows shaded grey as the validation span
#
# The series the network learns from, in scaled units. Left: the two-lobed Lorenz attractor traced
# by all rows. Right: the input x and the targets y and z against row; the grey span at the right is
# held out for validation, everything before it supplies the training windows.
# ```

# %% tags=["hide-input"]
fig = page.window_figure(task, config, warmup)
glue("fig_data_window", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_data_window
# :name: fig-data-window
# :alt: Line plot of one 20-step training window: the input x and the targets y and z against the step, the first five steps shaded grey as warm-up
#
# One training sequence, the first window of the series: at each step the network reads x(t) and is
# scored on y(t+1) and z(t+1). The first {glue:text}`data_warmup` steps (grey) only build up the
# memory and are left out of the loss.
# ```
#
# ## Validation, two ways
#
# Every validation is reported under two protocols ({numref}`fig-data-validation`):
#
# * **the deck's**: the whole validation span, rows {glue:text}`data_val_start` to
#   {glue:text}`data_val_end`, run as ONE continuous sequence of {glue:text}`data_val_steps` steps,
#   every step scored, the memory carried from the first step to the last;
# * **windows**, matching training: the {glue:text}`data_val_windows` windows of
#   {glue:text}`data_window` steps inside the same span that start every {glue:text}`data_stride`
#   rows (rows {glue:text}`data_val_start`, ..., {glue:text}`data_val_last_start`), each started
#   from a fresh memory and scored on its last {glue:text}`data_scored` steps as in training.
#
# The first asks the network to track the attractor for thousands of steps without a reset, which
# training never asked of it; the second asks exactly what training asked, on unseen rows.

# %% tags=["hide-input"]
fig, shown, windows_shown = page.validation_figure(task, config, warmup)
glue("fig_data_validation", fig, display=False)
plt.close(fig)
glue("data_shown", str(shown), display=False)
glue("data_windows_shown", str(windows_shown), display=False)

# %% [markdown]
# ```{glue:figure} fig_data_validation
# :name: fig-data-validation
# :alt: Top, the input x and targets y and z over the first 80 steps of the validation span; bottom, horizontal bars, one long bar for the deck's single sequence and a staircase of short overlapping bars for the 20-step windows, each with a lighter warm-up part
#
# The two validation protocols on the first {glue:text}`data_shown` steps of the validation span.
# The deck's protocol (top bar) scores every step of one unbroken sequence; the windows protocol
# (the staircase, {glue:text}`data_windows_shown` of its {glue:text}`data_val_windows` windows shown)
# restarts the memory every {glue:text}`data_stride` steps and scores only each window's last
# {glue:text}`data_scored` steps (dark).
# ```
