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
# (page-device)=
# # On a device: a calibrated noise model and QPU time
#
# The deck chose SPSA for its cost on a simulator; the reason to train a quantum recurrent network with a
# sampled estimator at all is a real device, where only sampled estimators run and every circuit costs QPU
# time. No circuit here runs on hardware: this page puts the seed circuit on a calibrated model of an IBM device
# ({glue:text}`dev_backend`, `qiskit-ibm-runtime`'s fake backend; qubits {glue:text}`dev_layout`, median
# $T_1$ {glue:text}`dev_t1_us` µs and $T_2$ {glue:text}`dev_t2_us` µs), says what each of its noise
# sources does to the per-step readout, checks the study's engine against Aer under that noise, trains every
# estimator under it at several noise scales, and prices training in QPU time.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "device"  # this run's folder under results_dir
backend = "FakeMarrakesh"  # the device model (any fake backend of qiskit-ibm-runtime by name)
qpu_backends = ["FakeMarrakesh", "FakeKingston"]  # two generations, for the QPU table
n_qubits = 4  # the noise-source table's circuit (8: the deck's)
steps = 10  # its steps
seed = 0  # its random angles and shots
local_n_qubits = 4  # one update's circuits run in local testing mode
local_steps = 5
local_circuits = 3
rep_delay = None  # seconds between shots; None: each backend's default

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study.conclusions import baseline_value, common_mode
from qrnn_study.figures import csv_link
from qrnn_study.model import DEVICE_ARMS
from qrnn_study.pages import device as page
from qrnn_study.pages import device_training as trained
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import load_arms, read_results
from qrnn_study.study_file import load_study

show_banner(profile)
out = results_path(results_dir, run_name)
study = load_study(profile=profile)
training = trained.load_training(results_dir, study)
# Every arm scored alike: with shots (the oracle too), as the estimators train.
MODE = common_mode([r for points in training.values() for r in points.values()])
baselines = read_results(results_dir, "baselines", "baselines.json")
mean_predictor = {p: baseline_value(baselines, "mean", p) for p in ("windows", "sequence")} if baselines else {}
sources = page.noise_sources(backend, n_qubits, steps, seed)
qpu = page.qpu_rows(tuple(qpu_backends), 8, rep_delay)
local = page.local_run(backend, local_n_qubits, local_steps, seed, local_circuits)
save_json(out / "device.json", page.record(sources, qpu, local))
for name, value in (page.calibration(backend, 8) | page.values(sources, qpu, local)
                    | trained.reference_values()).items():
    glue(name, value, display=False)

# %% [markdown]
# ## What each noise source does
#
# Each step measures and resets the readout qubits mid-circuit (a measurement takes {glue:text}`dev_measure_us` µs
# and a reset {glue:text}`dev_reset_us` µs on this device), while the memory qubits sit idle and decohere; Aer's
# `NoiseModel.from_backend` leaves that idle noise out unless the delays are scheduled, and the study's
# model adds it. The table gives, for one draw of random angles ({glue:text}`dev_n` qubits, {glue:text}`dev_steps`
# steps; every step's distribution counted), the mean total-variation distance of the per-step readout distributions from the noiseless
# ones, for each source alone and added one by one, computed by the study's engine and by Aer's density
# matrix on the same transpiled circuit with the idle periods as explicit delays: they agree to
# {glue:text}`dev_agree`. All the noise together moves the distributions by {glue:text}`dev_all_tvd`,
# against {glue:text}`dev_shots_tvd` for 1,024 shots of the noiseless ones (the last row: one draw of shots,
# the same in both columns, set against each engine's noiseless distributions, which agree to the same
# precision): smaller than shot noise per step, but a bias where shot noise is a spread. These are exact
# distributions, not samples, so the other rows carry no sampling uncertainty.

# %% tags=["hide-input"]
display(Markdown(page.noise_table(sources)))

# %% [markdown]
# ## What training costs on a device
#
# QPU time as IBM accounts it: every circuit runs shot by shot, each shot followed by the repetition
# delay ({glue:text}`dev_rep_delay_us` µs by default here). With $T$ steps of one step's gate layer, a
# measurement and a reset,
#
# $$
# t_\text{circuit} = T\,(t_\text{layer} + t_\text{measure} + t_\text{reset}),\qquad
# t_\text{update} = C \cdot S \cdot (t_\text{circuit} + t_\text{rep}),
# $$
#
# with $T = 20$ (a training window), $C$ circuits an update and $S = 1{,}024$ shots; an epoch is 1,384
# updates and a run 10 epochs, the deck's protocol. $C$ counts the forward circuit and the gradient's:
# SPSA $5 = 1 + 2 \times 2$ (two directions, each shifted both ways); FDSA $221 = 1 + 2 \times 110$ (each of the
# input layer's 110 parameters, 55 weights and 55 biases, shifted both ways); the parameter-shift rule
# $2{,}481 = 1 + 20 \times (2 \times 48 + 4 \times 7)$ (two circuits for each of a step's 48 rotation angles and
# four for each of its 7 controlled rotations, at each of the 20 steps, since every step's angles depend on
# its input). This is the time IBM bills; a job's wall time adds queueing, compilation and session latency,
# which weigh most on SPSA's 1,384 small updates an epoch, each waiting for the last: the ratio between the
# estimators' wall times would be smaller than that of their QPU times. On {glue:text}`dev_qpu_backend` an epoch takes {glue:text}`dev_spsa_epoch` with SPSA,
# {glue:text}`dev_fdsa_epoch` with FDSA and {glue:text}`dev_ps_epoch` with the parameter-shift rule
# ({numref}`fig-device-qpu`); the exact gradient exists only on a simulator.

# %% tags=["hide-input"]
display(Markdown(page.qpu_table(qpu)))
csv_link(out / "qpu.csv", [[r["backend"], r["estimator"], r["circuit_s"], r["rep_delay_s"], r["circuits"],
                            r["update_s"], r["epoch_h"], r["run_h"]] for r in qpu],
         ["backend", "estimator", "circuit_s", "rep_delay_s", "circuits", "update_s", "epoch_h", "run_h"])
fig = page.qpu_figure(qpu)
glue("fig_device_qpu", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_device_qpu
# :name: fig-device-qpu
# :alt: Horizontal bars of QPU hours per training epoch on a log axis for SPSA corrected, SPSA as originally run, FDSA and the parameter-shift rule on two IBM device models, with the deck's simulator hours per epoch as dotted lines
#
# QPU hours per training epoch (log axis) of each estimator that can run on a device, on two device
# models; vertical lines: the deck's own simulator hours per epoch on its CPU, for scale.
# ```
#
# ## Training under the device's noise

# %% tags=["hide-input"]
planned = sum(1 for r in study.runs if r.family in {a.id for a in DEVICE_ARMS})
display(Markdown(trained.intro(training, planned)))
fig = trained.training_figure(training, MODE, mean_predictor)
glue("fig_device_training", fig, display=False)
plt.close(fig)
table, rows = trained.training_table(training, MODE)
effects = trained.noise_effects(training, MODE)
noiseless = load_arms(results_dir, [a.noiseless for a in DEVICE_ARMS])
for part in trained.findings(training, MODE, qpu, mean_predictor, noiseless):  # only the parts with numbers
    display(Markdown(part))
if rows:  # a download is offered only where it holds numbers
    csv_link(out / "device_training.csv", [[r[c] for c in trained.TRAINING_COLUMNS] for r in rows],
             trained.TRAINING_COLUMNS, "the numbers of this table (CSV)")
if effects:
    csv_link(out / "device_noise_effects.csv", [[r.get(c) for c in trained.EFFECT_COLUMNS] for r in effects],
             trained.EFFECT_COLUMNS, "the paired changes from s = 0 (CSV)")

# %% [markdown]
# ```{glue:figure} fig_device_training
# :name: fig-device-training
# :alt: Validation RMSE after the last epoch against the device noise scale for SPSA as originally run, SPSA corrected, FDSA and the oracle, one panel per validation protocol, with the training-mean predictor as a dashed line
#
# Validation RMSE after the last epoch against the noise scale s of the device model (1: its
# calibration), per estimator: mean over seeds with its 95 % t interval; dashed: the training-mean
# predictor, a line a useful model must stay below (a point of one seed has no interval).
# ```
#
# ## One update's circuits, as a device would run them
#
# For a user who wants to run them: the circuits of an update as primitive-unified blocs (PUBs) that
# `SamplerV2` accepts, laid on the device's qubits ({glue:text}`dev_local_circuits` of
# {glue:text}`dev_local_n` qubits and {glue:text}`dev_local_steps` steps, {glue:text}`dev_local_shots`
# shots each), executed offline in `qiskit-ibm-runtime`'s local testing mode on the fake backend. Their
# counts agree with the engine's distributions of the noise that mode simulates (no idle noise): Pearson's
# chi-square {glue:text}`dev_local_chi2` on {glue:text}`dev_local_dof` degrees of freedom, p =
# {glue:text}`dev_local_p`. Against the engine's full model, idle noise included, p =
# {glue:text}`dev_local_p_full`: {glue:text}`dev_local_full_words`.
#
# ## What this model leaves out
#
# Coherent ZZ crosstalk between neighbours, dephasing of the neighbours of a measured qubit, and drift
# between calibrations are not in it; so it cannot judge remedies aimed at them, such as dynamical
# decoupling of the memory qubits during the mid-circuit measurement, which hardware demonstrations of
# this task use. For scale, a quantum echo-state network on `ibm_marrakesh` {cite:p}`connerty2025quantum` (a
# fixed circuit with a ridge readout, about $6 \times 10^4$ shots) reached a test RMSE of
# {glue:text}`dev_hw_y` on y and {glue:text}`dev_hw_z` on z of a min-max scaled Lorenz series.
