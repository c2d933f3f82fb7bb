"""Where the trained arms stand: against the exact gradient they estimate, and against the baselines.

Pure functions over :class:`~qrnn_core.results.ArmResults` and the baselines' ``baselines.json``, tested
on constructed data. The measure is the one the deck reports: an arm's *lowest* validation RMSE over its
epochs (mean of y and z), per finished seed. It is chosen on the validation span itself, so it flatters
the arms a little; the baselines chose their settings on the training span only. Each arm is scored
with the probabilities it trained with: 1,024-shot validation for shot arms, exact for exact arms and
the oracle.

* :func:`oracle_gaps`: each estimator's arm against the oracle at its learning rate, paired by seed
  (difference and ratio);
* :func:`baseline_standing`: each arm against each baseline: the ratio of its RMSE to the baseline's
  (per seed; the frozen-circuit QESN is paired by seed, since it starts from the same parameters);
* :func:`bottom_line`: the answer in a few sentences, every number in it computed from the two above.
"""

from __future__ import annotations

import numpy as np

from .analysis import Comparison, Estimate, mean_ci, paired, ratio_paired, verdict_less
from .report import count

#: The oracle (exact gradient) at each estimator arm's learning rate.
ORACLE_OF = {"spsa-original-shots": "oracle-lr007", "spsa-original-exact": "oracle-lr007",
             "spsa-shots": "oracle-lr007", "spsa-exact": "oracle-lr007", "spsa-spall-shots": "oracle-lr007",
             "spsa-spall-exact": "oracle-lr007", "fdsa-shots": "oracle-lr001", "fdsa-exact": "oracle-lr001"}
#: The arms a short answer names: the deck's two estimators, corrected SPSA and the oracle at both rates.
HEADLINE = ("spsa-original-shots", "spsa-shots", "fdsa-shots", "oracle-lr001", "oracle-lr007")
#: The baselines in ``baselines.json`` that need no quantum circuit, and the frozen circuit.
CLASSICAL = ("mean", "linear", "ngrc", "esn")
FROZEN = "qesn"
#: The baselines' names for a reader.
BASELINE_NAMES = {"mean": "training mean", "linear": "linear regression on x(t)", "ngrc": "NG-RC",
                  "esn": "echo-state network", FROZEN: "frozen circuit (QESN)"}


def validation_mode(arm: str) -> str:
    """The probabilities an arm is scored with: those it trained with."""
    return "shots" if arm.endswith("-shots") else "exact"


def lowest(res, protocol: str) -> dict[int, float]:
    """Per finished seed of ``res``, its lowest validation RMSE (mean of y, z) over the epochs."""
    v = res.val[protocol][validation_mode(res.arm)][:, :, 2]
    return {s: float(np.nanmin(v[i])) for i, s in enumerate(res.seeds) if res.complete[i]}


def side(ratio: Estimate, of: float = 1.0) -> str:
    """Where a ratio's interval lies against ``of``: ``below``, ``above``, ``either side`` or ``1 seed``."""
    if ratio.n < 2:
        return "1 seed" if ratio.n == 1 else "no seed"
    return "below" if ratio.high < of else "above" if ratio.low > of else "either side"


def _pair(a: dict[int, float], b: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    seeds = sorted(set(a) & set(b))
    return np.array([a[s] for s in seeds]), np.array([b[s] for s in seeds])


def oracle_gaps(arms: dict, protocol: str) -> list[dict]:
    """Per estimator arm with finished seeds beside its oracle: ``arm``, ``oracle``, ``difference``
    (:class:`Comparison`, arm - oracle) and ``ratio`` (:class:`Estimate`, arm / oracle), paired by seed."""
    rows = []
    for arm, oracle in ORACLE_OF.items():
        if arm not in arms or oracle not in arms:
            continue
        a, o = _pair(lowest(arms[arm], protocol), lowest(arms[oracle], protocol))
        if len(a):
            rows.append({"arm": arm, "oracle": oracle, "difference": paired(a, o), "ratio": ratio_paired(a, o)})
    return rows


def baseline_value(baselines: dict, name: str, protocol: str, mode: str = "exact") -> float:
    """A baseline's validation RMSE (mean of y, z; mean over its seeds where it has several)."""
    return float(baselines[name][protocol][mode]["rmse_mean"])


def frozen_per_seed(baselines: dict, protocol: str, mode: str) -> dict[int, float]:
    """The frozen circuit's (QESN) RMSE per seed of its initial parameters."""
    return {int(r["seed"]): float(r[protocol][mode]["rmse_mean"]) for r in baselines[FROZEN].get("per_seed", [])
            if mode in r[protocol]}


def baseline_standing(arms: dict, baselines: dict, protocol: str) -> list[dict]:
    """Per arm with a finished seed: ``arm``, ``rmse`` (:class:`Estimate` of its lowest validation RMSE),
    ``ratio`` (``{baseline: Estimate of arm / baseline}`` for the classical baselines) and ``frozen``
    (:class:`Comparison`, arm - QESN paired by seed with the same probabilities; None without common seeds)."""
    rows = []
    for arm, res in arms.items():
        best = lowest(res, protocol)
        if not best:
            continue
        v = np.array(list(best.values()))
        ratio = {name: mean_ci(v / baseline_value(baselines, name, protocol)) for name in CLASSICAL if name in baselines}
        frozen = None
        if FROZEN in baselines:
            a, q = _pair(best, frozen_per_seed(baselines, protocol, validation_mode(arm)))
            frozen = paired(a, q) if len(a) else None
        rows.append({"arm": arm, "rmse": mean_ci(v), "ratio": ratio, "frozen": frozen})
    return rows


def beaten_by(row: dict) -> list[str]:
    """The classical baselines whose RMSE lies wholly below the arm's (the ratio's interval above 1)."""
    return [name for name, r in row["ratio"].items() if side(r) == "above"]


def describe(c: Comparison | None) -> str:
    """A paired difference ``a - b`` in words, by the scorecard's rule (:func:`~qrnn_core.analysis.verdict_less`:
    the interval on one side of 0 and the paired t-test's p < 0.05): ``lower``, ``higher``, ``no clear
    difference`` or ``not enough seeds``."""
    if c is None:
        return "not enough seeds"
    outcome = verdict_less(c.difference, "a < b", p=c.p).outcome
    return {"reproduced": "lower", "not reproduced": "higher", "not tested": "not enough seeds"}.get(
        outcome, "no clear difference")


def bottom_line(arms: dict, baselines: dict, labels: dict) -> str | None:
    """The answer in a few sentences (Markdown), from the finished seeds of the :data:`HEADLINE` arms and
    the baselines; None until both protocols have a finished seed and the baselines have run.

    ``labels``: each arm's name for a reader (e.g. :data:`qrnn_core.figures.ARM_LABELS`)."""
    if not {"linear", "esn"} <= set(baselines):
        return None
    head = {a: r for a, r in arms.items() if a in HEADLINE}
    rows = {p: {r["arm"]: r["rmse"] for r in baseline_standing(head, baselines, p)} for p in ("sequence", "windows")}
    if not rows["sequence"] or not rows["windows"]:
        return None
    seq = [e.mean for e in rows["sequence"].values()]
    win = {a: e.mean for a, e in rows["windows"].items()}
    seeds = {a: count(e.n, "seed") for a, e in rows["windows"].items()}
    lin = {p: baseline_value(baselines, "linear", p) for p in rows}
    esn = {p: baseline_value(baselines, "esn", p) for p in rows}
    text = (f"On the deck's protocol every arm shown here (estimators and oracle) lies between {min(seq):.3f} and "
            f"{max(seq):.3f}, about where the linear regression on x(t) alone lies ({lin['sequence']:.3f}), and "
            f"{min(seq) / esn['sequence']:.0f} to {max(seq) / esn['sequence']:.0f} times the echo-state network's RMSE "
            f"({esn['sequence']:.4f}): on one long sequence the trained circuit does not carry what it learnt on "
            "20-step windows.")
    oracle = min((a for a in win if a.startswith("oracle")), key=win.get, default=None)
    best = min((a for a in win if not a.startswith("oracle")), key=win.get, default=None)
    if oracle and best:
        text += (f" On windows like those it trains on, training does pay: the {labels[oracle]} reaches "
                 f"{win[oracle]:.3f} ({seeds[oracle]}) and the best estimator, {labels[best]}, {win[best]:.3f} "
                 f"({seeds[best]}), against {lin['windows']:.3f} for the linear regression and {esn['windows']:.4f} "
                 "for the echo-state network.")
    fdsa = arms.get("fdsa-shots")
    done = int(fdsa.complete.sum()) if fdsa is not None else 0
    if done < 2:
        text += (f" Whether SPSA matches FDSA is not answered yet: FDSA has {count(done, 'finished seed')} of "
                 "the two a verdict needs.")
    return text
