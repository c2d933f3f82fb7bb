"""The baselines page: each baseline's validation RMSE on both protocols, the settings each chose, the
bar chart, and which of them fail to beat the training mean.

Shapes: ``results`` is :func:`qrnn_core.baselines.run_baselines`' dict (``baselines.json``): per baseline
id (:data:`qrnn_study.model.BASELINES`), ``{protocol: {mode: {"rmse_y", "rmse_z", "rmse_mean"}}}``, its
``settings``, and for the seeded ESN and QESN ``std`` (same layout) and ``per_seed``; modes are
``exact`` and, for the QESN run with shots, ``shots`` and ``shots_exact_readout``. ``seeds``: the seeds
the ESN and QESN ran (one or several).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from qrnn_core.baselines import SHOTS, beats_mean

from .. import figures
from ..model import BASELINES, PROTOCOL_IDS, baseline

#: Each protocol in the table's narrow column.
PROTOCOLS = {"sequence": "deck's (one sequence)", "windows": "windows (steps 5..19)"}
#: How each mode of the QESN is fitted and applied.
MODES = {"exact": "exact", "shots": f"{SHOTS:,} shots, readout fitted on shots",
         "shots_exact_readout": f"{SHOTS:,} shots, exact readout"}
#: The glue names' short output names and the keys of the scores.
KEYS = {"y": "rmse_y", "z": "rmse_z", "mean": "rmse_mean"}
CSV_COLUMNS = ["baseline", "protocol", "rmse_mean", "std_over_seeds"]


def cell(r: dict, protocol: str, mode: str, key: str, seeds: list[int]) -> str:
    """The table's text for one number of baseline ``r``: the value, or mean ± standard deviation over
    seeds with the seeds' range (lowest to highest), more places where the deviation is tiny."""
    v = r[protocol][mode][key]
    if "std" in r and len(seeds) > 1:
        sd = r["std"][protocol][mode][key]
        each = [s[protocol][mode][key] for s in r["per_seed"]]
        d = 4 if sd >= 5e-5 else 6
        return f"{v:.{d}f} ± {sd:.{d}f} ({min(each):.{d}f} to {max(each):.{d}f})"
    return f"{v:.4f}"


def table(results: dict, seeds: list[int]) -> tuple[str, dict[str, str]]:
    """The table of every baseline, protocol and mode (Markdown), and the values the prose glues:
    ``baseline_<id>[_<mode>]_<protocol>_<y|z|mean>`` (the mode named unless exact), with ``_std`` where
    the baseline has seeds."""
    rows = ["| baseline | protocol | probabilities | RMSE y | RMSE z | RMSE mean |", "|---|---|---|---|---|---|"]
    glued = {}
    for b in BASELINES:
        r = results[b.id]
        for protocol, plabel in PROTOCOLS.items():
            for mode in r[protocol]:
                rows.append(f"| {b.short} | {plabel} | {MODES[mode] if b.circuit else '-'} | "
                            + " | ".join(cell(r, protocol, mode, k, seeds) for k in KEYS.values()) + " |")
                prefix = f"baseline_{b.id}_{protocol}" if mode == "exact" else f"baseline_{b.id}_{mode}_{protocol}"
                for short, key in KEYS.items():
                    glued[f"{prefix}_{short}"] = f"{r[protocol][mode][key]:.4f}"
                    if "std" in r:
                        glued[f"{prefix}_{short}_std"] = f"{r['std'][protocol][mode][key]:.4f}"
    spread = (f"mean ± standard deviation over {len(seeds)} seeds (lowest to highest seed)" if len(seeds) > 1
              else f"one seed ({seeds[0]})")
    return f"Validation RMSE (scaled units) of each baseline; ESN and QESN: {spread}.\n\n" + "\n".join(rows), glued


def _chosen(results: dict, name: str, protocol: str) -> str:
    s = results[name]["settings"][protocol]
    keys = {"ngrc": ("k", "s", "alpha"), "esn": ("sr", "lr", "input_scaling", "alpha")}[name]
    return ", ".join(f"{k} {s[k]:g}" for k in keys) + f" (held-out RMSE {s['heldout_rmse_mean']:.4f})"


def settings(results: dict) -> str:
    """The settings each baseline chose by the 80/20 rule on the training span (Markdown list)."""
    lin, qs = results["linear"]["settings"], results["qesn"]["settings"]
    lines = [
        f"* **linear**: y = {lin['slope_y']:.3f} x + {lin['intercept_y']:.3f}, z = {lin['slope_z']:.3f} x + "
        f"{lin['intercept_z']:.3f}.",
        *(f"* **NG-RC**, {PROTOCOLS[p]}: {_chosen(results, 'ngrc', p)}." for p in PROTOCOLS),
        *(f"* **ESN**, {PROTOCOLS[p]}: {_chosen(results, 'esn', p)}; chosen with reservoir seed "
          f"{results['esn']['settings']['selection_seed']}, 300 units." for p in PROTOCOLS),
        *(f"* **QESN**, {PROTOCOLS[p]}, readout fitted on {MODES[m].split(', ')[0] if m == 'exact' else 'shots'}: "
          "washout, ridge alpha per seed " + ", ".join(f"{s[p][m]['washout']}, {s[p][m]['alpha']:g}" for s in qs["selected"])
          + "." for p in PROTOCOLS for m in qs["selected"][0][p]),
    ]
    return "Settings chosen by the 80/20 rule on the training span:\n\n" + "\n".join(lines)


def figure(results: dict, seeds: list[int]):
    """Every baseline's validation RMSE (mean of y, z; exact) per protocol as bars on a log axis, the
    seeded ones with their standard deviation where there are several seeds. Returns ``(figure, rows)``
    (:data:`CSV_COLUMNS`)."""
    figures.style()
    fig, ax = plt.subplots(figsize=(10, 4.8))
    names = [b.id for b in BASELINES]
    width = 0.38
    rows = []
    for k, (protocol, color) in enumerate(zip(PROTOCOL_IDS, ("C0", "C1"))):
        x = np.arange(len(names)) + (k - 0.5) * width
        v = np.array([results[n][protocol]["exact"]["rmse_mean"] for n in names])
        err = np.array([results[n]["std"][protocol]["exact"]["rmse_mean"] if "std" in results[n] else 0.0
                        for n in names])
        seeded = np.array(["std" in results[n] for n in names]) & (len(seeds) > 1)
        ax.bar(x, v, width, color=color, label=PROTOCOLS[protocol].replace("deck's", "deck's protocol"))
        ax.errorbar(x[seeded], v[seeded], yerr=err[seeded], fmt="none", ecolor="k", capsize=4)
        for xi, vi, ei in zip(x, v, err):
            ax.annotate(f"{vi:.3f}", (xi, vi + ei), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=figures.FONT - 2)
        rows += [[n, protocol, float(a), float(b)] for n, a, b in zip(names, v, err)]
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)), [baseline(n).short for n in names])
    ax.set(xlabel="baseline (exact probabilities for the QESN)", ylabel="validation RMSE (scaled units)\nmean of y and z")
    ax.set_ylim(top=ax.get_ylim()[1] * 3)
    ax.grid(axis="y", alpha=0.3, which="both")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)  # below the axes: never over a label
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig, rows


def against_mean(results: dict) -> str:
    """Every baseline against the training mean, each protocol and each way it is fitted and applied
    (Markdown): those that lose, and the QESN's exact readout applied to shot frequencies, a diagnostic
    (what shot noise does to a readout fitted without it), not a baseline."""
    losing = [(n, p, m) for m in ("exact", "shots") for (n, p), ok in beats_mean(results, m).items()
              if not ok and m in results[n][p]]
    mean_of = {p: results["mean"][p]["exact"]["rmse_mean"] for p in PROTOCOLS}
    lines = [f"* **{baseline(n).short}**, {PROTOCOLS[p]}, {MODES[m]}: {results[n][p][m]['rmse_mean']:.4f} against the "
             f"mean's {mean_of[p]:.4f}: its readout, chosen on the training span, does not carry over to the "
             "validation span." for n, p, m in losing]
    diag = {p: results["qesn"][p]["shots_exact_readout"]["rmse_mean"] for p in PROTOCOLS
            if "shots_exact_readout" in results["qesn"][p]}
    return (("Every baseline scores below the training mean on both protocols, with exact probabilities and (QESN) "
             "with shots." if not lines else "**Not every baseline beats the training mean:**\n\n" + "\n".join(lines))
            + (f"\n\nThe QESN's exact readout applied to {SHOTS:,}-shot frequencies (a diagnostic, not a baseline) "
               "scores " + " and ".join(f"{v:.4f} on the {PROTOCOLS[p]}" for p, v in diag.items())
               + (" (worse than the mean)" if any(v >= mean_of[p] for p, v in diag.items()) else "")
               + ": fitted on exact probabilities with almost no ridge penalty, it weighs differences between "
               "probabilities that shot noise swamps." if diag else ""))
