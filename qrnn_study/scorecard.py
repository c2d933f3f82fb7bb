"""The deck's claims, checked against the arms' results: every verdict computed by a stated rule.

``scorecard(arms, gradients)`` takes :class:`~qrnn_study.results.ArmResults` by arm name and returns one
row per claim: the deck's words and figure, the measured estimate (mean over seeds, 95 % bootstrap
interval), the verdict and its rule (:mod:`qrnn_study.analysis`). Accuracy claims compare the arms run
as the deck ran them (SPSA with its fixed directions, FDSA; 1,024 shots), paired by seed, under each
validation protocol; a claim whose arms differ in data, updates or protocol is "not tested".
"""

from __future__ import annotations

import numpy as np

from qrnn_core import reference

from .analysis import (Estimate, Verdict, best_epoch, comparable, final_train_rmse, mean_ci, paired, ratio_paired,
                       rounding_band, verdict_band, verdict_less)
from .words import count, training_windows_words

SPSA_ARM, FDSA_ARM = "spsa-original-shots", "fdsa-shots"
SWEEPS = {"spsa": "sweep-spsa", "fdsa": "sweep-fdsa", "exact": "sweep-oracle"}
#: "Similar" train RMSE: SPSA's within this fraction of FDSA's, per seed.
SIMILAR = 0.10
PROTOCOL_NAME = {"sequence": "deck's protocol, one sequence", "windows": "windows protocol"}


def _row(claim, deck, measured, verdict, basis) -> dict:
    return {"claim": claim, "deck": deck, "measured": str(measured), "verdict": verdict.outcome,
            "rule": verdict.rule, "basis": basis}


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


def speed_rows(arms: dict) -> list[dict]:
    """Seconds per epoch, FDSA over SPSA, paired by seed over the epochs each has run (both arms'
    training workers, the same machine)."""
    s, f = arms.get(SPSA_ARM), arms.get(FDSA_ARM)
    deck = reference.HOURS_PER_EPOCH["FDSA, CPU"] / reference.HOURS_PER_EPOCH["SPSA, CPU"]
    per_update = reference.SECONDS_PER_UPDATE["FDSA, CPU"] / reference.SECONDS_PER_UPDATE["SPSA, CPU"]
    claim = f"SPSA is about {deck:.1f}x faster per epoch than FDSA on CPU"
    if s is None or f is None or not len(_common_seeds(s, f, finished=False)[0]):
        return [_row(claim, f"{deck:.1f}x", "-", _missing("needs an epoch of SPSA and of FDSA on a common seed"), "")]
    i, j = _common_seeds(s, f, finished=False)
    # Each seed's median epoch: an epoch slowed by other work beside it moves a mean, not a median.
    fs, ss = np.array(f.epoch_seconds)[j], np.array(s.epoch_seconds)[i]
    ratio = mean_ci(np.nanmedian(fs, 1) / np.nanmedian(ss, 1))
    fastest = mean_ci(np.nanmin(fs, 1) / np.nanmin(ss, 1))
    by_mean = mean_ci(np.nanmean(fs, 1) / np.nanmean(ss, 1))
    lo, hi = deck / 2, deck * 2
    rows = [_row(claim, f"{deck:.1f}x", f"FDSA / SPSA = {ratio.format(1, seeds=True)}",
                 verdict_band(ratio, lo, hi, f"a factor 2 of the deck's {deck:.1f}x"),
                 "each seed's median seconds per training epoch, FDSA over SPSA as originally run (1,024 shots, the "
                 f"study's workers, one thread each, on a machine shared with other work: with each seed's mean epoch "
                 f"{by_mean.format(1)}, at its fastest {fastest.format(1)}); the deck's own per-update times give "
                 f"{per_update:.0f}x, its epoch table {deck:.1f}x")]
    for claim in ("SPSA (CPU) is an order of magnitude faster than FDSA on GPU",
                  "FDSA on GPU is about 1.8x faster than on CPU"):
        rows.append(_row(claim, "-", "-", _missing(f"the arms trained on {_devices(s, f)} only: no FDSA epoch on a GPU "
                                                   "to set beside them (the timing page projects one where a GPU "
                                                   "benchmark exists)"), ""))
    return rows


def accuracy_rows(arms: dict, protocol: str) -> list[dict]:
    """The deck's accuracy claims under one validation protocol, with 1,024-shot validation."""
    s, f = arms.get(SPSA_ARM), arms.get(FDSA_ARM)
    where = PROTOCOL_NAME[protocol]
    if s is None or f is None:
        return [_row(f"Accuracy claims ({where})", "-", "-", _missing("the SPSA or FDSA arm has no results"), "")]
    differ = comparable(s.config, f.config)
    if differ:
        return [_row(f"Accuracy claims ({where})", "-", "-",
                     _missing(f"the arms differ in {', '.join(differ)}: not comparable"), "")]
    sv, fv = s.val[protocol]["shots"], f.val[protocol]["shots"]  # (S, E, 3): y, z, mean
    rows = []
    (e_deck_s, v_deck_s), (e_deck_f, v_deck_f) = _deck_lowest("spsa"), _deck_lowest("fdsa")
    done_s = sv[s.complete]
    best_s = best_epoch(done_s[:, :, 2])
    e_s = mean_ci(best_s)
    rows.append(_row(f"Validation RMSE starts rising after 1 epoch with SPSA ({where})", "lowest at epoch 1-2",
                     f"lowest at epoch {_fmt(e_s, 1)}", verdict_band(e_s, 1, 2, "epochs"),
                     f"epoch of the lowest validation RMSE (mean of y, z), SPSA as originally run, "
                     f"{count(e_s.n, 'seed')}"))
    done_f = fv[f.complete]
    e_f = mean_ci(best_epoch(done_f[:, :, 2]))
    rows.append(_row(f"... and after about 3 epochs with FDSA ({where})", "lowest at epoch 2-4",
                     f"lowest at epoch {_fmt(e_f, 1)}", verdict_band(e_f, 2, 4, "epochs"),
                     f"the same for FDSA, {count(e_f.n, 'seed')}"))
    i, j = _common_seeds(s, f)
    if len(i):
        diff = paired(np.nanmin(sv[i, :, 2], 1), np.nanmin(fv[j, :, 2], 1))
        rows.append(_row(f"SPSA found better parameters than FDSA ({where})",
                         f"SPSA {_short(v_deck_s)} < FDSA {_short(v_deck_f)}", f"SPSA - FDSA = {diff}", verdict_less(diff.difference, "SPSA < FDSA", p=diff.p),
                         "lowest validation RMSE (mean of y, z) per seed, paired by seed"))
        de = paired(best_epoch(sv[i, :, 2]), best_epoch(fv[j, :, 2]))
        rows.append(_row(f"... in fewer epochs ({where})", f"epoch {e_deck_s} vs {e_deck_f}", f"SPSA - FDSA = {de.format(1)}",
                         verdict_less(de.difference, "SPSA's best epoch earlier", p=de.p), "epoch of the lowest, paired by seed"))
    # Both judged on y, the lowest of the logged RMSEs (the SPSA figure matches its log's best y); the mean of
    # y and z is shown beside each.
    best_y, best_s_mean = (mean_ci(np.nanmin(done_s[:, :, k], 1)) for k in (0, 2))
    low_s, low_f = (_short(reference.LOWEST_RMSE[m]) for m in ("spsa", "fdsa"))
    rows.append(_row(f"Lowest RMSE observed with SPSA: {low_s} ({where})", low_s,
                     f"y {_fmt(best_y)}; mean of y, z {best_s_mean}",
                     verdict_band(best_y, *rounding_band(reference.LOWEST_RMSE["spsa"], 2), f"the deck's {low_s} as rounded"),
                     "lowest validation RMSE of y, SPSA as originally run (the deck does not say which measure; its "
                     f"{low_s} matches its best y)"))
    best_f_y, best_f = (mean_ci(np.nanmin(done_f[:, :, k], 1)) for k in (0, 2))
    rows.append(_row(f"Lowest RMSE observed with FDSA: {low_f} ({where})", low_f,
                     f"y {_fmt(best_f_y)}; mean of y, z {best_f}",
                     verdict_band(best_f_y, *rounding_band(reference.LOWEST_RMSE["fdsa"], 2), f"the deck's {low_f} as rounded"),
                     "lowest validation RMSE of y, FDSA, the measure of the SPSA row (the deck does not say which; in the original's "
                     f"FDSA log neither the best y, {_best_logged('fdsa', 0):.4f}, nor the best mean, "
                     f"{_best_logged('fdsa', 2):.4f}, rounds to {low_f})"))
    return rows


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
    claim = "Train RMSE is similar for both methods at a low enough learning rate"
    ratios = sweep_ratios(sweeps.get("spsa") or {}, sweeps.get("fdsa") or {})
    if not ratios:
        missing = [name for name, key in (("SPSA", "spsa"), ("FDSA", "fdsa"))
                   if not any(r.complete.any() for r in (sweeps.get(key) or {}).values())]
        why = (f"{' and '.join(missing)}'s sweep has no finished seed yet" if missing
               else "the sweeps share no finished seed at any rate yet")
        return [_row(claim, "similar", "-", _missing(why), "")]
    lowest = min(ratios)
    lo, hi = 1 - SIMILAR, 1 + SIMILAR
    measured = "; ".join(f"lr {lr:g}: {r.mean:.2f} [{r.low:.2f}, {r.high:.2f}] (n = {r.n})" if r.n > 1
                         else f"lr {lr:g}: {r.mean:.2f} (n = 1)" for lr, r in ratios.items())
    cfg = next(iter(sweeps["spsa"].values())).config
    return [_row(claim, "similar", f"SPSA / FDSA = {measured}",
                 verdict_band(ratios[lowest], lo, hi, f"SPSA / FDSA at lr {lowest:g} (within {SIMILAR * 100:.0f} % of 1)"),
                 f"final-epoch train RMSE, SPSA (fresh directions) over FDSA, paired by seed; learning-rate "
                 f"sweep at a reduced budget ({training_windows_words(cfg)} x {cfg['epochs']} epochs, 1,024 shots)")]


def _devices(*arms) -> str:
    """The devices the arms trained on, in words (``the CPU``, ``cuda``)."""
    return " and ".join(sorted({"the CPU" if r.config.get("device", "cpu") == "cpu" else r.config["device"] for r in arms}))


def _deck_lowest(method: str) -> tuple[int, float]:
    """The epoch of the deck's lowest validation RMSE (mean of y, z) and that RMSE."""
    epoch, (_, _, mean) = min(reference.VAL_RMSE[method].items(), key=lambda item: item[1][2])
    return epoch, mean


def _short(value: float) -> str:
    """A deck figure as the deck writes it: ``0.09`` as ".09"."""
    return f"{value:g}".removeprefix("0")


def _best_logged(method: str, output: int) -> float:
    """The lowest value of one output (0 y, 1 z, 2 mean) in the original code's validation log."""
    return min(row[output] for row in reference.original_log(method).values())


def scorecard(arms: dict, gradients: dict | None = None, sweeps: dict | None = None) -> list[dict]:
    """Every claim's row: speed, accuracy under both protocols, the learning-rate claim, parameter shift.

    ``sweeps``: the learning-rate sweeps by estimator (``"spsa"``, ``"fdsa"``), each ``{lr: ArmResults}``.
    """
    rows = speed_rows(arms)
    for protocol in ("sequence", "windows"):
        rows += accuracy_rows(arms, protocol)
    rows += learning_rate_rows(sweeps or {})
    if gradients:
        ps = next(r["rel_error"] for r in gradients["rows"] if r["estimator"] == "parameter-shift")
        outcome = Verdict("not reproduced" if ps < 1e-8 else "inconclusive",
                          "the shift rules equal autograd to 1e-8 or better: the deck's reason fails")
        rows.append(_row("Parameter-shift cannot be used because of the mid-circuit measure and reset",
                         "method dropped as unusable",
                         f"equals the exact gradient to {ps:.0e}", outcome, "relative error against autograd"))
    return rows


def _fmt(e: Estimate, digits: int = 4) -> str:
    return e.format(digits, seeds=True)
