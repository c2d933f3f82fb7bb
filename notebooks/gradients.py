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
# (page-gradients)=
# # Gradient estimators against the exact gradient
#
# For one training window ({glue:text}`grad_window`) and the initial parameters of the study's runs
# with seed {glue:text}`grad_seed`, each estimator's gradient of that window's training loss (the
# mean squared error over steps {glue:text}`grad_scored`, as in training) with respect to the
# {glue:text}`grad_n_params` input-layer parameters, against the exact gradient (autograd through the
# simulator), and what it costs in circuit evaluations ({numref}`fig-gradients-error`). Probabilities are exact, so only the estimators' own errors are
# measured. SPSA is random: its error is shown over many independent draws.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "gradients"  # this run's folder under results_dir
n_qubits = 8
steps = 20  # steps of the window taken (20: a whole training window)
seed = 1929
spsa_draws = 200
fdsa_steps = [0.4, 0.2, 0.1, 0.05, 0.025]

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.data import DataConfig, make_task
from qrnn_core.estimators import FDSA, SPSA
from qrnn_study.figures import style
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_core.simulator import TorchSimulator
from qrnn_core.train import TrainConfig, generators, make_model

show_banner(profile)
style()
sim = TorchSimulator(n_qubits)
# The first training window of the original's series (batch 1), and the training loss's scored steps
# (the tests' shorter windows keep at least their last step scored).
task = make_task(DataConfig(source="original"))
x, y = task.train_x[:1, :steps], task.train_y[:1, :steps]
warmup = min(TrainConfig().warmup, steps - 1)


def gradient(estimator, draw=0):
    """The input layer's gradient of the window's training loss, and the circuits its backward cost."""
    gens = generators(seed)  # the initial values of the study's runs of this seed
    gens["directions"] = torch.Generator().manual_seed(10_000 + draw)  # SPSA: a fresh draw each call
    model = make_model(sim, estimator, gens)
    layer = model.quantum
    pred = model(x)
    torch.nn.functional.mse_loss(pred[:, warmup:], y[:, warmup:]).backward()
    return torch.cat([layer.weight.grad, layer.bias.grad]), layer.costs[-1].circuits


exact, _ = gradient("exact")
norm = exact.norm().item()
rows = []
ps, ps_cost = gradient("parameter_shift")
rows.append({"estimator": "parameter-shift", "circuits": ps_cost, "rel_error": ((ps - exact).norm() / norm).item()})
for h in fdsa_steps:
    est, cost = gradient(FDSA(h=h))
    rows.append({"estimator": f"FDSA h={h}", "circuits": cost, "rel_error": ((est - exact).norm() / norm).item()})
spsa_errors, spsa_cos, spsa_mean = [], [], torch.zeros_like(exact)
for d in range(spsa_draws):
    est, spsa_cost = gradient(SPSA(), d)
    spsa_errors.append(((est - exact).norm() / norm).item())
    spsa_cos.append(torch.nn.functional.cosine_similarity(est, exact, 0).item())
    spsa_mean += est / spsa_draws
spsa = SPSA()
rows.append({"estimator": f"SPSA (c = {spsa.c:g}, {spsa.num_directions} directions), one draw: median over "
                          f"{spsa_draws:,} draws", "circuits": spsa_cost, "rel_error": float(np.median(spsa_errors))})
rows.append({"estimator": f"SPSA, mean of {spsa_draws:,} draws", "circuits": spsa_cost * spsa_draws,
             "rel_error": ((spsa_mean - exact).norm() / norm).item()})
save_json(results_path(results_dir, run_name) / "gradients.json",
          {"rows": rows, "spsa_errors": spsa_errors, "spsa_cosine": spsa_cos, "n_params": exact.numel()})
display(Markdown("| estimator | circuits per backward | relative error |\n|---|---:|---:|\n" + "\n".join(
    f"| {r['estimator']} | {r['circuits']:,} | {r['rel_error']:.2e} |" for r in rows)
    + f"\n\nRelative error: $\\lVert g - g_{{exact}} \\rVert / \\lVert g_{{exact}} \\rVert$ over the "
      f"{exact.numel()} parameters; circuits: evaluations per backward pass of one sequence (batch 1), the "
      "forward's one circuit not included (an update costs one more)."))
glue("grad_n_params", str(exact.numel()), display=False)
glue("grad_window", f"the first of the original's series: inputs x at rows 0 to {steps - 1}, targets y and z "
                    f"at rows 1 to {steps}", display=False)
glue("grad_seed", str(seed), display=False)
glue("grad_scored", f"{warmup} to {steps - 1}", display=False)
glue("grad_spsa_draws", f"{spsa_draws:,}", display=False)
glue("grad_spsa_circuits", f"{spsa_cost:,}", display=False)
glue("grad_ps_error", f"{rows[0]['rel_error']:.1e}", display=False)
glue("grad_spsa_median_error", f"{np.median(spsa_errors):.2f}", display=False)
glue("grad_spsa_cosine", f"{np.median(spsa_cos):.2f}", display=False)
glue("grad_spsa_directions", str(spsa.num_directions), display=False)
h_study = FDSA().h  # the step size the study's FDSA arms train with
glue("grad_fdsa_h", f"{h_study:g}", display=False)
glue("grad_fdsa_error", f"{next(r['rel_error'] for r in rows if r['estimator'] == f'FDSA h={h_study}'):.1e}"
     if h_study in fdsa_steps else "-", display=False)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained", width_ratios=[1.3, 1])
ax = axes[0]
floor = 1e-16  # an exact zero drawn on the log axis
ax.scatter(rows[0]["circuits"], max(rows[0]["rel_error"], floor), s=70, marker="D", color="C2",
           label="parameter-shift")
fd = [r for r in rows if r["estimator"].startswith("FDSA")]
ax.plot([r["circuits"] for r in fd], [max(r["rel_error"], floor) for r in fd], "o-", ms=8, color="C3",
        label="FDSA, one point per step size h")
for r, h, va in ((fd[0], fdsa_steps[0], "bottom"), (fd[-1], fdsa_steps[-1], "top")):  # the first and last h
    ax.annotate(f"h = {h:g}", (r["circuits"], max(r["rel_error"], floor)), xytext=(8, 0),
                textcoords="offset points", ha="left", va=va)
lo, med, hi = np.percentile(spsa_errors, [5, 50, 95])
ax.errorbar(spsa_cost, med, yerr=[[med - lo], [hi - med]], fmt="s", ms=8, color="C0", capsize=5,
            label="SPSA, one draw: median, 5-95 %")
ax.scatter(rows[-1]["circuits"], max(rows[-1]["rel_error"], floor), s=70, marker="^", color="C0",
           label=f"SPSA, mean of {spsa_draws:,} draws")
ax.set(xscale="log", yscale="log", xlabel="circuit evaluations per backward pass",
       ylabel="relative error of the gradient\n|g - g_exact| / |g_exact|", title="error against cost")
ax.set_xlim(right=ax.get_xlim()[1] * 3)  # room for the h labels
ax.grid(alpha=0.3)
ax = axes[1]
ax.hist(spsa_cos, bins=30, color="C0")
ax.axvline(np.median(spsa_cos), color="k", ls="--", lw=1.5, label="median cosine (right)")
ax.yaxis.set_major_locator(MaxNLocator(integer=True))
ax.set(xlabel="cosine(one SPSA estimate, exact gradient)", ylabel="draws (count)",
       title=f"SPSA, {spsa_draws:,} independent draws")
fig.legend(loc="outside lower center", ncol=2)
glue("fig_gradients", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_gradients
# :name: fig-gradients-error
# :alt: Left, a log-log scatter of each gradient estimator's relative error against its circuit evaluations per backward pass, for parameter-shift, FDSA at several step sizes, one SPSA draw with its spread and the mean of many SPSA draws; right, a histogram of the cosine between single SPSA estimates and the exact gradient
#
# Left: how far each estimator's gradient is from the exact one (relative error, log scale) against
# what it costs (circuit evaluations per backward pass, log scale); lower and further left is better.
# FDSA's points share one cost and differ by step size $h$ (the first and last labelled); the SPSA
# square is the median of single draws with their 5-95 % range. Right: the cosine between single
# SPSA estimates and the exact gradient over {glue:text}`grad_spsa_draws` draws (1 = the exact
# direction, 0 = unrelated); the dashed line marks the median.
# ```
#
# Parameter-shift, applied per gate and per time step through the mid-circuit measurement and
# reset, equals the exact gradient to {glue:text}`grad_ps_error` (relative): the original dropped it
# believing the measure-and-reset made it impossible. A single SPSA estimate
# ({glue:text}`grad_spsa_directions` directions, {glue:text}`grad_spsa_circuits` circuits) is a
# rough direction, median cosine {glue:text}`grad_spsa_cosine` with the exact gradient
# ({numref}`fig-gradients-error`, right), which only averages out over many updates; FDSA at the
# study's $h =$ {glue:text}`grad_fdsa_h` is within {glue:text}`grad_fdsa_error` of it.
