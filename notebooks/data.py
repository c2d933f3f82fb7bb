# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The task and its data
#
# The Lorenz system
#
# $$\dot x = \sigma (y - x), \qquad \dot y = x(\rho - z) - y, \qquad \dot z = x y - \beta z$$
#
# with $\sigma = 10$, $\rho = 28$, $\beta = 8/3$, sampled every $dt = 0.01$. The QRNN sees only
# $x(t)$ and predicts $y(t+1)$ and $z(t+1)$: *cross prediction*, inferring unseen variables.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "data"  # this run's folder under results_dir
n_samples = 9900
window = 20
stride = 5
train_fraction = 0.7
scaling = "whole"

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from myst_nb import glue

from qrnn_core.data import DataConfig, make_task
from qrnn_core.report import results_path, save_json, show_banner

show_banner(profile)
config = DataConfig(n_samples=n_samples, window=window, stride=stride, train_fraction=train_fraction,
                    scaling=scaling)
task = make_task(config)
counts = {"samples": n_samples, "train_sequences": len(task.train_x), "window": window,
          "val_steps": len(task.val_x), "val_start": task.val_start}
save_json(results_path(results_dir, run_name) / "data.json", counts)
for k, v in counts.items():
    glue(f"data_{k}", v, display=False)

# %% [markdown]
# The series has {glue:text}`data_samples` samples; training uses {glue:text}`data_train_sequences`
# windows of {glue:text}`data_window` steps (every 5th of the first 70 %), and validation runs the
# last 30 % (from row {glue:text}`data_val_start`) as one sequence of {glue:text}`data_val_steps` steps.

# %% tags=["hide-input"]
s = task.series.numpy()
fig = plt.figure(figsize=(11, 4))
ax = fig.add_subplot(1, 2, 1, projection="3d")
ax.plot(*s.T, lw=0.4)
ax.set(xlabel="x", ylabel="y", zlabel="z", title="Lorenz attractor (scaled)")
ax2 = fig.add_subplot(1, 2, 2)
for k, name in enumerate("xyz"):
    ax2.plot(s[:, k] + 1.2 * k, lw=0.6, label=name)
ax2.axvspan(task.val_start, len(s), color="grey", alpha=0.2, label="validation")
ax2.set(xlabel="step", yticks=[], title="x (input) and y, z (targets), offset")
ax2.legend(loc="upper right", fontsize=8)
fig.tight_layout()
glue("fig_data", fig, display=False)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(range(window), task.train_x[0].numpy(), "k.-", label="input x(t)")
ax.plot(range(window), task.train_y[0, :, 0].numpy(), "C1.-", label="target y(t+1)")
ax.plot(range(window), task.train_y[0, :, 1].numpy(), "C2.-", label="target z(t+1)")
ax.axvspan(-0.5, 4.5, color="grey", alpha=0.15, label="warm-up (not in the loss)")
ax.set(xlabel="step in window", title="one training sequence")
ax.legend(fontsize=8)
plt.show()
