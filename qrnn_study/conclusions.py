"""Where the trained arms stand: against the exact gradient they estimate, and against the baselines.

Pure functions over :class:`~qrnn_study.results.ArmResults` and the baselines' ``baselines.json``, tested
on constructed data. The measure is the one the deck reports: an arm's *lowest* validation RMSE over its
epochs (mean of y and z), per finished seed. It is chosen on the validation span itself, so it flatters
the arms a little; the baselines chose their settings on the training span only. Each arm is scored
with the probabilities it trained with (:attr:`~qrnn_study.results.ArmResults.mode`): validation with
shots (the config's ``val_shots``, 1,024 in the paper profile) for shot arms, exact for exact arms and the
oracle; set against a shot arm, the oracle and the frozen circuit are scored with shots too.

* :func:`oracle_gaps`: each estimator's arm against the oracle at its learning rate, paired by seed
  (difference and ratio);
* :func:`baseline_standing`: each arm against each baseline: the ratio of its RMSE to the baseline's
  (per seed; the frozen-circuit QESN is paired by seed, since it starts from the same parameters);
* :func:`bottom_line`: the answer in a few sentences, every number in it computed from the two above;
* :func:`readout_control`, :func:`control_rows`: each trained circuit with the QESN's ridge readout, which
  tells what training the circuit did from what the readout fitted another way did.
"""

from __future__ import annotations

import numpy as np

from .analysis import MIN_SEEDS, Comparison, Estimate, mean_ci, paired, ratio_paired, verdict_less
from .model import CLASSICAL, FDSA_ARM, FROZEN, ORACLE_OF, PROTOCOL_IDS, arm_ids
from .words import and_join, count

#: The arms a short answer names: the deck's two estimators, corrected SPSA and the oracle at both rates.
HEADLINE = arm_ids("spsa-original-shots", "spsa-shots", "fdsa-shots", "oracle-lr001", "oracle-lr007")


def common_mode(arms) -> str:
    """The validation a set of arms is compared under: ``"shots"`` when any of them trains with shots (the
    others, the oracle too, scored with shots as well, so that no score carries validation shot noise
    another's does not), else ``"exact"``. ``arms``: :class:`~qrnn_study.results.ArmResults`."""
    return "shots" if any(r.mode == "shots" for r in arms) else "exact"


def lowest(res, protocol: str, mode: str | None = None) -> dict[int, float]:
    """Per finished seed of ``res``, its lowest validation RMSE (mean of y, z) over the epochs, scored
    with ``mode`` (``"shots"`` or ``"exact"``; default: the probabilities the arm trained with)."""
    v = res.val[protocol][mode or res.mode][:, :, 2]
    return {s: float(np.nanmin(v[i])) for i, s in enumerate(res.seeds) if res.complete[i]}


def last(res, protocol: str, mode: str | None = None) -> dict[int, float]:
    """Per finished seed of ``res``, its validation RMSE after the last epoch (as :func:`lowest`)."""
    v = res.val[protocol][mode or res.mode][:, :, 2]
    return {s: float(v[i, -1]) for i, s in enumerate(res.seeds) if res.complete[i]}


def first_to_last(res, protocol: str, mode: str | None = None) -> tuple[Estimate, Estimate, Comparison]:
    """Over the finished seeds of ``res`` (scored as :func:`lowest`): the validation RMSE (mean of y, z)
    after the first epoch, after the last, and last minus first paired by seed."""
    v = res.val[protocol][mode or res.mode][res.complete][:, :, 2]
    return mean_ci(v[:, 0]), mean_ci(v[:, -1]), paired(v[:, -1], v[:, 0])


def side(ratio: Estimate, of: float = 1.0) -> str:
    """Where a ratio's interval lies against ``of``: ``below``, ``above``, ``either side``, or too few seeds
    to say (``n seeds``: fewer than :data:`~qrnn_study.analysis.MIN_SEEDS`)."""
    if ratio.n < MIN_SEEDS:
        return count(ratio.n, "seed")
    return "below" if ratio.high < of else "above" if ratio.low > of else "either side"


def _pair(a: dict[int, float], b: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    seeds = sorted(set(a) & set(b))
    return np.array([a[s] for s in seeds]), np.array([b[s] for s in seeds])


def oracle_gaps(arms: dict, protocol: str, measure=None, mode: str | None = None) -> list[dict]:
    """Per estimator arm with finished seeds beside its oracle: ``arm``, ``oracle``, ``mode``, ``difference``
    (:class:`Comparison`, arm - oracle) and ``ratio`` (:class:`Estimate`, arm / oracle), paired by seed.
    ``measure``: each seed's value, :func:`lowest` (the default) or :func:`last`.

    Like is compared with like: both are scored with ``mode`` (the book's one convention, 1,024 shots:
    :func:`common_mode`), or by default with the arm's own validation, so that shot noise in the
    validation is not counted against the estimator."""
    rows = []
    for arm, oracle in ORACLE_OF.items():
        if arm not in arms or oracle not in arms:
            continue
        scored = mode or arms[arm].mode
        measure = measure or lowest
        a, o = _pair(measure(arms[arm], protocol, scored), measure(arms[oracle], protocol, scored))
        if len(a):
            rows.append({"arm": arm, "oracle": oracle, "mode": scored, "difference": paired(a, o),
                         "ratio": ratio_paired(a, o)})
    return rows


def baseline_value(baselines: dict, name: str, protocol: str, mode: str = "exact") -> float:
    """A baseline's validation RMSE (mean of y, z; mean over its seeds where it has several)."""
    return float(baselines[name][protocol][mode]["rmse_mean"])


def frozen_per_seed(baselines: dict, protocol: str, mode: str) -> dict[int, float]:
    """The frozen circuit's (QESN) RMSE per seed of its initial parameters."""
    return {int(r["seed"]): float(r[protocol][mode]["rmse_mean"]) for r in baselines[FROZEN].get("per_seed", [])
            if mode in r[protocol]}


def baseline_standing(arms: dict, baselines: dict, protocol: str, mode: str | None = None) -> list[dict]:
    """Per arm with a finished seed: ``arm``, ``rmse`` (:class:`Estimate` of its lowest validation RMSE),
    ``ratio`` (``{baseline: Estimate of arm / baseline}`` for the classical baselines) and ``frozen``
    (:class:`Comparison`, arm - QESN paired by seed with the same probabilities; None without common seeds).
    ``mode``: every arm scored with it (default: each with the probabilities it trained with)."""
    rows = []
    for arm, res in arms.items():
        best = lowest(res, protocol, mode)
        if not best:
            continue
        v = np.array(list(best.values()))
        ratio = {name: mean_ci(v / baseline_value(baselines, name, protocol)) for name in CLASSICAL if name in baselines}
        frozen = None
        if FROZEN in baselines:
            a, q = _pair(best, frozen_per_seed(baselines, protocol, mode or res.mode))
            frozen = paired(a, q) if len(a) else None
        rows.append({"arm": arm, "rmse": mean_ci(v), "ratio": ratio, "frozen": frozen})
    return rows


def beaten_by(row: dict) -> list[str]:
    """The classical baselines whose RMSE lies wholly below the arm's (the ratio's interval above 1)."""
    return [name for name, r in row["ratio"].items() if side(r) == "above"]


def describe(c: Comparison | None) -> str:
    """A paired difference ``a - b`` in words, by the scorecard's rule (:func:`~qrnn_study.analysis.verdict_less`:
    the paired t interval on one side of 0 and the paired t-test's p < 0.05, which agree): ``lower``,
    ``higher``, ``no clear difference`` or ``not enough seeds``. Unadjusted: a description of an arm, not
    one of the deck's claims (those are Holm-adjusted in the scorecard)."""
    if c is None:
        return "not enough seeds"
    outcome = verdict_less(c.difference, "a < b", p=c.p).outcome
    return {"reproduced": "lower", "not reproduced": "higher", "not tested": "not enough seeds"}.get(
        outcome, "no clear difference")


def frozen_words(rows: dict, labels: dict) -> str | None:
    """Each arm against the frozen circuit (QESN), grouped by :func:`describe`'s outcome:
    ``for A and B: lower; for C: no clear difference``. ``rows``: :func:`baseline_standing`'s rows by arm;
    None when no arm has two seeds paired with the QESN's."""
    by_outcome: dict[str, list] = {}
    for arm, r in rows.items():
        if r["frozen"] is not None and r["frozen"].difference.n >= 2:
            by_outcome.setdefault(describe(r["frozen"]), []).append(labels[arm])
    return "; ".join(f"for {and_join(names)}: {outcome}" for outcome, names in by_outcome.items()) or None


def _span(est: dict, labels: dict) -> str:
    """``from 0.119 [0.110, 0.128] for arm A to 0.163 [...] for arm B``: the lowest and highest mean."""
    lo, hi = min(est, key=lambda a: est[a].mean), max(est, key=lambda a: est[a].mean)
    return f"from {est[lo].format(3)} for {labels[lo]} to {est[hi].format(3)} for {labels[hi]}"


PLACED = {"below": "wholly below it", "either side": "straddling it", "above": "wholly above it"}
"""How :func:`side`'s answers read after an arm's name, in the order they are listed."""


def placed(where: str) -> str:
    """:func:`side`'s answer in words (:data:`PLACED`); for too few seeds, ``at 2 seeds only, too few to say``."""
    return PLACED.get(where, f"at {where} only, too few to say")


def by_side(est: dict, value: float) -> dict[str, list]:
    """The keys of ``est`` (each an :class:`Estimate`) grouped by where its interval lies against ``value``
    (:func:`side`): below first, then straddling, above, and last those with too few seeds."""
    groups: dict[str, list] = {}
    for key, e in est.items():
        groups.setdefault(side(e, value), []).append(key)
    order = list(PLACED)
    return dict(sorted(groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else len(order)))


#: :func:`side`'s answers as the verb of a clause, one arm and several.
CLAUSE = {"below": ("lies wholly below it", "lie wholly below it"),
          "either side": ("has it inside its interval", "have it inside their intervals"),
          "above": ("lies wholly above it", "lie wholly above it")}


def _against(est: dict, value: float, labels: dict) -> str:
    """Which arms' intervals lie wholly below ``value``, wholly above it, or hold it (:func:`by_side`), in
    words: ``A and B lie wholly below it; C lies wholly above it``."""
    groups = by_side(est, value)
    if len(groups) == 1 and len(est) > 1 and next(iter(groups)) in CLAUSE:
        return f"every one of them {CLAUSE[next(iter(groups))][0]}"
    parts = []
    for where, arms in groups.items():
        verb = CLAUSE[where][len(arms) > 1] if where in CLAUSE else f"{'are' if len(arms) > 1 else 'is'} {placed(where)}"
        parts.append(f"{and_join(labels[a] for a in arms)} {verb}")
    return "; ".join(parts)


def bottom_line(arms: dict, baselines: dict, labels: dict) -> str | None:
    """The answer in a few sentences (Markdown), from the finished seeds of the :data:`HEADLINE` arms and
    the baselines; None until both protocols have a finished seed and the baselines have run.

    Every arm is scored alike: with shots when any headline arm trains with shots (the oracle too), so
    that no arm's score carries validation shot noise another's does not. Each number is a mean over
    finished seeds with its interval (:meth:`~qrnn_study.analysis.Estimate.format`); an arm is placed
    below or above a baseline only when its whole interval is (:func:`side`).

    ``labels``: each arm's name for a reader (e.g. :data:`qrnn_study.model.ARM_LABELS`)."""
    if not {"linear", "esn"} <= set(baselines):
        return None
    head = {a: r for a, r in arms.items() if a in HEADLINE and r.complete.any()}
    if not head:
        return None
    mode = common_mode(head.values())
    low = {p: {a: mean_ci(list(lowest(r, p, mode).values())) for a, r in head.items()} for p in PROTOCOL_IDS}
    end = {a: mean_ci(list(last(r, "sequence", mode).values())) for a, r in head.items()}
    lin = {p: baseline_value(baselines, "linear", p) for p in low}
    esn = {p: baseline_value(baselines, "esn", p) for p in low}
    seq = [e.mean for e in low["sequence"].values()]
    scored = (f"every arm scored with {next(iter(head.values())).config['val_shots']:,}-shot validation, the oracle "
              "too" if mode == "shots" else "every arm scored with exact probabilities")
    names = and_join([labels[a] for a in head])
    text = (f"The arms here: {names}. Means over their finished seeds [95 % t interval], {scored}. "
            f"On the deck's protocol, the lowest validation RMSE over the epochs runs {_span(low['sequence'], labels)}. "
            f"The linear regression on x(t) alone scores {lin['sequence']:.3f}: "
            f"{_against(low['sequence'], lin['sequence'], labels)}. The echo-state network scores "
            f"{esn['sequence']:.4f}"
            + (f", {min(seq) / esn['sequence']:.1f} to {max(seq) / esn['sequence']:.1f} times lower than the arms.\n\n"
               if all(side(e, esn["sequence"]) == "above" for e in low["sequence"].values()) else
               f": {_against(low['sequence'], esn['sequence'], labels)}.\n\n"))
    if "mean" in baselines:
        mean = baseline_value(baselines, "mean", "sequence")
        above = [a for a, e in end.items() if side(e, mean) == "above"]
        text += (f"That lowest epoch is picked on the validation span itself. After the last epoch, which no such "
                 f"choice flatters, the arms run {_span(end, labels)}. Predicting the training mean scores "
                 f"{mean:.3f}: {_against(end, mean, labels)}."
                 + (f" {(who := and_join([labels[a] for a in above]))[0].upper()}{who[1:]} thus "
                    f"{'ends' if len(above) == 1 else 'end'} worse "
                    "than a constant on the one sequence, yet not on 20-step windows like the training ones (below): "
                    "there, what was learnt on windows does not carry over to one long sequence." if above else "")
                 + "\n\n")
    text += (f"On 20-step windows like the training ones, the lowest validation RMSE runs "
             f"{_span(low['windows'], labels)}. The linear regression scores {lin['windows']:.3f}: "
             f"{_against(low['windows'], lin['windows'], labels)}. The echo-state network scores "
             f"{esn['windows']:.4f}.")
    if FROZEN in baselines:
        frozen = {p: frozen_words({r["arm"]: r for r in baseline_standing(head, baselines, p, mode)}, labels)
                  for p in PROTOCOL_IDS}
        if all(frozen.values()):
            text += ("\n\nAgainst the same circuit frozen at its initial parameters with only a readout fitted (QESN, "
                     f"scored alike, paired by seed), training changed the lowest validation RMSE as follows. On the "
                     f"deck's protocol, {frozen['sequence']}. On windows, {frozen['windows']}.")
    fdsa = arms.get(FDSA_ARM)
    done = int(fdsa.complete.sum()) if fdsa is not None else 0
    if done < MIN_SEEDS:
        text += (f" Whether SPSA matches FDSA is not answered yet: FDSA has {count(done, 'finished seed')} of "
                 f"the {MIN_SEEDS} a verdict needs.")
    return text


# --------------------------------------------------------------------------------------------
# The readout control: is it the trained circuit, or the readout fitted another way?
# --------------------------------------------------------------------------------------------


def readout_control(arms: dict, shots: int | None, per_arm: int | None = None) -> dict[str, list[dict]]:
    """Each :data:`HEADLINE` arm's trained circuits with the QESN's readout: JSON-able.

    A trained arm and the frozen circuit (QESN) differ in two things: the circuit (trained or at its
    initial parameters) and the readout (trained by Adam with the circuit, or fitted by ridge regression on
    the training span). For each finished seed, the circuit after the last epoch (its trajectory's last
    ``params`` row) gets a readout fitted exactly as the QESN's (:func:`qrnn_core.baselines.qesn` with
    ``circuit``: same forms, washouts, penalties, shot streams), so that only the circuit differs from the
    QESN of that seed. Returns ``{arm: [qesn's dict per seed]}``; ``per_arm``: the first ``k`` finished
    seeds of each arm only (a smoke test). Scored on the whole validation span: an arm run with
    ``val_steps`` (a prefix, the tiny profile's) is not comparable with it.
    """
    from qrnn_core.baselines import qesn
    from qrnn_core.train import TrainConfig

    from .results import _task  # one task per data config, shared with the plan's

    out = {}
    for arm in HEADLINE:
        res = arms.get(arm)
        if res is None or not res.complete.any():
            continue
        task = _task(TrainConfig.from_dict(res.config).data)
        done = np.flatnonzero(res.complete)[:per_arm]
        out[arm] = [qesn(task, res.seeds[i], shots, circuit=res.params[i, res.epochs_done[i]],
                         n_qubits=res.config["n_qubits"]) for i in done]
    return out


def control_rows(arms: dict, control: dict, baselines: dict, protocol: str, mode: str) -> list[dict]:
    """Per arm of ``control`` (:func:`readout_control`) that shares seeds with the QESN, over those seeds:
    ``arm``, ``trained`` (its validation RMSE after the last epoch, :class:`Estimate`), ``refit`` (its
    trained circuit with the QESN's readout), ``frozen`` (the QESN of the same seeds), ``circuit``
    (:class:`Comparison` refit - frozen: what training the circuit did, the readout fitted alike) and
    ``readout`` (trained - refit: the readout trained with the circuit against one fitted by ridge), all
    scored with ``mode``."""
    frozen = frozen_per_seed(baselines, protocol, mode) if FROZEN in baselines else {}
    rows = []
    for arm, per_seed in control.items():
        refit = {int(r["seed"]): float(r[protocol][mode]["rmse_mean"]) for r in per_seed if mode in r[protocol]}
        trained = last(arms[arm], protocol, mode)
        seeds = sorted(set(refit) & set(frozen) & set(trained))
        if not seeds:
            continue
        t, r, f = (np.array([d[s] for s in seeds]) for d in (trained, refit, frozen))
        rows.append({"arm": arm, "trained": mean_ci(t), "refit": mean_ci(r), "frozen": mean_ci(f),
                     "circuit": paired(r, f), "readout": paired(t, r)})
    return rows
