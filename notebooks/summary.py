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
# # SPSA against FDSA for a quantum recurrent network: {glue:text}`title_outcome`

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "summary"

# %% tags=["remove-input"]
# Loading the results (this cell and the next print nothing but the first screen; their code is in
# notebooks/summary.py, the page's source).
# %matplotlib inline
import os
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core.data import DataConfig, make_task
from qrnn_core.train import TrainConfig
from qrnn_study import figures
from qrnn_study.analysis import MIN_SEEDS, VERDICT_CODES, min_binomial_p
from qrnn_study.conclusions import baseline_standing, common_mode, control_rows, oracle_gaps
from qrnn_study.model import ARM_LABELS, PROTOCOL_IDS
from qrnn_study.pages import conclusions as conclusions_page
from qrnn_study.pages import cost, readout_control
from qrnn_study.pages import summary as front
from qrnn_study.pages.scorecard_table import scorecard_markdown
from qrnn_study.report import banner, results_path, save_json, show_banner
from qrnn_study.results import compute_table, load_arms, load_sweeps, read_results
from qrnn_study.scorecard import csv_table, scorecard
from qrnn_study.coverage import partial_warning, profile_note
from qrnn_study.study_file import load_study
from qrnn_study.words import count

glue("banner_plain", banner(profile, markdown=False), display=False)
results = Path(results_dir)
arms = load_arms(results)  # the full-protocol arms, in the order the book lists them
study = load_study(profile=profile)
sweeps = load_sweeps(results, study)


baselines, gradients = (read_results(results, "baselines", "baselines.json"),
                        read_results(results, "gradients", "gradients.json"))
fidelity = read_results(results, "fidelity", "fidelity.json")
timing = (read_results(results, "timing", "timing.json") or {}).get("rows")  # the speed claim, on Aer

task = make_task(DataConfig(source="original"))  # the windows protocol's count and stride, for the glossary
glue("windows_words", f"the {len(task.val_windows_x):,} windows of that span that start every "
                      f"{DataConfig().stride}th step", display=False)
coverage = [f"{label}: {int(arms[a].complete.sum()) if a in arms else 0} of {len(study.arm_runs(a))}"
            for a, label in ARM_LABELS.items()]
glue("coverage", "; ".join(coverage) or "none", display=False)

# %% tags=["remove-input"]
# The first screen: the answer in one line, the scorecard's tally, the one scoring convention and the arm x
# protocol table, every number computed from the runs (qrnn_study.pages.summary, tested there).
warning = partial_warning(profile, "the coverage is below, the remaining compute at the end of this page")
card = scorecard(arms, gradients, sweeps, timing)
counts = front.tally(card)
glue("title_outcome", front.title_words(counts), display=False)
# The validation shots the arms were scored with; before any has run, those the study file plans for them.
val_shots = sorted({r.config["val_shots"] for r in arms.values() if r.config.get("val_shots")} or
                   {run.parameters.get("val_shots", TrainConfig.val_shots) for a in front.TABLE_ARMS
                    for run in study.arm_runs(a)} - {None, 0})
scored = (f"{count(val_shots[0], 'shot')}" if len(val_shots) == 1 else
          " or ".join(f"{v:,}" for v in val_shots) + " shots" if val_shots else "shots")
glue("scored", scored, display=False)
rows = front.first_screen_table(arms, baselines, front.SHORT_LABELS)
display(Markdown("\n\n".join([
    front.answer_line(front.answer(card)) + (" *(A partial build: see below.)*" if warning else ""),
    f"```{{container}} qrnn-tally\n**The deck's {count(sum(counts.values()), 'claim')}** "
    f"({{ref}}`scorecard <summary-scorecard>`): "
    + " · ".join(f"**{n} {kind}**" for kind, n in counts.items()) + "\n```",
    f"```{{table}} Validation RMSE (mean of y, z; {scored}): each finished seed's lowest over its epochs and "
    f"its last epoch, mean [95 % t interval]\n"
    ":name: table-first-screen\n:class: qrnn-first-table\n\n" + front.table_markdown(rows) + "\n```",
    f"**One scoring convention.** Every RMSE of a circuit on this page is scored with {scored} of validation, "
    "as the deck scored, the exact-gradient oracle's too, so that shot noise in the validation weighs alike on "
    "every arm; the baselines run no circuit. The exact-probability scores are beside them on "
    "[the conclusions](conclusions) and each arm's page."])))

# %% [markdown]
# **The question.** A course project {cite:p}`connerty2025deck{slides}` trained an 8-qubit quantum recurrent
# neural network (QRNN) to infer the Lorenz system's $y(t+1)$ and $z(t+1)$ from $x(t)$ alone, with two
# gradient estimators, SPSA and FDSA, and reported SPSA an order of magnitude faster per epoch with
# comparable accuracy. Does that hold when the protocol is run in full, over paired seeds, against
# the exact gradient and against simple baselines?
#
# :::{admonition} Words this book uses (and the answer's statistics)
# :class: note
#
# - *deck*: the course project's slides; *original*: its code and logs.
# - *arm*: one training configuration (an estimator, its learning rate, shots or exact probabilities),
#   run once per *seed*; arms that share a seed start from the same parameters and see the windows in
#   the same order (*paired*).
# - *oracle*: the exact gradient, computed by the adjoint method through the simulator: what SPSA and FDSA
#   estimate.
# - The arms' names: *SPSA as originally run* keeps the original code's one fixed pair of random
#   directions for the whole run; *SPSA corrected* draws fresh directions every update, as SPSA is
#   defined; *with Spall's gains* its step size and perturbation also shrink over the updates, by
#   Spall's schedule; *(exact)* marks the twin of an arm trained on exact probabilities instead of
#   {glue:text}`scored`; the *complex128 check* repeats corrected SPSA in double precision, to measure how
#   much training in single precision (complex64, as every other arm does) changes the results
#   ([methods](../../methods) has the details).
# - Two *validation protocols* score each arm after every epoch: the deck's, the last 30 % of the
#   series run as **one** 2,969-step sequence, and *windows*: {glue:text}`windows_words`, 20 steps
#   each like the training ones, steps 5 to 19 scored (the first 5 steps warm up the circuit's memory,
#   as in training).
# - *scaled units*: each Lorenz variable of the original's series min-max scaled into [0, 1] over a
#   trajectory longer than the series (see [the data](data)); *train RMSE* is the square root of a
#   training window's loss, the mean squared error of y and z over its steps 5 to 19.
# - *circuit*: one evaluation of the QRNN over one 20-step window (an update of SPSA costs 5, of FDSA
#   221); training steps are taken by Adam, a standard gradient-descent optimiser.
# - *baselines* train no circuit: among them an *echo-state network*, a classical recurrent network
#   whose random internal weights are fixed and only its linear readout is fitted.
# - *profile*: a scale of the whole study: `paper` is the deck's full protocol, `quick` a reduced one
#   for a laptop.
# - The answer's statistics. *Comparable* (equivalence): the 90 % interval of SPSA − FDSA, paired by
#   seed, lies inside the *margin*, ± a tenth of FDSA's mean RMSE: the two one-sided t-tests (TOST) both
#   reject at 5 %. *Holm's adjustment* raises the p-values of the claims judged by a test so that the
#   family, not each claim alone, keeps a 5 % chance of a false verdict; an interval can lie inside the
#   margin while its adjusted p is not below 0.05, and the answer then says so.
# :::

# %% tags=["hide-input"]
show_banner(profile)
display(Markdown(profile_note(profile)))
if warning:
    display(Markdown(warning))


# The answer in full, from the scorecard's rows by claim id and the arms' finished seeds.
display(Markdown(front.answer_in_full(card, arms, baselines, ARM_LABELS, partial=bool(warning))))
# What the runs show beyond the deck's claims (the conclusions page's "In short", from the same functions).
if baselines:
    scored = common_mode(arms.values())
    findings = conclusions_page.synthesis({p: baseline_standing(arms, baselines, p, scored) for p in PROTOCOL_IDS},
                                          {p: oracle_gaps(arms, p, mode=scored) for p in PROTOCOL_IDS}, ARM_LABELS)
    if control := read_results(results_dir, "conclusions", "readout-control.json"):  # the conclusions' control
        control_by_protocol = {p: control_rows(arms, control, baselines, p, scored) for p in PROTOCOL_IDS}
        findings += [x for x in [readout_control.finding(control_by_protocol, ARM_LABELS)] if x]
    display(Markdown("**What the runs show beyond the deck's claims** ([conclusions](conclusions)):\n\n"
                     + "\n".join(f"- {line}" for line in findings)))

# %% tags=["hide-input"]
fig, plotted = front.key_figure(arms, baselines, ARM_LABELS)
glue("fig_key", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_key
# :name: fig-key
# :alt: Validation RMSE against training updates for SPSA as originally run, FDSA, corrected SPSA and the exact-gradient oracle, under the two validation protocols, with baseline lines
#
# The key result. Validation RMSE (mean of y and z) after each epoch, plotted against training
# updates, mean over the finished seeds (n in the legend) with 95 % t bands (drawn where an
# arm has two seeds or more), every curve scored with {glue:text}`scored` of validation, so that the validation's
# own shot noise is alike for all (the oracle, the exact gradient: black at SPSA's learning rate
# 0.007, grey dashed at FDSA's 0.001; its exact-probability scores are on its own page). Left: the deck's
# protocol (the validation span as one sequence); right: 20-step windows, as in training. Horizontal
# lines: baselines that need no quantum circuit (predicting the training mean, the linear regression
# on x(t), the echo-state network).
# ```
#
# **What a QRNN is here.** Eight qubits: four *memory* qubits carry state from one time step to the
# next, four *readout* qubits are measured at every step and reset to $|0\rangle$. Each step encodes
# $x(t)$ into 55 rotation angles $a_i = w_i x(t) + b_i$, entangles the qubits with a chain of
# controlled rotations, and measures the readout register; its 16 outcome frequencies feed a linear
# layer that predicts $(y, z)(t+1)$. The memory is never measured, so the network is recurrent: what
# it predicts at step $t$ depends on every earlier input. **SPSA** estimates the gradient of the 110
# angle parameters from two random directions (5 circuits per update, the forward included);
# **FDSA** perturbs each of the 110 parameters in turn (221 circuits).
#
#
# **Where to read next.** [The conclusions](conclusions) set every arm against the exact gradient and
# the baselines, with numbers; [the fidelity check](fidelity) shows that this simulator reproduces the
# original's trained models; [the baselines](baselines) say what an RMSE of 0.1 means here; [the
# learning-rate sweep](sweep) and [equal budgets](budget) compare the estimators at equal rates and
# equal circuits; each arm's page ([SPSA as originally run](arm-spsa-original-shots), [FDSA](arm-fdsa-shots),
# [the oracle](arm-oracle-lr007), ...) has every seed's curves. The method is in [the data](data),
# [the circuit](circuit), [the estimators](../../methods) and [the deviations from the
# original](../../deviations).
#
# **Coverage of this profile** (seeds finished per arm, of those the profile plans): {glue:text}`coverage`.

# %% [markdown]
# (summary-scorecard)=
# ## The deck's claims, checked
#
# Each claim, the value measured here with its 95 % interval, named with its number of seeds $n$:
# a mean over the finished seeds with its t interval; a comparison of two arms paired by seed with the
# paired t interval, the paired t-test and the effect size $d_z$ (the mean paired difference over its
# standard deviation); the epoch of the lowest validation RMSE as the share of seeds whose lowest epoch
# lies in the claimed range, with its Clopper-Pearson interval and the exact binomial test against
# one half. The tested claims are one family: their p-values are Holm-adjusted, and a verdict that
# needs a test uses the adjusted p (both are shown). The family is the claims judged by a test (a p-value):
# the others are judged by whether an interval lies inside a band (the learning-rate ratio, the speed ratios
# against a factor 2) or meets it (the deck's one run's lowest RMSE, as rounded, against the t prediction
# interval for one more run of ours), or not tested, and carry
# no p. Over FDSA's {glue:text}`fdsa_seeds` seeds the binomial test of an epoch claim cannot go below
# p = {glue:text}`fdsa_min_p`; where that is not below 0.05, FDSA's epoch claims stay inconclusive whatever
# its seeds show, and their rows say so. Verdicts: *reproduced*, *not reproduced*,
# *inconclusive* (the interval straddles the deck's figure, its band, zero or one half, or the
# adjusted p is not below 0.05) and *not tested* (with the reason; a verdict needs at least
# {glue:text}`min_seeds` finished seeds of each arm). The accuracy claims compare SPSA as originally run (fixed directions) with
# FDSA, both with 1,024 shots, on the same seeds, data, updates and protocol, each at the deck's own
# learning rate (0.007 for SPSA, 0.001 for FDSA): estimator and rate change together, as in the deck.
# [The learning-rate sweep](sweep) sets them side by side at equal rates, and
# [the conclusions](conclusions) set each against the exact gradient at its own rate.

# %% tags=["hide-input"]
glue("min_seeds", f"{MIN_SEEDS}", display=False)
fdsa_seeds = int(arms["fdsa-shots"].complete.sum()) if "fdsa-shots" in arms else 0
glue("fdsa_seeds", str(fdsa_seeds), display=False)
glue("fdsa_min_p", f"{min_binomial_p(fdsa_seeds):.4g}", display=False)
display(Markdown(scorecard_markdown(card)))
display(Markdown(front.tally_by_protocol(card)))
save_json(results_path(results_dir, run_name) / "scorecard.json", {"rows": card})
figures.csv_link(results_path(results_dir, run_name) / "scorecard.csv", *csv_table(card),
                 "the scorecard's numbers (CSV: estimate, interval, seeds, p and Holm-adjusted p; verdict codes "
                 + ", ".join(f"{c} {o}" for o, c in VERDICT_CODES.items()) + ")")
figures.csv_link(results_path(results_dir, run_name) / "key_figure.csv", plotted,
                 ["arm", "protocol"] + [f"epoch {e}" for e in range(1, 1 + max((len(p) - 2 for p in plotted), default=0))],
                 "the numbers of the key figure (CSV)")
for outcome in ("reproduced", "not reproduced", "inconclusive", "not tested"):
    glue(f"card_{outcome.replace(' ', '_')}", sum(r["verdict"] == outcome for r in card), display=False)
glue("card_total", len(card), display=False)

# %% [markdown]
# ## The compute of this profile
#
# What the training runs of this profile have cost, and what is left of them while any is unfinished, by run of the study file,
# from the training workers' own seconds (training, validation and checkpointing of every finished
# epoch; one torch thread a worker). What is left is projected twice: at each run's median epoch so
# far (what this shared machine has been doing) and at its fastest (what it does with nothing else
# running beside the workers); a run none of whose epochs has finished borrows the rates of the
# measured run with the nearest circuits per update. The seconds depend on the machine and on what
# else ran beside the workers: the two workers slow each other a little (they share the machine's
# memory), other work on the machine slows them much more (the sessions that ran this study also built
# and tested it); the runs' provenance records the load.

# %% tags=["hide-input"]
compute = compute_table(study.runs, results)
gpu = Path("results/gpu/bench.json").exists()  # what `make gpu-check` writes on a GPU machine
display(Markdown(front.compute_markdown(compute, arms, gpu, os.cpu_count())))
save_json(results_path(results_dir, run_name) / "compute.json", {"rows": [c.__dict__ for c in compute]})
# The cost of the results a re-run on today's engine replaced, kept beside them (results.compute_snapshot).
previous = read_results(results_dir, ".", cost.PREVIOUS_FILE)
engines = cost.compared(compute, previous)
display(Markdown(cost.before_after_text(engines, previous, compute)))
fig = cost.before_after_figure(engines, previous)
glue("fig_cost_engines", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_cost_engines
# :name: fig-cost-engines
# :alt: Horizontal bars of worker-hours of training per study-file run, before on the PyTorch simulator and now on the compiled kernel, log axis
#
# What each run of the study file cost to train (worker-hours, log axis): on the engine a re-run replaced
# and on today's, for the runs finished in full on both.
# ```

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
