"""The conclusions page's readout control: each trained circuit with the frozen circuit's ridge readout.

``rows`` is ``{protocol id: rows}`` of :func:`qrnn_study.conclusions.control_rows`: per arm, over the seeds it
shares with the QESN, ``trained`` (the arm after its last epoch), ``refit`` (its trained circuit, readout
fitted by ridge as the QESN's), ``frozen`` (the QESN: the initial circuit, the same readout fit) as
:class:`~qrnn_study.analysis.Estimate`, and the paired ``circuit`` (refit - frozen) and ``readout``
(trained - refit) as :class:`~qrnn_study.analysis.Comparison`. ``labels``: each arm's name for a reader.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import figures
from ..analysis import Comparison
from ..conclusions import describe
from ..model import PROTOCOLS
from ..words import and_join
from .conclusions import quiet

#: The three models of a row, left to right on the figure: what each is, its marker.
MODELS = {"frozen": ("initial circuit, ridge readout (QESN)", "s"),
          "refit": ("trained circuit, ridge readout", "D"),
          "trained": ("trained circuit, trained readout (the arm)", "o")}
CSV_COLUMNS = ["arm", "protocol", "model", "rmse_mean", "ci_low", "ci_high", "n"]


def _p(c: Comparison) -> str:
    return f"{c.p:.3g}" if np.isfinite(c.p) else "-"


def table(rows: dict, labels: dict) -> str:
    """One line per arm and protocol: the two paired differences and their p (Markdown); the three models'
    RMSE are the figure's (and its CSV's): ten columns do not fit a laptop's width."""
    out = ["| arm | protocol | n | circuit: ridge − QESN | p | readout: arm − ridge | p |", "|" + "---|" * 7]
    for p in PROTOCOLS:
        for r in rows.get(p.id, []):
            out.append(f"| {labels[r['arm']]} | {p.id} | {r['refit'].n} | {quiet(r['circuit'].difference)} | "
                       f"{_p(r['circuit'])} | {quiet(r['readout'].difference)} | {_p(r['readout'])} |")
    return "\n".join(out)


def words(rows: dict, labels: dict) -> str | None:
    """What the control says, per protocol, grouped by :func:`~qrnn_study.conclusions.describe`'s outcome
    (unadjusted, like every arm description on the page); None before any row."""
    said = []
    for p in PROTOCOLS:
        if not (rs := rows.get(p.id)):
            continue
        parts = []
        for key, what, meaning in (
                ("circuit", "the trained circuit against the initial one, both with the ridge readout",
                 {"lower": "lower (the trained circuit better)", "higher": "higher (the trained circuit worse)"}),
                ("readout", "the arm's own readout against the ridge readout on the same trained circuit",
                 {"lower": "lower (the arm's readout better)", "higher": "higher (the ridge readout better)"})):
            grouped: dict[str, list] = {}
            for r in rs:
                outcome = describe(r[key])
                grouped.setdefault(meaning.get(outcome, outcome), []).append(labels[r["arm"]])
            parts.append(f"{what}: " + "; ".join(f"{outcome} for {and_join(names)}" for outcome, names in grouped.items()))
        said.append(f"**On {p.phrase}**, " + ". For ".join(parts) + ".")
    return "\n\n".join(said) or None


def figure(rows: dict, labels: dict):
    """Per protocol a panel, an arm a row: its three models' RMSE (means, 95 % t intervals), from top to
    bottom the QESN (open square), its trained circuit with the ridge readout (diamond) and the arm as
    trained (dot). Returns ``(fig, csv rows)`` (:data:`CSV_COLUMNS`)."""
    figures.style()
    arms = list(dict.fromkeys(r["arm"] for p in PROTOCOLS for r in rows.get(p.id, [])))
    fig, axes = plt.subplots(1, len(PROTOCOLS), figsize=(11, 2.6 + 0.9 * len(arms)), sharey=True, squeeze=False)
    csv = []
    for ax, p in zip(axes[0], PROTOCOLS):
        for r in rows.get(p.id, []):
            k, colour = arms.index(r["arm"]), figures.arm_color(r["arm"])
            ys = k + np.array([-0.25, 0.0, 0.25])
            ests = [r[m] for m in MODELS]
            ax.plot([e.mean for e in ests], ys, "-", color=colour, lw=1, alpha=0.5)
            for y, (model, (_, marker)), e in zip(ys, MODELS.items(), ests):
                err = None if e.n < 2 else [[e.mean - e.low], [e.high - e.mean]]
                ax.errorbar([e.mean], [y], xerr=err, fmt=marker, color=colour, ms=7, capsize=3,
                            mfc="white" if model == "frozen" else colour)
                csv.append({"arm": r["arm"], "protocol": p.id, "model": model, "rmse_mean": e.mean,
                            "ci_low": e.low, "ci_high": e.high, "n": e.n})
        ax.set_title(p.name)
        ax.set_xlabel("validation RMSE")
        ax.set_xlim(left=0)  # an RMSE is not negative, whatever a two-seed interval says
        ax.grid(axis="x", alpha=0.3)
    if arms:
        axes[0][0].set_yticks(range(len(arms)), [labels[a] for a in arms])
        axes[0][0].set_ylim(len(arms) - 0.5, -0.5)
    handles = [plt.Line2D([], [], ls="", marker=m, color="k", mfc="white" if key == "frozen" else "k", label=name)
               for key, (name, m) in MODELS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False)
    fig.tight_layout(rect=(0, 0.22 if len(arms) < 4 else 0.16, 1, 1))
    return fig, csv


def finding(rows: dict, labels: dict) -> str | None:
    """The control in one bullet for the pages' short lists (the conclusions' "In short", the front page's
    findings): per protocol, what training the circuit changed with the readout fitted alike, and how the
    arms' own readouts compare with a ridge readout on the same circuits; None before any row."""
    parts, untrained = [], []
    for p in PROTOCOLS:
        if not (rs := rows.get(p.id)):
            continue
        circuit = [r["circuit"].difference.mean for r in rs]
        readout = [r["readout"].difference.mean for r in rs]
        lower = sum(describe(r["circuit"]) == "lower" for r in rs)
        worse = sum(describe(r["readout"]) == "higher" for r in rs)
        parts.append(f"on {p.phrase}, training the circuit changed its RMSE by {min(circuit):+.4f} to "
                     f"{max(circuit):+.4f} with the readout fitted alike (lower beyond chance for {lower} of {len(rs)} "
                     f"arms), and the arms' own readouts scored {min(readout):+.4f} to {max(readout):+.4f} against "
                     f"a ridge readout on the same circuit (worse beyond chance for {worse} of {len(rs)})")
        if lower == 0 and len(rs) > 1 and all(r["circuit"].difference.n >= 3 for r in rs):
            untrained.append(p)
    if not parts:
        return None
    text = ("**Trained circuit or readout?** A control, each headline arm's circuit after its last epoch given the "
            "frozen circuit's ridge readout, paired by seed (unadjusted): " + "; ".join(parts) + ".")
    if any(p.id == "sequence" for p in untrained):
        text += (" On the deck's protocol, then, the arms' scores, and SPSA against FDSA there, measure readouts "
                 "trained on windows, not anything training did to the circuits.")
    return text
