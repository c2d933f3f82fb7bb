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
import numpy as np
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_core.fidelity import (
    CHECKPOINTS, FAMILY, LOGS, Z_BAND, Z_FAMILY, fidelity_table, largest_deviation, logged_matches,
)
from qrnn_core.reference import VAL_RMSE
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

n_agree = sum(r["agrees"] for r in rows)
n_family = sum(r["agrees_family"] for r in rows)
n_independent = sum(abs(r["z_independent"]) <= Z_BAND for r in rows)
worst = largest_deviation(rows)  # within the family of y and z values the rule counts
worst_mean = next(r for r in rows if r["checkpoint"] == worst["checkpoint"] and r["output"] == "mean")
glue("fidelity_agree", f"{n_agree} of {len(rows)}", display=False)
glue("fidelity_agree_family", f"{n_family} of {len(rows)}", display=False)
glue("fidelity_agree_independent", f"{n_independent} of {len(rows)}", display=False)
glue("fidelity_max_z", f"{abs(worst['z']):.2f}", display=False)
glue("fidelity_max_z_where", f"{worst['checkpoint']} {worst['output']}", display=False)
glue("fidelity_max_z_mean", f"{abs(worst_mean['z']):.2f}", display=False)
# the chance that at least one of FAMILY independent normal z-scores lies as far out as the largest
from statistics import NormalDist  # noqa: E402

chance = 1 - (1 - 2 * (1 - NormalDist().cdf(abs(worst["z"])))) ** FAMILY
glue("fidelity_max_z_chance", f"1 in {1 / chance:.0f}", display=False)
glue("fidelity_max_z_independent", f"{max(abs(r['z_independent']) for r in rows if r['output'] != 'mean'):.2f}",
     display=False)
glue("fidelity_z_family", f"{Z_FAMILY:.2f}", display=False)
glue("fidelity_family", FAMILY, display=False)
glue("fidelity_seconds", f"{seconds:.0f}", display=False)

# %% [markdown]
# Per checkpoint and output: the logged RMSE; this study's with exact probabilities; the expected
# RMSE with the original's shots; the central 99 % with Aer's trajectories; the logged value's
# z-score against it, and against the independent-step draws.

# %% tags=["hide-input"]
lines = ["| checkpoint (shots) | output | logged | exact | expected [99 % band, trajectories] | "
         "z: trajectories / independent | agrees |", "|" + " --- |" * 7]
for r in rows:
    half = Z_BAND * r["std_trajectories"]
    lines.append(
        f"| {r['checkpoint']} ({r['shots']:,}) | {r['output']} | {r['logged']:.5f} | {r['exact']:.4f} | "
        f"{r['expected']:.4f} [{r['expected'] - half:.5f}, {r['expected'] + half:.5f}] | {r['z']:+.2f} / "
        f"{r['z_independent']:+.2f} | {'yes' if r['agrees'] else 'no'} |")
display(Markdown("\n".join(lines)))

# %% tags=["hide-input"]
names = list(dict.fromkeys(r["checkpoint"] for r in rows))
labels = [f"{CHECKPOINTS[n].optimiser}\nepoch {CHECKPOINTS[n].epoch}\n{CHECKPOINTS[n].shots} shots" for n in names]
figures.style()
fig, axes = plt.subplots(2, 1, figsize=(11, 8.6))
for ax, output in zip(axes, ("y", "z")):
    sel = [next(r for r in rows if r["checkpoint"] == n and r["output"] == output) for n in names]
    pos = np.arange(len(sel))
    parts = ax.violinplot([r["draws"] for r in sel], pos, widths=0.6, showextrema=False)
    for body in parts["bodies"]:
        body.set_alpha(0.35)
    ax.errorbar(pos + 0.33, [r["expected"] for r in sel], yerr=[Z_BAND * r["std_trajectories"] for r in sel],
                fmt="none", ecolor="k", capsize=4, lw=1.5)
    ax.plot(pos, [r["exact"] for r in sel], "s", color="C2", ms=6)
    ax.plot(pos, [r["logged"] for r in sel], "*", color="C3", ms=13)
    ax.set_xticks(pos, labels)
    ax.set_ylabel(f"validation RMSE of {output}\n(scaled units)")
    ax.set_title(f"{output}(t+1)")
    ax.grid(axis="y", alpha=0.3)
handles = [plt.Rectangle((0, 0), 1, 1, color="C0", alpha=0.35),
           plt.Line2D([], [], color="k", lw=1.5),
           plt.Line2D([], [], marker="s", color="C2", ls=""),
           plt.Line2D([], [], marker="*", color="C3", ls="", ms=13)]
fig.legend(handles, ["shots drawn per step independently", "Aer's trajectories: central 99 %",
                     "exact probabilities", "the original's log"],
           loc="lower center", ncol=2, frameon=False)
fig.tight_layout(rect=(0, 0.08, 1, 1))
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
said = []
for name in ("SPSA", "FDSA"):
    epoch, figure = min(((e, v[2]) for e, v in VAL_RMSE[name.lower()].items()), key=lambda ev: ev[1])
    matches = logged_matches(figure)
    text = f"{name}'s {figure:.4f} (epoch {epoch}) rounds from " + ("; ".join(
        f"the epoch-{e} {'mean' if output == 'mean' else output} in the log of {LOGS[log][0]} ({value:.5f})"
        for log, e, output, value in matches) or "no logged value")
    evaluated = {c.log for c in CHECKPOINTS.values() if c.optimiser == name}  # the run whose log the table holds
    logged = [r["logged"] for r in rows if r["optimiser"] == name and r["output"] == "mean"]
    if logged and not any(log in evaluated for log, *_ in matches):
        text += (f"; none of the logged means in the table above ({', '.join(f'{v:.5f}' for v in logged)}) rounds "
                 "to it, for they are another run's")
    said.append(text)
display(Markdown("**The deck's figures.** The deck's lowest validation RMSEs (mean of y and z), which its claim "
                 "that SPSA found better parameters sets against each other: " + ". ".join(said) + "."))
