"""The data page: the series, where the training windows and the validation span lie, and the two
validation protocols, counted from the task itself.

Shapes: ``task`` is a :class:`qrnn_core.data.LorenzTask` made by :func:`qrnn_core.data.make_task` from
``config`` (either source, any number of rows, window, stride and training share that leaves a training
window and a validation window); ``warmup``: the steps of each window left out of the loss.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Patch

from qrnn_core.data import ORIGINAL_ROWS, ORIGINAL_SERIES, DataConfig, LorenzTask, make_task

from .. import figures

#: Steps of the validation span the protocols' figure draws.
SHOWN = 80


def both_sources(config: DataConfig) -> dict[str, LorenzTask]:
    """The task of ``config`` and the same task from the other source (the original file's rows, or a
    series integrated here), ``{source: task}``, the page's own first."""
    other = "generated" if config.source == "original" else "original"
    rows = {"n_samples": ORIGINAL_ROWS} if other == "original" else {}
    return {config.source: make_task(config), other: make_task(dataclasses.replace(config, source=other, **rows))}


def ranges(tasks: dict[str, LorenzTask]) -> dict[str, dict[str, tuple[float, float]]]:
    """``{source: {"x" | "y" | "z": (min, max)}}`` of each scaled column."""
    return {src: {v: (float(t.series[:, k].min()), float(t.series[:, k].max())) for k, v in enumerate("xyz")}
            for src, t in tasks.items()}


def counts(task: LorenzTask, config: DataConfig, warmup: int, spans: dict) -> dict:
    """``data.json``: the source, rows, windows and where validation starts, and each source's ``ranges``."""
    return {"source": config.source, "samples": len(task.series), "train_sequences": len(task.train_x),
            "window": config.window, "stride": config.stride, "warmup": warmup, "val_steps": len(task.val_x),
            "val_start": task.val_start, "val_windows": len(task.val_windows_x), "ranges": spans}


def _span(lo_hi) -> str:
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"


def values(task: LorenzTask, config: DataConfig, record: dict) -> dict[str, str]:
    """The prose's numbers (glue name: text), from :func:`counts`' ``record``: the counts, the shares, and
    where the windows start as :func:`qrnn_core.data.make_task` cuts them (a window starting at row s reads
    x in rows s .. s + window - 1 and is scored on y, z in rows s + 1 .. s + window). Raises ValueError
    if the task's last windows do not lie where this says."""
    window, stride = config.window, config.stride
    out = {f"data_{k}": f"{record[k]:,}" for k in ("samples", "train_sequences", "val_steps", "val_start", "val_windows")}
    out |= {f"data_{k}": str(record[k]) for k in ("window", "stride", "warmup")}
    n_starts = len(task.series) - window  # every row whose window (and its targets) fits in the series
    last_start = (len(task.train_x) - 1) * stride
    val_last_start = task.val_start + (len(task.val_windows_x) - 1) * stride
    if not (torch.equal(task.train_x[-1], task.series[last_start:last_start + window, 0])
            and torch.equal(task.val_windows_x[-1], task.series[val_last_start:val_last_start + window, 0])):
        raise ValueError("the task's windows do not start where the data page says they do")
    reaching = sum(s + window >= task.val_start for s in range(0, last_start + 1, stride))  # targets in validation
    scaled_over = {"whole": "the whole series", "train": "the training span"}[config.scaling]
    source = {"original": f"the original study's own series (data/original/{ORIGINAL_SERIES.name}, used as it is)",
              "generated": f"a series integrated here (DOP853) and min-max scaled over {scaled_over}"}
    return out | {
        "data_scored": str(window - record["warmup"]),
        "data_val_end": f"{len(task.series) - 1:,}",
        "data_train_share": f"{config.train_fraction * 100:.0f} %",
        "data_val_share": f"{(1 - config.train_fraction) * 100:.0f} %",
        "data_n_starts": f"{n_starts:,}",
        "data_start_limit": f"{int(config.train_fraction * n_starts):,}",
        "data_last_start": f"{last_start:,}",
        "data_val_last_start": f"{val_last_start:,}",
        "data_reaching": ("no training window has targets in it" if reaching == 0 else
                          "the last training window has targets in its first rows" if reaching == 1 else
                          f"the last {reaching} training windows have targets in its first rows"),
        "data_source_name": source[config.source],
        "data_original_ranges": ", ".join(f"{v} {_span(r)}" for v, r in record["ranges"]["original"].items()),
    }


def ranges_table(tasks: dict[str, LorenzTask], source: str, spans: dict) -> str:
    """Both series' rows and column ranges, and which one the page shows (Markdown)."""
    return ("| series | shown here | rows | x range | y range | z range |\n|---|:---:|---:|---:|---:|---:|\n" + "\n".join(
        f"| {'original study' + chr(39) + 's file' if src == 'original' else 'generated here'} | "
        f"{'yes' if src == source else 'no'} | {len(tasks[src].series):,} | "
        + " | ".join(_span(spans[src][v]) for v in "xyz") + " |" for src in ("original", "generated"))
        + "\n\nMinimum and maximum of each scaled column over the series' rows.")


def attractor_figure(task: LorenzTask, config: DataConfig):
    """The attractor in 3-D (all rows), and x, y, z against row with the validation span shaded."""
    figures.style()
    s = task.series.numpy()
    rows = np.arange(len(s))
    fig = plt.figure(figsize=(11, 5.4), layout="constrained")
    grid = fig.add_gridspec(3, 3, width_ratios=[1, 0.12, 1.35])  # the middle column keeps the z label clear
    ax3 = fig.add_subplot(grid[:, 0], projection="3d")
    ax3.plot(*s.T, lw=0.4, color="C0")
    ax3.set_xlabel("x (scaled)", labelpad=10)
    ax3.set_ylabel("y (scaled)", labelpad=10)
    ax3.set_zlabel("z (scaled)", labelpad=10)
    ax3.set_title("the attractor, all rows")
    ax3.set_box_aspect(None, zoom=0.85)
    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):  # three ticks an axis: six crowd into each other at this size
        axis.set_major_locator(plt.MaxNLocator(3))
    axes = [fig.add_subplot(grid[k, 2]) for k in range(3)]
    for k, (ax, name, role) in enumerate(zip(axes, "xyz", ("input", "target", "target"))):
        ax.plot(rows, s[:, k], lw=0.6, color=f"C{k}")
        ax.axvspan(task.val_start, len(s) - 1, color="grey", alpha=0.25, lw=0)
        ax.set_ylabel(f"{name} (scaled)\n{role}")
        ax.set_xlim(0, len(s) - 1)
        if k < 2:
            ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel(f"row of the series (one row = {config.dt:g} time units)")
    axes[0].set_title("training span | validation span (grey)")
    return fig


def window_figure(task: LorenzTask, config: DataConfig, warmup: int):
    """The first training window: its input and targets per step, the warm-up shaded."""
    figures.style()
    window = config.window
    fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
    steps = np.arange(window)
    ax.axvspan(-0.5, warmup - 0.5, color="grey", alpha=0.2, lw=0, label="warm-up (not in the loss)")
    ax.plot(steps, task.train_x[0].numpy(), "k.-", ms=8, label="input x(t)")
    ax.plot(steps, task.train_y[0, :, 0].numpy(), "C1.-", ms=8, label="target y(t+1)")
    ax.plot(steps, task.train_y[0, :, 1].numpy(), "C2.-", ms=8, label="target z(t+1)")
    ax.set(xlabel=f"step in the window (one step = {config.dt:g} time units)", ylabel="value (scaled units)",
           xlim=(-0.5, window - 0.5), xticks=steps[::2])
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right center")
    return fig


def validation_figure(task: LorenzTask, config: DataConfig, warmup: int, shown: int = SHOWN):
    """The two protocols on the first ``shown`` steps of the validation span: the inputs and targets
    above, the one sequence and the windows that fit (each with its warm-up) below. Returns ``(figure,
    steps drawn, windows drawn)`` (fewer steps where the span is shorter)."""
    figures.style()
    window, stride = config.window, config.stride
    shown = min(shown, len(task.val_x))
    starts = [w * stride for w in range(len(task.val_windows_x)) if w * stride + window <= shown]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.2), sharex=True, layout="constrained",
                                      height_ratios=[1, 2.4])
    v = np.arange(shown)
    top.plot(v, task.val_x[:shown].numpy(), "k-", lw=1.2, label="input x(t)")
    top.plot(v, task.val_y[:shown, 0].numpy(), "C1-", lw=1.2, label="target y(t+1)")
    top.plot(v, task.val_y[:shown, 1].numpy(), "C2-", lw=1.2, label="target z(t+1)")
    top.set_ylabel("value\n(scaled units)")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    labels = ["deck's sequence"] + [f"window {i + 1}" for i in range(len(starts))]
    bottom.barh(0, shown, left=-0.5, height=0.6, color="C0")
    bottom.annotate(f"... continues to step {len(task.val_x):,}", (shown - 1, 0), xytext=(-6, 0),
                    textcoords="offset points", ha="right", va="center", color="white", fontweight="bold")
    for i, s0 in enumerate(starts, start=1):
        bottom.barh(i, warmup, left=s0 - 0.5, height=0.6, color="C0", alpha=0.3)
        bottom.barh(i, window - warmup, left=s0 + warmup - 0.5, height=0.6, color="C0")
    bottom.set_yticks(range(len(labels)), labels)
    bottom.invert_yaxis()
    bottom.set_xlabel(f"step of the validation span (step 0 = row {task.val_start:,})")
    bottom.set_xlim(-0.5, shown - 0.5)
    bottom.legend(handles=[Patch(color="C0", label="scored steps"),
                           Patch(color="C0", alpha=0.3, label="warm-up, fresh memory\n(not scored)")],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig, shown, len(starts)
