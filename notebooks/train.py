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
# # A training run
#
# One instance of one arm: the deck's protocol (Adam, batch 1, MSE on steps 5..19 of each 20-step
# window) with the settings below, validated after every epoch under both protocols, exact and with
# 1,024 shots. Resumable: re-executing continues from the last checkpoint. The study's pages read the
# files this writes (`results/<profile>/<run_name>/`); this notebook only trains.
#
# Run it directly: `papermill notebooks/train.ipynb out.ipynb -p method fdsa -p epochs 1`.

# %% tags=["parameters", "hide-input"]
profile = 'quick'
results_dir = 'results/quick'
run_name = 'train'
method = 'spsa'  # Gradient estimator of the 110 input-layer parameters.
backend = 'kernel'  # Circuit backend: the compiled CPU kernel (the default), the exact PyTorch simulator (the reference, and the CUDA path) or Qiskit Aer (the independent check).
shots = None  # Shots per training circuit; none for exact probabilities (the deck: 1024).
epochs = 10  # Passes over the training windows.
lr = None  # Adam's learning rate; none for the deck's (0.007 SPSA, 0.001 otherwise).
lr_schedule = 'constant'  # Learning rate over updates: constant (the deck), or spall: the gain of Spall (1998), lr times ((1+A)/(k+1+A)) to the power 0.602.
spall_a = None  # Spall's stability constant A; none for 10 % of the run's updates.
batch_size = 1  # Windows per update (the deck: 1).
warmup = 5  # Steps at the start of each window left out of the loss.
seed = 1929  # Seed of every generator of the run (arms with one seed are paired).
n_qubits = 8  # Qubits of the circuit (even; half memory, half readout).
device = 'cpu'  # Torch device (cpu, cuda, cuda:N), or CPU/GPU for Aer.
precision = 'complex128'  # Simulator precision.
noise_device = None  # Simulate a device's noise on the kernel: a qiskit-ibm-runtime fake backend by name (e.g. FakeMarrakesh); none: noiseless.
noise_scale = 1.0  # Scale s of the device noise: every error rate times s (0: noiseless).
noise_layout = None  # The device's physical qubits for logical qubits 0..n-1, each coupled to the next, comma-separated; none: the first such line.
spsa_c = 0.1  # SPSA perturbation c (the deck: 0.1).
spsa_directions = 2  # SPSA directions averaged per update (the deck: 2).
spsa_gamma = 0.0  # SPSA perturbation decay: c_k is c / (k+1) to the power gamma (0: the deck, 0.101: Spall).
spsa_fixed_directions = False  # Reuse the directions of the first update forever (the quirk of the original).
fdsa_h = 0.1  # FDSA step h (the deck: 0.1).
train_sequences = None  # Train on k of the training windows only (shuffled each epoch), chosen by train_windows; none: all.
train_windows = 'spread'  # Which k windows train_sequences keeps: spread, k evenly spaced over the whole training span; first, the first k (the rows at its start).
val_steps = None  # Validate on the first k steps of the span only; none: all 2,969.
val_shots = 1024  # Shots of the shot-noise validation scores; none: exact only.
data_n_samples = 9900  # Samples of (x, y, z) in the series.
data_dt = 0.01  # Sampling step of the series (time units).
data_sigma = 10.0  # Lorenz sigma.
data_rho = 28.0  # Lorenz rho.
data_beta = 2.6666666666666665  # Lorenz beta.
data_initial = (1.0, 1.0, 1.0)  # Initial (x, y, z), comma-separated.
data_transient = 10.0  # Time units integrated and discarded before sampling.
data_window = 20  # Steps per training window.
data_train_fraction = 0.7  # Share of the windows (and of the series) used for training.
data_stride = 5  # Keep every stride-th training window (and validation window).
data_scaling = 'whole'  # Min-max scaling over the whole series (the deck) or the training span.
data_source = 'generated'  # Integrate the series here, or read the original study's own file.

# %% tags=["hide-input"]
from qrnn_study.cli import check_notebook_parameters
from qrnn_study.report import show_banner
from qrnn_core.train import train

# A bad parameter, or a run folder inside the source tree, stops here in one line naming it.
config, out_dir = check_notebook_parameters(globals())
show_banner(profile)
metrics = train(config, out_dir, progress=False, lock_wait=300)
print(f"{run_name}: {len(metrics['train_rmse'][-1])} updates per epoch, lr {config.learning_rate}, "
      f"{'exact probabilities' if config.shots is None else f'{config.shots} shots'}")
for v, s in zip(metrics["val"], metrics["epoch_seconds"]):
    seq, win = v["sequence"], v["windows"]
    print(f"epoch {v['epoch']:2d}: validation RMSE (mean of y, z): one sequence exact {seq['exact']['rmse_mean']:.4f}"
          f" / 1,024 shots {seq.get('shots', {}).get('rmse_mean', float('nan')):.4f}; windows exact "
          f"{win['exact']['rmse_mean']:.4f}   ({s:.1f} s)")
