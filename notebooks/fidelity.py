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
# (page-fidelity)=
# # Fidelity: the original's own trained models, evaluated here
#
# The original study saved its trained models: the SPSA run after each of epochs 1 to 4, and the
# FDSA server run after epoch 4, together with the validation RMSEs it logged for them (Qiskit Aer,
# finite shots, the last 30 % of its own series run as ONE 2,969-step sequence). Here those very
# parameters are loaded into this study's model and run by this study's simulator on the same
# series with the same protocol. Nothing is fitted: if the circuit, the order of the 55 angles,
# the bit order of the 16 readout outcomes or the layout of the readout layer differed in any way,
# the RMSEs would be far off. Agreement with the logs therefore shows that this study simulates
# the original's model, so its own results can be set beside the deck's.
#
# The logs carry shot noise, so each logged value is compared with the distribution of RMSEs that
# a run with the original's shots gives. Two ways of drawing the shots are shown:
#
# - **independent steps**: each step's counts drawn on their own (what this study's training
#   validation does), drawn {glue:text}`fid_shot_seeds` times;
# - **trajectories** (what Aer does): each shot runs through all 2,969 steps, so its outcomes at
#   different steps are correlated through the memory qubits. The expected RMSE is the same, the
#   spread is wider. The spread comes from a first-order expansion of the RMSE in the shot noise,
#   whose correlations across steps are propagated exactly through the circuit's Kraus operators.
#
# A logged value agrees when it lies in the central 99 % of the trajectory distribution.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "fidelity"  # this run's folder under results_dir
shot_seeds = 200  # independent-step validations drawn per checkpoint
checkpoints = None  # None: every checkpoint of the original; or a list of their names (tests)

# %% tags=["hide-input"]
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.fidelity import CHECKPOINTS, FAMILY, Z_BAND, Z_FAMILY, fidelity_table
from qrnn_study.pages import fidelity as page
from qrnn_study.report import results_path, save_json, show_banner

torch.set_num_threads(1)  # thousands of 16 x 16 operations in sequence: threads only contend
show_banner(profile)
t0 = time.perf_counter()
rows = fidelity_table(shot_seeds=shot_seeds, names=tuple(checkpoints or CHECKPOINTS))
glue("fid_shot_seeds", f"{shot_seeds:,}", display=False)
glue("fid_fdsa_shots", f"{CHECKPOINTS['fdsa_epoch4'].shots:,}", display=False)
glue("fid_spsa_shots", f"{CHECKPOINTS['spsa_epoch1'].shots:,}", display=False)
seconds = time.perf_counter() - t0
save_json(results_path(results_dir, run_name) / "fidelity.json",
          {"shot_seeds": shot_seeds, "z_band": Z_BAND, "z_family": Z_FAMILY, "seconds": seconds, "rows": rows})
for name, value in page.summary(rows).items():
    glue(name, value, display=False)
glue("fidelity_family", FAMILY, display=False)
glue("fidelity_seconds", f"{seconds:.0f}", display=False)

# %% [markdown]
# Per checkpoint and output: the logged RMSE; this study's with exact probabilities; the expected
# RMSE with the original's shots; the central 99 % with Aer's trajectories; the logged value's
# z-score against it, and against the independent-step draws.

# %% tags=["hide-input"]
display(Markdown(page.table(rows)))

# %% tags=["hide-input"]
fig = page.figure(rows)
glue("fidelity_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fidelity_fig
# :name: fig-fidelity
# :alt: Two panels, y and z, each with five checkpoints on the horizontal axis (SPSA epochs 1 to 4, FDSA epoch 4) and validation RMSE on the vertical axis; per checkpoint a violin of RMSEs with shots drawn independently per step, a black bar for the central 99 % with Aer's trajectories, a green square for the exact-probability RMSE and a red star for the value the original logged, the stars lying within or at the edge of the bars.
#
# The original's trained models run by this study's simulator on the original's validation
# sequence. Red stars (the original's logged RMSEs) should fall inside the black bars, the central
# 99 % of the RMSEs a run with the original's shots gives. Green squares (exact probabilities) lie
# below: shot noise adds variance to every prediction. The violins (shots drawn per step
# independently) are narrower than the bars: Aer's shots are trajectories correlated across steps.
# ```

# %% [markdown]
# **What agrees.** Against Aer's trajectory distribution, {glue:text}`fidelity_agree` logged
# values lie inside their central 99 %, and {glue:text}`fidelity_agree_family` inside the band
# that holds at 99 % for all the values together ($|z| \le$ {glue:text}`fidelity_z_family`,
# Bonferroni over the {glue:text}`fidelity_family` y and z values; the mean adds no comparison of
# its own). The largest deviation among those {glue:text}`fidelity_family` is $|z| =$
# {glue:text}`fidelity_max_z` ({glue:text}`fidelity_max_z_where`): among
# {glue:text}`fidelity_family` independent comparisons, one at least that far out happens by chance
# about {glue:text}`fidelity_max_z_chance` times. The same checkpoint's mean of y and z, which is no
# comparison of its own, lies at $|z| =$ {glue:text}`fidelity_max_z_mean`. The exact-probability
# RMSEs lie below every log, by the shot-noise variance.
#
# **What it took.** Two facts about the original's logs matter. The FDSA server run validated with
# {glue:text}`fid_fdsa_shots` shots, not {glue:text}`fid_spsa_shots` (its checkpoint name carries its
# shot count, as the SPSA run's carries {glue:text}`fid_spsa_shots`); with
# {glue:text}`fid_spsa_shots` shots its z RMSE would lie well below the band. And Aer runs the 2,969
# steps as one circuit, so each shot is one trajectory: drawing each step's counts independently
# gives the right expected RMSE but too narrow a spread, and only
# {glue:text}`fidelity_agree_independent` values would agree (largest $|z|$ among the y and z values
# {glue:text}`fidelity_max_z_independent`). The check took {glue:text}`fidelity_seconds` s.

# %% tags=["hide-input"]
# Which logged values the deck's figures round from: its lowest SPSA and FDSA validation RMSEs (mean of
# y and z), the two numbers its claim that SPSA found better parameters sets against each other.
display(Markdown(page.deck_figures(rows)))
