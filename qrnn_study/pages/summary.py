"""The front page's first screen: the answer in one line, the scorecard's tally and the arm x protocol table.

Pure functions over the scorecard's rows (:func:`qrnn_study.scorecard.scorecard`), the arms'
:class:`~qrnn_study.results.ArmResults` and the baselines' ``baselines.json``, tested on constructed data
(arms missing, one seed, unfinished seeds). Every number they return is counted or computed, never typed.

One scoring convention for the whole first screen: every arm, the exact-gradient oracle too, is scored with the
validation shots its config names (1,024 in the paper profile, as the deck scored); baselines have no shots.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from .. import figures, model
from ..analysis import MIN_SEEDS, TOST_METHOD, Estimate, band, mean_ci
from ..conclusions import bottom_line, describe, first_to_last, last, lowest
from ..model import ARM_LABELS, BASELINE_NAMES, PROTOCOL_IDS, arm, arm_ids, claim
from ..words import count

#: The verdicts of the scorecard, in the order the tally names them.
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not tested")
#: The arms of the first screen's table: the deck's two estimators, SPSA corrected and the oracle at both rates.
TABLE_ARMS = arm_ids("spsa-original-shots", "spsa-shots", "fdsa-shots", "oracle-lr007", "oracle-lr001")
#: The arms' names in the first screen's narrow table (the book's full names: :data:`qrnn_study.model.ARM_LABELS`).
SHORT_LABELS = {a: arm(a).short for a in TABLE_ARMS}
#: The baselines of the first screen's table: the best of them and the simplest.
TABLE_BASELINES = ("esn", "mean")
PROTOCOLS = PROTOCOL_IDS
#: The claims the one-line answer rests on: the speed claims, and SPSA against FDSA under each protocol. The
#: cost is read from the first speed claim with a measured ratio: per update on Aer, else per training epoch.
SPEED_CLAIMS = (claim("speed-update").id, claim("speed").id)
#: Each speed claim's deck figure as the answer names it.
SPEED_WORDS = {"speed-update": f"{model.DECK_UPDATE_SPEEDUP:.0f}x per update",
               "speed": f"{model.DECK_SPEEDUP:.1f}x per epoch"}
VERSUS_CLAIMS = {c.id: c.protocol for c in (claim(f"better-{p}") for p in PROTOCOLS)}
#: "As good as" is the deck's "comparable accuracy": an equivalence claim per protocol (within the scorecard's
#: margin), read with its verdict, the Holm-adjusted one.
EQUIVALENCE_CLAIMS = {c.id: c.protocol for c in (claim(f"comparable-{p}") for p in PROTOCOLS)}
#: What each verdict of an equivalence claim says of SPSA against FDSA, in the answer.
SIDE = {"reproduced": "comparable", "not reproduced": "not comparable", "inconclusive": "undecided",
        "not tested": "not enough seeds"}


def tally(card: list[dict]) -> dict[str, int]:
    """The scorecard's rows counted by verdict: every kind of :data:`VERDICTS`, in that order, 0 where none.

    Raises ValueError on a verdict that is not one of them (a new kind must be named on the page)."""
    out = dict.fromkeys(VERDICTS, 0)
    for row in card:
        if row["verdict"] not in out:
            raise ValueError(f"unknown verdict {row['verdict']!r} of claim {row.get('id')!r}")
        out[row["verdict"]] += 1
    return out


def tally_words(counts: dict[str, int]) -> str:
    """``1 reproduced, 4 not reproduced, 10 inconclusive, 2 not tested`` (every kind, zeros included)."""
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def tally_by_protocol(card: list[dict]) -> str:
    """The tally split by where each claim was judged (Markdown): on the deck's own protocol (one sequence) with
    the claims that have none (speed, learning rate, parameter shift), and on windows, which the deck did not run."""
    def protocol(row):
        return claim(row["id"]).protocol or "sequence"

    parts = []
    for p, words in (("sequence", "on the deck's own protocol (one sequence) and the claims that need none"),
                     ("windows", "on windows, a protocol the deck did not run")):
        rows = [r for r in card if protocol(r) == p]
        if rows:
            parts.append(f"{words}: {tally_words(tally(rows))}")
    return "By where each claim was judged: " + "; ".join(parts) + "." if parts else ""


def title_words(counts: dict[str, int]) -> str:
    """What the page's title says of the claims, from the tally: ``1 of 17 claims reproduced``; ``no claim
    tested yet`` when every claim is *not tested*; ``no claims`` for an empty scorecard. Never more than
    the count of reproduced claims, so the title cannot say "reproduced" when most claims are not."""
    total = sum(counts.values())
    if total == 0:
        return "no claims"
    if counts.get("not tested", 0) == total:
        return "no claim tested yet"
    return f"{counts.get('reproduced', 0)} of {count(total, 'claim')} reproduced"


@dataclass(frozen=True)
class Answer:
    """The one-line answer to "is SPSA as good as FDSA at a tenth of the cost?".

    ``outcome``: ``yes`` (SPSA at most a tenth of FDSA's time and SPSA's accuracy comparable to FDSA's, by equivalence
    test, on every protocol), ``no`` (the speed claim not reproduced, or SPSA's difference from FDSA shown to
    exceed the margin on a protocol), ``not shown`` (neither) or ``not tested`` (a row missing or fewer than
    :data:`~qrnn_study.analysis.MIN_SEEDS` seeds). ``speed``: the cost's speed row's measured text and verdict;
    ``speed_verdicts``: each speed claim's verdict (:data:`SPEED_CLAIMS`);
    ``accuracy``: per protocol, SPSA - FDSA (:class:`Estimate`, its equivalence interval), the verdict's word
    (:data:`SIDE`) and the margin."""

    outcome: str
    speed_measured: str
    speed_verdict: str
    accuracy: dict[str, tuple[Estimate, str, float]]
    speed: Estimate | None = None
    speed_verdicts: tuple[tuple[str, str], ...] = ()
    speed_others: tuple[tuple[str, Estimate], ...] = ()  # the other speed claims' measured ratios, by claim id


#: The question's "a tenth of the cost": SPSA answers it where FDSA takes at least this many times its time.
COST_FACTOR = 10


def answer(card: list[dict]) -> Answer:
    """The one-line answer to "is SPSA as good as FDSA at a tenth of the cost?": the cost half from a speed
    row's ratio (:data:`SPEED_CLAIMS`: FDSA's time over SPSA's, at least :data:`COST_FACTOR`; the deck's own
    figures are the speed rows' verdicts, separate claims), the accuracy half from the two "SPSA's accuracy is comparable to FDSA's"
    rows (SPSA as originally run minus FDSA, each seed's lowest validation RMSE, two one-sided paired t-tests
    within a margin; their Holm-adjusted verdicts). "No" where either half fails, "yes" where both hold."""
    speeds = {r["id"]: r for r in card if r["id"] in SPEED_CLAIMS}
    speed = next((speeds[c] for c in SPEED_CLAIMS if c in speeds and math.isfinite(speeds[c]["estimate"])),
                 next(iter(speeds.values()), None))
    accuracy, verdicts = {}, []
    for r in card:
        if r["id"] in EQUIVALENCE_CLAIMS:
            n = int(r["n"]) if math.isfinite(r["n"]) else 0
            e = Estimate(r["estimate"], r["low"], r["high"], n, TOST_METHOD, r.get("level", 0.90))
            accuracy[EQUIVALENCE_CLAIMS[r["id"]]] = (e, SIDE[r["verdict"]], r.get("margin", math.nan))
            verdicts.append(r["verdict"])
    cheap = speed is not None and math.isfinite(speed["estimate"]) and speed["estimate"] >= COST_FACTOR
    if speed is None or not math.isfinite(speed["estimate"]) or not verdicts or "not tested" in verdicts:
        outcome = "not tested"
    elif not cheap or "not reproduced" in verdicts:
        outcome = "no"
    elif all(v == "reproduced" for v in verdicts):
        outcome = "yes"
    else:
        outcome = "not shown"
    estimate = Estimate(speed["estimate"], speed["low"], speed["high"], int(speed["n"])) if speed and \
        math.isfinite(speed["estimate"]) else None
    others = tuple((c, Estimate(r["estimate"], r["low"], r["high"], int(r["n"]) if math.isfinite(r["n"]) else 0))
                   for c in SPEED_CLAIMS if (r := speeds.get(c)) is not None and r is not speed
                   and math.isfinite(r["estimate"]))
    return Answer(outcome, speed["measured"] if speed else "-", speed["verdict"] if speed else "not tested",
                  accuracy, estimate, tuple((c, speeds[c]["verdict"]) for c in SPEED_CLAIMS if c in speeds), others)


@dataclass(frozen=True)
class TableRow:
    """One row of the first screen's table: ``label``, ``kind`` (``arm`` or ``baseline``), and per protocol
    the validation RMSE (mean of y, z) at each seed's lowest epoch and at its last epoch (:class:`Estimate`
    over the finished seeds; a baseline has one value for both, it trains no epochs). ``n``: finished
    seeds (0: the arm has none, or is missing); ``planned``: its seeds, finished or not."""

    label: str
    kind: str
    lowest: dict[str, Estimate]
    last: dict[str, Estimate]
    n: int
    planned: int


NONE = Estimate(math.nan, math.nan, math.nan, 0)


def _arm_row(label: str, res) -> TableRow:
    """An arm's row, scored with shots (its config's ``val_shots``) over its finished seeds."""
    if res is None:
        return TableRow(label, "arm", dict.fromkeys(PROTOCOLS, NONE), dict.fromkeys(PROTOCOLS, NONE), 0, 0)
    low = {p: mean_ci(list(lowest(res, p, "shots").values())) for p in PROTOCOLS}
    end = {p: mean_ci(list(last(res, p, "shots").values())) for p in PROTOCOLS}
    return TableRow(label, "arm", low, end, int(np.sum(res.complete)), len(res.seeds))


def _baseline_row(name: str, b: dict) -> TableRow:
    """A baseline's row: the mean over its seeds with the interval where it has several (``per_seed``),
    else its one value."""
    est = {}
    for p in PROTOCOLS:
        per_seed = [r[p]["exact"]["rmse_mean"] for r in b.get("per_seed", []) if "exact" in r.get(p, {})]
        est[p] = mean_ci(per_seed) if per_seed else Estimate(float(b[p]["exact"]["rmse_mean"]), math.nan, math.nan, 1)
    n = len(b.get("per_seed", [])) or 1
    return TableRow(BASELINE_NAMES.get(name, name), "baseline", est, est, n, n)


def first_screen_table(arms: dict, baselines: dict | None, labels: dict[str, str],
                       names: tuple[str, ...] = TABLE_ARMS,
                       baseline_names: tuple[str, ...] = TABLE_BASELINES) -> list[TableRow]:
    """The rows of the first screen's arm x protocol table: each arm of ``names`` (missing ones too, with
    no value, so that the reader sees what has not run), then each baseline of ``baseline_names`` that
    ``baselines`` holds. ``arms``: :class:`~qrnn_study.results.ArmResults` by name; ``labels``: the arms'
    names for a reader."""
    rows = [_arm_row(labels.get(a, a), arms.get(a)) for a in names]
    return rows + [_baseline_row(b, baselines[b]) for b in baseline_names if b in (baselines or {})]


def cell(e: Estimate, digits: int = 3) -> str:
    """A compact table cell: ``0.081 [0.079, 0.083]``; ``0.081`` for one value (no interval), ``-`` for
    none. The interval's
    own space is a no-break space (U+00A0): a narrow column wraps the cell between the mean and its
    interval, never inside the interval. A value below 0.01 (to 3 places) gains a place, so that it keeps
    two significant digits (the echo-state network's 0.0029, not 0.003)."""
    if e.n == 0 or not math.isfinite(e.mean):
        return "-"
    if 0 < abs(e.mean) < 10.0 ** (1 - digits):
        digits += 1
    if e.n < 2 or not math.isfinite(e.low):
        return f"{e.mean:.{digits}f}"
    return f"{e.mean:.{digits}f} [{e.low:.{digits}f},\u00a0{e.high:.{digits}f}]"


def seeds_cell(r: TableRow) -> str:
    """The ``n`` cell (finished seeds): ``10``; ``2 of 3`` when some have not finished; ``not run``; a baseline's seeds,
    or ``-`` for one that has a single value (and no epochs)."""
    if r.kind == "baseline":
        return f"{r.n}" if r.n > 1 else "-"
    return "not run" if not r.planned else f"{r.n}" if r.n == r.planned else f"{r.n} of {r.planned}"


def table_markdown(rows: list[TableRow], digits: int = 3) -> str:
    """The table as Markdown: one row per arm or baseline, its finished seeds, the two protocols' lowest-epoch
    and last-epoch cells (a baseline trains no epochs: its one value under "lowest", ``baseline`` under
    "last epoch")."""
    head = ("| | n | one sequence: lowest | one sequence: last epoch | windows: lowest | windows: last epoch |\n"
            "|---|---|---|---|---|---|")
    lines = []
    for r in rows:
        cells = [cell(r.lowest[p], digits) + " | " + (cell(r.last[p], digits) if r.kind == "arm" else "*baseline*")
                 for p in PROTOCOLS]
        lines.append(f"| {r.label} | {seeds_cell(r)} | " + " | ".join(cells) + " |")
    return "\n".join([head, *lines])


OUTCOME_WORDS = {"yes": "Yes", "no": "No", "not shown": "Not shown", "not tested": "Not tested yet"}


def _interval(e: Estimate, digits: int) -> str:
    """``22.0 [15.9, 28.0]``, or the value alone without an interval."""
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return f"{e.mean:.{digits}f}"
    return f"{e.mean:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def _where(measured: str) -> str:
    """Where the speed row measured its ratio, in words (:func:`qrnn_study.scorecard.speed_rows`' measured
    text): ``per update on Aer exact`` or ``per training epoch``."""
    found = re.search(r"per (update on [^;]+|training epoch)", measured)
    return found.group(0) if found else ""


def answer_line(a: Answer) -> str:
    """The answer in one Markdown paragraph: the outcome, the cost half (FDSA's time over SPSA's against a
    tenth, and the deck's own figure's verdict) and the accuracy half (SPSA - FDSA per protocol, its word,
    and where the Holm adjustment alone keeps an interval inside the margin from counting)."""
    speed = a.speed
    where = {"sequence": "on the one sequence", "windows": "on windows"}
    by_side = {side: where[p] for p, (_, side, _) in a.accuracy.items()}
    split = (f" (comparable {by_side[SIDE['reproduced']]}, not {by_side[SIDE['not reproduced']]})"
             if {SIDE["reproduced"], SIDE["not reproduced"]} <= set(by_side) else "")
    parts = [f"**Is SPSA as good as FDSA at a tenth of the cost? {OUTCOME_WORDS[a.outcome]}{split}.**"]
    if speed is not None and speed.n:
        tenth = "under a tenth" if speed.mean >= COST_FACTOR else "more than a tenth"
        ours = dict(a.speed_others)
        decks = ", ".join(f"{SPEED_WORDS[c]} {v}" + (f" (ours {_interval(ours[c], 1)}x)" if c in ours else "")
                          for c, v in a.speed_verdicts)
        parts.append(f"*Cost:* FDSA takes {_interval(speed, 1)}x SPSA's time {_where(a.speed_measured)}: SPSA costs "
                     f"{tenth}. The deck's figures: {decks}.")
    if a.accuracy:
        n = max(e.n for e, _, _ in a.accuracy.values())
        level = next(iter(a.accuracy.values()))[0].level
        cells = []
        for p, (e, side, m) in a.accuracy.items():
            inside = math.isfinite(m) and max(abs(e.low), abs(e.high)) < m
            note = "; inside before Holm's adjustment, not after" if inside and side == SIDE["inconclusive"] else ""
            cells.append(f"{_interval(e, 4)} {where[p]} (±{m:.4f}: {side}{note})")
        parts.append(f"*Accuracy:* SPSA − FDSA, lowest validation RMSE, paired ({count(n, 'seed')}, {level * 100:.0f} % "
                     "interval of two one-sided t-tests, margin a tenth of FDSA's): " + "; ".join(cells) + ".")
    return " ".join(parts)


#: Each protocol as the full answer names it after "on the".
ON = {"sequence": "deck's protocol (one sequence)", "windows": "windows protocol"}


def answer_in_full(card: list[dict], arms: dict, baselines: dict | None, labels: dict[str, str],
                   partial: bool = False) -> str:
    """The answer in full (Markdown): the speed claim and SPSA against FDSA per protocol from the scorecard's
    rows (by claim id), :func:`~qrnn_study.conclusions.bottom_line`'s paragraphs, and the exact gradient at
    SPSA's rate from its first epoch to its last once it has :data:`~qrnn_study.analysis.MIN_SEEDS`
    finished seeds. ``partial``: some run of the profile has not finished (the heading says "so far")."""
    speeds = [r for c in SPEED_CLAIMS for r in card if r["id"] == c and r["measured"] != "-"]
    versus = [r for r in card if r["id"] in VERSUS_CLAIMS]
    lines = []
    if speeds and versus:
        where = {r["id"]: ON[VERSUS_CLAIMS[r["id"]]] for r in versus}
        lines.append(
            "**Speed and accuracy.** FDSA's time over SPSA's: " + "; ".join(
                f"{r['measured'].removeprefix('FDSA / SPSA = ')} (the deck: {r['deck']}): **{r['verdict']}**"
                for r in speeds) + ". Each seed's lowest validation "
            "RMSE, SPSA as originally run minus FDSA, paired by seed, is "
            + " and ".join(f"{r['measured'].removeprefix('SPSA - FDSA = ')} on the {where[r['id']]}" for r in versus)
            + "; the deck's \"SPSA found better parameters\" is thus "
            + " and ".join(f"**{r['verdict']}** on the {where[r['id']]}" for r in versus) + "."
            + ("" if not (same := [r for r in card if r["id"] in EQUIVALENCE_CLAIMS]) else
               " Its headline, \"comparable accuracy\", judged as equivalence within a tenth of FDSA's RMSE, is "
               + " and ".join(f"**{r['verdict']}** on the {ON[EQUIVALENCE_CLAIMS[r['id']]]}" for r in same)
               + " (" + "; ".join(r["measured"] for r in same) + ")."))
    lines += [text] if (text := bottom_line(arms, baselines or {}, labels)) else []
    o = arms.get("oracle-lr007")
    if o is not None and o.complete.sum() >= MIN_SEEDS:
        # The deck's "rises after an epoch", with the exact gradient: first against last epoch, paired by seed,
        # over the finished seeds, scored as the key figure scores it.
        mode = "shots" if o.config.get("val_shots") else "exact"
        (s0, s1, ds), (w0, w1, dw) = (first_to_last(o, p, mode) for p in PROTOCOLS)
        seq, win = describe(ds), describe(dw)
        E, how = o.config["epochs"], (f"{o.config['val_shots']:,}-shot" if mode == "shots" else "exact")
        said = (f"with the exact gradient (lr 0.007, {count(int(o.complete.sum()), 'finished seed')}, {how} validation), "
                f"validation RMSE goes from {s0} after epoch 1 to {s1} after epoch {E} on the one-sequence protocol, "
                f"a change of {ds.format(4)} paired by seed; on windows from {w0} to {w1}, a change of {dw.format(4)}")
        if seq == "higher" and win == "lower":
            lines.append("**The deck's \"validation RMSE rises after an epoch\" is a property of its protocol, not of "
                         f"an estimator:** {said}: higher on the one sequence, lower on windows like those it trains on.")
        else:
            lines.append(f"{said[0].upper()}{said[1:]}: {seq} on the one sequence, {win} on windows.")
    lines.append("Each estimator against the exact gradient and each baseline, with intervals, is on "
                 "[the conclusions page](conclusions)." if lines else
                 "No arm has finished a seed yet: see the coverage below.")
    return f"**The answer in full{' so far' if partial else ''}.**\n\n" + "\n\n".join(lines)


#: The key figure's arms (drawn in this order) and baselines (line style, colour).
KEY_ARMS = arm_ids("spsa-original-shots", "spsa-shots", "oracle-lr007", "fdsa-shots", "oracle-lr001")
KEY_BASELINES = {"mean": (":", "C7"), "linear": ("--", "tan"), "esn": ("-.", "C8")}


def key_figure(arms: dict, baselines: dict | None, labels: dict[str, str]):
    """The key result: per protocol, validation RMSE (mean of y, z; with shots, the oracle's too) after each
    epoch against training updates, mean over each :data:`KEY_ARMS` arm's finished seeds with its band
    (two seeds or more), and the :data:`KEY_BASELINES` as lines. Returns ``(figure, rows)``, a row
    ``[arm, protocol, mean after epoch 1, ...]`` per curve drawn (an arm with no finished seed is left out)."""
    figures.style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 6.4), sharey=True)
    plotted = []
    for ax, protocol in zip(axes, PROTOCOLS):
        for a in KEY_ARMS:
            r, color = arms.get(a), figures.arm_color(a)
            if r is None or not r.complete.any():
                continue
            v = r.val[protocol]["shots"][r.complete][:, :, 2]  # finished seeds; the oracle too scored with shots
            mean, lo, hi = band(v)
            x = np.arange(1, v.shape[1] + 1) * r.train_rmse.shape[2]
            ax.plot(x, mean, "o-" if a != "oracle-lr001" else "o--", color=color, ms=4, label=f"{labels[a]} (n = {len(v)})")
            if len(v) > 1:
                ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
            plotted.append([a, protocol, *map(float, mean)])
        for name, (ls, color) in KEY_BASELINES.items():
            if name in (baselines or {}):
                ax.axhline(baselines[name][protocol]["exact"]["rmse_mean"], color=color, ls=ls,
                           label=f"baseline: {BASELINE_NAMES[name]}")
        ax.set(title=model.protocol(protocol).title, xlabel="training updates (batch 1)")
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))  # long tick labels: few enough not to touch
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation RMSE\n(mean of y, z)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.05 + 0.05 * ((len(names) + 1) // 2), 1, 1))
    return fig, plotted


def compute_markdown(compute: list, arms: dict, gpu: bool, cores: int) -> str:
    """The compute of the profile (Markdown): per study-file run (:class:`~qrnn_study.results.ComputeRow`,
    its full-protocol arm's label or its id) the seeds and epochs done, the seconds per update and the
    worker-hours spent and left; then the total as wall time on the machine that trained most epochs
    (from the arms' provenance; ``cores`` where none has run); ``gpu``: a GPU benchmark exists."""
    rows = [f"| {ARM_LABELS.get(c.family, c.family)} | {c.finished} of {c.instances} | "
            f"{c.epochs_done} of {c.epochs_total} | {c.seconds_per_update:.3f} ({c.fastest_per_update:.3f})"
            f"{'' if c.measured else ', borrowed'} | {c.seconds_done / 3600:.1f} | "
            f"{c.seconds_left / 3600:.1f} ({c.seconds_left_fastest / 3600:.1f}) |" for c in compute]
    spent = sum(c.seconds_done for c in compute) / 3600
    left, left_fast = (sum(getattr(c, k) for c in compute) / 3600 for k in ("seconds_left", "seconds_left_fastest"))
    # The machine that trained most epochs, from the runs' provenance; the study ran one worker per core.
    machines = Counter((p["machine"]["cpu"], p["machine"]["cores"]) for r in arms.values() for p in r.provenance)
    cpu, workers = machines.most_common(1)[0][0] if machines else ("this", cores)
    return ("| run | seeds finished | epochs done | seconds per update: median (fastest) | worker-hours spent | "
            "worker-hours left: median (fastest) |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
            + f"\n\n**In all:** {spent:.1f} worker-hours spent and {left:.1f} left at the median rates ({left_fast:.1f} "
              f"at the fastest), so about {(spent + left) / workers:.0f} hours of wall time for the whole profile on "
              f"the {cpu} machine with {workers} cores that ran it, with `--jobs {workers}`"
            + (f", of which about {left / workers:.0f} hours remain ({left_fast / workers:.0f} at the fastest rates). "
               if left > 0 else ": every run has finished. ")
            + ("The [timing page](timing) has an FDSA epoch timed on a GPU by `make gpu-check`; the profile itself "
               "ran on the CPU." if gpu else
               "No GPU was lent to the sessions that ran it, so its time on a GPU is not measured: `make gpu-check` "
               "on a machine with an NVIDIA GPU times an FDSA epoch there, and the [timing page](timing) shows it."))
