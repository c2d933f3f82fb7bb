"""The equal-budget page: the full-protocol arms on the axis of what they spent (circuits and shots), and
the comparison at equal budget per update (SPSA with 110 directions beside FDSA, two-direction SPSA and
the oracle at one learning rate of the sweep).

Shapes: ``full`` is ``{label: ArmResults}`` of the full-protocol arms that have results (any may be
missing); ``expected`` is ``{name: ArmResults | None}`` of the equal-budget runs (None, or no finished
seed: not yet run). Seeds may be unfinished (NaN epochs) and differ between arms; one seed is a row
without an interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import figures
from ..analysis import comparable, final_train_rmse, mean_ci, paired
from ..conclusions import common_mode
from ..model import arm
from ..words import count, training_windows_words

#: The full-protocol arms on the spending axis, by their figure label.
FULL = {arm(a).label: a for a in ("spsa-original-shots", "spsa-shots", "spsa-spall-shots", "fdsa-shots")}
CSV_COLUMNS = ["arm", "train_mean", "train_low", "train_high", "val_mean", "val_low", "val_high", "seeds"]


def seeds_done(r, planned: int) -> str:
    """``3 of 5`` seeds finished (of the ``planned``, the study file's; 0: those started), with those still under way."""
    finished, started = int(r.complete.sum()), len(r.seeds)
    return f"{finished} of {planned or started}" + (f" ({started - finished} under way)" if started > finished else "")


def figure(full: dict):
    """Validation RMSE against circuits spent, per full-protocol arm (a placeholder until one has run an epoch)."""
    return figures.budget_curves(full) if full else figures.placeholder("no full-protocol arm has finished an epoch yet")


def cost_table(full: dict, planned: dict[str, int]) -> str:
    """Circuits and shots per update, per epoch and in all epochs, per arm, with its seeds finished
    (``planned``: ``{arm: seeds the study file plans}``); and, with FDSA and corrected SPSA both present,
    how many SPSA epochs one FDSA epoch costs. Empty without an arm."""
    if not full:
        return ""
    rows = []
    for label, r in full.items():
        per_epoch = r.circuits_per_update * r.train_rmse.shape[2]
        rows.append(f"| {label} | {r.circuits_per_update} | {r.circuits_per_update * r.shots_per_circuit:,} | "
                    f"{per_epoch:,} | {per_epoch * r.config['epochs']:,} | {seeds_done(r, planned.get(r.arm, 0))} |")
    return (f"| arm ({next(iter(full.values())).shots_per_circuit:,} shots) | circuits per update | shots per update | "
            "circuits per epoch | circuits in all epochs | seeds finished, of those planned |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows))


def epochs_ratio(full: dict) -> tuple[float, str] | None:
    """FDSA's circuits per update over corrected SPSA's, and the sentence saying what it means (None
    unless both arms have results)."""
    by_id = {r.arm: r for r in full.values()}
    if "fdsa-shots" not in by_id or "spsa-shots" not in by_id:
        return None
    f, s = by_id["fdsa-shots"], by_id["spsa-shots"]
    ratio = (f.circuits_per_update) / s.circuits_per_update
    return ratio, (
        f"One FDSA epoch costs as many circuits as {ratio:.0f} SPSA epochs, so the deck's {s.config['epochs']} "
        f"SPSA epochs spend what FDSA spends in {s.config['epochs'] / ratio:.2f} of an epoch. Every arm here "
        f"runs {s.shots_per_circuit:,} shots a circuit, so the shots axis is the circuits axis scaled.")


def label(r) -> str:
    """A row's name: the estimator and what one update costs."""
    c = r.config
    if c["method"] == "exact":
        return "oracle, the exact gradient (1 simulated circuit and its adjoint pass an update)"
    what = {"spsa": f"SPSA, {c['spsa_directions']} directions", "fdsa": "FDSA"}[c["method"]]
    return f"{what} ({count(r.circuits_per_update, 'circuit')} an update)"


def short(r) -> str:
    c = r.config
    return {"spsa": f"{c['spsa_directions']}-direction SPSA", "fdsa": "FDSA", "exact": "the oracle"}[c["method"]]


@dataclass(frozen=True)
class EqualBudget:
    """The equal-budget comparison: ``markdown`` as the page shows it, ``rows`` for ``equal_budget.csv``
    (:data:`CSV_COLUMNS`), ``seeds`` the seeds every row is over (empty: each row over its own)."""

    markdown: str
    rows: list[list]
    seeds: list[int]


def equal_budget(expected: dict, mean_predictor: float | None) -> EqualBudget:
    """Final-epoch train RMSE and lowest validation RMSE of the equal-budget runs, paired by seed where
    every arm has finished the same seeds, each against FDSA's train RMSE seed by seed."""
    found = [r for r in expected.values() if r is not None and r.complete.any()]
    not_yet = [name for name, r in expected.items() if r is None or not r.complete.any()]
    if not found:
        return EqualBudget(f"**The equal-budget runs have not finished a seed yet** ({'; '.join(not_yet)}): run "
                           "`python -m qrnn_study run`.", [], [])
    # Only runs of one protocol and learning rate are compared (the budget arm's, when it has results).
    base = found[0].config
    arms = {label(r): r for r in found if not comparable(r.config, base) and r.config["lr"] == base["lr"]}
    left_out = [r.arm for r in found if label(r) not in arms]
    # Every row over the same seeds, those every arm has finished (paired: same initial parameters and
    # window order); each row over its own finished seeds only when no seed is common to all.
    finished = {name: {s for s, ok in zip(r.seeds, r.complete) if ok} for name, r in arms.items()}
    common = sorted(set.intersection(*finished.values())) if arms else []
    ref = next((r for r in arms.values() if r.config["method"] == "fdsa"), None)
    # Like with like: every row scored with the validation of the estimators that train with shots (the
    # oracle too: its exact-validation score would leave out the shot noise every estimator's score has).
    mode = common_mode(arms.values())
    rows, table, vals = [], [], []
    for name, r in arms.items():
        seeds = common or sorted(finished[name])
        idx = [r.seeds.index(s) for s in seeds]
        train = final_train_rmse(r.train_rmse, r.epochs_done)
        val = np.nanmin(r.val["windows"][mode][:, :, 2], axis=1)
        vs = "-"
        if ref is not None and r is not ref:
            pairs = [s for s in seeds if s in finished[label(ref)]]
            if pairs:
                vs = str(paired(train[[r.seeds.index(s) for s in pairs]],
                                final_train_rmse(ref.train_rmse, ref.epochs_done)[[ref.seeds.index(s) for s in pairs]]))
        t, v = mean_ci(train[idx]), mean_ci(val[idx])
        vals.append((short(r), v))
        rows.append(f"| {name} | {len(seeds)} | {t} | {v} | {vs} |")
        table.append([name, t.mean, t.low, t.high, v.mean, v.low, v.high, t.n])
    c = next(iter(arms.values())).config
    more = [f"{short(r)} {len(finished[name])}" for name, r in arms.items() if len(finished[name]) > len(common)]
    seeds_note = (
        f"Every row is over the same {count(len(common), 'seed')} ({', '.join(map(str, common))}), those every arm "
        "here has finished, so the rows are paired (same initial parameters, same window order). "
        + (f"Some arms have finished more seeds ({', '.join(more)}); [the learning-rate sweep](sweep) averages "
           "over all of them. " if more else "")
        if common else
        "No seed is finished by every arm yet: each row is over its own finished seeds (n), so the rows are not "
        "paired and their means are not over the same seeds. ")
    oracle_note = ("\n\nThe oracle's cost is not a circuit count a quantum computer could run: it is one forward "
                   "pass of the exact simulator followed by a backward pass through it (the adjoint method), a cost on the "
                   "simulator only. Hardware has no backward pass; an exact gradient there needs parameter shift "
                   "(see [the estimators](../../methods)), far more circuits than FDSA's."
                   if any(r.config["method"] == "exact" for r in arms.values()) else "")
    reach = [name for name, v in vals if mean_predictor is not None and v.low < mean_predictor]
    markdown = (
        f"**Equal budget per update** (learning rate {c['lr']:g}; {training_windows_words(c)} x "
        f"{c['epochs']} epochs; {c['shots']:,} shots):\n\n| arm | seeds (n) | final-epoch train RMSE | lowest validation "
        "RMSE (windows) | train RMSE minus FDSA's, paired |\n|---|---:|---|---|---|\n" + "\n".join(rows)
        + "\n\n" + seeds_note + "Means [95 % t interval]; every row's validation "
        + (f"with {c['val_shots']:,} shots, the oracle's too (scored as the estimators are)" if mode == "shots"
           else "with exact probabilities")
        + "; the last column is paired by seed, with a paired t-test and the effect size."
        + (f" Left out, as their protocol or learning rate differs: {', '.join(left_out)}." if left_out else "")
        + oracle_note
        + (f"\n\n**What these runs predict.** At this budget every row's mean lowest validation RMSE lies above the "
           f"{mean_predictor:.4f} of predicting the training mean (windows protocol, [the baselines](baselines))"
           + (", each with its whole interval" if not reach else
              f"; only the interval of {', '.join(reach)} reaches below it")
           + ": these runs have not shown that they predict unseen rows better than a constant, so this table compares how "
           "far each estimator trains in a fixed budget, not how well it predicts."
           if mean_predictor is not None and vals and all(v.mean >= mean_predictor for _, v in vals) else "")
        + (f"\n\n**Not finished yet** (no seed done): {'; '.join(not_yet)}; the comparison fills in as they land."
           if not_yet else ""))
    return EqualBudget(markdown, table, common)
