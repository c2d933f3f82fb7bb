"""The fidelity page: the original's own trained models evaluated here, against the RMSEs it logged.

Shapes: ``rows`` is :func:`qrnn_core.fidelity.fidelity_table`'s list, one per checkpoint (any subset of
:data:`qrnn_core.fidelity.CHECKPOINTS`, as the tiny profile runs one) and output (``y``, ``z``, ``mean``),
each with ``checkpoint``, ``optimiser``, ``shots``, ``output``, ``logged``, ``exact``, ``expected``,
``std_trajectories``, ``z``, ``z_independent``, ``agrees``, ``agrees_family`` and ``draws`` (the RMSEs
of the independent-step validations, one or more).
"""

from __future__ import annotations

from statistics import NormalDist

import matplotlib.pyplot as plt
import numpy as np

from qrnn_core.fidelity import CHECKPOINTS, FAMILY, LOGS, Z_BAND, Z_FAMILY, largest_deviation, logged_matches
from qrnn_core.reference import VAL_RMSE

from .. import figures


def summary(rows: list[dict]) -> dict[str, str]:
    """The prose's numbers (glue name: text): how many logged values agree, against the trajectories, the
    family-wise band and the independent steps; the largest deviation among the y and z values, where, the
    same checkpoint's mean, and how often one that far out happens by chance among :data:`FAMILY`."""
    worst = largest_deviation(rows)  # within the family of y and z values the rule counts
    worst_mean = next(r for r in rows if r["checkpoint"] == worst["checkpoint"] and r["output"] == "mean")
    # the chance that at least one of FAMILY independent normal z-scores lies as far out as the largest
    chance = 1 - (1 - 2 * (1 - NormalDist().cdf(abs(worst["z"])))) ** FAMILY
    return {
        "fidelity_agree": f"{sum(r['agrees'] for r in rows)} of {len(rows)}",
        "fidelity_agree_family": f"{sum(r['agrees_family'] for r in rows)} of {len(rows)}",
        "fidelity_agree_independent": f"{sum(abs(r['z_independent']) <= Z_BAND for r in rows)} of {len(rows)}",
        "fidelity_max_z": f"{abs(worst['z']):.2f}",
        "fidelity_max_z_where": f"{worst['checkpoint']} {worst['output']}",
        "fidelity_max_z_mean": f"{abs(worst_mean['z']):.2f}",
        "fidelity_max_z_chance": f"1 in {1 / chance:.0f}",
        "fidelity_max_z_independent": f"{max(abs(r['z_independent']) for r in rows if r['output'] != 'mean'):.2f}",
        "fidelity_z_family": f"{Z_FAMILY:.2f}",
    }


def table(rows: list[dict]) -> str:
    """Per checkpoint and output: logged, exact, expected with the trajectories' central band, both
    z-scores and whether it agrees (Markdown)."""
    lines = ["| checkpoint (shots) | output | logged | exact | expected [99 % band, trajectories] | "
             "z: trajectories / independent | agrees |", "|" + " --- |" * 7]
    for r in rows:
        half = Z_BAND * r["std_trajectories"]
        lines.append(
            f"| {r['checkpoint']} ({r['shots']:,}) | {r['output']} | {r['logged']:.5f} | {r['exact']:.4f} | "
            f"{r['expected']:.4f} [{r['expected'] - half:.5f}, {r['expected'] + half:.5f}] | {r['z']:+.2f} / "
            f"{r['z_independent']:+.2f} | {'yes' if r['agrees'] else 'no'} |")
    return "\n".join(lines)


def figure(rows: list[dict]):
    """Per output (y, z), per checkpoint: the independent-step RMSEs as a violin, the trajectories' central
    band, the exact RMSE and the logged value."""
    names = list(dict.fromkeys(r["checkpoint"] for r in rows))
    labels = [f"{CHECKPOINTS[n].optimiser}\nepoch {CHECKPOINTS[n].epoch}\n{CHECKPOINTS[n].shots} shots" for n in names]
    figures.style()
    fig, axes = plt.subplots(2, 1, figsize=(11, 8.6))
    for ax, output in zip(axes, ("y", "z")):
        sel = [next(r for r in rows if r["checkpoint"] == n and r["output"] == output) for n in names]
        pos = np.arange(len(sel))
        parts = ax.violinplot([r["draws"] for r in sel], pos, widths=0.6, showextrema=False)
        for body in parts["bodies"]:
            body.set_alpha(0.35)
        ax.errorbar(pos + 0.33, [r["expected"] for r in sel], yerr=[Z_BAND * r["std_trajectories"] for r in sel],
                    fmt="none", ecolor="k", capsize=4, lw=1.5)
        ax.plot(pos, [r["exact"] for r in sel], "s", color="C2", ms=6)
        ax.plot(pos, [r["logged"] for r in sel], "*", color="C3", ms=13)
        ax.set_xticks(pos, labels)
        ax.set_ylabel(f"validation RMSE of {output}\n(scaled units)")
        ax.set_title(f"{output}(t+1)")
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color="C0", alpha=0.35), plt.Line2D([], [], color="k", lw=1.5),
               plt.Line2D([], [], marker="s", color="C2", ls=""), plt.Line2D([], [], marker="*", color="C3", ls="", ms=13)]
    fig.legend(handles, ["shots drawn per step independently", "Aer's trajectories: central 99 %",
                         "exact probabilities", "the original's log"], loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def deck_figures(rows: list[dict]) -> str:
    """Which logged values the deck's lowest SPSA and FDSA validation RMSEs (mean of y and z) round from,
    and whether the table's logged means are those (Markdown)."""
    said = []
    for name in ("SPSA", "FDSA"):
        epoch, value = min(((e, v[2]) for e, v in VAL_RMSE[name.lower()].items()), key=lambda ev: ev[1])
        matches = logged_matches(value)
        text = f"{name}'s {value:.4f} (epoch {epoch}) rounds from " + ("; ".join(
            f"the epoch-{e} {'mean' if output == 'mean' else output} in the log of {LOGS[log][0]} ({v:.5f})"
            for log, e, output, v in matches) or "no logged value")
        evaluated = {c.log for c in CHECKPOINTS.values() if c.optimiser == name}  # the run whose log the table holds
        logged = [r["logged"] for r in rows if r["optimiser"] == name and r["output"] == "mean"]
        if logged and not any(log in evaluated for log, *_ in matches):
            text += (f"; none of the logged means in the table above ({', '.join(f'{v:.5f}' for v in logged)}) rounds "
                     "to it, for they are another run's")
        said.append(text)
    return ("**The deck's figures.** The deck's lowest validation RMSEs (mean of y and z), which its claim "
            "that SPSA found better parameters sets against each other: " + ". ".join(said) + ".")
