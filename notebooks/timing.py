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
# (page-timing)=
# # Train time
#
# Seconds per 20-step circuit for the simulators, and seconds per update (forward and backward, one
# 20-step sequence) for each estimator, measured here in one process on the same inputs (the
# `python -m qrnn_study bench` rows), in complex128 and in complex64 (the precision the paper profile
# trains in), with the epoch time they imply (an epoch of the deck's protocol, projected as the deck
# projected its own), beside the deck's own seconds per update and hours per epoch.
# Where the run measures them, whole training epochs are timed too, with the share of the epoch
# spent on updates, validation and saving.
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
n_qubits = 8  # the main rows' circuit size (the original's: 8)
min_seconds = 0.5  # keep timing each row at least this long (median of the calls)
epoch_methods = ["spsa", "exact", "fdsa"]  # timed over one whole epoch at 8 qubits (minutes); [] for none
epoch_precision = "complex64"  # precision of the whole-epoch rows
gpu_bench = "results/gpu/bench.json"  # the GPU benchmark `make gpu-check` writes, relative to the repository
engine_qubits = [2, 4, 6, 8, 10, 12]  # the default engine against PyTorch and Aer at these sizes ([] for none)

# %% tags=["hide-input"]
# %matplotlib inline
import json
import os

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.provenance import provenance
from qrnn_study import figures
from qrnn_study.pages import timing as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.study_file import ROOT
from qrnn_tools.bench import kernel_targets, markdown_tables, targets_of

show_banner(profile)
cores = os.cpu_count() or 1
if warning := page.load_warning(os.getloadavg()[0], cores):
    display(Markdown(warning))
timing = page.measure(repeats, aer, aer_fdsa, qubit_counts, n_qubits, min_seconds, epoch_methods, epoch_precision,
                      engine_qubits)
rows = timing.rows
save_json(results_path(results_dir, run_name) / "timing.json", {**timing.record(), **provenance()})
display(Markdown(markdown_tables(rows, targets_of(rows))))
display(Markdown(page.threads_note(torch.get_num_threads(), cores)))
display(Markdown(page.epochs_text(timing, epoch_methods, n_qubits)))

# %% tags=["hide-input"]
for name, value in page.update_values(rows).items():
    glue(name, value, display=False)
display(Markdown(page.deck_table(rows)))
fig = page.epoch_time_figure(rows)
glue("fig_epoch_time", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_epoch_time
# :name: fig-timing-epoch
# :alt: Grouped bar chart on a logarithmic axis of hours per training epoch for SPSA on the CPU, FDSA on the GPU and FDSA on the CPU: the deck's times in grey beside this machine's projected times in complex128 and complex64, each bar labelled with its value
#
# Time per epoch ({glue:text}`t_epoch_updates` updates), log scale: the deck's published hours (grey)
# beside this run's, projected from the measured seconds per update in complex128 and complex64.
# The deck ran Qiskit with 1,024 shots per circuit; the bars here use the exact PyTorch simulator,
# so they compare the cost of the same update without shots (the same circuits and estimator), not
# the same software or sampling.
# ```
#
# Here an SPSA update takes {glue:text}`t_spsa_update_ms` ms and an FDSA update
# {glue:text}`t_fdsa_update_ms` ms in complex128: {glue:text}`t_spsa_vs_deck`x and
# {glue:text}`t_fdsa_vs_deck`x faster than the deck's, about {glue:text}`t_spsa_epoch_s` s and
# {glue:text}`t_fdsa_epoch_s` s an epoch ({numref}`fig-timing-epoch`). In complex64 they take
# {glue:text}`t_spsa64_update_ms` ms and {glue:text}`t_fdsa64_update_ms` ms (an FDSA update in
# complex128 takes {glue:text}`t_fdsa_64_speedup` times as long as in complex64).

# %% tags=["hide-input"]
# FDSA over SPSA per update, here; per epoch, from the study's own training workers, on the front page
# (this page times single updates and reads no training results, so it is not re-run when they change).
display(Markdown(page.versus_text(rows)))

# %% [markdown]
# ## Cost against the number of parameters
#
# The deck's complexity claim: SPSA is $O(N)$ in the number of updates $N$, FDSA $O(PN)$. Per
# update, SPSA runs $1 + 2K$ circuits whatever $P$ ($K$ random directions, 2 here); FDSA runs $1 + 2P$
# ({numref}`fig-timing-scaling`).

# %% tags=["hide-input"]
fig = page.scaling_figure(timing.scaling)
glue("fig_scaling", fig, display=False)
plt.close(fig)
for name, value in page.scaling_values(timing.scaling, qubit_counts).items():
    glue(name, value, display=False)

# %% [markdown]
# ```{glue:figure} fig_scaling
# :name: fig-timing-scaling
# :alt: Two log-scale line plots against the number of quantum parameters, for SPSA and FDSA: left, circuits per update, flat for SPSA and rising for FDSA; right, milliseconds per update
#
# Cost of one update against the number of quantum parameters $P$, for circuits of
# {glue:text}`t_scaling_qubits` qubits. Left: circuit evaluations per update, by construction
# constant for SPSA and $1 + 2P$ for FDSA. Right: the measured time per update (log scale).
# ```
#
# FDSA's circuit count grows linearly in $P$ and SPSA's is constant. FDSA's time grows as
# $P^{\,s}$ with $s =$ {glue:text}`t_fdsa_slope` here (a least-squares line through the log-log
# points at $P =$ {glue:text}`t_scaling_params`; one timing each, so no interval). $P$ grows with
# the qubit count $n$, so each of FDSA's circuits also gets larger (the state of $n$ qubits has $2^n$
# amplitudes): more circuits times dearer circuits is why $s$ exceeds 1.
#
# ## The default engine
#
# Training runs on a compiled kernel (`qrnn_core/kernel.py`, numba) that applies each gate of the step as
# the small local factor it is and differentiates exactly by the adjoint method; the PyTorch simulator
# above is its reference. Its rows, each as a ratio to one Aer exact density-matrix circuit timed in the
# same run (8 qubits, 20 steps, complex64), against the engine's targets. What the whole paper profile's
# training cost on it, against the PyTorch simulator before, is in [the front page](summary)'s compute
# section ({numref}`fig-cost-engines`).

# %% tags=["hide-input"]
if timing.engine:
    display(Markdown(page.engine_table(timing.engine, kernel_targets(timing.engine))))
if timing.engine_scaling:
    fig = figures.engine_scaling_figure(timing.engine_scaling)
    glue("fig_engine_scaling", fig, display=False)
    plt.close(fig)
    display(Markdown(page.engine_scaling_table(timing.engine_scaling)))
else:
    glue("fig_engine_scaling", figures.placeholder("engine scaling: not measured in this run"), display=False)

# %% [markdown]
# ```{glue:figure} fig_engine_scaling
# :name: fig-engine-scaling
# :alt: Seconds per circuit, per FDSA update and peak memory against qubit count for the kernel, PyTorch and Aer, log scale
#
# How cost grows with qubits: seconds per circuit (batch 5), seconds per FDSA update (one 20-step window,
# $1 + 4(7n - 1)$ circuits) and the peak memory an FDSA update adds, for the compiled kernel, the PyTorch
# simulator and Aer's exact density matrix (Aer to 8 qubits: beyond, one update takes minutes); log scale,
# one timing each.
# ```
#
# ## GPU
#
# The same rows on a GPU, from the benchmark `make gpu-check` runs on a machine with an NVIDIA GPU
# (`python -m qrnn_study bench --gpu`, written to `results/gpu/bench.json`): PyTorch on CUDA in
# complex128 and complex64, an update per estimator, Aer on the GPU where it has one, and an FDSA
# epoch on the GPU.

# %% tags=["hide-input"]
gpu_path = ROOT / gpu_bench
report = json.loads(gpu_path.read_text()) if gpu_path.exists() else None
for part in page.gpu_section(report, provenance()["git_commit"], gpu_bench):
    display(Markdown(part))
