"""The conclusions page: every arm against the exact gradient at its learning rate and against the
baselines, the answer in words, and the deck's claims that are not settled.

Shapes: ``arms`` is ``{arm id: ArmResults}`` of the full-protocol arms that have results (any may be
missing, seeds may be unfinished or one); ``baselines`` is ``baselines.json`` (``{}`` before it has run;
its ``qesn`` may have one seed or several, ``per_seed``); ``gaps`` and ``standing`` are
:func:`qrnn_study.conclusions.oracle_gaps`' and :func:`~qrnn_study.conclusions.baseline_standing`'s rows
per protocol id; ``card`` is the scorecard's rows (:func:`qrnn_study.scorecard.scorecard`). ``labels``:
each arm's name for a reader (:data:`qrnn_study.model.ARM_LABELS`).
"""

from __future__ import annotations

import dataclasses
import textwrap

import matplotlib.pyplot as plt
import numpy as np

from .. import figures
from ..analysis import MIN_SEEDS, Comparison, Estimate
from ..conclusions import (HEADLINE, baseline_standing, baseline_value, beaten_by, bottom_line, common_mode,
                           describe, frozen_per_seed, last, lowest, oracle_gaps, side)
from ..model import BASELINE_NAMES, CLASSICAL, FROZEN, PROTOCOL_IDS, PROTOCOLS, claim, protocol

#: How the oracle table names the validation an arm is scored with.
SCORED = {"shots": "1,024 shots", "exact": "exact"}
#: The baselines drawn on the standing figure: line style, colour (none an arm uses), the validation drawn.
LINES = {"mean": (":", "C7", "exact"), "linear": ("--", "tan", "exact"), FROZEN: ((0, (5, 1, 1, 1)), "C5", "shots"),
         "ngrc": ("-.", "C6", "exact"), "esn": ("-", "C8", "exact")}
STANDING_COLUMNS = ["arm", "protocol", "lowest_rmse_mean", "ci_low", "ci_high", "seeds"]
#: The rows of the scorecard the answer quotes: SPSA as originally run against FDSA, per protocol.
VERSUS = {c.id: c for c in (claim(f"better-{p}") for p in PROTOCOL_IDS)}


def est(e: Estimate, digits: int = 4) -> str:
    """An estimate with its interval, named with its seeds."""
    return e.format(digits, seeds=True)


def p_value(c: Comparison | None) -> str:
    """A paired comparison's p, or ``-`` below :data:`~qrnn_study.analysis.MIN_SEEDS` seeds."""
    return "-" if c is None or c.difference.n < MIN_SEEDS or not np.isfinite(c.p) else f"{c.p:.3g}"


def _against_oracle(arms: dict, gaps: dict, labels: dict) -> list[str]:
    """Per protocol, the headline estimators' lowest and last validation RMSE over the oracle's."""
    lines = []
    for p in PROTOCOLS:
        g = {r["arm"]: r for r in gaps[p.id]}
        said = [f"{labels[a]}, {est(r['ratio'], 2)} times the oracle's ({describe(r['difference'])})"
                for a in HEADLINE if (r := g.get(a))]
        if said:
            at_last = {r["arm"]: r for r in oracle_gaps(arms, p.id, last)}
            then = [f"{labels[a]} {est(r['ratio'], 2)}, {describe(r['difference'])}" for a in HEADLINE
                    if (r := at_last.get(a))]
            lines.append(f"**Against the exact gradient, on {p.phrase}**, each estimator's lowest validation RMSE over "
                         "the oracle's at the same learning rate (0.007 for SPSA, 0.001 for FDSA) and seeds: "
                         + "; ".join(said) + ". After the last epoch, which no choice on the validation span flatters: "
                         + "; ".join(then) + ".")
    return lines


def _against_baselines(arms: dict, baselines: dict, labels: dict) -> list[str]:
    """Per protocol, the headline arms (scored alike, with shots when any trains with shots) against the
    linear regression and the best classical reservoir; nothing until those baselines have run."""
    if not baselines or not {"linear", "ngrc", "esn"} <= set(baselines):
        return []
    headline = {a: arms[a] for a in HEADLINE if a in arms}
    mode = common_mode(headline.values())
    lines = []
    for p in PROTOCOLS:
        here = {r["arm"]: r for r in baseline_standing(headline, baselines, p.id, mode)}
        if not here:
            continue
        best = min(here.values(), key=lambda r: r["rmse"].mean)
        lin = baseline_value(baselines, "linear", p.id)
        under = [labels[a] for a, r in here.items() if side(r["ratio"]["linear"]) == "below"]
        over = [labels[a] for a, r in here.items() if side(r["ratio"]["linear"]) == "above"]
        strongest = min(("ngrc", "esn"), key=lambda n: baseline_value(baselines, n, p.id))
        ref = baseline_value(baselines, strongest, p.id)
        lines.append(
            f"**Against the baselines, on {p.phrase}** (the arms of the answer above, scored as there, "
            f"{'with 1,024 shots, the oracle too' if mode == 'shots' else 'with exact probabilities'}): the "
            f"lowest mean is {labels[best['arm']]}'s, {est(best['rmse'])}. The linear regression on x(t) alone scores "
            f"{lin:.4f}. Below it (interval wholly under): {'; '.join(under) or 'none'}. Above it: "
            f"{'; '.join(over) or 'none'}. The best classical baseline, the {BASELINE_NAMES[strongest]}, scores "
            f"{ref:.4f}; the best arm's RMSE is {best['rmse'].mean / ref:.1f} times that.")
    return lines


def answer(arms: dict, baselines: dict, card: list[dict], labels: dict) -> str:
    """The answer from the runs (Markdown): :func:`~qrnn_study.conclusions.bottom_line`, the estimators
    against the oracle, the arms against the baselines, and the scorecard's SPSA-against-FDSA rows."""
    gaps = {p: oracle_gaps(arms, p) for p in PROTOCOL_IDS}
    lines = [f"**In short.** {text}"] if (text := bottom_line(arms, baselines, labels)) else []
    lines += _against_oracle(arms, gaps, labels) + _against_baselines(arms, baselines, labels)
    for r in card:
        if r["id"] in VERSUS:
            lines.append(f"**SPSA as originally run against FDSA** ({protocol(VERSUS[r['id']].protocol).name}): "
                         f"{r['measured']}; verdict **{r['verdict']}**.")
    return "\n\n".join(lines) if lines else "No arm has a finished seed yet."


def standing_figure(arms: dict, baselines: dict, standing: dict, labels: dict):
    """Each arm's lowest validation RMSE (mean and interval over its finished seeds; filled with shots, open
    exact) beside the baselines' lines, one panel per protocol, on a linear axis that spans the arms (and the
    baselines near them): the arms differ by hundredths, which a log axis down to the echo-state network's
    thousandths would hide. A baseline off the axis is named at the edge it lies beyond, with its value.
    Returns ``(figure, rows)``, a row per point drawn (:data:`STANDING_COLUMNS`)."""
    figures.style()
    order = [a for a in labels if a in arms]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2 + 0.66 * len(order)), sharey=True)
    plotted = []
    for ax, p in zip(axes, PROTOCOLS):
        here = {r["arm"]: r for r in standing.get(p.id, [])}
        points = []
        for k, a in enumerate(order):
            if (r := here.get(a)) is None:
                continue
            e, color = r["rmse"], figures.arm_color(a)
            err = [[e.mean - e.low], [e.high - e.mean]] if e.n > 1 else None
            ax.errorbar(e.mean, k, xerr=err, fmt="o", color=color, mfc=color if arms[a].mode == "shots" else "white",
                        capsize=4, ms=9, mew=2)
            plotted.append([a, p.id, e.mean, e.low, e.high, e.n])
            points += [v for v in (e.mean, e.low, e.high) if np.isfinite(v)]
        lines = {name: baseline_value(baselines, name, p.id, mode) for name, (_, _, mode) in LINES.items()
                 if name in baselines}
        lo, hi = _span(points, list(lines.values()))
        off = {"left": [], "right": []}
        for name, value in lines.items():
            ls, color, mode = LINES[name]
            label = BASELINE_NAMES[name] + (", 1,024 shots" if mode == "shots" else "")
            if lo <= value <= hi:
                ax.axvline(value, color=color, ls=ls, lw=2, label=label)
            else:  # named at the edge it lies beyond (and in the legend, with its line's style)
                ax.plot([], [], color=color, ls=ls, lw=2, label=label)
                off["left" if value < lo else "right"].append((name, value, color))  # named in the axis label
        beyond = "".join(f"\n{side} of the axis:\n" + ", ".join(f"{SHORT_BASELINE.get(n, n)} {v:.2g}" for n, v, _ in items)
                         for side, items in off.items() if items)
        ax.set(xlim=(lo, hi), title=p.title, xlabel="lowest validation RMSE\n(mean of y, z)" + beyond)
        ax.grid(alpha=0.3, axis="x")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    finished = {a: int(arms[a].complete.sum()) for a in order}
    axes[0].set_yticks(range(len(order)), [_wrapped(labels[a], f"(n = {finished[a]})" if finished[a] else
                                                    "(no finished seed)") for a in order])
    axes[0].set_ylim(len(order) - 0.4, -0.6)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.02 + 0.04 * ((len(names) + 1) // 2), 1, 1))
    return fig, plotted


def _wrapped(label: str, tail: str, width: int = 30) -> str:
    """A row's label in lines of at most about ``width`` characters, ``tail`` (its seeds) never split."""
    lines = textwrap.wrap(label, width)
    if len(lines[-1]) + len(tail) < width + 3:
        lines[-1] += f" {tail}"
    else:
        lines.append(tail)
    return "\n".join(lines)


#: A baseline's name where the figure names it beyond an axis' edge (short: it sits inside the panel).
SHORT_BASELINE = {"mean": "mean", "linear": "linear", "ngrc": "NG-RC", "esn": "ESN", FROZEN: "frozen circuit"}


def _span(points: list[float], lines: list[float]) -> tuple[float, float]:
    """The x range of a panel: the arms' points with a margin, widened to take in the baselines that lie
    within half that span again of them (the far ones are named at the edge instead)."""
    if not points:
        values = [v for v in lines if np.isfinite(v)] or [0.0, 1.0]
        return min(values) * 0.9, max(values) * 1.1 + 1e-9
    lo, hi = min(points), max(points)
    width = max(hi - lo, 0.1 * abs(hi) or 0.01)
    near = [v for v in lines if np.isfinite(v) and lo - width <= v <= hi + width]
    lo, hi = min([lo, *near]), max([hi, *near])
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def qesn_exact(baselines: dict) -> dict[str, str]:
    """The caption's glue: the frozen circuit's exact-probability RMSE per protocol (``not run`` without it)."""
    return {f"qesn_exact_{p}": f"{baseline_value(baselines, FROZEN, p):.3f}" if FROZEN in baselines else "not run"
            for p in PROTOCOL_IDS}


def oracle_table(gaps: dict, labels: dict) -> str:
    """Each estimator arm over its oracle and minus it, per protocol (Markdown); a sentence without any."""
    table = [f"| {labels[r['arm']]} | {p} | {SCORED[r['mode']]} | {r['difference'].difference.n} | "
             f"{quiet(r['ratio'], 2)} | {quiet(r['difference'].difference)} | {p_value(r['difference'])} |"
             for p in PROTOCOL_IDS for r in gaps.get(p, [])]
    if not table:
        return "No estimator arm has finished seeds beside its oracle yet."
    return ("| arm | protocol | scored with | n | arm / oracle | arm - oracle | p |\n|---|---|---|---:|---|---|---|\n"
            + "\n".join(table))


def baseline_table(baselines: dict, standing: dict, labels: dict) -> str:
    """Each arm's lowest RMSE, its ratio to each classical baseline but the mean, and its difference from the
    frozen circuit paired by seed, per protocol (Markdown)."""
    names = [n for n in CLASSICAL if n in baselines and n != "mean"]
    # No "trained with" column: the arm's label says "(exact)" where it trained on exact probabilities, and
    # ten columns do not fit a laptop's width.
    table = ["| arm | protocol | n | lowest RMSE | " + " | ".join(f"ratio to {BASELINE_NAMES[n]}" for n in names)
             + " | difference from QESN | p |", "|" + "---|" * (6 + len(names))]
    for p in PROTOCOL_IDS:
        for r in standing.get(p, []):
            table.append(f"| {labels[r['arm']]} | {p} | {r['rmse'].n} | {quiet(r['rmse'])} | "
                         + " | ".join(r["ratio"][n].format(2) for n in names)
                         + f" | {quiet(r['frozen'].difference) if r['frozen'] is not None else '-'} | "
                         f"{p_value(r['frozen'])} |")
    return "\n".join(table)


def quiet(e: Estimate, digits: int = 4) -> str:
    """``mean [low, high]``, the interval named once beside the table, not in every cell: a wide table is
    clipped at a laptop's width."""
    return dataclasses.replace(e, quiet=True).format(digits)


def qesn_note(arms: dict, baselines: dict) -> str | None:
    """Why the exact arms' differences from the QESN are large on the deck's protocol, when its exact score
    there is worse than the training mean's and an exact arm shares a seed with it; None otherwise."""
    if FROZEN not in baselines or "mean" not in baselines:
        return None
    q, m = baseline_value(baselines, FROZEN, "sequence"), baseline_value(baselines, "mean", "sequence")
    per_seed = frozen_per_seed(baselines, "sequence", "exact")
    shared = sorted(set(per_seed) & {s for r in arms.values() if r.mode == "exact" for s in lowest(r, "sequence")})
    if q <= m or not shared:
        return None
    worst = max(shared, key=per_seed.get)
    return (f"The exact arms' large differences from the QESN on the deck's protocol say more about the QESN than "
            f"about them: with exact probabilities its ridge readout scores {q:.4f} there as a mean over its "
            f"{len(per_seed)} seeds, worse than predicting the training mean ({m:.4f})"
            + ("" if set(shared) == set(per_seed) else
               f", and {np.mean([per_seed[s] for s in shared]):.4f} over the seeds the exact arms are paired with "
               f"({', '.join(map(str, shared))})")
            + f"; seed {worst} scores {per_seed[worst]:.4f}. On windows it "
            f"scores {baseline_value(baselines, FROZEN, 'windows'):.4f}.")


def standing_record(standing: dict) -> dict:
    """``standing.json``: per protocol, each arm's lowest RMSE, its ratios to the baselines and the
    classical baselines that beat it."""
    return {p: [{"arm": r["arm"], "rmse": r["rmse"].__dict__, "ratio": {n: e.__dict__ for n, e in r["ratio"].items()},
                 "beaten_by": beaten_by(r)} for r in standing[p]] for p in PROTOCOL_IDS}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def open_claims(card: list[dict]) -> str:
    """The claims whose verdict is *inconclusive* or *not tested*, with what was measured and the rule
    (Markdown list); a sentence when every claim has a verdict."""
    return "\n".join(
        f"* {r['claim']}: **{r['verdict']}**. "
        + (f"{_sentence(r['rule'])}." if r["verdict"] == "not tested" else
           f"Measured {r['measured']}. Basis: {r['basis']}. {_sentence(r['rule'])}.")
        for r in card if r["verdict"] in ("inconclusive", "not tested")) or "Every claim has a verdict."


def synthesis(standing: dict, gaps: dict, labels: dict) -> list[str]:
    """What the runs show, in a few sentences computed from them (Markdown bullets, one a finding): per
    protocol the arms' range of lowest RMSE, how far the echo-state network lies below them, whether
    training the circuit beat the same circuit frozen (QESN, paired by seed) and whether an estimator ended
    better than the exact gradient it estimates. ``standing``, ``gaps``: per protocol, the rows of
    :func:`~qrnn_study.conclusions.baseline_standing` and :func:`~qrnn_study.conclusions.oracle_gaps`."""
    out = []
    for p in PROTOCOLS:
        rows = [r for r in standing.get(p.id, []) if r["rmse"].n >= 1]
        if not rows:
            continue
        best, worst = (f(rows, key=lambda r: r["rmse"].mean) for f in (min, max))
        text = (f"**{p.name.capitalize()}:** the arms' lowest validation RMSE runs from {best['rmse'].mean:.3f} "
                f"({labels[best['arm']]}) to {worst['rmse'].mean:.3f} ({labels[worst['arm']]})")
        esn = [r["ratio"]["esn"].mean for r in rows if "esn" in r["ratio"]]
        if esn:
            text += f", {min(esn):.0f} to {max(esn):.0f} times the echo-state network's"
        frozen = [r for r in rows if r["frozen"] is not None and r["frozen"].difference.n >= MIN_SEEDS]
        if frozen:
            d = {w: [labels[r["arm"]] for r in frozen if side(r["frozen"].difference, 0.0) == w]
                 for w in ("below", "above")}
            text += (f"; against the same circuit frozen at its start with a fitted readout (QESN), training helped "
                     f"{len(d['below'])} of {len(frozen)} arms and made {len(d['above'])} worse"
                     + (f" ({', '.join(d['above'])})" if 0 < len(d["above"]) <= 3 else "") + " (paired by seed, the whole 95 % "
                     "interval on one side)")
        better = [labels[g["arm"]] for g in gaps.get(p.id, []) if side(g["ratio"]) == "below"]
        if better:
            who = ", ".join(better) if len(better) <= 3 else f"{len(better)} of the {len(gaps[p.id])} estimator arms"
            text += (f"; {who} ended below the exact gradient at {'its' if len(better) == 1 else 'their'} learning "
                     "rate: on this protocol a lower score rewards stopping early, not a better gradient")
        out.append(text + ".")
    return out
