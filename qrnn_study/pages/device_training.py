"""The "On a device" page, its second half: every estimator trained under the device model's noise at
several noise scales (the device arms of the study file, :data:`qrnn_study.model.DEVICE_ARMS`), against the
noiseless engine and the training-mean predictor, and the recommendation the numbers make.

Shapes: ``training`` is ``{arm id: {noise scale: ArmResults}}`` (:func:`load_training`); an arm may have no
scale yet, a scale unfinished seeds. Every score is the validation RMSE (mean of y and z) after the last
epoch, scored with ``mode`` (shots, as the estimators train: :func:`qrnn_study.conclusions.common_mode`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import figures
from ..analysis import MIN_SEEDS, equivalence, holm, paired, t_interval
from ..model import ARM, DEVICE_ARMS, PROTOCOLS
from ..results import ArmResults, load_sweep
from ..scorecard import MARGIN
from ..words import and_join, count
from .device import hours

#: The hardware reference for this task (Connerty et al. 2025, arXiv 2505.06799, the notebook outputs of its
#: repository): a quantum echo-state network on ibm_marrakesh, test RMSE of min-max scaled y and z.
HARDWARE_REFERENCE = {"y": 0.090, "z": 0.0945}
#: The noise scale of the device's own calibration.
CALIBRATED = 1.0
#: The columns of ``device_training.csv`` and of ``device_noise_effects.csv``: one number a column.
TRAINING_COLUMNS = ["protocol", "arm", "scale", "estimate", "low", "high", "n"]
EFFECT_COLUMNS = ["protocol", "arm", "scale", "estimate", "low", "high", "n", "p", "p_holm"]


def load_training(results_dir, study) -> dict[str, dict[float, ArmResults]]:
    """The device arms' results by noise scale, over the scales ``study`` lists (:func:`load_sweep`)."""
    return {a.id: load_sweep(results_dir, a.id, "noise_scale", study.sweep_values(a.id, "noise_scale"))
            for a in DEVICE_ARMS}


def last_epoch(res, protocol: str, mode: str) -> dict[int, float]:
    """``{seed: validation RMSE after the last epoch}`` of the finished seeds of ``res``."""
    v = res.val[protocol][mode][:, -1, 2]
    return {s: float(v[i]) for i, s in enumerate(res.seeds) if res.complete[i]}


def scores(training: dict, protocol: str, mode: str) -> dict[str, dict[float, dict[int, float]]]:
    """``{arm: {scale: {seed: last-epoch RMSE}}}`` (scales without a finished seed left out)."""
    return {a: {s: v for s, r in points.items() if (v := last_epoch(r, protocol, mode))}
            for a, points in training.items()}


def estimate(per_seed: dict[int, float]):
    """Mean over seeds with its 95 % t interval."""
    return t_interval(list(per_seed.values()))


def training_figure(training: dict, mode: str, mean_predictor: dict[str, float]):
    """Validation RMSE after the last epoch against the noise scale, per estimator (mean over seeds, 95 % t
    interval as error bars), one panel per protocol, the training-mean predictor dashed."""
    if not any(training.values()):
        return figures.placeholder("the device runs are in progress: this figure fills in as they finish")
    figures.style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6), sharey=True)
    for ax, p in zip(axes, PROTOCOLS):
        per = scores(training, p.id, mode)
        for k, a in enumerate(DEVICE_ARMS):
            points = per.get(a.id) or {}
            if not points:
                continue
            est = [estimate(v) for v in points.values()]
            x = np.array(list(points)) + 0.03 * (k - 1.5)  # side by side, not on top of each other
            err = np.array([[e.mean - e.low, e.high - e.mean] if e.n > 1 else [0, 0] for e in est]).T
            ax.errorbar(x, [e.mean for e in est], yerr=err, marker="o", ms=6, capsize=3,
                        color=figures.arm_color(a.noiseless), label=a.label)
        if p.id in mean_predictor:
            ax.axhline(mean_predictor[p.id], color="k", ls="--", lw=1.2, label="training-mean predictor")
        ax.set(xlabel="noise scale s (1: the device's calibration)", title=p.name)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation RMSE (mean of y, z)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.04 * ((len(labels) + 1) // 2), 1, 1))
    return fig


def _cell(e) -> str:
    if e.n == 0:
        return "-"
    return f"{e.mean:.3f}" + (f" ± {(e.high - e.low) / 2:.3f}" if e.n > 1 else " (1 seed)")


def noise_effects(training: dict, mode: str) -> list[dict]:
    """Per device arm and protocol, the change of the last-epoch RMSE from the noiseless engine (s = 0) to
    each other scale, paired by seed (paired t), its p-values Holm-adjusted over the whole family."""
    rows = []
    for p in PROTOCOLS:
        per = scores(training, p.id, mode)
        for a in DEVICE_ARMS:
            points = per.get(a.id) or {}
            if 0.0 not in points:
                continue
            for s, v in points.items():
                if s == 0.0:
                    continue
                seeds = sorted(set(v) & set(points[0.0]))
                c = paired([v[k] for k in seeds], [points[0.0][k] for k in seeds])
                rows.append({"arm": a.id, "protocol": p.id, "scale": s, "estimate": c.difference.mean,
                             "low": c.difference.low, "high": c.difference.high, "n": c.difference.n, "p": c.p})
    ps = [r["p"] for r in rows]
    for r, q in zip(rows, holm(ps) if ps else []):
        r["p_holm"] = float(q)
    return rows


def training_table(training: dict, mode: str) -> tuple[str, list[dict]]:
    """The table of last-epoch validation RMSE per estimator and noise scale (one block per protocol),
    with the change from s = 0 at the largest scale, paired; and its rows (``device_training.csv``)."""
    per_protocol = {p.id: scores(training, p.id, mode) for p in PROTOCOLS}
    scales = sorted({s for per in per_protocol.values() for pts in per.values() for s in pts})
    effects = {(r["arm"], r["protocol"], r["scale"]): r for r in noise_effects(training, mode)}
    top = max((s for s in scales if s != 0.0), default=None)
    lines = ["| protocol | estimator | " + " | ".join(f"s = {s:g}" for s in scales)
             + (f" | s = {top:g} − s = 0, paired | p (Holm) |" if top is not None and 0.0 in scales else " |"),
             "|---|---|" + "---|" * len(scales) + ("---|---|" if top is not None and 0.0 in scales else "")]
    rows = []
    for p in PROTOCOLS:
        for a in DEVICE_ARMS:
            points = per_protocol[p.id].get(a.id) or {}
            if not points:
                continue
            cells = []
            for s in scales:
                e = estimate(points[s]) if s in points else None
                cells.append(_cell(e) if e else "-")
                if e:
                    rows.append({"protocol": p.id, "arm": a.id, "scale": s, "estimate": e.mean, "low": e.low,
                                 "high": e.high, "n": e.n})
            line = f"| {p.name} | {a.label} | " + " | ".join(cells)
            if top is not None and 0.0 in scales:
                r = effects.get((a.id, p.id, top))
                line += (f" | {r['estimate']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | {r['p_holm']:.2g}"
                         if r and r["n"] > 1 else " | - | -")
            lines.append(line + " |")
    return "\n".join(lines), rows


def epochs_evidence(noiseless: dict, mode: str) -> dict[str, dict[str, float]]:
    """What epochs 4 to 10 add on the full protocol, from the noiseless arms (``{arm id: ArmResults}`` of
    :attr:`~qrnn_study.model.Arm.noiseless`): per arm and protocol the mean over finished seeds of the RMSE
    after epoch 3 and after the last epoch (``{arm: {protocol: change}}``, negative: later epochs help)."""
    out = {}
    for a, res in noiseless.items():
        if res is None or res.config["epochs"] <= 3 or not res.complete.any():
            continue
        out[a] = {p.id: float(np.mean(res.val[p.id][mode][res.complete][:, -1, 2]
                                      - res.val[p.id][mode][res.complete][:, 2, 2])) for p in PROTOCOLS}
    return out


def training_epochs(training: dict) -> int | None:
    """The epochs the device arms train (None: none has results)."""
    return next((r.config["epochs"] for points in training.values() for r in points.values()), None)


def epochs_text(evidence: dict[str, dict[str, float]], epochs: int | None) -> str:
    """Why the device arms stop at ``epochs``: what later epochs change in the noiseless arms."""
    if not evidence or epochs is None:
        return ""
    parts = [f"{ARM[a].label} {v['windows']:+.3f} (windows) and {v['sequence']:+.3f} (one sequence)"
             for a, v in evidence.items()]
    gains = min(evidence, key=lambda a: evidence[a]["windows"])
    loses = max(evidence, key=lambda a: evidence[a]["sequence"])
    return (f"The device arms train {count(epochs, 'epoch')} of the full protocol (every window), not the deck's 10, "
            f"to fit the device study in its compute budget. What the noiseless arms' epochs {epochs + 1} to 10 "
            f"change (mean RMSE after the last epoch minus after epoch {epochs}): " + "; ".join(parts) + ". "
            f"So these numbers compare early training: on windows {ARM[gains].label} is the one that later epochs "
            f"would improve most, while on the one sequence " + (f"{ARM[loses].label} would worsen most."
                                                                 if evidence[loses]["sequence"] > 0 else
                                                                 "none would worsen."))


def _versus(spsa: dict[int, float], fdsa: dict[int, float]) -> tuple[str, str]:
    """SPSA corrected against FDSA on one protocol, paired by seed: ``(outcome, words)`` with outcome
    ``equivalent`` (the TOST interval inside ± the scorecard's margin, :data:`~qrnn_study.scorecard.MARGIN` of
    FDSA's mean, and its p < 0.05), ``spsa`` or ``fdsa`` (the one whose RMSE is lower, the 95 % paired t
    interval on one side of 0) or ``open``."""
    seeds = sorted(set(spsa) & set(fdsa))
    a, b = [spsa[k] for k in seeds], [fdsa[k] for k in seeds]
    if len(seeds) < 2:
        return "open", f"SPSA − FDSA is {a[0] - b[0]:+.3f} on one seed, no interval" if seeds else "no paired seed"
    margin = MARGIN * float(np.mean(b))
    tost, p = equivalence(a, b, margin)
    d = paired(a, b).difference
    if tost.low > -margin and tost.high < margin and p < 0.05:
        return "equivalent", (f"as accurate within ±{margin:.4f} ({MARGIN * 100:.0f} % of FDSA's RMSE): SPSA − FDSA "
                              f"{tost.format(3)}, TOST p = {p:.2g}")
    if d.n >= MIN_SEEDS and (d.high < 0 or d.low > 0):
        better = "spsa" if d.high < 0 else "fdsa"
        return better, f"{'SPSA corrected' if better == 'spsa' else 'FDSA'} lower: SPSA − FDSA {d.format(3)}"
    return "open", f"not told apart: SPSA − FDSA {d.format(3)}"


def recommendation(training: dict, mode: str, qpu: list[dict], mean_predictor: dict[str, float]) -> str:
    """The page's recommendation, from the numbers: SPSA corrected against FDSA at the device's calibration on
    both protocols (:func:`_versus`: equivalence within the scorecard's margin, fixed before the data, or a
    paired difference), the QPU time of an epoch of each, and the noise at which each estimator no longer
    beats the training-mean predictor."""
    per = {p.id: scores(training, p.id, mode) for p in PROTOCOLS}
    spsa, fdsa = per["windows"].get("noisy-spsa", {}), per["windows"].get("noisy-fdsa", {})
    if CALIBRATED not in spsa or CALIBRATED not in fdsa:
        return ("**No recommendation yet**: SPSA corrected and FDSA have not both finished at the device's "
                "calibration (s = 1).")
    n = len(set(spsa[CALIBRATED]) & set(fdsa[CALIBRATED]))
    versus = {p.id: _versus(per[p.id]["noisy-spsa"][CALIBRATED], per[p.id]["noisy-fdsa"][CALIBRATED]) for p in PROTOCOLS}
    b0 = qpu[0]["backend"]
    epoch = {r["estimator"]: r["epoch_h"] for r in qpu if r["backend"] == b0}
    cost = epoch["FDSA"] / epoch["SPSA corrected"]
    epochs = training_epochs(training)
    heading = ("**Recommendation.**" if n >= MIN_SEEDS else
               f"**Recommendation, provisional** ({count(n, 'paired seed')} so far; a verdict needs {MIN_SEEDS}).")
    text = (f"{heading} On {b0} at its calibration (s = 1), after the same {count(epochs or 0, 'epoch')}, SPSA "
            f"corrected against FDSA, paired by seed: on windows like the training ones, {versus['windows'][1]}; "
            f"on the deck's one sequence, {versus['sequence'][1]}. An FDSA epoch costs {cost:.0f} times the QPU time "
            f"of an SPSA epoch ({hours(epoch['FDSA'])} against {hours(epoch['SPSA corrected'])}): for the QPU time "
            f"of one FDSA epoch, SPSA trains {cost:.0f}. ")
    floor = mean_predictor.get("windows")
    if floor is not None:
        lost, above = [], []
        for a in DEVICE_ARMS:
            pts = {sc: estimate(v) for sc, v in (per["windows"].get(a.id) or {}).items()}
            if worse := [sc for sc, e in pts.items() if e.n > 1 and e.low >= floor]:
                lost.append(f"{a.label} from s = {min(worse):g}")
            above += [f"{a.label} at s = {sc:g} ({count(e.n, 'seed')})" for sc, e in sorted(pts.items())
                      if e.mean >= floor and not (e.n > 1 and e.low >= floor)]
        text += ("Where training stops helping (on windows): " + (
            "; ".join(lost) + f" no longer beats the training-mean predictor ({floor:.3f}: its whole interval at or "
            "above it)" if lost else f"at every scale run here, every estimator's whole interval lies below the "
            f"training-mean predictor ({floor:.3f}), so none has stopped helping by s = 2"))
        text += (f"; the mean, but not a whole interval, is at or above it for {', '.join(above)}. " if above else ". ")
    windows, sequence = versus["windows"][0], versus["sequence"][0]
    if windows == "equivalent":
        text += (f"Train with SPSA corrected on a device: on windows it is as accurate as FDSA within the study's "
                 f"margin at 1/{cost:.0f} of the QPU time"
                 + (f"; on one long sequence FDSA is ahead after {count(epochs or 0, 'epoch')}, and whether it stays "
                    "ahead at equal QPU time is not tested here." if sequence == "fdsa" else "."))
    elif windows == "fdsa":
        text += (f"FDSA buys its accuracy with {cost:.0f} times the QPU time: worth it only where that difference "
                 f"of RMSE is worth {hours(epoch['FDSA'] - epoch['SPSA corrected'])} more an epoch.")
    elif windows == "spsa":
        text += f"Train with SPSA corrected on a device: more accurate than FDSA here, at 1/{cost:.0f} of the QPU time."
    else:
        text += (f"These seeds do not settle the accuracy either way; on QPU time SPSA corrected costs 1/{cost:.0f} "
                 "of FDSA, the reason to start with it.")
    return text


def noise_words(effects: list[dict], labels: dict[str, str]) -> str:
    """What the largest noise scale did against the noiseless engine, per protocol, in words: the estimators
    whose paired change has its whole 95 % interval on one side of 0 with Holm-adjusted p < 0.05 (``effects``:
    :func:`noise_effects`' rows; ``labels``: each device arm's name); empty before a paired change exists."""
    top = max((r["scale"] for r in effects if r["n"] > 1), default=None)
    if top is None:
        return ""
    said, lowered = [], set()
    for p in PROTOCOLS:
        rows = [r for r in effects if r["protocol"] == p.id and r["scale"] == top and r["n"] > 1]
        if not rows:
            continue
        shown = {"lowers": [], "raises": []}
        for r in rows:
            if r.get("p_holm", 1.0) < 0.05 and (r["high"] < 0 or r["low"] > 0):
                shown["lowers" if r["high"] < 0 else "raises"].append(
                    f"{labels[r['arm']]} ({r['estimate']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}], Holm p = "
                    f"{r['p_holm']:.2g})")
        if shown["lowers"]:
            lowered.add(p.id)
        parts = [f"it {verb} the RMSE of {and_join(names)}" for verb, names in shown.items() if names]
        said.append(f"on {p.phrase}, " + ("; ".join(parts) + (", and of no other estimator beyond chance"
                                                               if len(sum(shown.values(), [])) < len(rows) else "")
                                          if parts else "it changes no estimator's RMSE beyond chance"))
    text = (f"**What the noise does.** From the noiseless engine to s = {top:g}, paired by seed (Holm-adjusted over "
            f"the {len(effects)} paired tests of every estimator, protocol and scale): " + "; ".join(said) + ".")
    if "sequence" in lowered:
        text += (" On the one sequence the noiseless arms are the ones that drift: they learn on 20-step windows, and "
                 "over 2,969 steps the memory they learnt carries the error along (the paper arms show the same, "
                 "[the conclusions](conclusions)); noise, which damps that memory, lowers the error there. A reading "
                 "of the numbers, not a test of it.")
    return text


def beside_hardware(training: dict, mode: str) -> str:
    """The trained models at the device's calibration beside the hardware reference, y and z apart
    (windows protocol, last epoch, mean over seeds); empty until a device arm has finished there."""
    parts = []
    for a in DEVICE_ARMS:
        res = training.get(a.id, {}).get(CALIBRATED)
        if res is None or not res.complete.any():
            continue
        v = res.val["windows"][mode][res.complete][:, -1]
        parts.append(f"{a.label} y {np.mean(v[:, 0]):.3f}, z {np.mean(v[:, 1]):.3f}")
    if not parts:
        return ""
    ref = HARDWARE_REFERENCE
    return (f"For scale, at the device's calibration (s = 1) the trained models reach, on the windows protocol after "
            f"the last epoch: {'; '.join(parts)}; the hardware reference, a quantum echo-state network on "
            f"ibm_marrakesh {{cite:p}}`connerty2025quantum`, reached a test RMSE of y {ref['y']:.3f} and z "
            f"{ref['z']:.4f} (its own split, a ridge readout, about 6 x 10^4 shots, dynamical decoupling): a "
            "different protocol, so a scale, not a ranking.")


def reference_values() -> dict[str, str]:
    """What the prose glues of the hardware reference."""
    return {"dev_hw_y": f"{HARDWARE_REFERENCE['y']:.3f}", "dev_hw_z": f"{HARDWARE_REFERENCE['z']:.4f}"}


def intro(training: dict, planned: int) -> str:
    """The section's first paragraph: what was trained and how it is scored, or, before any device run has
    finished, that they are in progress (``planned``: the profile's device runs)."""
    found = [r for points in training.values() for r in points.values()]
    finished = sum(int(r.complete.sum()) for r in found)
    if not finished:
        return (f"**The device runs are in progress**: none of the profile's {planned} has finished yet. This "
                "section fills in as they do (`python -m qrnn_study run --profile paper --only device`): each "
                "estimator trained on the device model at several noise scales, scored against the noiseless "
                "engine and the training-mean predictor, and the recommendation the numbers make.")
    seeds = sorted({s for r in found for s, done in zip(r.seeds, r.complete) if done})
    scales = sorted({s for points in training.values() for s, r in points.items() if r.complete.any()})
    c = found[0].config
    progress = ("" if finished == planned else f"**In progress: {finished} of the {planned} device runs have finished**; "
                "every number below changes as the rest do. ")
    return (f"{progress}Each estimator trained on the device model at noise scales {', '.join(f'{s:g}' for s in scales)} "
            f"(every error rate times s; 0 is the noiseless engine), over {count(len(seeds), 'paired seed')} "
            f"(the same initial parameters and window order at every scale and for every estimator), "
            f"{count(c['epochs'], 'epoch')} of the full protocol, {c['shots']:,} shots; the oracle follows the "
            "exact gradient of the noisy model (the adjoint method through every mid-circuit measurement and "
            "reset). Scores: validation RMSE (mean of y and z) after the last epoch, with 1,024-shot validation "
            "for every arm, the oracle's too; mean over seeds with its 95 % t interval (a point of one seed has none).")


def findings(training: dict, mode: str, qpu: list[dict], mean_predictor: dict[str, float], noiseless: dict) -> list[str]:
    """The section's Markdown after its intro, the parts that have numbers only: the table with its caption,
    what later epochs add, the recommendation and the hardware reference's scale."""
    if not any(r.complete.any() for points in training.values() for r in points.values()):
        return []
    table, _ = training_table(training, mode)
    effects = noise_effects(training, mode)
    caption = ("Validation RMSE after the last epoch, mean ± the half-width of its 95 % t interval over the seeds "
               "(a point of one seed: its value alone)"
               + ("; the last columns: the change from the noiseless engine (s = 0) at the largest scale, paired by "
                  "seed, with its 95 % paired t interval (unadjusted) and its p-value Holm-adjusted over the "
                  f"{len(effects)} paired tests of every estimator, protocol and scale against "
                  "s = 0 (an unadjusted interval may exclude 0 where the adjusted p is not below 0.05)."
                  if "paired" in table.splitlines()[0] else "."))
    labels = {a.id: a.label for a in DEVICE_ARMS}
    parts = [table, caption, noise_words(effects, labels),
             epochs_text(epochs_evidence(noiseless, mode), training_epochs(training)),
             recommendation(training, mode, qpu, mean_predictor), beside_hardware(training, mode)]
    return [p for p in parts if p]
