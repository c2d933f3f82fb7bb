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
# (page-summary)=
# # SPSA against FDSA for a quantum recurrent network, reproduced
#
# **The question.** A course project {cite:p}`connerty2025deck` trained an 8-qubit quantum recurrent
# neural network (QRNN) to infer the Lorenz system's $y(t+1)$ and $z(t+1)$ from $x(t)$ alone, with two
# gradient estimators, SPSA and FDSA, and reported SPSA an order of magnitude faster per epoch with
# comparable accuracy. Does that hold when the protocol is run in full, over paired seeds, against
# the exact gradient and against simple baselines?

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "summary"

# %% tags=["hide-input"]
# %matplotlib inline
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import figures
from qrnn_core.analysis import best_epoch, mean_ci, paired
from qrnn_core.report import banner, results_path, save_json, show_banner
from qrnn_core.results import load_arm, load_sweep
from qrnn_core.scorecard import FDSA_ARM, SPSA_ARM, SWEEPS, scorecard

show_banner(profile)
glue("banner_plain", banner(profile, markdown=False), display=False)
results = Path(results_dir)
ARMS = ("spsa-original-shots", "spsa-original-exact", "spsa-shots", "spsa-exact", "spsa-spall-shots",
        "spsa-spall-exact", "fdsa-shots", "fdsa-exact", "oracle-lr001", "oracle-lr007", "precision-check")
arms = {a: r for a in ARMS if (r := load_arm(results, a)) is not None}
sweeps = {m: load_sweep(results, family) for m, family in SWEEPS.items()}


def read(name, file):
    path = results / name / file
    return json.loads(path.read_text()) if path.exists() else None


baselines, gradients = read("baselines", "baselines.json"), read("gradients", "gradients.json")
fidelity = read("fidelity", "fidelity.json")


def best(arm, protocol="sequence", mode="shots", out=2):
    """Per seed (finished ones), the lowest validation RMSE over epochs."""
    r = arms.get(arm)
    if r is None or not r.complete.any():
        return None
    return np.nanmin(r.val[protocol][mode][r.complete][:, :, out], axis=1)


coverage = [f"{a} {int(arms[a].complete.sum())}/{len(arms[a].seeds)}" if a in arms else f"{a} not started"
            for a in ARMS]
glue("coverage", ", ".join(coverage) or "none", display=False)

# %% tags=["hide-input"]
lines = []
s_seq, f_seq, o_seq = best(SPSA_ARM), best(FDSA_ARM), best("oracle-lr001", mode="exact")
s_win, f_win, o_win = best(SPSA_ARM, "windows"), best(FDSA_ARM, "windows"), best("oracle-lr001", "windows", "exact")


def est(v):
    return "not yet run" if v is None else str(mean_ci(v))


if s_seq is not None and f_seq is not None:
    lines.append(f"**On the deck's own protocol** (validation as one 2,969-step sequence, 1,024 shots), the lowest "
                 f"validation RMSE (mean of y and z; mean over seeds [95 % interval]) is {est(s_seq)} for SPSA as "
                 f"originally run and {est(f_seq)} for FDSA; the exact gradient reaches {est(o_seq)}.")
if s_win is not None and f_win is not None:
    lines.append(f"**Validated as it is trained** (20-step windows), the same runs reach {est(s_win)} (SPSA) and "
                 f"{est(f_win)} (FDSA), the exact gradient {est(o_win)}: the one-sequence protocol measures how a "
                 f"model trained on 20-step windows behaves over 2,969 steps, which is a different question.")
if baselines:
    lin = baselines["linear"]["sequence"]["exact"]["rmse_mean"]
    lines.append(f"**Against baselines**, a linear regression of (y, z)(t+1) on x(t) alone scores {lin:.4f} on the "
                 f"deck's protocol.")
if not lines:
    lines.append("The arms have not finished yet: see the coverage below.")
display(Markdown("**The answer.** " + " ".join(lines)))

# %% tags=["hide-input"]
figures.style()
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
plotted = []
for ax, protocol in zip(axes, ("sequence", "windows")):
    for a, color in ((SPSA_ARM, "C0"), (FDSA_ARM, "C3"), ("oracle-lr001", "k"), ("spsa-shots", "C2")):
        r = arms.get(a)
        mode = "exact" if a.startswith("oracle") else "shots"
        if r is None:
            continue
        v = r.val[protocol][mode][:, :, 2]
        mean, lo, hi = figures.band(v)
        x = np.arange(1, v.shape[1] + 1) * r.train_rmse.shape[2]
        ax.plot(x, mean, "o-", color=color, ms=4, label=f"{a} (n = {len(r.seeds)})")
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
        plotted.append([a, protocol, *map(float, mean)])
    if baselines:
        for name, ls in (("linear", ":"), ("esn", "--")):
            if name in baselines:
                ax.axhline(baselines[name][protocol]["exact"]["rmse_mean"], color="grey", ls=ls, label=f"baseline: {name}")
    ax.set(title=figures.PROTOCOL_TITLE[protocol], xlabel="training updates (batch 1)")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("validation RMSE, mean of y and z\n(scaled units)")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
fig.tight_layout(rect=(0, 0.16, 1, 1))
glue("fig_key", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_key
# :name: fig-key
# :alt: Validation RMSE against training updates for SPSA as originally run, FDSA, corrected SPSA and the exact-gradient oracle, under the two validation protocols, with baseline lines
#
# The key result. Validation RMSE (mean of y and z) after each epoch, plotted against training
# updates, mean over seeds with 95 % bands; 1,024-shot validation for the estimators, exact for the
# oracle. Left: the deck's protocol (the validation span as one sequence); right: 20-step windows,
# as in training. Grey lines: baselines that need no quantum circuit.
# ```
#
# **What a QRNN is here.** Eight qubits: four *memory* qubits carry state from one time step to the
# next, four *readout* qubits are measured at every step and reset to $|0\rangle$. Each step encodes
# $x(t)$ into 55 rotation angles $a_i = w_i x(t) + b_i$, entangles the qubits with a chain of
# controlled rotations, and measures the readout register; its 16 outcome frequencies feed a linear
# layer that predicts $(y, z)(t+1)$. The memory is never measured, so the network is recurrent: what
# it predicts at step $t$ depends on every earlier input. **SPSA** estimates the gradient of the 110
# angle parameters from two random directions (5 circuits per update); **FDSA** perturbs each of
# the 110 parameters in turn (221 circuits). The rest of the book: [the data](data), [the
# circuit](circuit), [the estimators](../../methods), [the fidelity check](fidelity), [the
# arms](arm-spsa-original-shots), [the learning-rate sweep](sweep), [equal budgets](budget), [the
# baselines](baselines) and [the deviations from the original](../../deviations).
#
# **Coverage of this profile** (finished seeds per arm): {glue:text}`coverage`.

# %% [markdown]
# ## The deck's claims, checked
#
# Each claim, the value measured here (mean over seeds [95 % bootstrap interval], paired by seed for
# comparisons), the verdict and the rule that produced it. Verdicts: *reproduced*, *not reproduced*,
# *inconclusive* (the interval straddles the deck's figure, its band or zero) and *not tested* (with
# the reason). The accuracy claims compare SPSA as originally run (fixed directions) with FDSA, both
# with 1,024 shots, on the same seeds, data, updates and protocol.

# %% tags=["hide-input"]
card = scorecard(arms, gradients, sweeps)
display(Markdown("| claim | deck | here | verdict | rule and basis |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {r['claim']} | {r['deck']} | {r['measured']} | **{r['verdict']}** | {'; '.join(x for x in (r['rule'], r['basis']) if x)} |"
    for r in card)))
save_json(results_path(results_dir, run_name) / "scorecard.json", {"rows": card})
figures.csv_link(results_path(results_dir, run_name) / "scorecard.csv",
                 [[r[k] for k in ("claim", "deck", "measured", "verdict", "rule", "basis")] for r in card],
                 ["claim", "deck", "measured", "verdict", "rule", "basis"], "the scorecard (CSV)")
figures.csv_link(results_path(results_dir, run_name) / "key_figure.csv", plotted,
                 ["arm", "protocol"] + [f"epoch {e}" for e in range(1, 1 + max((len(p) - 2 for p in plotted), default=0))],
                 "the numbers of the key figure (CSV)")
for outcome in ("reproduced", "not reproduced", "inconclusive", "not tested"):
    glue(f"card_{outcome.replace(' ', '_')}", sum(r["verdict"] == outcome for r in card), display=False)
glue("card_total", len(card), display=False)

# %% [markdown]
# ## How far each estimator falls from the exact gradient
#
# The lowest validation RMSE of each arm minus the oracle's at the same learning rate, paired by
# seed (negative: better than the oracle), under both protocols.

# %% tags=["hide-input"]
rows = []
for a, oracle in (("fdsa-shots", "oracle-lr001"), ("fdsa-exact", "oracle-lr001"), ("spsa-shots", "oracle-lr007"),
                  ("spsa-exact", "oracle-lr007"), ("spsa-original-shots", "oracle-lr007"),
                  ("spsa-spall-shots", "oracle-lr007")):
    for protocol in ("sequence", "windows"):
        mode = "shots" if a.endswith("shots") else "exact"
        x, o = arms.get(a), arms.get(oracle)
        if x is None or o is None:
            continue
        common = [s for s in x.seeds if s in o.seeds]
        xi = [x.seeds.index(s) for s in common if x.complete[x.seeds.index(s)] and o.complete[o.seeds.index(s)]]
        oi = [o.seeds.index(x.seeds[i]) for i in xi]
        if not xi:
            continue
        c = paired(np.nanmin(x.val[protocol][mode][xi, :, 2], 1), np.nanmin(o.val[protocol]["exact"][oi, :, 2], 1))
        rows.append(f"| {a} | {oracle} | {protocol} | {c} |")
display(Markdown("| arm | oracle | protocol | arm - oracle |\n|---|---|---|---|\n" + "\n".join(rows)
                 if rows else "No arm has finished seeds beside its oracle yet."))

# %% [markdown]
# ## The compute of this profile
#
# What the training runs of this profile have cost so far and what is left, by run of the study file,
# from the training workers' own seconds (training, validation and checkpointing of every finished
# epoch; one torch thread a worker). A run none of whose epochs has finished is projected from the
# measured run with the nearest circuits per update. The seconds depend on the machine and on what
# else ran beside the workers; the runs' provenance records the load.

# %% tags=["hide-input"]
from qrnn_core.results import compute_table  # noqa: E402
from qrnn_core.study import load_study  # noqa: E402

compute = compute_table(load_study(profile=profile).runs, results)
rows = [f"| {c.family} | {c.finished} of {c.instances} | {c.epochs_done} of {c.epochs_total} | "
        f"{c.seconds_per_update:.3f}{'' if c.measured else ' (projected)'} | {c.seconds_done / 3600:.1f} | "
        f"{c.seconds_left / 3600:.1f} |" for c in compute]
spent, left = sum(c.seconds_done for c in compute) / 3600, sum(c.seconds_left for c in compute) / 3600
workers = 2
display(Markdown(
    "| run | seeds finished | epochs done | seconds per update | worker-hours spent | worker-hours left |\n"
    "|---|---|---|---|---|---|\n" + "\n".join(rows)
    + f"\n\n**In all:** {spent:.1f} worker-hours spent, {left:.1f} left: about {(spent + left) / workers:.0f} hours "
      f"of wall time for the whole profile on this {workers}-core machine with `--jobs {workers}`, "
      f"{left / workers:.0f} of them still to run. No GPU was lent to the sessions that ran it, so its time on "
      "a GPU is not measured (the [timing page](timing) has the projections from single updates)."))
save_json(results_path(results_dir, run_name) / "compute.json", {"rows": [c.__dict__ for c in compute]})
glue("compute_hours", f"{(spent + left) / workers:.0f}", display=False)

# %% [markdown]
# ## The results archive
#
# Every run's config, metrics (validation per epoch, both protocols, exact and 1,024 shots; seconds;
# circuits) and provenance, with the scorecard and the baselines, in one file; the per-update
# training RMSE and the per-epoch parameters are in each run's `trajectory.npz` in the repository.

# %% tags=["hide-input"]
import zipfile  # noqa: E402

archive = results_path(results_dir, run_name) / f"results-{profile}.zip"
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(results.glob("*/*.json")):
        if f.parent.name != run_name:
            z.write(f, f"{f.parent.name}/{f.name}")
    z.write(results_path(results_dir, run_name) / "scorecard.json", "scorecard.json")
display(Markdown(f"{{download}}`Download the results archive ({archive.stat().st_size / 1e3:.0f} kB) "
                 f"<{figures.download_target(archive)}>`"))
