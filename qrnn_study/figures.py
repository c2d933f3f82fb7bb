"""The study's figures, drawn one way everywhere: legible at 1,280 px, seeds as bands, sources labelled.

The book scales a figure to its column, 672 px at a 1,280 px window (0.61x for an 11-inch
figure at 100 dpi), so text is set at 15-16 pt to stay above 9 pt as rendered. Every figure's numbers are also written as CSV for download.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .analysis import band, final_train_rmse, mean_ci
from .model import PROTOCOL_IDS, PROTOCOLS

FONT = 16
STYLE = {"font.size": FONT, "axes.titlesize": FONT, "axes.labelsize": FONT, "legend.fontsize": FONT - 1,
         "xtick.labelsize": FONT - 1, "ytick.labelsize": FONT - 1, "figure.dpi": 100}
#: One colour per estimator across the book, by the arm's name (its twins and its sweep share it).
ARM_COLORS = (("spsa-original", "C0"), ("spsa-spall", "C1"), ("budget-spsa", "C4"), ("precision", "C9"),
              ("spsa", "C2"), ("sweep-spsa", "C2"), ("fdsa", "C3"), ("sweep-fdsa", "C3"),
              ("oracle-lr001", "grey"), ("oracle", "k"), ("sweep-oracle", "k"))


def arm_color(arm: str, fallback: str = "C7") -> str:
    """The colour of ``arm`` (:data:`ARM_COLORS`, the first prefix that matches)."""
    return next((color for prefix, color in ARM_COLORS if arm.startswith(prefix)), fallback)


def _mode_words(res, mode: str) -> str:
    """How an arm's validation of ``mode`` scored: "exact" or "1,024 shots" (its config's shots)."""
    return "exact" if mode == "exact" else f"{res.config['val_shots']:,} shots"


def style() -> None:
    plt.rcParams.update(STYLE)


#: The book's text column at a 1,280 px window, in CSS px (measured in Chromium): a wider figure is scaled down to it (the browser
#: check, qrnn_tools/book_check.py, measures the column), a narrower one is shown at its own size.
COLUMN_PX = 672
#: The smallest text a reader should meet in a figure, in points as rendered at 100 % zoom.
MIN_RENDERED_PT = 9.0


def rendered_sizes(fig) -> list[tuple[str, float]]:
    """Each visible text of ``fig`` with its size in points as the book renders it: the figure saved as the
    pages save it (``figure.dpi``, tight bounding box) and scaled to :data:`COLUMN_PX` if wider. A text of
    ``f`` pt is ``f * dpi / 72`` image px, shown at ``scale`` CSS px each, 0.75 pt a CSS px."""
    from matplotlib.text import Text

    fig.canvas.draw()
    width_px = fig.get_tightbbox(fig.canvas.get_renderer()).width * fig.dpi
    scale = min(1.0, COLUMN_PX / width_px) if width_px > 0 else 1.0
    return [(t.get_text(), t.get_fontsize() * fig.dpi / 72 * scale * 0.75)
            for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def illegible(fig, least: float = MIN_RENDERED_PT) -> list[str]:
    """The texts of ``fig`` smaller than ``least`` points as rendered (:func:`rendered_sizes`), one line each."""
    return [f"{text[:40]!r} at {pt:.1f} pt" for text, pt in rendered_sizes(fig) if pt < least - 1e-9]


def validation_curves(res, deck: dict | None = None, original: dict | None = None):
    """Mean validation RMSE (mean of y, z) per epoch with 95 % t bands: both protocols, exact and shots; each
    seed as a thin line in the probabilities the arm trained with; the deck's values and the original's log
    beside them (offset a little left and right where they coincide)."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), sharey=True)
    epochs = np.arange(1, res.val["sequence"]["exact"].shape[1] + 1)
    for ax, protocol in zip(axes, PROTOCOLS):
        for mode, ls, color in (("exact", "-", "C0"), ("shots", "--", "C1")):
            v = res.val[protocol.id][mode][:, :, 2]
            if not np.isfinite(v).any():
                continue
            mean, lo, hi = band(v)
            label = f"here, {_mode_words(res, mode)} (n = {int(np.isfinite(v[:, 0]).sum())})"
            ax.plot(epochs, mean, ls, color=color, marker="o", ms=4, label=label)
            if np.isfinite(v[:, 0]).sum() > 1:  # one seed has no band
                ax.fill_between(epochs, lo, hi, color=color, alpha=0.2, lw=0)
            if mode == res.mode and np.isfinite(v[:, 0]).sum() > 1:
                # each seed too: a single run (the deck's) is to be set against the seeds' spread, not against
                # the interval of their mean
                for k, seed in enumerate(v):
                    ax.plot(epochs, seed, "-", color=color, lw=0.8, alpha=0.45,
                            label=f"each seed, {_mode_words(res, mode)}" if k == 0 else None)
        # the deck's stated values and the original code's log, side by side where they coincide
        if protocol.id == "sequence" and deck:
            ep = sorted(deck)
            ax.plot(np.array(ep) - 0.12, [deck[e][2] for e in ep], "s", color="k", ms=8, mfc="none", mew=1.8,
                    label="deck (stated)")
        if protocol.id == "sequence" and original:
            ep = sorted(original)
            ax.plot(np.array(ep) + 0.12, [original[e][2] for e in ep], "x", color="C3", ms=8, mew=2,
                    label="original code's log")
        ax.set(title=protocol.title, xlabel=f"epoch ({res.train_rmse.shape[2]:,} updates each)")
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation RMSE, mean of y and z\n(scaled units)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)  # below: never over the data
    fig.tight_layout(rect=(0, 0.05 + 0.055 * ((len(labels) + 1) // 2), 1, 1))
    return fig


def add_unfinished(fig, res) -> None:
    """Draw the seeds of ``res`` (an arm's unfinished ones) on a :func:`validation_curves` figure: one
    thin line a seed, up to its last epoch, kept out of the mean and band; the legend is redrawn."""
    axes = fig.axes[:2]
    epochs = np.arange(1, res.val["sequence"]["exact"].shape[1] + 1)
    which = ", ".join(f"{s} to epoch {e}" for s, e in zip(res.seeds, res.epochs_done))
    for ax, protocol in zip(axes, PROTOCOL_IDS):
        for mode, ls, color in (("exact", "-", "C0"), ("shots", "--", "C1")):  # as validation_curves
            rows = [row for row in res.val[protocol][mode][:, :, 2] if np.isfinite(row).any()]
            for k, row in enumerate(rows):
                label = f"here, {_mode_words(res, mode)}, unfinished: {which}"
                ax.plot(epochs, row, ls, color=color, lw=1, marker="o", ms=3, alpha=0.7,
                        label=label if k == 0 else "_")  # the marker: a seed at one epoch is a point
    for legend in list(fig.legends):
        legend.remove()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=1, frameon=False)  # one column: the labels are long
    fig.tight_layout(rect=(0, 0.04 + 0.055 * len(labels), 1, 1))


def smoothing(updates_per_epoch: int, smooth: int = 100) -> int:
    """Updates in :func:`train_curves`' running mean: ``smooth``, at most a fifth of an epoch."""
    return max(1, min(smooth, updates_per_epoch // 5))


def train_curves(res, smooth: int = 100):
    """Training RMSE per update: a running mean over :func:`smoothing` updates, mean over seeds, 95 % band
    (an update not yet run is NaN, and so is every window of the mean that holds it)."""
    style()
    S, E, U = res.train_rmse.shape
    flat = res.train_rmse.reshape(S, E * U)
    k = smoothing(U, smooth)
    kernel = np.ones(k) / k
    smoothed = np.array([np.convolve(row, kernel, "valid") for row in flat])
    x = np.arange(k, E * U + 1)
    mean, lo, hi = band(smoothed[:, :: max(1, len(x) // 600)])
    xs = x[:: max(1, len(x) // 600)]
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.plot(xs, mean, color="C0", label=f"mean over seeds (n = {S}), running mean of {k} updates" if S > 1
            else f"one seed, running mean of {k} updates")
    if S > 1:
        ax.fill_between(xs, lo, hi, color="C0", alpha=0.2, lw=0, label="95 % band over seeds")
    for e in range(1, E):
        ax.axvline(e * U, color="grey", lw=0.5)
    ax.set(xlabel="update", ylabel="training RMSE (scaled units)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def sweep_figure(sweeps: dict, protocol: str = "windows", mode: str | None = None):
    """Learning-rate sweep: per estimator (``{label: {lr: ArmResults}}``), against the rate (log scale),
    the final-epoch train RMSE (left) and the lowest validation RMSE under ``protocol`` (right), each a
    mean over finished seeds with its 95 % t interval as error bars. ``mode``: every point's
    validation (default: each with the probabilities it trained with)."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4))
    for k, (label, points) in enumerate(sweeps.items()):
        rates, train, val = [], [], []
        for lr, res in points.items():
            done = res.complete
            if not done.any():
                continue
            rates.append(lr)
            train.append(mean_ci(final_train_rmse(res.train_rmse, res.epochs_done)[done]))
            val.append(mean_ci(np.nanmin(res.val[protocol][mode or res.mode][done][:, :, 2], axis=1)))
        for ax, est in zip(axes, (train, val)):
            if not est:
                continue
            m = np.array([e.mean for e in est])
            err = np.array([[e.mean - e.low, e.high - e.mean] if e.n > 1 else [0, 0] for e in est]).T
            n = min(e.n for e in est)
            color = arm_color(next(iter(points.values())).arm, f"C{k}")
            ax.errorbar(np.array(rates) * (1 + 0.04 * (k - 1)), m, yerr=err, marker="o", ms=5, capsize=3,
                        color=color, label=f"{label} (n ≥ {n})")
    for ax, ylabel in zip(axes, ("final-epoch train RMSE\n(scaled units)",
                                 f"lowest validation RMSE\n({protocol} protocol)")):
        ax.set_xscale("log")
        ax.set(xlabel="learning rate (Adam)", ylabel=ylabel)
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)  # below: never over the data
    fig.tight_layout(rect=(0, 0.05 + 0.06 * ((len(labels) + 1) // 2), 1, 1))
    return fig


def budget_curves(arms: dict, mode: str = "shots"):
    """Validation RMSE (mean of y, z) against the training circuits spent, log scale, per arm
    (``{label: ArmResults}``), mean over seeds with 95 % bands; both validation protocols."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6), sharey=True)
    for ax, protocol in zip(axes, PROTOCOLS):
        for k, (label, res) in enumerate(arms.items()):
            v = res.val[protocol.id][mode][:, :, 2]
            if not np.isfinite(v).any():
                continue
            keep = np.isfinite(v).any(0)
            mean, lo, hi = band(v[:, keep])
            circuits = res.circuits_per_update * res.train_rmse.shape[2] * np.arange(1, v.shape[1] + 1)[keep]
            color = arm_color(res.arm, f"C{k}")
            ax.plot(circuits, mean, marker="o", ms=4, color=color, label=f"{label} (n = {int(np.isfinite(v[:, 0]).sum())})")
            ax.fill_between(circuits, lo, hi, color=color, alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set(title=protocol.title, xlabel="circuits evaluated in training (log scale)")
        ax.grid(alpha=0.3, which="both")
    shots = {r.config.get("val_shots") for r in arms.values()}
    axes[0].set_ylabel("validation RMSE, mean of y and z\n" + (f"({'/'.join(f'{n:,}' for n in sorted(shots))}-shot validation)"
                                                              if mode == "shots" else "(exact validation)"))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)  # below: never over the data
    fig.tight_layout(rect=(0, 0.05 + 0.06 * ((len(labels) + 1) // 2), 1, 1))
    return fig


def curves_table(res) -> dict:
    """The numbers behind :func:`validation_curves`: one row per seed, epoch, protocol and mode."""
    rows = []
    for protocol, modes in res.val.items():
        for mode, v in modes.items():
            for i, seed in enumerate(res.seeds):
                for e in range(v.shape[1]):
                    if np.isfinite(v[i, e]).all():
                        rows.append([res.arm, seed, e + 1, protocol, mode, *map(float, v[i, e])])
    return {"columns": ["arm", "seed", "epoch", "protocol", "probabilities", "rmse_y", "rmse_z", "rmse_mean"],
            "rows": rows}


def write_csv(path: Path, rows: list, columns: list) -> Path:
    path = Path(path)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    return path


def csv_link(path: Path, rows: list, columns: list, text: str = "the numbers of this figure (CSV)") -> None:
    """Write the CSV and show a download link to it (the page lives in book/generated/<profile>/)."""
    from IPython.display import Markdown, display

    path = write_csv(path, rows, columns)
    display(Markdown(f"{{download}}`Download {text} <{download_target(path)}>`"))


def download_target(path: Path) -> str:
    """``path`` as an absolute path: the study runner rewrites it relative to the page's folder when it
    finishes the executed notebook (:func:`qrnn_study.execute.relative_downloads`)."""
    return Path(path).resolve().as_posix()


def placeholder(message: str):
    """A small figure that says what is missing (a page whose results have not arrived yet)."""
    style()
    fig, ax = plt.subplots(figsize=(8, 1.6))
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


def engine_scaling_figure(points: list[dict]):
    """Seconds per circuit, per FDSA update and peak memory against qubits, one line per engine, log scale.

    ``points``: :func:`qrnn_tools.bench.scaling_rows` rows (``qubits``, ``engine``, ``seconds_per_circuit``,
    ``seconds_per_fdsa_update``, ``peak_bytes``)."""
    style()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    names = {"kernel": "compiled kernel (default)", "torch": "PyTorch simulator", "aer": "Aer density matrix"}
    for engine, marker in (("kernel", "o"), ("torch", "s"), ("aer", "^")):
        pts = sorted((p for p in points if p["engine"] == engine), key=lambda p: p["qubits"])
        if not pts:
            continue
        n = [p["qubits"] for p in pts]
        for ax, key, scale in zip(axes, ("seconds_per_circuit", "seconds_per_fdsa_update", "peak_bytes"), (1, 1, 2**-20)):
            y = [p[key] * scale if p[key] > 0 else np.nan for p in pts]
            ax.plot(n, y, marker + "-", label=names[engine])
    for ax, label in zip(axes, ("seconds per circuit", "seconds per FDSA update", "peak memory of an update (MiB)")):
        ax.set(yscale="log", xlabel="qubits", ylabel=label)
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
