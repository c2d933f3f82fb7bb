"""The deck's claims, checked against the arms' results: every verdict computed by a stated rule.

``scorecard(arms, gradients)`` takes :class:`~qrnn_study.results.ArmResults` by arm id and returns one
row per claim of :data:`qrnn_study.model.CLAIMS` (its ``id``, and the claim's ``text`` as ``claim``): the
deck's figure, the measured estimate with its named interval, the verdict
and its rule (the statistics and the rules: :mod:`qrnn_study.analysis`; each claim's rule is applied
here, once). Accuracy claims compare the arms run as the deck ran them (SPSA with its fixed
directions, FDSA; 1,024 shots), paired by seed, under each validation protocol; a claim whose arms
differ in data, updates or protocol is "not tested".

Each rule names its claim by id and takes the arms the claim names. Each row also holds its numbers, one field each (:data:`NUMBERS`: ``estimate``, ``low``, ``high``,
``n``, ``p``, ``p_holm``) and ``verdict_code`` (:data:`~qrnn_study.analysis.VERDICT_CODES`), for the
numeric CSV (:func:`csv_table`). The claims with a test (paired t-test; two one-sided paired t-tests for
"comparable accuracy", an equivalence claim; or exact binomial test for an epoch in a claimed range) form
one family: :func:`adjust` Holm-adjusts their p-values and judges them
with the adjusted p.
"""

from __future__ import annotations

import math

import numpy as np

from qrnn_core import reference

from .analysis import (LEVEL, PAIRED_T_METHOD, TOST_METHOD, VERDICT_CODES, Estimate, Verdict, best_epoch, comparable,
                       equivalence, final_train_rmse, holm, paired, prediction_interval, proportion, ratio_paired,
                       rounding_band, t_interval, verdict_band, verdict_equivalent, verdict_less, verdict_point_band,
                       verdict_proportion, verdict_single_run)
from .model import DECK_SPEEDUP, DECK_UPDATE_SPEEDUP, PROTOCOL_IDS, Claim, arm, claim, deck_figure
from .words import count, training_windows_words

#: "Similar" train RMSE: SPSA's within this fraction of FDSA's, per seed.
SIMILAR = 0.10
#: "Comparable accuracy" (the deck's headline): SPSA's lowest validation RMSE within this fraction of FDSA's
#: mean, by equivalence test (:func:`~qrnn_study.analysis.equivalence`). Fixed before the data, as SIMILAR is:
#: a tenth, the size of the differences the deck calls comparable between its arms' logged RMSEs.
MARGIN = 0.10


#: A row's numbers, one field each (NaN where a claim has none).
NUMBERS = ("estimate", "low", "high", "n", "p", "p_holm")
#: The tests whose p-values form the claim family (:func:`adjust`), and the rule each is judged by.
PAIRED_TEST, BINOMIAL_TEST = "paired t-test", "exact binomial test against 1/2"
EQUIVALENCE_TEST = "two one-sided paired t-tests (TOST)"
HOLM = "Holm-adjusted over the scorecard's tested claims"


def _row(claim: Claim, deck, measured, verdict, basis, estimate: Estimate | None = None, p: float | None = None,
         test: str = "") -> dict:
    """One claim's row: its id and words, the measured text, the verdict, and its numbers (:data:`NUMBERS`);
    ``test`` names the test behind ``p`` (a member of the claim family) or is empty."""
    e = estimate or Estimate(math.nan, math.nan, math.nan, 0, "")
    return {"id": claim.id, "claim": claim.text, "deck": deck, "measured": str(measured), "verdict": verdict.outcome,
            "rule": verdict.rule, "basis": basis, "estimate": e.mean, "low": e.low, "high": e.high, "n": e.n,
            "interval": e.method, "level": e.level,
            "p": math.nan if p is None else float(p), "p_holm": math.nan, "test": test,
            "verdict_code": VERDICT_CODES[verdict.outcome]}


def judge(row: dict, p: float) -> Verdict:
    """A tested claim's verdict from its numbers and a p-value (the Holm-adjusted one in the scorecard):
    the rule of its test, :func:`~qrnn_study.analysis.verdict_less` for a paired difference below 0,
    :func:`~qrnn_study.analysis.verdict_equivalent` for a paired difference within ``row["margin"]``,
    :func:`~qrnn_study.analysis.verdict_proportion` for the share of seeds with an epoch in range."""
    method = {PAIRED_TEST: PAIRED_T_METHOD, EQUIVALENCE_TEST: TOST_METHOD}.get(row["test"], "Clopper-Pearson")
    est = Estimate(row["estimate"], row["low"], row["high"], row["n"], method, row.get("level", LEVEL))
    if row["test"] == PAIRED_TEST:
        return verdict_less(est, row["claim"], p=p, test=f"{PAIRED_TEST}, {HOLM}")
    if row["test"] == EQUIVALENCE_TEST:
        return verdict_equivalent(est, row["margin"], row["claim"], p=p, test=f"{EQUIVALENCE_TEST}, {HOLM}")
    return verdict_proportion(est, p, row["claim"], test=f"{BINOMIAL_TEST}, {HOLM}")


def adjust(rows: list[dict]) -> list[dict]:
    """The rows with ``p_holm`` (:func:`~qrnn_study.analysis.holm` over the rows with a test) and those
    rows judged again with it (the measured text gains the adjusted p); new dicts, the input unchanged."""
    rows = [dict(r) for r in rows]
    adjusted = holm([r["p"] if r["test"] else math.nan for r in rows])
    m = sum(bool(r["test"]) and math.isfinite(r["p"]) for r in rows)
    for r, q in zip(rows, adjusted):
        r["p_holm"] = float(q)
        if r["test"] and math.isfinite(q):
            v = judge(r, q)
            r.update(verdict=v.outcome, rule=v.rule, verdict_code=VERDICT_CODES[v.outcome],
                     measured=f"{r['measured']}; p = {r['p']:.3g}, Holm-adjusted over {m} claims {q:.3g}")
    return rows


def csv_table(rows: list[dict]) -> tuple[list[list], list[str]]:
    """The scorecard as numbers: ``(table, header)``, one row per claim with its id and words, its interval's
    method and level, :data:`NUMBERS` and the verdict's code (:data:`~qrnn_study.analysis.VERDICT_CODES`)."""
    header = ["id", "claim", "interval", "level", *NUMBERS, "verdict_code"]
    return [[r[k] for k in header] for r in rows], header


def _missing(why: str) -> Verdict:
    return Verdict("not tested", why)


def _common_seeds(a, b, finished: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``a`` and ``b`` of the seeds both have finished (``finished=False``: both have run
    at least one epoch of)."""
    def ok(r, s):
        k = r.seeds.index(s)
        return r.complete[k] if finished else r.epochs_done[k] > 0

    seeds = [s for s in a.seeds if s in b.seeds and ok(a, s) and ok(b, s)]
    return np.array([a.seeds.index(s) for s in seeds], dtype=int), np.array([b.seeds.index(s) for s in seeds], dtype=int)


#: The deck's own stack, as the timing page names its rows: Aer with the deck's 1,024 shots, else Aer's exact
#: density matrix (an update's time is its circuits' on either).
AER_STACKS = ("Aer 1,024 shots", "Aer exact")


def aer_update_ratio(timing: list[dict] | None) -> tuple[float, str] | None:
    """FDSA's seconds per update over SPSA's on Aer, from the timing page's rows (``group`` ``update``, ``name``
    ``"<estimator> | <stack>"``), with the stack it was measured on: the first of :data:`AER_STACKS` on which
    both were timed; None when neither was."""
    rows = {tuple(r["name"].split(" | ", 1)): r["seconds"] for r in timing or []
            if r.get("group") == "update" and " | " in r.get("name", "")}
    for stack in AER_STACKS:
        if ("fdsa", stack) in rows and ("spsa", stack) in rows:
            return rows[("fdsa", stack)] / rows[("spsa", stack)], stack
    return None


def speed_rows(arms: dict, timing: list[dict] | None = None) -> list[dict]:
    """The deck's two speed figures, each judged like with like, within a factor 2:

    * ``speed``, per epoch (its epoch table, 14.5x): each seed's median training epoch, FDSA's over SPSA's,
      paired by seed, on the study's engine (no FDSA epoch was run on Aer: minutes per update);
    * ``speed-update``, per update (its per-update times, 33x): seconds per update on Aer, the timing page's
      rows, the median of their repeats.
    """
    per_epoch, per_update = claim("speed"), claim("speed-update")
    s, f = (arms.get(a) for a in per_epoch.arms)

    def side(value: float, lo: float, hi: float) -> str:
        return ("" if lo <= value <= hi else "; larger than the deck's: SPSA's advantage is bigger than claimed"
                if value > hi else "; smaller than the deck's: SPSA's advantage is smaller than claimed")

    rows = []
    deck, lo, hi = DECK_SPEEDUP, DECK_SPEEDUP / 2, DECK_SPEEDUP * 2
    if s is not None and f is not None and len(_common_seeds(s, f, finished=False)[0]):
        i, j = _common_seeds(s, f, finished=False)
        # Each seed's median epoch: an epoch slowed by other work beside it moves a mean, not a median.
        fs, ss = np.array(f.epoch_seconds)[j], np.array(s.epoch_seconds)[i]
        ours = ratio_paired(np.nanmedian(fs, 1), np.nanmedian(ss, 1))
        verdict = verdict_band(ours, lo, hi, f"a factor 2 of the deck's {deck:.1f}x")
        rows.append(_row(per_epoch, f"{deck:.1f}x", f"FDSA / SPSA = {ours.format(1, seeds=True)} per training epoch"
                         + (side(ours.mean, lo, hi) if verdict.outcome == "not reproduced" else ""), verdict,
                         "each seed's median seconds per training epoch, FDSA over SPSA as originally run (1,024 shots, "
                         "the study's engine and workers, one thread each); the deck's epoch table: "
                         f"{reference.HOURS_PER_EPOCH['FDSA, CPU']:g} h over {reference.HOURS_PER_EPOCH['SPSA, CPU']:g} h",
                         ours))
    else:
        rows.append(_row(per_epoch, f"{deck:.1f}x", "-",
                         _missing("needs an epoch of SPSA and of FDSA on a common seed"), ""))
    deck, lo, hi = DECK_UPDATE_SPEEDUP, DECK_UPDATE_SPEEDUP / 2, DECK_UPDATE_SPEEDUP * 2
    if (aer := aer_update_ratio(timing)) is not None:
        ratio, stack = aer
        rows.append(_row(per_update, f"{deck:.0f}x", f"FDSA / SPSA = {ratio:.1f} per update on {stack}{side(ratio, lo, hi)}",
                         verdict_point_band(ratio, lo, hi, f"a factor 2 of the deck's {deck:.0f}x",
                                            f"{stack}, one timing of each, the median of its repeats"),
                         f"seconds per update on {stack} (the timing page), FDSA over SPSA as originally run; the "
                         f"deck's {reference.SECONDS_PER_UPDATE['FDSA, CPU']:g} s over "
                         f"{reference.SECONDS_PER_UPDATE['SPSA, CPU']:g} s",
                         Estimate(ratio, math.nan, math.nan, 1, f"timing, {stack}")))
    else:
        rows.append(_row(per_update, f"{deck:.0f}x", "-", _missing("needs an Aer timing of both updates (the timing "
                                                                    "page)"), ""))
        if s is None or f is None:  # nothing timed yet: the GPU claims join once an epoch has run
            return rows
    for gpu in ("speed-gpu", "fdsa-gpu"):
        rows.append(_row(claim(gpu), "-", "-", _missing(f"the arms trained on {_devices(s, f)} only: no FDSA epoch on a GPU "
                                                   "to set beside them (the timing page projects one where a GPU "
                                                   "benchmark exists)"), ""))
    return rows


def accuracy_rows(arms: dict, protocol: str) -> list[dict]:
    """The deck's accuracy claims under one validation protocol, with 1,024-shot validation."""
    def of(name: str) -> Claim:  # the claim ``name`` under this protocol
        return claim(f"{name}-{protocol}")

    s, f = (arms.get(a) for a in of("better").arms)
    if s is None or f is None:
        return [_row(of("accuracy"), "-", "-", _missing("the SPSA or FDSA arm has no results"), "")]
    differ = comparable(s.config, f.config)
    if differ:
        return [_row(of("accuracy"), "-", "-",
                     _missing(f"the arms differ in {', '.join(differ)}: not comparable"), "")]
    sv, fv = s.val[protocol]["shots"], f.val[protocol]["shots"]  # (S, E, 3): y, z, mean
    rows = []
    (e_deck_s, v_deck_s), (e_deck_f, v_deck_f) = _deck_lowest("spsa"), _deck_lowest("fdsa")
    done_s = sv[s.complete]
    rows.append(_epoch_row(of("rises-spsa"), best_epoch(done_s[:, :, 2]),
                           (1, 2), "epoch of the lowest validation RMSE (mean of y, z), SPSA as originally run"))
    done_f = fv[f.complete]
    rows.append(_epoch_row(of("rises-fdsa"), best_epoch(done_f[:, :, 2]), (2, 4),
                           "the same for FDSA"))
    i, j = _common_seeds(s, f)
    if len(i):
        diff = paired(np.nanmin(sv[i, :, 2], 1), np.nanmin(fv[j, :, 2], 1))
        rows.append(_row(of("better"), f"SPSA {deck_figure(v_deck_s)} < FDSA {deck_figure(v_deck_f)}", f"SPSA - FDSA = {diff}",
                         verdict_less(diff.difference, "SPSA < FDSA", p=diff.p),
                         "lowest validation RMSE (mean of y, z) per seed, paired by seed", diff.difference, diff.p,
                         PAIRED_TEST))
        # The deck's headline, "comparable accuracy", is an equivalence claim: within MARGIN of FDSA's mean.
        fdsa_lowest = np.nanmin(fv[j, :, 2], 1)
        margin = MARGIN * float(np.nanmean(fdsa_lowest))
        same, p_same = equivalence(np.nanmin(sv[i, :, 2], 1), fdsa_lowest, margin)
        rows.append(_row(of("comparable"), "comparable accuracy",
                         f"SPSA - FDSA = {same.format(4)}, margin ±{margin:.4f} ({MARGIN:.0%} of FDSA's mean)",
                         verdict_equivalent(same, margin, "SPSA within the margin of FDSA", p=p_same),
                         "lowest validation RMSE (mean of y, z) per seed, paired by seed", same, p_same,
                         EQUIVALENCE_TEST) | {"margin": margin})
        # The best epoch is a small integer: judged as the share of seeds on which SPSA's comes first (ties
        # count against the claim), not as a mean difference whose interval can have zero width.
        earlier = best_epoch(sv[i, :, 2]) < best_epoch(fv[j, :, 2])
        share, p_share = proportion(earlier)
        rows.append(_row(of("fewer-epochs"), f"epoch {e_deck_s} vs {e_deck_f}",
                         f"SPSA's lowest epoch earlier than FDSA's on {int(earlier.sum())} of {len(earlier)} seeds, "
                         f"share {share.format(2)}", verdict_proportion(share, p_share, "SPSA's best epoch earlier"),
                         "epoch of the lowest validation RMSE (mean of y, z), paired by seed", share, p_share,
                         BINOMIAL_TEST))
    # Both judged on y, the lowest of the logged RMSEs (the SPSA figure matches its log's best y); the mean of
    # y and z is shown beside each. The deck's figure is ONE run's: it is set against where one more of our
    # runs would fall (the prediction interval), not against the interval of our mean.
    for name, done, method, basis in (
            ("lowest-spsa", done_s, "spsa", "SPSA as originally run (the deck does not say which measure; its {deck} "
                                            "matches its best y)"),
            ("lowest-fdsa", done_f, "fdsa", "FDSA, the measure of the SPSA row (the deck does not say which; in the "
                                            "original's FDSA log neither the best y, {y:.4f}, nor the best mean, "
                                            "{mean:.4f}, rounds to {deck})")):
        deck = deck_figure(reference.LOWEST_RMSE[method])
        best_y = np.nanmin(done[:, :, 0], 1)
        spread, best_mean = prediction_interval(best_y), t_interval(np.nanmin(done[:, :, 2], 1))
        rows.append(_row(of(name), deck,
                         f"y {_fmt(t_interval(best_y))}, one more run within [{spread.low:.4f}, {spread.high:.4f}]; "
                         f"mean of y, z {best_mean}",
                         verdict_single_run(spread, *rounding_band(reference.LOWEST_RMSE[method], 2),
                                            f"the deck's {deck} as rounded"),
                         "lowest validation RMSE of y, each seed's, " + basis.format(
                             deck=deck, y=_best_logged(method, 0), mean=_best_logged(method, 2)), spread))
    return rows


def _epoch_row(claim: Claim, best: np.ndarray, epochs: tuple[int, int], basis: str) -> dict:
    """A claim that the lowest validation RMSE comes at an epoch in ``epochs`` (inclusive): the share of
    seeds ``best (S,)`` (1-based epochs, NaN: no finished epoch) whose lowest epoch lies there."""
    lo, hi = epochs
    finished = np.isfinite(best)
    hits = np.where(finished, (best >= lo) & (best <= hi), np.nan)
    share, p = proportion(hits)
    k = int(np.nansum(hits))
    return _row(claim, f"lowest at epoch {lo}-{hi}",
                f"lowest at epoch {lo}-{hi} on {k} of {share.n} seeds, share {share.format(2)}",
                verdict_proportion(share, p, claim.text), f"{basis}, {count(share.n, 'seed')}", share, p, BINOMIAL_TEST)


def sweep_ratios(spsa: dict, fdsa: dict) -> dict[float, Estimate]:
    """Per learning rate both sweeps ran: SPSA's over FDSA's final-epoch train RMSE, paired by seed."""
    out = {}
    for lr in sorted(set(spsa) & set(fdsa)):
        i, j = _common_seeds(spsa[lr], fdsa[lr])
        if len(i):
            a = final_train_rmse(spsa[lr].train_rmse, spsa[lr].epochs_done)[i]
            b = final_train_rmse(fdsa[lr].train_rmse, fdsa[lr].epochs_done)[j]
            out[lr] = ratio_paired(a, b)
    return out


def learning_rate_rows(sweeps: dict) -> list[dict]:
    """The deck's "train RMSE is similar for both methods when the learning rate is low enough", from
    the sweep: judged at the lowest rate both estimators ran, the other rates listed beside it."""
    similar = claim("learning-rate")
    spsa, fdsa = (sweeps.get(arm(a).estimator) or {} for a in similar.arms)  # the sweeps of the claim's arms
    ratios = sweep_ratios(spsa, fdsa)
    if not ratios:
        missing = [name for name, points in (("SPSA", spsa), ("FDSA", fdsa))
                   if not any(r.complete.any() for r in points.values())]
        why = (f"{' and '.join(missing)}'s sweep has no finished seed yet" if missing
               else "the sweeps share no finished seed at any rate yet")
        return [_row(similar, "similar", "-", _missing(why), "")]
    lowest = min(ratios)
    lo, hi = 1 - SIMILAR, 1 + SIMILAR
    measured = "; ".join(f"lr {lr:g}: {r.mean:.2f} [{r.low:.2f}, {r.high:.2f}] (n = {r.n})" if r.n > 1
                         else f"lr {lr:g}: {r.mean:.2f} (n = 1)" for lr, r in ratios.items())
    cfg = next(iter(spsa.values())).config
    return [_row(similar, "similar", f"SPSA / FDSA = {measured}",
                 verdict_band(ratios[lowest], lo, hi, f"1 ± {SIMILAR * 100:.0f} % at lr {lowest:g}"),
                 f"final-epoch train RMSE, SPSA (fresh directions) over FDSA, paired by seed ({ratios[lowest].named()} "
                 f"at lr {lowest:g}); learning-rate sweep at a reduced budget ({training_windows_words(cfg)} x "
                 f"{cfg['epochs']} epochs, 1,024 shots)", ratios[lowest])]


def _devices(*arms) -> str:
    """The devices the arms trained on, in words (``the CPU``, ``cuda``)."""
    return " and ".join(sorted({"the CPU" if r.config.get("device", "cpu") == "cpu" else r.config["device"]
                                for r in arms if r is not None})) or "no device yet"


def _deck_lowest(method: str) -> tuple[int, float]:
    """The epoch of the deck's lowest validation RMSE (mean of y, z) and that RMSE."""
    epoch, (_, _, mean) = min(reference.VAL_RMSE[method].items(), key=lambda item: item[1][2])
    return epoch, mean


def _best_logged(method: str, output: int) -> float:
    """The lowest value of one output (0 y, 1 z, 2 mean) in the original code's validation log."""
    return min(row[output] for row in reference.original_log(method).values())


def scorecard(arms: dict, gradients: dict | None = None, sweeps: dict | None = None,
              timing: list[dict] | None = None) -> list[dict]:
    """Every claim's row: speed, accuracy under both protocols, the learning-rate claim, parameter shift.

    ``sweeps``: the learning-rate sweeps by estimator (``"spsa"``, ``"fdsa"``: the keys of
    :data:`qrnn_study.model.SWEEPS`), each ``{lr: ArmResults}``; ``timing``: the timing page's rows
    (``timing.json``'s ``rows``), for the speed claim on Aer.
    """
    rows = speed_rows(arms, timing)
    for protocol in PROTOCOL_IDS:
        rows += accuracy_rows(arms, protocol)
    rows += learning_rate_rows(sweeps or {})
    if gradients:
        ps = next(r["rel_error"] for r in gradients["rows"] if r["estimator"] == "parameter-shift")
        outcome = Verdict("not reproduced" if ps < 1e-8 else "inconclusive",
                          "the shift rules equal autograd to 1e-8 or better: the deck's reason fails")
        rows.append(_row(claim("parameter-shift"),
                         "method dropped as unusable",
                         f"the parameter-shift rule equals the exact gradient to {ps:.0e}", outcome, "relative error against autograd",
                         Estimate(ps, math.nan, math.nan, 1, "")))
    return adjust(rows)


def _fmt(e: Estimate, digits: int = 4) -> str:
    return e.format(digits, seeds=True)
