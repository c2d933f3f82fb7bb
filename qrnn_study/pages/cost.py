"""What the profile's training cost on this engine against the engine it replaced (the front page's compute
section): the recorded worker-hours per study-file run, now and before, for the runs both trained.

``previous`` is the snapshot :func:`qrnn_study.results.compute_snapshot` kept of the replaced results
(``results/<profile>/compute-before-engine.json``); ``compute`` today's
:func:`qrnn_study.results.compute_table` rows. Only runs whose every instance finished on both sides are
compared: a half-finished run's hours are no cost of the run.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import figures
from ..model import ARM_LABELS

#: Where a profile keeps the cost of the results a re-run replaced (under ``results/<profile>/``).
PREVIOUS_FILE = "compute-before-engine.json"


def compared(compute: list, previous: dict | None) -> list[dict]:
    """Per study-file run finished in full on both sides: ``family``, ``instances``, ``before`` and ``now``
    (worker-hours)."""
    if not previous:
        return []
    before = {f["family"]: f for f in previous["families"]}
    return [{"family": c.family, "instances": c.instances, "before": before[c.family]["seconds"] / 3600,
             "now": c.seconds_done / 3600} for c in compute
            if c.family in before and c.finished == c.instances == before[c.family]["finished"]
            == before[c.family]["instances"]]


def before_after_text(rows: list[dict], previous: dict | None, compute: list) -> str:
    """The paragraph that sets the two engines' cost side by side (empty without a snapshot)."""
    if not previous:
        return ""
    if not rows:
        return (f"The cost of the runs this profile trained on {previous['engine']} is kept; none of today's "
                "runs has finished every instance yet to compare with it.")
    before, now = sum(r["before"] for r in rows), sum(r["now"] for r in rows)
    n = sum(r["instances"] for r in rows)
    done = {r["family"] for r in rows}
    left = [f["family"] for f in previous["families"] if f["family"] not in done]
    total_before = sum(f["seconds"] for f in previous["families"]) / 3600
    return (f"**Against the engine it replaced.** The same {n} training runs recorded **{before:.1f} "
            f"worker-hours** on {previous['engine']} ({', '.join(previous['machines'])}) and **{now:.1f}** on "
            f"today's engine, {before / now:.1f} times less ({{numref}}`fig-cost-engines`). "
            + (f"Before, the whole profile's training recorded {total_before:.1f} worker-hours; left out of the "
               f"comparison: {', '.join(f'`{f}`' for f in left)}, whose instances here are not the same set, all "
               "finished (a run given more seeds since, or one still training). " if left else "")
            + "Both figures are the workers' own seconds on a shared 2-core machine, so they carry its load.")


def before_after_figure(rows: list[dict], previous: dict | None):
    """Worker-hours per study-file run on the two engines (horizontal bars, log axis); a placeholder where
    the profile keeps no earlier engine's cost or no run has finished on both."""
    if not previous:
        return figures.placeholder("this profile keeps no earlier engine's cost")
    if not rows:
        return figures.placeholder("no run finished on both engines yet")
    engine = previous["engine"]
    figures.style()
    rows = sorted(rows, key=lambda r: r["before"])
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(rows) + 2.2))
    y = np.arange(len(rows))
    ax.barh(y + 0.2, [r["before"] for r in rows], height=0.4, color="C7", label=f"before: {engine}")
    ax.barh(y - 0.2, [r["now"] for r in rows], height=0.4, color="C0", label="now: the compiled kernel")
    ax.set_yticks(y, [ARM_LABELS.get(r["family"], r["family"]) for r in rows])
    ax.set(xscale="log", xlabel="worker-hours of training (log axis)")
    ax.grid(alpha=0.3, axis="x", which="both")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
