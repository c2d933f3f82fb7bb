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
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from matplotlib.patches import Patch
from myst_nb import glue

from qrnn_core.data import ORIGINAL_ROWS, ORIGINAL_SERIES, DataConfig, make_task
from qrnn_study.figures import style
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_core.train import TrainConfig

show_banner(profile)
style()
config = DataConfig(n_samples=n_samples, window=window, stride=stride, train_fraction=train_fraction,
                    scaling=scaling, source=source)
task = make_task(config)
other_source = "generated" if source == "original" else "original"
rows_of_other = {"n_samples": ORIGINAL_ROWS} if other_source == "original" else {}
tasks = {source: task, other_source: make_task(dataclasses.replace(config, source=other_source, **rows_of_other))}
warmup = TrainConfig().warmup  # steps of each window left out of the loss (the deck's 5)
ranges = {src: {v: (float(t.series[:, k].min()), float(t.series[:, k].max())) for k, v in enumerate("xyz")}
          for src, t in tasks.items()}
counts = {"source": source, "samples": len(task.series), "train_sequences": len(task.train_x), "window": window,
          "stride": stride, "warmup": warmup, "val_steps": len(task.val_x), "val_start": task.val_start,
          "val_windows": len(task.val_windows_x), "ranges": ranges}
save_json(results_path(results_dir, run_name) / "data.json", counts)
for k in ("samples", "train_sequences", "val_steps", "val_start", "val_windows"):
    glue(f"data_{k}", f"{counts[k]:,}", display=False)
for k in ("window", "stride", "warmup"):
    glue(f"data_{k}", str(counts[k]), display=False)
glue("data_scored", str(window - warmup), display=False)
glue("data_val_end", f"{len(task.series) - 1:,}", display=False)
glue("data_train_share", f"{train_fraction * 100:.0f} %", display=False)
glue("data_val_share", f"{(1 - train_fraction) * 100:.0f} %", display=False)
# Where the windows start (as qrnn_core.data.make_task cuts them): a window starting at row s reads x in
# rows s .. s + window - 1 and is scored on y, z in rows s + 1 .. s + window.
n_starts = len(task.series) - window  # every row whose window (and its targets) fits in the series
last_start = (len(task.train_x) - 1) * stride
val_last_start = task.val_start + (len(task.val_windows_x) - 1) * stride
assert torch.equal(task.train_x[-1], task.series[last_start:last_start + window, 0])
assert torch.equal(task.val_windows_x[-1], task.series[val_last_start:val_last_start + window, 0])
reaching = sum(s + window >= task.val_start for s in range(0, last_start + 1, stride))  # targets in validation
glue("data_n_starts", f"{n_starts:,}", display=False)
glue("data_start_limit", f"{int(train_fraction * n_starts):,}", display=False)
glue("data_last_start", f"{last_start:,}", display=False)
glue("data_val_last_start", f"{val_last_start:,}", display=False)
glue("data_reaching", ("no training window has targets in it" if reaching == 0 else
                       "the last training window has targets in its first rows" if reaching == 1 else
                       f"the last {reaching} training windows have targets in its first rows"), display=False)
SCALED_OVER = {"whole": "the whole series", "train": "the training span"}[scaling]
SOURCE_NAME = {"original": f"the original study's own series (data/original/{ORIGINAL_SERIES.name}, used as it is)",
               "generated": f"a series integrated here (DOP853) and min-max scaled over {SCALED_OVER}"}
glue("data_source_name", SOURCE_NAME[source], display=False)


def span(lo_hi):
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"


glue("data_original_ranges", ", ".join(f"{v} {span(r)}" for v, r in ranges["original"].items()), display=False)
display(Markdown(
    "| series | shown here | rows | x range | y range | z range |\n|---|:---:|---:|---:|---:|---:|\n" + "\n".join(
        f"| {'original study' + chr(39) + 's file' if src == 'original' else 'generated here'} | "
        f"{'yes' if src == source else 'no'} | {len(tasks[src].series):,} | "
        + " | ".join(span(ranges[src][v]) for v in "xyz") + " |" for src in ("original", "generated"))
    + "\n\nMinimum and maximum of each scaled column over the series' rows."))

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
s = task.series.numpy()
rows = np.arange(len(s))
fig = plt.figure(figsize=(11, 5.4), layout="constrained")
grid = fig.add_gridspec(3, 3, width_ratios=[1, 0.12, 1.35])  # the middle column keeps the z label clear
ax3 = fig.add_subplot(grid[:, 0], projection="3d")
ax3.plot(*s.T, lw=0.4, color="C0")
ax3.set_xlabel("x (scaled)", labelpad=10)
ax3.set_ylabel("y (scaled)", labelpad=10)
ax3.set_zlabel("z (scaled)", labelpad=10)
ax3.set_title("the attractor, all rows")
ax3.set_box_aspect(None, zoom=0.85)
axes = [fig.add_subplot(grid[k, 2]) for k in range(3)]
for k, (ax, name, role) in enumerate(zip(axes, "xyz", ("input", "target", "target"))):
    ax.plot(rows, s[:, k], lw=0.6, color=f"C{k}")
    ax.axvspan(task.val_start, len(s) - 1, color="grey", alpha=0.25, lw=0)
    ax.set_ylabel(f"{name} (scaled)\n{role}")
    ax.set_xlim(0, len(s) - 1)
    if k < 2:
        ax.tick_params(labelbottom=False)
axes[-1].set_xlabel(f"row of the series (one row = {config.dt:g} time units)")
axes[0].set_title("training span | validation span (grey)")
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
fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
steps = np.arange(window)
ax.axvspan(-0.5, warmup - 0.5, color="grey", alpha=0.2, lw=0, label="warm-up (not in the loss)")
ax.plot(steps, task.train_x[0].numpy(), "k.-", ms=8, label="input x(t)")
ax.plot(steps, task.train_y[0, :, 0].numpy(), "C1.-", ms=8, label="target y(t+1)")
ax.plot(steps, task.train_y[0, :, 1].numpy(), "C2.-", ms=8, label="target z(t+1)")
ax.set(xlabel=f"step in the window (one step = {config.dt:g} time units)", ylabel="value (scaled units)",
       xlim=(-0.5, window - 0.5), xticks=steps[::2])
ax.grid(alpha=0.3)
fig.legend(loc="outside right center")
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
shown = 80  # steps of the validation span drawn
starts = [w * stride for w in range(len(task.val_windows_x)) if w * stride + window <= shown]
fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.2), sharex=True, layout="constrained",
                                  height_ratios=[1, 2.4])
v = np.arange(shown)
top.plot(v, task.val_x[:shown].numpy(), "k-", lw=1.2, label="input x(t)")
top.plot(v, task.val_y[:shown, 0].numpy(), "C1-", lw=1.2, label="target y(t+1)")
top.plot(v, task.val_y[:shown, 1].numpy(), "C2-", lw=1.2, label="target z(t+1)")
top.set_ylabel("value\n(scaled units)")
top.grid(alpha=0.3)
top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
labels = ["deck's sequence"] + [f"window {i + 1}" for i in range(len(starts))]
bottom.barh(0, shown, left=-0.5, height=0.6, color="C0")
bottom.annotate(f"... continues to step {len(task.val_x):,}", (shown - 1, 0), xytext=(-6, 0),
                textcoords="offset points", ha="right", va="center", color="white", fontweight="bold")
for i, s0 in enumerate(starts, start=1):
    bottom.barh(i, warmup, left=s0 - 0.5, height=0.6, color="C0", alpha=0.3)
    bottom.barh(i, window - warmup, left=s0 + warmup - 0.5, height=0.6, color="C0")
bottom.set_yticks(range(len(labels)), labels)
bottom.invert_yaxis()
bottom.set_xlabel(f"step of the validation span (step 0 = row {task.val_start:,})")
bottom.set_xlim(-0.5, shown - 0.5)
bottom.legend(handles=[Patch(color="C0", label="scored steps"),
                       Patch(color="C0", alpha=0.3, label="warm-up, fresh memory\n(not scored)")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
glue("fig_data_validation", fig, display=False)
plt.close(fig)
glue("data_shown", str(shown), display=False)
glue("data_windows_shown", str(len(starts)), display=False)

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
