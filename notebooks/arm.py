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
# original's; and the training RMSE per update. Means and comparisons over seeds use the seeds that
# have finished all their epochs (while a seed is still training, it is drawn on its own, up to its
# last epoch).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "arm"
arm = "spsa-shots"  # the study file's run whose seeds this page gathers
seeds = None  # None: every seed found under results_dir
twin = None  # an arm that differs from this one in one setting only, compared seed by seed (or None)

# %% tags=["hide-input"]
# %matplotlib inline
import dataclasses
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import reference
from qrnn_study import figures
from qrnn_study.analysis import best_epoch, mean_ci, subspace_rank
from qrnn_study.model import PROTOCOLS
from qrnn_study.pages.arm import log_against_seeds, progress, twin_rows
from qrnn_core.fidelity import CHECKPOINTS
from qrnn_core.circuit import n_angles
from qrnn_core.train import TrainConfig
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import instance_dirs, load_arm, reproduces
from qrnn_study.words import after_epochs, count, describe_curve


show_banner(profile)
res = load_arm(results_dir, arm, seeds)
if res is None:  # the page still builds: it says what is missing
    display(Markdown(f"**No seed of this arm has finished an epoch yet** in `{results_dir}`: "
                     "run `python -m qrnn_study run` (the page fills in as its seeds finish)."))
    for key in ("fig_val", "fig_train"):
        fig = figures.placeholder(f"{arm}: no finished epoch yet")
        glue(f"{arm}_{key}", fig, display=False)
        plt.close(fig)
    for key in ("val_seeds", "val_marks", "train_seeds", "smooth"):  # the captions' computed pieces
        glue(f"{arm}_{key}", "(no seed has run an epoch yet)", display=False)
if res is not None:
    c = res.config
    E = c["epochs"]
    done, running = res.subset(res.complete), res.subset(~res.complete)
    n_done = len(done.seeds)
    seed_words = "one seed" if n_done == 1 else f"{n_done} seeds"  # the finished ones
    state = (f"all finished their {E} epochs" if not running.seeds else
             f"none has finished all {E} epochs yet: {progress(running)}" if not n_done else
             f"{n_done} finished all {E} epochs; not finished yet: {progress(running)}")
    check = reproduces(instance_dirs(results_dir, arm)[res.seeds[0]])
    display(Markdown(
        f"**{count(len(res.seeds), 'seed')}** ({', '.join(map(str, res.seeds))}): {state}. "
        f"{res.train_rmse.shape[2]:,} updates an epoch, {count(res.circuits_per_update, 'circuit')} per update"
        f"{f', {res.shots_per_circuit:,} shots each' if res.shots_per_circuit else ' (exact probabilities)'}; "
        f"learning rate {TrainConfig.from_dict(c).learning_rate:g} ({c['lr_schedule']}); "
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
    # The deck's and the log's marks at the epochs this arm runs (the quick profile runs fewer than 10).
    fig = figures.validation_curves(done, deck=deck and {e: v for e, v in deck.items() if e <= E},
                                    original=original_log and {e: v for e, v in original_log.items() if e <= E})  # mean and band: finished seeds
    if running.seeds:
        figures.add_unfinished(fig, running)
    glue(f"{arm}_fig_val", fig, display=False)
    plt.close(fig)
    # The caption's computed pieces: which seeds the lines are, and the original's marks where drawn.
    if not n_done:
        seeds_text = (f"no seed has finished all {E} epochs yet, so there is no mean: one thin line for "
                      f"each seed up to its last epoch ({progress(running)}).")
    else:
        who = f"its {seed_words}" if not running.seeds else f"the {seed_words} that finished all {E} epochs"
        seeds_text = (f"{who} (no band)" if n_done == 1 else
                      f"mean over {who}, the band their 95 % bootstrap interval"
                      + (" (over two seeds, their range)" if n_done == 2 else ""))
        if running.seeds:
            seeds_text += (f"; thin lines, kept out of the mean: the {'seed' if len(running.seeds) == 1 else 'seeds'}"
                           f" not finished yet ({progress(running)})")
        seeds_text += "."
    glue(f"{arm}_val_seeds", seeds_text, display=False)
    glue(f"{arm}_val_marks", "Black squares: the validation RMSEs the deck states; red crosses: the original "
         "code's logs." if deck else "The original ran no arm with these settings: none of its numbers are "
         "drawn.", display=False)
    data = figures.curves_table(res)
    save_json(results_path(results_dir, run_name) / "validation.json", data)
    figures.csv_link(results_path(results_dir, run_name) / "validation.csv", data["rows"], data["columns"])

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_val
# :name: fig-{{arm}}-val
# :alt: Validation RMSE against epoch for each protocol and mode, mean over seeds with a shaded 95 % band
#
# Validation RMSE (mean of y and z, scaled units) after each epoch: {glue:text}`{{arm}}_val_seeds`
# Left the deck's protocol (one 2,969-step sequence), right the windows protocol (20-step windows,
# steps 5..19 scored); solid exact probabilities, dashed 1,024 shots. {glue:text}`{{arm}}_val_marks`
# ```

# %% tags=["hide-input"]
PROTOCOL_NAMES = {p.id: p.short for p in PROTOCOLS}
if res is not None:
    # Lowest, its epoch and the last value, compared across seeds: finished seeds only, since an
    # unfinished seed's lowest so far need not be its run's lowest.
    rows = []
    for protocol in ("sequence", "windows"):
        for mode in ("exact", "shots"):
            v = done.val[protocol][mode][:, :, 2]
            if not np.isfinite(v).any():
                continue
            best = mean_ci(v.min(1))
            scored = "exact probabilities" if mode == "exact" else f"{c['val_shots']:,} shots"
            rows.append(f"| {protocol} | {scored} | {best} | {mean_ci(best_epoch(v)).format(1)} | {mean_ci(v[:, -1])} |")
            glue(f"{arm}_{protocol}_{mode}_best", f"{best.mean:.4f}", display=False)
    if n_done:
        display(Markdown(
            "| protocol | validation scored with | lowest validation RMSE (mean of y, z) | epoch of the lowest | "
            "after the last epoch |\n|---|---|---|---|---|\n" + "\n".join(rows)
            + (f"\n\nEach cell: the value of the one seed that finished all {E} epochs" if n_done == 1 else
               f"\n\nEach cell: mean over the {n_done} seeds that finished all {E} epochs")
            + (" [95 % bootstrap interval]" if n_done > 2 else "")
            + (f"; not finished yet, so left out: {progress(running)}" if running.seeds else "") + "."))
    else:
        display(Markdown(f"**No seed has finished all {E} epochs yet** ({progress(running)}): their lowest "
                         "validation RMSE and its epoch are compared once they have. The figure shows each "
                         "seed so far."))

    # What the arm shows, in words, from the mean curves of its finished seeds (the validation mode of
    # its training). A change no larger than the seeds' spread is not called a fall or a rise.
    mode = done.mode
    said = []
    spread = {}
    for protocol, name in PROTOCOL_NAMES.items():
        v = done.val[protocol][mode][:, :, 2]
        if not n_done or not np.isfinite(v).all():
            continue
        curve = v.mean(0)
        spread[protocol] = float(np.median(v.std(0, ddof=1))) if n_done > 1 else None
        own = best_epoch(v).astype(int).tolist()
        lowest = int(np.argmin(curve)) + 1
        if set(own) == {lowest}:
            seeds_lowest = f"each seed has its own lowest after epoch {lowest} too"
        else:  # the table's epoch of the lowest averages these, which is not the mean curve's lowest
            seeds_lowest = (f"the seeds' own lowest come after epochs {', '.join(map(str, own))} (their mean, "
                            f"{np.mean(own):.1f}, is the table's epoch of the lowest; the mean curve's lowest "
                            f"is after epoch {lowest})")
        said.append(f"Under {name}, {'it' if n_done == 1 else 'the mean'} is {describe_curve(curve, spread[protocol])}."
                    + ("" if n_done == 1 else f" {seeds_lowest[0].upper()}{seeds_lowest[1:]}."))
    if said:
        judged = ("A change no larger than the seeds' standard deviation (its median over the epochs: "
                  + ", ".join(f"{s:.4f} under {PROTOCOL_NAMES[p]}" for p, s in spread.items())
                  + ") counts as staying within the seed spread." if n_done > 1 else
                  "With one seed there is no spread to judge a change by.")
        whose = "its one finished seed" if n_done == 1 else f"the mean over its {n_done} finished seeds"
        validation = f"{c['val_shots']:,}-shot" if mode == "shots" else "exact"
        display(Markdown(f"**What this arm shows** ({whose}, {validation} validation). {judged} "
                         + " ".join(said)))

    # The original's logged run beside this arm's seeds, under the deck's protocol with shots as it was
    # logged. One run is set against the range of the seeds, not against the interval of their mean.
    compared = log_against_seeds(original_log, done.val["sequence"]["shots"][:, :, 2]) if original_log else None
    if compared is not None:
        v = done.val["sequence"]["shots"][:, :, 2]
        below, above, inside, gap = compared.below, compared.above, compared.inside, compared.gap
        where = ([f"below every one of them {after_epochs(below)}"] if below else []) \
            + ([f"above every one of them {after_epochs(above)}"] if above else []) \
            + ([f"within their range {after_epochs(inside)}"] if inside else [])
        text = (f"**The original's logged run against this arm.** The original code's log (one run, the crosses "
                f"in {{numref}}`fig-{arm}-val`) lies, against this arm's {count(n_done, 'finished seed')} "
                f"({c['val_shots']:,}-shot validation, the deck's protocol), {'; '.join(where)}.")
        if compared.beyond:
            text += (f" The log's epochs {compared.beyond[0]}-{compared.beyond[-1]} lie beyond the {E} epochs "
                     "this arm runs: they are not compared." if len(compared.beyond) > 1 else
                     f" The log's epoch {compared.beyond[0]} lies beyond the {E} epochs this arm runs: it is "
                     "not compared.")
        if below or above:
            first, last, largest = min(gap), max(gap), max(gap, key=gap.get)
            text += (f" Outside their range it lies {gap[first]:.4f} from the nearest seed after epoch {first}"
                     + (f" and {gap[last]:.4f} after epoch {last}" if last != first else "")
                     + (f" (the most, {gap[largest]:.4f}, after epoch {largest})"
                        if largest not in (first, last) else "")
                     + f". At any one epoch, a further run like this arm's would lie outside the range of "
                     f"{count(n_done, 'seed')} with probability {Fraction(2, n_done + 1)}: being outside says "
                     "little, how far outside says more.")
            sd = spread.get("sequence")  # None where a finished seed lacks an epoch of this protocol
            if sd is not None and max(gap.values()) <= sd:
                text += (f" Every gap is within the seeds' standard deviation ({sd:.4f}): nothing "
                         "sets the log apart from what one more seed could give.")
            else:
                shot_part = np.nanmax(v - done.val["sequence"]["exact"][:, :, 2])
                differences = ["it is one run, from initial values that no seed here reproduces",
                               "by our reading of its code it saw the training windows in the same order every "
                               "epoch (here in a fresh order every epoch)"]
                if c["method"] == "fdsa":
                    differences.insert(0, f"its checkpoint's name gives {CHECKPOINTS['fdsa_epoch4'].shots:,} shots "
                                          f"where this arm uses {c['shots']:,}, and its validation used them (see "
                                          "the fidelity page)")
                if c["method"] == "spsa":
                    differences.insert(0, "its two fixed directions were its own generator's draws, not this arm's")
                text += ((f" The seeds' standard deviation is about {sd:.4f}." if sd is not None else "")
                         + f" Validation's shot noise adds at most {shot_part:.4f} to a seed's RMSE here "
                         f"({c['val_shots']:,}-shot against exact validation of the same parameters; more shots "
                         "add less), "
                         + ("less than any of these gaps" if shot_part < min(gap.values()) else
                            "as much as some of these gaps") + ". The documented differences from the "
                         f"original's run: {'; '.join(differences)}. None of them has been measured here, so the "
                         "gap is not explained.")
        display(Markdown(text))

# %% tags=["hide-input"]
if res is not None:
    # The training RMSE over the same seeds as the validation means: the finished ones, or, before any
    # has finished, every seed over the epochs all of them have run.
    common = int(res.epochs_done.min())
    shown = done if n_done else dataclasses.replace(res, train_rmse=res.train_rmse[:, :common])
    fig = figures.train_curves(shown)
    glue(f"{arm}_fig_train", fig, display=False)
    plt.close(fig)
    glue(f"{arm}_smooth", f"{figures.smoothing(res.train_rmse.shape[2]):,}", display=False)
    glue(f"{arm}_train_seeds", (f"its {seed_words}" if not running.seeds else
                                f"the {seed_words} that finished all {E} epochs" if n_done else
                                f"its {count(len(res.seeds), 'seed')}, none finished yet, over the "
                                f"{count(common, 'epoch')} all of them have run"), display=False)

    if c["method"] == "spsa" and n_done:
        n_quantum = 2 * n_angles(c["n_qubits"])  # the quantum layer's parameters lead the vector
        ranks = [subspace_rank(p[:, :n_quantum]) for p in done.params]
        final = [int(r[-1]) for r in ranks]
        glue(f"{arm}_rank", f"{min(final)}-{max(final)}" if min(final) != max(final) else str(final[0]), display=False)
        display(Markdown(
            f"**Where the quantum parameters went.** The rank of $\\{{\\theta_t - \\theta_0\\}}$ over the epoch "
            f"snapshots of the {n_quantum} quantum parameters is {', '.join(map(str, final))} "
            f"{'across its finished seeds' if len(final) > 1 else 'for its one finished seed'} "
            + ("(the same two directions every update keep them in a plane)." if c["spsa_fixed_directions"] else
               f"(fresh directions: it can grow by one with each of the {E} epoch snapshots).")))

    other = load_arm(results_dir, twin, seeds) if twin else None
    if twin and other is not None:
        differ = sorted(k for k in set(c) | set(other.config) if k not in ("seed",) and c.get(k) != other.config.get(k))
        common_seeds = [s for s in res.seeds if s in other.seeds]
        i = [res.seeds.index(s) for s in common_seeds]
        j = [other.seeds.index(s) for s in common_seeds]
        lines = [f"| {r.protocol} | {r.inside} of {r.epochs} | {r.worst_difference:.5f} against {r.worst_sd:.5f} |"
                 for r in twin_rows({p: res.val[p]["shots"][i, :, 2] for p in ("sequence", "windows")},
                                    {p: other.val[p]["shots"][j, :, 2] for p in ("sequence", "windows")})]
        if lines:
            display(Markdown(
                f"**Against its twin** [{twin}]({'arm-' + twin}) (which differs only in {', '.join(differ)}), over the "
                f"{len(common_seeds)} seeds both ran: at each epoch both have run, the mean difference of validation RMSE "
                "(mean of y and z, 1,024-shot validation) against the seed-to-seed standard deviation within the "
                "arms at that epoch (pooled). With shots, the two precisions' probabilities differ in their last "
                "digits; a shot count changes wherever a random draw falls between the two, and from the first "
                "changed count on the two runs' parameters, and so all later draws, differ. Their runs then differ "
                "as two seeds do, and the question is whether that difference stays within the spread between seeds.\n\n"
                "| protocol | epochs with the difference inside the spread | the largest difference, against its spread |"
                "\n|---|---|---|\n" + "\n".join(lines)))
        else:
            display(Markdown(f"**Against its twin** [{twin}]({'arm-' + twin}): not yet compared; that needs two seeds "
                             f"that both arms have run (common seeds so far: {', '.join(map(str, common_seeds)) or 'none'})."))

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_train
# :name: fig-{{arm}}-train
# :alt: Training RMSE against update, mean over seeds, smoothed, with a 95 % band
#
# Training RMSE per update (the square root of the window's loss), a running mean over {glue:text}`{{arm}}_smooth` updates,
# averaged over {glue:text}`{{arm}}_train_seeds`, with the 95 % band where there are three seeds or
# more (over two, the band is their range); grey lines mark epochs.
# ```
