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
# (page-baselines)=
# # Baselines: what a validation RMSE means here
#
# The QRNN's validation RMSE is in the scaled units of the original study's series (each of x, y, z
# min-max scaled to [0, 1] over a longer trajectory than its 9,900 rows, so the rows used here span
# part of that range: see [the data](data)). To read a number such as 0.09, this page scores five simple predictors
# of $(y, z)(t+1)$ from $x(t)$ on the same task and on both validation protocols: the deck's (the
# whole 2,969-step validation span as one sequence started fresh, every step scored) and the windows
# protocol (590 windows of 20 steps, each started fresh, steps 5..19 scored). Every baseline is
# fitted on the training span only (rows before 6,930); its hyperparameters are chosen by fitting on
# the first 80 % of that span and scoring on the last 20 %, never on validation data.
#
# * **mean**: always predict the training mean of $(y, z)$. Its RMSE is about the spread of the
#   targets: a model that scores near it has learnt nothing from $x$.
# * **linear**: least squares $(y, z)(t+1) = a\,x(t) + b$, no memory. Since $\dot x = \sigma(y - x)$,
#   $x$ alone says a good deal about $y$ and almost nothing about $z$.
# * **NG-RC**: next-generation reservoir computing {cite:p}`gauthier2021next`: a constant, $k$ delayed
#   inputs $x(t), x(t-s), \dots, x(t-(k-1)s)$ and all their quadratic products, with a ridge
#   readout. Missing history at the start of a sequence or window is the first value repeated.
# * **ESN**: a classical echo-state network used as a "reservoir observer" {cite:p}`lu2017reservoir`: a
#   random 300-unit tanh reservoir (reservoirpy) driven by $x(t)$, with only a ridge readout of its
#   state trained; several reservoir seeds. It starts from a zero state in each sequence or window.
# * **QESN**: the QRNN's own circuit frozen at the random initialisation the trained runs start from,
#   with only its linear readout (16 outcome probabilities and an intercept) fitted by ridge
#   regression: the quantum echo-state network of {cite:t}`connerty2025quantum` (a research paper by the
#   deck's first author with others, the work the deck cites; not the deck). It measures what training
#   the circuit adds. Scored with exact probabilities and with 1,024-shot frequencies.
#
# NG-RC, ESN and QESN are fitted once for each protocol, in that protocol's form (the QESN's windows
# readout on the training windows, as the trained runs are; its sequence readout with its washout and
# ridge penalty chosen, like every other setting here, on the training span alone). For the deck's protocol
# the readout is fitted so that, as in validation, the first steps after a fresh start count (without
# this, a readout fitted on settled reservoir states alone makes errors of order 1 to 100 in the first
# few dozen steps). The settings each baseline chose are listed below the table.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "baselines"  # this run's folder under results_dir
seeds = None  # the ESN's reservoir seeds and the QESN's circuit seeds; None: the profile's (the trained arms' seeds)

# %% tags=["hide-input"]
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_core.baselines import SHOTS, run_baselines
from qrnn_study.study_file import load_study
from qrnn_core.data import DataConfig, make_task
from qrnn_study.report import results_path, save_json, show_banner

show_banner(profile)
figures.style()
task = make_task(DataConfig(source="original"))
t0 = time.perf_counter()
if seeds is None:
    seeds = load_study(profile=profile).seeds
results = run_baselines(task, seeds=seeds, shots=SHOTS)
seconds = time.perf_counter() - t0
out_dir = results_path(results_dir, run_name)
save_json(out_dir / "baselines.json", results)
glue("baselines_seconds", f"{seconds:.0f}", display=False)
glue("baselines_n_seeds", f"{len(seeds)} seed{'s' * (len(seeds) != 1)}", display=False)

# %% tags=["hide-input"]
NAMES = {"mean": "mean", "linear": "linear", "ngrc": "NG-RC", "esn": "ESN", "qesn": "QESN"}
PROTOCOLS = {"sequence": "deck's (one sequence)", "windows": "windows (steps 5..19)"}
MODES = {"exact": "exact", "shots": f"{SHOTS:,} shots, readout fitted on shots",
         "shots_exact_readout": f"{SHOTS:,} shots, exact readout"}
KEYS = {"y": "rmse_y", "z": "rmse_z", "mean": "rmse_mean"}


def cell(name, protocol, mode, key):
    """The table's text for one number: the value, or mean ± standard deviation over seeds with the
    seeds' range (lowest to highest)."""
    r = results[name]
    v = r[protocol][mode][key]
    if "std" in r and len(seeds) > 1:
        sd = r['std'][protocol][mode][key]
        each = [s[protocol][mode][key] for s in r["per_seed"]]
        d = 4 if sd >= 5e-5 else 6
        return f"{v:.{d}f} ± {sd:.{d}f} ({min(each):.{d}f} to {max(each):.{d}f})"
    return f"{v:.4f}"


rows = ["| baseline | protocol | probabilities | RMSE y | RMSE z | RMSE mean |", "|---|---|---|---|---|---|"]
for name, label in NAMES.items():
    for protocol, plabel in PROTOCOLS.items():
        for mode in results[name][protocol]:
            rows.append(f"| {label} | {plabel} | {MODES[mode] if name == 'qesn' else '-'} | "
                        + " | ".join(cell(name, protocol, mode, k) for k in KEYS.values()) + " |")
            prefix = f"baseline_{name}_{protocol}" if mode == "exact" else f"baseline_{name}_{mode}_{protocol}"
            for short, key in KEYS.items():
                glue(f"{prefix}_{short}", f"{results[name][protocol][mode][key]:.4f}", display=False)
                if "std" in results[name]:
                    glue(f"{prefix}_{short}_std", f"{results[name]['std'][protocol][mode][key]:.4f}", display=False)
spread = (f"mean ± standard deviation over {len(seeds)} seeds (lowest to highest seed)" if len(seeds) > 1
          else f"one seed ({seeds[0]})")
display(Markdown(f"Validation RMSE (scaled units) of each baseline; ESN and QESN: {spread}.\n\n" + "\n".join(rows)))


def chosen(name, protocol):
    s = results[name]["settings"][protocol]
    keys = {"ngrc": ("k", "s", "alpha"), "esn": ("sr", "lr", "input_scaling", "alpha")}[name]
    return ", ".join(f"{k} {s[k]:g}" for k in keys) + f" (held-out RMSE {s['heldout_rmse_mean']:.4f})"


qs = results["qesn"]["settings"]
settings = [
    f"* **linear**: y = {results['linear']['settings']['slope_y']:.3f} x + "
    f"{results['linear']['settings']['intercept_y']:.3f}, z = {results['linear']['settings']['slope_z']:.3f} x + "
    f"{results['linear']['settings']['intercept_z']:.3f}.",
    *(f"* **NG-RC**, {PROTOCOLS[p]}: {chosen('ngrc', p)}." for p in PROTOCOLS),
    *(f"* **ESN**, {PROTOCOLS[p]}: {chosen('esn', p)}; chosen with reservoir seed "
      f"{results['esn']['settings']['selection_seed']}, 300 units." for p in PROTOCOLS),
    *(f"* **QESN**, {PROTOCOLS[p]}, readout fitted on {MODES[m].split(', ')[0] if m == 'exact' else 'shots'}: "
      "washout, ridge alpha per seed " + ", ".join(f"{s[p][m]['washout']}, {s[p][m]['alpha']:g}" for s in qs["selected"])
      + "." for p in PROTOCOLS for m in qs["selected"][0][p]),
]
display(Markdown("Settings chosen by the 80/20 rule on the training span:\n\n" + "\n".join(settings)))

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(10, 4.8))
names = list(NAMES)
width = 0.38
csv_rows = []
for k, (protocol, color) in enumerate((("sequence", "C0"), ("windows", "C1"))):
    x = np.arange(len(names)) + (k - 0.5) * width
    v = np.array([results[n][protocol]["exact"]["rmse_mean"] for n in names])
    err = np.array([results[n]["std"][protocol]["exact"]["rmse_mean"] if "std" in results[n] else 0.0
                    for n in names])
    seeded = np.array(["std" in results[n] for n in names]) & (len(seeds) > 1)
    ax.bar(x, v, width, color=color, label=PROTOCOLS[protocol].replace("deck's", "deck's protocol"))
    ax.errorbar(x[seeded], v[seeded], yerr=err[seeded], fmt="none", ecolor="k", capsize=4)
    for xi, vi, ei in zip(x, v, err):
        ax.annotate(f"{vi:.3f}", (xi, vi + ei), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=figures.FONT - 2)
    csv_rows += [[n, protocol, float(a), float(b)] for n, a, b in zip(names, v, err)]
ax.set_yscale("log")
ax.set_xticks(np.arange(len(names)), [NAMES[n] for n in names])
ax.set(xlabel="baseline (exact probabilities for the QESN)", ylabel="validation RMSE (scaled units)\nmean of y and z")
ax.set_ylim(top=ax.get_ylim()[1] * 3)
ax.legend(loc="upper left")
ax.grid(axis="y", alpha=0.3, which="both")
fig.tight_layout()
glue("baselines_fig", fig, display=False)
plt.close(fig)
figures.csv_link(out_dir / "baselines.csv", csv_rows, ["baseline", "protocol", "rmse_mean", "std_over_seeds"])

# %% [markdown]
# ```{glue:figure} baselines_fig
# :name: fig-baselines
# :alt: Bar chart on a logarithmic axis of the validation RMSE, mean of y and z, for the mean, linear, NG-RC, ESN and QESN baselines, with one bar for the deck's one-sequence protocol and one for the windows protocol
#
# Validation RMSE (mean of y and z, scaled units, logarithmic axis) of each baseline on the deck's
# protocol (one 2,969-step sequence) and the windows protocol (steps 5..19 of 20-step windows), exact
# probabilities; ESN and QESN bars are means over seeds with their standard deviation. The mean
# predictor marks "learnt nothing"; the classical reservoirs (NG-RC, ESN) show how small the error
# can get from $x$ alone; the QESN is the untrained circuit with only its readout fitted.
# ```

# %% [markdown]
# The whole run took {glue:text}`baselines_seconds` s ({glue:text}`baselines_n_seeds`). On the
# deck's protocol the mean predictor scores {glue:text}`baseline_mean_sequence_mean`, the linear fit
# {glue:text}`baseline_linear_sequence_mean` (y {glue:text}`baseline_linear_sequence_y`, z
# {glue:text}`baseline_linear_sequence_z`), NG-RC {glue:text}`baseline_ngrc_sequence_mean`, the ESN
# {glue:text}`baseline_esn_sequence_mean` and the frozen circuit (QESN)
# {glue:text}`baseline_qesn_sequence_mean` with exact probabilities; on the windows protocol the QESN
# scores {glue:text}`baseline_qesn_windows_mean`.

# %% tags=["hide-input"]
# Every baseline against the training mean, each protocol and each way it is fitted and applied; the
# exact readout applied to shot frequencies is a diagnostic (what shot noise does to a readout fitted
# without it), not a baseline, and is said so when it loses.
from qrnn_core.baselines import beats_mean

losing = [(n, p, m) for m in ("exact", "shots") for (n, p), ok in beats_mean(results, m).items()
          if not ok and m in results[n][p]]
mean_of = {p: results["mean"][p]["exact"]["rmse_mean"] for p in PROTOCOLS}
lines = [f"* **{NAMES[n]}**, {PROTOCOLS[p]}, {MODES[m]}: {results[n][p][m]['rmse_mean']:.4f} against the mean's "
         f"{mean_of[p]:.4f}: its readout, chosen on the training span, does not carry over to the validation span."
         for n, p, m in losing]
diag = {p: results["qesn"][p]["shots_exact_readout"]["rmse_mean"] for p in PROTOCOLS
        if "shots_exact_readout" in results["qesn"][p]}
display(Markdown(
    ("Every baseline scores below the training mean on both protocols, with exact probabilities and (QESN) "
     "with shots." if not lines else
     "**Not every baseline beats the training mean:**\n\n" + "\n".join(lines))
    + (f"\n\nThe QESN's exact readout applied to {SHOTS:,}-shot frequencies (a diagnostic, not a baseline) scores "
       + " and ".join(f"{v:.4f} on the {PROTOCOLS[p]}" for p, v in diag.items())
       + (" (worse than the mean)" if any(v >= mean_of[p] for p, v in diag.items()) else "")
       + ": fitted on exact probabilities with almost no ridge penalty, it weighs differences between "
       "probabilities that shot noise swamps." if diag else "")))
