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
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study.pages import circuit as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.words import count

show_banner(profile)
fig = page.step_figure(n_qubits)
glue("fig_circuit_step", fig, display=False)
plt.close(fig)
for name, value in page.step_values(n_qubits).items():
    glue(name, value, display=False)

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
# ## The study's engines against Qiskit Aer
#
# The compiled kernel that every training run uses and its PyTorch reference, each against Aer: random
# angles in $(-\pi, \pi)$; Aer's exact per-step probabilities come from its density-matrix method with a
# `save_probabilities` per step. The largest difference over all steps and outcomes, per engine and
# circuit size, is in {numref}`fig-circuit-agreement` and the table below it.

# %% tags=["hide-input"]
rows = page.agreement(n_qubits, steps, sequences, seed)
save_json(results_path(results_dir, run_name) / "agreement.json", {"rows": rows})
glue("agreement_max", f"{max(r['max_abs_difference'] for r in rows):.1e}", display=False)
glue("agreement_sequences", count(sequences, "random sequence"), display=False)
glue("agreement_steps", str(steps), display=False)
fig = page.agreement_figure(rows)
glue("fig_circuit_agreement", fig, display=False)
plt.close(fig)
display(Markdown(page.agreement_table(rows)))

# %% [markdown]
# ```{glue:figure} fig_circuit_agreement
# :name: fig-circuit-agreement
# :alt: Bar chart on a logarithmic axis of the largest absolute difference between each engine's (the compiled kernel's and the PyTorch simulator's) and Aer's outcome probabilities for each circuit size, with a dashed line at the tests' bound of 1e-10
#
# The largest difference between each engine's (the compiled kernel, the PyTorch simulator, both in
# complex128) and Aer's exact outcome probabilities,
# over {glue:text}`agreement_sequences` of {glue:text}`agreement_steps` steps
# and every outcome, per circuit size (log scale; numbers on the bars). A bar below the dashed line
# meets the bound the tests enforce.
# ```
#
# Both engines agree with Aer to {glue:text}`agreement_max` at worst (the tests require 1e-10).
