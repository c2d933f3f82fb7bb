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
# # The circuit
#
# One time step of the seed's QRNN on 8 qubits: even qubits carry the memory, odd qubits are the
# readout register. Every qubit gets $R_Z R_X R_Z$, a chain of controlled $R_X$ gates couples qubit
# $k$ to $k+1$, a second $R_Z R_X R_Z$ layer follows, and the readout qubits are measured and reset.
# The 55 angles of step $t$ are $a_i(t) = w_i x_t + b_i$. The circuit is defined once
# (`qrnn_core.circuit`); the PyTorch simulator reads its gates from it.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "circuit"  # this run's folder under results_dir
n_qubits = 8
steps = 20
sequences = 3
seed = 0

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import torch
from myst_nb import glue

from qrnn_core.aer_backend import AerBackend
from qrnn_core.circuit import build_step_block, n_angles
from qrnn_core.report import results_path, save_json, show_banner
from qrnn_core.simulator import TorchSimulator

show_banner(profile)
block = build_step_block(n_qubits)
fig = block.draw("mpl", fold=40, scale=0.6)
glue("n_angles", n_angles(n_qubits), display=False)

# %% [markdown]
# ## The PyTorch simulator against Qiskit Aer
#
# Random angles in $(-\pi, \pi)$; Aer's exact per-step probabilities come from its density-matrix
# method with a `save_probabilities` per step. The largest difference over all steps and outcomes:

# %% tags=["hide-input"]
g = torch.Generator().manual_seed(seed)
rows = []
for n in sorted({4, 6, n_qubits}):
    angles = (2 * torch.rand(sequences, steps, n_angles(n), generator=g, dtype=torch.float64) - 1) * torch.pi
    ours, aer = TorchSimulator(n)(angles), AerBackend(n)(angles)
    rows.append({"qubits": n, "sequences": sequences, "steps": steps,
                 "max_abs_difference": (ours - aer).abs().max().item(),
                 "max_row_sum_error": (ours.sum(-1) - 1).abs().max().item()})
save_json(results_path(results_dir, run_name) / "agreement.json", {"rows": rows})
worst = max(r["max_abs_difference"] for r in rows)
glue("agreement_max", f"{worst:.1e}", display=False)
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar([str(r["qubits"]) for r in rows], [max(r["max_abs_difference"], 1e-18) for r in rows])
ax.set(yscale="log", xlabel="qubits", ylabel="max |p_torch - p_aer|", title="agreement with Aer (exact)")
ax.axhline(1e-10, color="k", ls="--", lw=0.8, label="the tests' bound")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The two simulators agree to {glue:text}`agreement_max` at worst (the tests require 1e-10).
