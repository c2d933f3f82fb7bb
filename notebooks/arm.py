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
# # An arm of the study
#
# Every seed of one arm, read from its result files (this page trains nothing): validation RMSE
# after each epoch as a mean over seeds with a 95 % bootstrap band, under both validation protocols,
# exact and with 1,024 shots, beside the deck's and the original code's numbers where the arm is the
# original's; and the training RMSE per update.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "arm"
arm = "spsa-shots"  # the study file's run whose seeds this page gathers
seeds = None  # None: every seed found under results_dir
twin = None  # an arm that differs from this one in one setting only, compared seed by seed (or None)

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import figures, reference
from qrnn_core.analysis import band, best_epoch, mean_ci, subspace_rank
from qrnn_core.report import count, results_path, save_json, show_banner
from qrnn_core.results import instance_dirs, load_arm, reproduces

show_banner(profile)
res = load_arm(results_dir, arm, seeds)
if res is None:  # the page still builds: it says what is missing
    display(Markdown(f"**No seed of this arm has finished an epoch yet** in `{results_dir}`: "
                     "run `python -m qrnn_core study` (the page fills in as its seeds finish)."))
    for key in ("fig_val", "fig_train"):
        fig = figures.placeholder(f"{arm}: no finished epoch yet")
        glue(f"{arm}_{key}", fig, display=False)
        plt.close(fig)
if res is not None:
    c = res.config
    E = c["epochs"]
    n_done = int(res.complete.sum())
    check = reproduces(instance_dirs(results_dir, arm)[res.seeds[0]])
    display(Markdown(
        f"**{count(len(res.seeds), 'seed')}** ({', '.join(map(str, res.seeds))}); **{n_done}** finished all {E} epochs. "
        f"{res.train_rmse.shape[2]:,} updates an epoch, {count(res.circuits_per_update, 'circuit')} per update"
        f"{f', {res.shots_per_circuit:,} shots each' if res.shots_per_circuit else ' (exact probabilities)'}; "
        f"learning rate {c['lr'] or reference.LEARNING_RATE.get(c['method'], 0.001)} ({c['lr_schedule']}); "
        f"data: the {'original study' + chr(39) + 's series' if c['data']['source'] == 'original' else 'regenerated series'}; "
        f"{c['precision']}.\n\n**Reproduction check:** {check}."))
    if not check.current:
        display(Markdown("```{warning}\nThe code has changed what this arm computes: these results are **stale**. "
                         "Re-run the study to refresh them.\n```"))

# %% tags=["hide-input"]
if res is not None:
    deck = reference.VAL_RMSE.get(c["method"]) if c["method"] in ("spsa", "fdsa") and c["shots"] else None
    if c["method"] == "spsa" and not c["spsa_fixed_directions"]:
        deck = None  # the deck's SPSA ran with fixed directions: only that arm is compared with it
    original_log = reference.original_log(c["method"]) if deck else None
    fig = figures.validation_curves(res, deck=deck, original=original_log)
    glue(f"{arm}_fig_val", fig, display=False)
    plt.close(fig)
    data = figures.curves_table(res)
    save_json(results_path(results_dir, run_name) / "validation.json", data)
    figures.csv_link(results_path(results_dir, run_name) / "validation.csv", data["rows"], data["columns"])

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_val
# :name: fig-{{arm}}-val
# :alt: Validation RMSE against epoch for each protocol and mode, mean over seeds with a shaded 95 % band
#
# Validation RMSE (mean of y and z, scaled units) after each epoch: mean over seeds, the band is the
# 95 % bootstrap interval over seeds (drawn where two seeds or more have run the epoch); left the deck's protocol (one 2,969-step sequence), right the
# windows protocol (20-step windows, steps 5..19 scored); solid exact probabilities, dashed 1,024
# shots. Where the arm is run as the original ran it: square markers, the numbers stated in the
# deck; crosses, the original code's logs.
# ```

# %% tags=["hide-input"]
if res is not None:
    rows = []
    for protocol in ("sequence", "windows"):
        for mode in ("exact", "shots"):
            v = res.val[protocol][mode][:, :, 2]
            if not np.isfinite(v).any():
                continue
            best = mean_ci(np.nanmin(v, axis=1))
            last = mean_ci(v[:, -1]) if np.isfinite(v[:, -1]).any() else None
            be = mean_ci(best_epoch(v))
            rows.append(f"| {protocol} | {mode} | {best} | {be.format(1)} | "
                        f"{last if last else '-'} |")
            glue(f"{arm}_{protocol}_{mode}_best", f"{best.mean:.4f}", display=False)
    display(Markdown("| protocol | probabilities | lowest validation RMSE (mean of y, z) | epoch of the lowest | "
                     "after the last epoch |\n|---|---|---|---|---|\n" + "\n".join(rows)
                     + "\n\nEach cell: mean over seeds [95 % bootstrap interval]."))
    # What the arm shows, in words, from the mean curves (the validation mode of its training).
    mode = "shots" if c["shots"] else "exact"
    said = []
    for protocol, name in (("sequence", "the deck's protocol"), ("windows", "the windows protocol")):
        curve = np.nanmean(res.val[protocol][mode][:, :, 2], axis=0) if np.isfinite(res.val[protocol][mode]).any() else None
        if curve is None or not np.isfinite(curve).any():
            continue
        done = np.flatnonzero(np.isfinite(curve))
        low, last = int(np.nanargmin(curve)) + 1, int(done[-1]) + 1
        trend = (f"{curve[0]:.4f} after its one epoch so far" if len(done) < 2 else
                 f"still falling at its last epoch ({curve[last - 1]:.4f} after epoch {last})" if low == last else
                 f"lowest after epoch {low} ({curve[low - 1]:.4f}), then higher: {curve[last - 1]:.4f} after epoch {last}")
        said.append(f"under {name} its mean validation RMSE is {trend}")
    if said:
        display(Markdown(f"**What this arm shows** (mean over its seeds, {'1,024-shot' if mode == 'shots' else 'exact'} "
                         f"validation): " + "; ".join(said) + "."))

# %% tags=["hide-input"]
if res is not None:
    fig = figures.train_curves(res)
    glue(f"{arm}_fig_train", fig, display=False)
    plt.close(fig)

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_train
# :name: fig-{{arm}}-train
# :alt: Training RMSE against update, mean over seeds, smoothed, with a 95 % band
#
# Training RMSE per update (the square root of the window's loss), a running mean over 100 updates,
# averaged over seeds with the 95 % band where there are two seeds or more; grey lines mark epochs.
# ```

# %% tags=["hide-input"]
if res is not None:
    if c["method"] == "spsa":
        ranks = np.array([subspace_rank(p[np.isfinite(p).all(1)][:, :110]) for p in res.params], dtype=object)
        final = [int(r[-1]) for r in ranks if len(r)]
        glue(f"{arm}_rank", f"{min(final)}-{max(final)}" if min(final) != max(final) else str(final[0]), display=False)
        display(Markdown(
            f"**Where the quantum parameters went.** The rank of $\\{{\\theta_t - \\theta_0\\}}$ over the epoch "
            f"snapshots of the 110 quantum parameters is {', '.join(map(str, final))} "
            f"{'across seeds' if len(final) > 1 else 'for its one seed'} "
            + ("(the same two directions every update keep them in a plane)." if c["spsa_fixed_directions"] else
               f"(fresh directions: it can grow by one with each of the {E} epoch snapshots).")))

# %% tags=["hide-input"]
other = load_arm(results_dir, twin, seeds) if res is not None and twin else None
if twin and other is not None:
    differ = sorted(k for k in set(c) | set(other.config) if k not in ("seed",) and c.get(k) != other.config.get(k))
    common = [s for s in res.seeds if s in other.seeds]
    i = [res.seeds.index(s) for s in common]
    j = [other.seeds.index(s) for s in common]
    lines = []
    for protocol in ("sequence", "windows"):
        a, b = res.val[protocol]["shots"][i, :, 2], other.val[protocol]["shots"][j, :, 2]
        both = np.isfinite(a).all(0) & np.isfinite(b).all(0)  # the epochs every common seed has run
        if len(common) < 2 or not both.any():
            continue
        # per epoch: the mean difference over seeds against the seed-to-seed SD within the arms (pooled)
        diff = np.abs((a - b)[:, both].mean(0))
        spread = np.sqrt((np.var(a[:, both], axis=0, ddof=1) + np.var(b[:, both], axis=0, ddof=1)) / 2)
        inside = int((diff < spread).sum())
        worst = int(np.argmax(diff / spread))
        lines.append(f"| {protocol} | {inside} of {int(both.sum())} | {diff[worst]:.5f} against {spread[worst]:.5f} |")
    if lines:
        display(Markdown(
            f"**Against its twin** [{twin}]({'arm-' + twin}) (which differs only in {', '.join(differ)}), over the "
            f"{len(common)} seeds both ran: at each epoch both have run, the mean difference of validation RMSE "
            "(mean of y and z, 1,024-shot validation) against the seed-to-seed standard deviation within the "
            "arms at that epoch (pooled). With shots, the two precisions' probabilities differ in their last "
            "digits; a shot count changes wherever a random draw falls between the two, and from the first "
            "changed count on the two runs' parameters, and so all later draws, differ. Their runs then differ "
            "as two seeds do, and the question is whether that difference stays within the spread between seeds.\n\n"
            "| protocol | epochs with the difference inside the spread | the largest difference, against its spread |"
            "\n|---|---|---|\n" + "\n".join(lines)))
    else:
        display(Markdown(f"**Against its twin** [{twin}]({'arm-' + twin}): not yet compared; that needs two seeds "
                         f"that both arms have run (common seeds so far: {', '.join(map(str, common)) or 'none'})."))
