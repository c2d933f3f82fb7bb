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
# (page-circuit)=
# # The circuit
#
# One time step of the original's QRNN on 8 qubits ({numref}`fig-circuit-step`): even qubits carry the
# memory, odd qubits are the readout register. Every qubit gets $R_Z R_X R_Z$, a chain of controlled
# $R_X$ gates couples qubit $k$ to $k+1$, a second $R_Z R_X R_Z$ layer follows, and the readout
# qubits are measured and reset: a quantum recurrent network of the kind {cite:t}`takaki2021learning`
# introduced, a register that carries memory beside one that is read out and reset at every step.
# The 55 angles of step $t$ are $a_i(t) = w_i x_t + b_i$. The circuit
# is defined once (`qrnn_core.circuit`); the PyTorch simulator reads its gates from it.

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
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.aer_backend import AerBackend
from qrnn_core.circuit import build_step_block, n_angles
from qrnn_study.figures import style
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_core.simulator import TorchSimulator
from qrnn_study.words import count

show_banner(profile)
style()
block = build_step_block(n_qubits)
# Folded in two rows with 14 pt gate labels and 12 pt angle names: about 8 inches wide, shown unscaled.
fig = block.draw("mpl", fold=11, scale=1.0, style={"fontsize": 14, "subfontsize": 12})
glue("fig_circuit_step", fig, display=False)
plt.close(fig)
glue("n_angles", str(n_angles(n_qubits)), display=False)
glue("n_qubits", str(n_qubits), display=False)
glue("n_memory", str(n_qubits // 2), display=False)
glue("n_crx", str(n_qubits - 1), display=False)

# %% [markdown]
# ```{glue:figure} fig_circuit_step
# :name: fig-circuit-step
# :alt: Qiskit circuit diagram of one QRNN time step on eight qubits q0 to q7, drawn in two rows: RZ, RX, RZ rotations on every qubit, a diagonal staircase of controlled-RX gates from each qubit to the next, a second RZ, RX, RZ layer, then measurement of the odd qubits into a 4-bit register followed by reset to zero
#
# One time step, as Qiskit draws the circuit the simulators read (folded in two rows: the second
# row continues the first). Each box is one rotation with its angle $\theta[i]$: a first
# $R_Z R_X R_Z$ layer, the staircase of {glue:text}`n_crx` controlled $R_X$ gates, a second
# $R_Z R_X R_Z$ layer; then the odd (readout) qubits are measured and reset to $|0\rangle$ while the
# even (memory) qubits carry on to the next step. {glue:text}`n_angles` angles in all.
# ```
#
# ## The PyTorch simulator against Qiskit Aer
#
# Random angles in $(-\pi, \pi)$; Aer's exact per-step probabilities come from its density-matrix
# method with a `save_probabilities` per step. The largest difference over all steps and outcomes,
# per circuit size, is in {numref}`fig-circuit-agreement` and the table below it.

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
glue("agreement_sequences", count(sequences, "random sequence"), display=False)
glue("agreement_steps", str(steps), display=False)
bound, floor = 1e-10, 1e-18  # the tests' bound; where an exact zero is drawn on the log axis
fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
pos = range(len(rows))
ax.bar(pos, [max(r["max_abs_difference"], floor) for r in rows], color="C0", width=0.6)
for p, r in zip(pos, rows):
    d = r["max_abs_difference"]
    ax.text(p, max(d, floor) * 2, f"{d:.1e}" if d else "0", ha="center", va="bottom")
ax.axhline(bound, color="k", ls="--", lw=1)
ax.text(len(rows) - 0.55, bound * 2, f"the tests' bound, {bound:.0e}", ha="right", va="bottom")
ax.set(xticks=list(pos), xticklabels=[str(r["qubits"]) for r in rows], yscale="log", ylim=(floor / 10, bound * 1e3),
       xlim=(-0.5, len(rows) - 0.5), xlabel="qubits in the circuit",
       ylabel="largest |p_PyTorch - p_Aer|\n(probability)")
ax.grid(axis="y", alpha=0.3)
glue("fig_circuit_agreement", fig, display=False)
plt.close(fig)
display(Markdown("| qubits | sequences x steps | largest probability difference | largest error of a step's total |\n"
                 "|---:|---:|---:|---:|\n" + "\n".join(
                     f"| {r['qubits']} | {r['sequences']} x {r['steps']} | {r['max_abs_difference']:.1e} | "
                     f"{r['max_row_sum_error']:.1e} |" for r in rows)))

# %% [markdown]
# ```{glue:figure} fig_circuit_agreement
# :name: fig-circuit-agreement
# :alt: Bar chart on a logarithmic axis of the largest absolute difference between PyTorch and Aer outcome probabilities for each circuit size, with a dashed line at the tests' bound of 1e-10
#
# The largest difference between the PyTorch simulator's and Aer's exact outcome probabilities,
# over {glue:text}`agreement_sequences` of {glue:text}`agreement_steps` steps
# and every outcome, per circuit size (log scale; numbers on the bars). A bar below the dashed line
# meets the bound the tests enforce.
# ```
#
# The two simulators agree to {glue:text}`agreement_max` at worst (the tests require 1e-10).
