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
# # Train time
#
# Seconds per 20-step circuit for the simulators, and seconds per update (forward and backward, one
# 20-step sequence) for each estimator, measured here in one process on the same inputs (the
# `python -m qrnn_core bench` rows), with the epoch time they imply (1,384 updates, projected as
# the deck projected its own), beside the deck's 1.2 s / 18 s / 39.58 s per update and
# 1 h / 8 h / 14.5 h per epoch.
# PyTorch rows are timed before Qiskit Aer first runs in the process (once Aer's thread pool
# exists, small PyTorch operations were measured 2-3x slower on 2-core machines).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "timing"  # this run's folder under results_dir
repeats = 3
aer = True  # also time the same updates through Qiskit Aer
aer_fdsa = False  # also time an FDSA update through Aer with 1,024 shots (minutes)
qubit_counts = [2, 4, 6, 8]
n_qubits = 8  # the main rows' circuit size (the seed's: 8)
min_seconds = 0.5  # keep timing each row at least this long (median of the calls)

# %% tags=["hide-input"]
# %matplotlib inline
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import reference
from qrnn_core.aer_backend import aer_devices
from qrnn_core.bench import markdown_tables, simulator_rows, targets_of, update_rows
from qrnn_core.provenance import provenance
from qrnn_core.report import results_path, save_json, show_banner

show_banner(profile)
rows = simulator_rows("torch", repeats) + update_rows("torch", repeats, n_qubits=n_qubits, min_seconds=min_seconds)
if torch.cuda.is_available():
    rows += update_rows("torch", repeats, n_qubits=n_qubits, device="cuda", min_seconds=min_seconds)
scaling = []
for n in qubit_counts:
    for r in update_rows("torch", repeats, n_qubits=n, methods=("spsa", "fdsa"), min_seconds=min_seconds):
        scaling.append({"qubits": n, "parameters": 2 * (7 * n - 1), "estimator": r.name.split(" | ")[0],
                        "seconds": r.seconds, "circuits": r.circuits})
if aer:
    rows += simulator_rows("aer", repeats) + update_rows("aer", 1, full=aer_fdsa, n_qubits=n_qubits)
    if "GPU" in aer_devices():
        rows += update_rows("aer", 1, full=aer_fdsa, n_qubits=n_qubits, device="GPU")
save_json(results_path(results_dir, run_name) / "timing.json",
          {"rows": [dataclasses.asdict(r) for r in rows], "scaling": scaling, **provenance()})
display(Markdown(markdown_tables(rows, targets_of(rows))))

# %% tags=["hide-input"]
t = {r.name: r.seconds for r in rows}
spsa, fdsa = t["spsa | PyTorch exact"], t["fdsa | PyTorch exact"]
glue("t_spsa_update_ms", f"{spsa * 1e3:.1f}", display=False)
glue("t_fdsa_update_ms", f"{fdsa * 1e3:.0f}", display=False)
glue("t_spsa_epoch_s", f"{spsa * reference.UPDATES_PER_EPOCH:.0f}", display=False)
glue("t_fdsa_epoch_s", f"{fdsa * reference.UPDATES_PER_EPOCH:.0f}", display=False)
glue("t_ratio", f"{fdsa / spsa:.0f}", display=False)
glue("t_spsa_vs_deck", f"{reference.SECONDS_PER_UPDATE['SPSA, CPU'] / spsa:.0f}", display=False)
glue("t_fdsa_vs_deck", f"{reference.SECONDS_PER_UPDATE['FDSA, CPU'] / fdsa:.0f}", display=False)

gpu = t.get("fdsa | PyTorch exact (cuda)")
ours = {"SPSA, CPU": spsa, "FDSA, GPU": gpu, "FDSA, CPU": fdsa}
lines = ["| | deck: s per update | deck: h per epoch | deck: vs FDSA CPU | here: s per update | "
         "here: s per epoch | here: vs FDSA CPU |", "|---|---:|---:|---:|---:|---:|---:|"]
for key in ("SPSA, CPU", "FDSA, GPU", "FDSA, CPU"):
    deck_s, deck_h = reference.SECONDS_PER_UPDATE[key], reference.HOURS_PER_EPOCH[key]
    here = ours[key]
    lines.append(f"| {key} | {deck_s} | {deck_h} | {reference.HOURS_PER_EPOCH['FDSA, CPU'] / deck_h:.1f}x | "
                 + (f"{here:.4f} | {here * reference.UPDATES_PER_EPOCH:.1f} | {fdsa / here:.1f}x |" if here
                    else "no GPU here | - | - |"))
display(Markdown("The deck's train-time table, re-measured (one update = one 20-step sequence, "
                 "forward and backward; an epoch = 1,384 updates):\n\n" + "\n".join(lines)))

labels = ["SPSA (CPU)", "FDSA (GPU)", "FDSA (CPU)"]
deck_hours = [reference.HOURS_PER_EPOCH[k] for k in ("SPSA, CPU", "FDSA, GPU", "FDSA, CPU")]
ours_hours = [spsa * reference.UPDATES_PER_EPOCH / 3600, gpu * reference.UPDATES_PER_EPOCH / 3600 if gpu else np.nan,
              fdsa * reference.UPDATES_PER_EPOCH / 3600]
fig, ax = plt.subplots(figsize=(7, 3.5))
pos = np.arange(3)
ax.bar(pos - 0.2, deck_hours, 0.4, label="deck (M3 Max CPU, 2x A100 GPU; Qiskit, 1,024 shots)")
ax.bar(pos + 0.2, ours_hours, 0.4, label="here (PyTorch exact simulator)")
for p, h in zip(pos, ours_hours):
    ax.text(p + 0.2, h if np.isfinite(h) else 1e-4, "no GPU" if not np.isfinite(h) else f"{h * 3600:.0f} s",
            ha="center", va="bottom", fontsize=8)
ax.set(xticks=pos, xticklabels=labels, yscale="log", ylabel="hours per epoch (1,384 updates)",
       title="train time per epoch")
ax.legend(fontsize=7)
glue("fig_epoch_time", fig, display=False)

# %% [markdown]
# Here an SPSA update takes {glue:text}`t_spsa_update_ms` ms and an FDSA update
# {glue:text}`t_fdsa_update_ms` ms: {glue:text}`t_spsa_vs_deck`x and {glue:text}`t_fdsa_vs_deck`x
# faster than the deck's, about {glue:text}`t_spsa_epoch_s` s and {glue:text}`t_fdsa_epoch_s` s an
# epoch. FDSA costs {glue:text}`t_ratio`x SPSA per update on this machine.
#
# ## Cost against the number of parameters
#
# The deck's complexity claim: SPSA is $O(N)$ in the number of updates $N$, FDSA $O(PN)$. Per
# update, SPSA runs $1 + 2K$ circuits whatever $P$; FDSA runs $1 + 2P$.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for est, c in (("spsa", "C0"), ("fdsa", "C3")):
    pts = [s for s in scaling if s["estimator"] == est]
    P = [s["parameters"] for s in pts]
    axes[0].plot(P, [s["circuits"] for s in pts], "o-", color=c, label=est.upper())
    axes[1].plot(P, [s["seconds"] * 1e3 for s in pts], "o-", color=c, label=est.upper())
axes[0].set(xlabel="quantum parameters P", ylabel="circuits per update", yscale="log", title="circuit evaluations")
axes[1].set(xlabel="quantum parameters P", ylabel="ms per update", yscale="log", title="time per update (T = 20)")
for ax in axes:
    ax.legend()
fig.tight_layout()
glue("fig_scaling", fig, display=False)
fdsa_pts = [s for s in scaling if s["estimator"] == "fdsa"]
slope = np.polyfit(np.log([s["parameters"] for s in fdsa_pts]), np.log([s["seconds"] for s in fdsa_pts]), 1)[0]
glue("t_fdsa_slope", f"{slope:.2f}", display=False)

# %% [markdown]
# FDSA's circuit count grows linearly in $P$ and SPSA's is constant. Its time grows as
# $P^{\,s}$ with fitted $s =$ {glue:text}`t_fdsa_slope` here: batching all $2P$ perturbed circuits
# into one simulator call makes each extra circuit cheaper than the first, and larger circuits cost
# more per circuit.
