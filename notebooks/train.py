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
# # A training run
#
# The seed's protocol (Adam, batch 1, MSE on steps 5..19 of each 20-step window, validation on the
# last 30 % of the series as one sequence) with the estimator, backend and sizes given below. The
# run is resumable: re-executing this notebook continues from its last checkpoint.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "book/_results"
run_name = None  # this run's folder under results_dir; default: train-<method>-<exact|shots>
method = "spsa"
backend = "torch"
shots = None
epochs = 1
lr = None  # None: the seed's (0.007 SPSA, 0.001 otherwise)
seed = 1929
device = "cpu"
n_qubits = 8
batch_size = 1
spsa_fixed_directions = False  # True: the seed's quirk, the same two directions at every update
train_sequences = None  # None: all 1,384
val_steps = None  # None: all 2,969

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from qrnn_core import reference
from qrnn_core.report import results_path, show_banner
from qrnn_core.train import TrainConfig, train

show_banner(profile)
config = TrainConfig(method=method, backend=backend, shots=shots, epochs=epochs, lr=lr, seed=seed,
                     device=device, n_qubits=n_qubits, batch_size=batch_size,
                     spsa_fixed_directions=spsa_fixed_directions,
                     train_sequences=train_sequences, val_steps=val_steps)
config.check()  # a bad parameter stops here, naming the field
run_name = run_name or f"train-{method}-{'shots' if shots else 'exact'}"
out_dir = results_path(results_dir, run_name)
metrics = train(config, out_dir, progress=False)
val = metrics["val"]
print(f"{run_name}: {len(metrics['train_rmse'][0])} updates per epoch, lr {config.learning_rate}, "
      f"{'exact probabilities' if shots is None else f'{shots} shots'}")
for v, s in zip(val, metrics["epoch_seconds"]):
    print(f"epoch {v['epoch']}: validation RMSE y {v['rmse_y']:.4f}  z {v['rmse_z']:.4f}  "
          f"mean {v['rmse_mean']:.4f}   ({s:.1f} s)")

# %% tags=["hide-input"]
best = min(val, key=lambda v: v["rmse_mean"])
glue(f"{run_name}_best_mean", f"{best['rmse_mean']:.4f}", display=False)
glue(f"{run_name}_best_epoch", best["epoch"], display=False)
glue(f"{run_name}_seconds_per_epoch", f"{np.mean(metrics['epoch_seconds']):.1f}", display=False)

train_rmse = np.concatenate(metrics["train_rmse"])
per_epoch = len(metrics["train_rmse"][0])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
ax = axes[0]
ax.plot(train_rmse, lw=0.3, alpha=0.5, label="per update")
k = max(1, min(50, len(train_rmse) // 10))
ax.plot(np.arange(k - 1, len(train_rmse)), np.convolve(train_rmse, np.ones(k) / k, "valid"), lw=1.2,
        label=f"mean of {k}")
for e in range(1, len(metrics["train_rmse"])):
    ax.axvline(e * per_epoch, color="grey", lw=0.5)
ax.set(xlabel="update", ylabel="train RMSE", title=f"{run_name}: train RMSE per update")
ax.legend(fontsize=8)
ax = axes[1]
epochs_run = [v["epoch"] for v in val]
for key, c in (("rmse_y", "C1"), ("rmse_z", "C2"), ("rmse_mean", "k")):
    ax.plot(epochs_run, [v[key] for v in val], "o-", color=c, label=f"{key[5:]} (here)")
deck = reference.VAL_RMSE.get(method, {})
if deck:
    ep = sorted(deck)
    ax.plot(ep, [deck[e][2] for e in ep], "s--", color="k", alpha=0.4, label="mean (deck)")
    ax.plot([e for e in ep if deck[e][0]], [deck[e][0] for e in ep if deck[e][0]], "s--", color="C1",
            alpha=0.4, label="y (deck)")
    ax.plot([e for e in ep if deck[e][1]], [deck[e][1] for e in ep if deck[e][1]], "s--", color="C2",
            alpha=0.4, label="z (deck)")
ax.set(xlabel="epoch", ylabel="validation RMSE", title="validation RMSE per epoch")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
glue(f"{run_name}_fig_rmse", fig, display=False)

# %% [markdown]
# ## Predictions on the validation span
#
# The model of the epoch with the lowest mean validation RMSE, run over the whole validation span
# as one sequence, against the truth.

# %% tags=["hide-input"]
state = torch.load(out_dir / f"checkpoint_epoch{best['epoch']}.pt", weights_only=False)
pred = state["val_pred"].numpy()
from qrnn_core.data import make_task  # noqa: E402

task = make_task(config.data)
truth = task.val_y[: len(pred)].numpy()
fig, axes = plt.subplots(2, 1, figsize=(11, 4.5), sharex=True)
for k, name in enumerate("yz"):
    axes[k].plot(truth[:, k], "k", lw=0.8, label=f"{name}(t+1) true")
    axes[k].plot(pred[:, k], f"C{k + 1}", lw=0.8, label=f"{name}(t+1) predicted")
    axes[k].set(ylabel=name)
    axes[k].legend(fontsize=8, loc="upper right")
axes[1].set(xlabel="validation step")
axes[0].set_title(f"{run_name}, epoch {best['epoch']}: RMSE y {best['rmse_y']:.4f}, z {best['rmse_z']:.4f}")
fig.tight_layout()
glue(f"{run_name}_fig_pred", fig, display=False)
