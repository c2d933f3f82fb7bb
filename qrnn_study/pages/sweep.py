"""The learning-rate sweep page: the budget line, the table of final train RMSE per rate and estimator,
and the test of the deck's "similar at a low enough learning rate" with where each estimator lies
against the training-mean predictor.

Shapes: ``sweeps`` is ``{method: {lr: ArmResults}}`` for the methods of
:data:`qrnn_study.model.SWEEPS` (``spsa``, ``fdsa``, ``exact``), as
:func:`qrnn_study.results.load_sweep` gives each; a method may have no rate yet, a rate may have
unfinished seeds (NaN epochs) or one seed only, and the methods need not share rates or seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import figures
from ..analysis import final_train_rmse, mean_ci
from ..conclusions import by_side, placed
from ..model import SWEEPS
from ..scorecard import SIMILAR, learning_rate_rows, sweep_ratios
from ..words import and_join, training_windows_words

#: Each method as the page's prose names it.
NAMES = {"spsa": "corrected SPSA", "fdsa": "FDSA", "exact": "the oracle"}
#: The columns of ``sweep.csv`` (``sweep.json`` keeps the same rows under its own shorter names).
CSV_COLUMNS = ["estimator", "lr", "train_rmse_mean", "low", "high", "seeds"]
JSON_COLUMNS = ["estimator", "lr", "mean", "low", "high", "n"]


def found(sweeps: dict) -> list:
    """Every point of every method that has results, in method and rate order."""
    return [r for points in sweeps.values() for r in points.values()]


def labels(sweeps: dict) -> dict[str, str]:
    """The figure's and table's name of each method, with the shots the estimators train with."""
    shots = next((r.config["shots"] for p in sweeps.values() for r in p.values() if r.config["shots"]), 1024)
    return {"spsa": f"SPSA corrected, {shots:,} shots", "fdsa": f"FDSA, {shots:,} shots", "exact": "oracle (exact gradient)"}


def rates(sweeps: dict) -> list[float]:
    """Every rate any method ran, ascending."""
    return sorted({lr for p in sweeps.values() for lr in p})


def budget_text(sweeps: dict, results_dir: str) -> str:
    """The page's first paragraph: the budget every sweep run trains on, the rates, finished seeds per rate."""
    points = found(sweeps)
    if not points:
        return (f"**No sweep run has finished an epoch yet** in `{results_dir}`: run "
                "`python -m qrnn_study run` (this page fills in as they finish).")
    c, names = points[0].config, labels(sweeps)
    return (f"**Budget of every sweep run:** {training_windows_words(c)}, {c['epochs']} epochs "
            f"({c['train_sequences'] * c['epochs']:,} updates, batch 1), the original study's series, "
            f"{c['precision']}. **Rates:** {', '.join(f'{lr:g}' for lr in rates(sweeps))}. "
            "**Finished seeds per rate:** " + "; ".join(
                f"{names[m]} " + (", ".join(f"{lr:g}: {int(r.complete.sum())}" for lr, r in p.items()) or "none yet")
                for m, p in sweeps.items()) + ".")


def figure(sweeps: dict, mode: str, mean_predictor: float | None):
    """The page's figure: train RMSE and lowest validation RMSE against the rate, per method, with the
    training-mean predictor's line on the validation panel (a placeholder until a point has results)."""
    if not found(sweeps):
        return figures.placeholder("learning-rate sweep: no finished run yet")
    names = labels(sweeps)
    fig = figures.sweep_figure({names[m]: p for m, p in sweeps.items() if p}, mode=mode)
    if mean_predictor is not None:  # on the validation panel (right): the training-mean predictor
        val_ax = fig.axes[1]
        line = val_ax.axhline(mean_predictor, color="k", ls="--", lw=1.2, label="training-mean predictor")
        val_ax.legend(handles=[line], loc="upper right", frameon=False)  # the points fall to the right: clear above them
    return fig


@dataclass(frozen=True)
class SweepTable:
    """The page's table: ``markdown`` as shown, ``rows`` one per method and rate with finished seeds,
    ``[method, lr, mean, low, high, n]`` (``sweep.csv`` and ``sweep.json``)."""

    markdown: str
    rows: list[list]


def final_train(r):
    """Final-epoch train RMSE over ``r``'s finished seeds, as a mean with its interval (None: no seed finished)."""
    return mean_ci(final_train_rmse(r.train_rmse, r.epochs_done)[r.complete]) if r is not None and r.complete.any() else None


def sweep_table(sweeps: dict) -> SweepTable:
    """Final-epoch train RMSE per rate and method, and SPSA's over FDSA's paired by seed."""
    names = labels(sweeps)
    lines, table = [], []
    ratios = sweep_ratios(sweeps["spsa"], sweeps["fdsa"])
    for lr in rates(sweeps):
        cells = []
        for m in SWEEPS:
            est = final_train(sweeps[m].get(lr))
            cells.append(est.format(4, seeds=True) if est else "-")
            if est:
                table.append([m, lr, est.mean, est.low, est.high, est.n])
        ratio = ratios.get(lr)
        ratio_text = "-" if ratio is None else (f"{ratio.mean:.2f} [{ratio.low:.2f}, {ratio.high:.2f}]" if ratio.n > 1
                                                else f"{ratio.mean:.2f} (1 seed)")
        lines.append(f"| {lr:g} | " + " | ".join(cells) + f" | {ratio_text} |")
    markdown = ("| learning rate | " + " | ".join(names[m] for m in SWEEPS) + " | SPSA / FDSA, paired |\n"
                "|---|---|---|---|---|\n" + "\n".join(lines)
                + "\n\nFinal-epoch train RMSE, mean over each estimator's finished seeds [95 % t interval] "
                "(n: its seeds; the columns are over different seeds where their n differ, so they are not "
                "paired); the last column is SPSA's over FDSA's seed by seed, over the seeds both finished.")
    return SweepTable(markdown, table)


def rates_text(lrs) -> str:
    """``rate 0.001`` or ``rates 0.0003, 0.001 and 0.003``."""
    return ("rate " if len(lrs) == 1 else "rates ") + and_join(f"{lr:g}" for lr in sorted(lrs))


def oracle_budget_note(sweeps: dict) -> str:
    """How much training the reduced budget allows, from the oracle's final train RMSE across rates
    (empty below two finished rates)."""
    oracle = {lr: final_train(r).mean for lr, r in sweeps["exact"].items() if r.complete.any()}
    if len(oracle) <= 1:
        return ""
    best_lr = min(oracle, key=oracle.get)
    return (f"How much training this budget allows: the oracle's final train RMSE is {oracle[min(oracle)]:.4f} "
            f"at the lowest rate ({min(oracle):g}) and {oracle[best_lr]:.4f} at its best rate ({best_lr:g}); "
            "where every estimator is still near its start, similar numbers say little about the estimators."
            + (" Its best rate is the grid's largest: the sweep does not bracket an optimum." if best_lr == max(oracle)
               else ""))


def lowest_val(r, mode: str):
    """Lowest windows-protocol validation RMSE over epochs per finished seed, as a mean with its interval
    (scored as in the figure: ``mode``, :func:`qrnn_study.conclusions.common_mode` of every point)."""
    return mean_ci(np.nanmin(r.val["windows"][mode][r.complete][:, :, 2], axis=1))


def against_mean_predictor(sweeps: dict, mode: str, mean_predictor: float | None) -> str:
    """Where each method's lowest validation RMSE lies against the training-mean predictor, placed by its
    whole 95 % interval, and what it means where one does not beat it (empty: no predictor or no point)."""
    if mean_predictor is None or not found(sweeps):
        return ""
    # A method fails the constant predictor at a rate only where its whole interval lies above it.
    clauses, above = [], {}  # above: method -> the rates at which it does not beat the mean predictor
    for m, points in sweeps.items():
        val = {lr: lowest_val(r, mode) for lr, r in points.items() if r.complete.any()}
        if not val:
            continue
        groups = by_side(val, mean_predictor)  # placed by the whole interval
        above[m] = groups.get("above", [])
        means = [v.mean for v in val.values()]
        span = f"{means[0]:.4f}" if len(val) == 1 else f"{min(means):.4f} to {max(means):.4f} across rates (means)"
        where = "; ".join(f"{placed(w)} at {'every swept rate' if len(lrs) == len(val) else rates_text(lrs)}"
                          for w, lrs in groups.items())
        clauses.append(f"{NAMES[m]} {span}, {where}")
    text = (" On validation (windows protocol), the training-mean predictor, which ignores its input, "
            f"scores {mean_predictor:.4f} (the dashed line in {{numref}}`fig-sweep`; see "
            "[the baselines](baselines)). Lowest validation RMSE, placed by its 95 % interval: "
            + "; ".join(clauses) + ".")
    never = [NAMES[m] for m, lrs in above.items() if lrs and len(lrs) == sum(r.complete.any() for r in sweeps[m].values())]
    if any(above.values()):
        text += (" Where a method's interval lies above that line, its trained model predicts the unseen "
                 "rows no better than a constant: on this reduced budget (the page's first paragraph) "
                 + "; ".join(f"{NAMES[m]} does not generalise at any swept rate" if NAMES[m] in never
                             else f"{NAMES[m]} does not at {rates_text(lrs)}" for m, lrs in above.items() if lrs)
                 + ".")
        if above.get("exact"):
            text += (f" The oracle, with the exact gradient, does not beat the constant predictor either at "
                     f"{rates_text(above['exact'])}: "
                     "there the limit is the reduced budget's, not the estimators'.")
    return text


@dataclass(frozen=True)
class Claim:
    """The deck's claim as the page states it: the scorecard's ``verdict`` and the paragraph ``markdown``."""

    verdict: str
    markdown: str


def claim(sweeps: dict, mode: str, mean_predictor: float | None) -> Claim:
    """The deck's "train RMSE is similar at a low enough learning rate", tested (the scorecard's row),
    with the rates where SPSA is within :data:`~qrnn_study.scorecard.SIMILAR` of FDSA, the oracle's
    budget note and the estimators against the training-mean predictor."""
    row = learning_rate_rows(sweeps)[0]
    ratios = sweep_ratios(sweeps["spsa"], sweeps["fdsa"])
    note = oracle_budget_note(sweeps) + against_mean_predictor(sweeps, mode, mean_predictor)
    similar = [lr for lr, r in ratios.items() if r.n > 1 and 1 - SIMILAR <= r.low and r.high <= 1 + SIMILAR]
    return Claim(row["verdict"], (
        f"**The deck's claim, tested.** Verdict: **{row['verdict']}** ({row['rule']}). Measured: {row['measured']}. "
        + (f"SPSA's train RMSE is within {SIMILAR * 100:.0f} % of FDSA's (the whole interval) at learning "
           f"{rates_text(similar)}. " if similar else
           f"At no swept rate does the whole interval of SPSA / FDSA lie within {SIMILAR * 100:.0f} % of 1. " if ratios
           else "")
        + note.strip()))
