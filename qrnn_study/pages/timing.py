"""The timing page: seconds per circuit and per update for each simulator and estimator, the epoch time
they imply beside the deck's, cost against the number of parameters, the default engine, and the GPU
benchmark where one was run.

:func:`measure` times (it takes the page's minutes); the rest shows a :class:`Timing`. Shapes: ``rows``
are :class:`qrnn_tools.bench.Row` (groups ``simulator``, ``update``, ``epoch``), with or without a CUDA
row, Aer rows or epoch rows; ``scaling`` is one point per qubit count and estimator (two counts or
more for a slope); ``engine``/``engine_scaling`` may be empty (not measured).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FuncFormatter

from qrnn_core import reference
from qrnn_core.aer_backend import aer_devices
from qrnn_tools.bench import (KERNEL_TARGETS, Row, epoch_rows, kernel_rows, markdown_report, scaling_rows,
                              simulator_rows, update_rows)

from .. import figures

PRECISIONS = ("complex128", "complex64")
#: The deck's rows of its train-time table, in its order.
KEYS = ("SPSA, CPU", "FDSA, GPU", "FDSA, CPU")


@dataclasses.dataclass(frozen=True)
class Timing:
    """What the page timed: ``rows`` (simulators, updates, epochs), ``scaling`` (``{"qubits", "parameters",
    "estimator", "seconds", "circuits"}`` per qubit count and estimator), the default engine's ``engine`` rows
    and ``engine_scaling`` points; ``epochs_measured``: whole epochs were timed."""

    rows: list
    scaling: list[dict]
    engine: list
    engine_scaling: list[dict]
    epochs_measured: bool

    def record(self) -> dict:
        """``timing.json``'s measured part (the page adds the provenance)."""
        return {"rows": [dataclasses.asdict(r) for r in self.rows], "scaling": self.scaling,
                "engine": [dataclasses.asdict(r) for r in self.engine], "engine_scaling": self.engine_scaling}


def measure(repeats: int, aer: bool, aer_fdsa: bool, qubit_counts, n_qubits: int, min_seconds: float,
            epoch_methods, epoch_precision: str, engine_qubits) -> Timing:
    """Every row of the page, timed in this process (the parameters are the page's). PyTorch rows come first:
    once Aer's thread pool exists, small PyTorch operations run 2-3x slower on 2-core machines."""
    rows = simulator_rows("torch", repeats, precisions=PRECISIONS)
    rows += update_rows("torch", repeats, n_qubits=n_qubits, min_seconds=min_seconds, precisions=PRECISIONS)
    if torch.cuda.is_available():
        rows += update_rows("torch", repeats, n_qubits=n_qubits, device="cuda", min_seconds=min_seconds,
                            precisions=PRECISIONS)
    scaling = [{"qubits": n, "parameters": 2 * (7 * n - 1), "estimator": r.name.split(" | ")[0], "seconds": r.seconds,
                "circuits": r.circuits}
               for n in qubit_counts
               for r in update_rows("torch", repeats, n_qubits=n, methods=("spsa", "fdsa"), min_seconds=min_seconds)]
    # The default engine (the compiled kernel a default TrainConfig builds) beside ONE Aer exact circuit timed in
    # the same run, and how the three engines' cost grows with the qubit count.
    engine = kernel_rows(repeats, aer=aer)
    engine_scaling = scaling_rows(tuple(engine_qubits), aer_max=8 if aer else 0) if engine_qubits else []
    # A whole epoch is the deck's protocol at the original's size (8 qubits): measured only when this run's
    # rows are at that size too, so that the epoch and update rows describe the same circuit.
    epochs_measured = bool(epoch_methods) and n_qubits == 8
    if epochs_measured:
        with contextlib.redirect_stdout(io.StringIO()):  # epoch_rows reports its progress on stdout
            rows += epoch_rows(tuple(epoch_methods), precision=epoch_precision)
    if aer:
        rows += simulator_rows("aer", repeats) + update_rows("aer", 1, full=aer_fdsa, n_qubits=n_qubits)
        if "GPU" in aer_devices():
            rows += update_rows("aer", 1, full=aer_fdsa, n_qubits=n_qubits, device="GPU")
    rows.sort(key=lambda r: ["simulator", "update", "epoch"].index(r.group))
    return Timing(rows, scaling, engine, engine_scaling, epochs_measured)


def load_warning(load: float, cores: int) -> str | None:
    """A warning when the machine's 1-minute load average exceeded its cores while the page was timed (the
    study runs the page alone, but cannot see work started outside it); None otherwise."""
    if load <= cores:  # the 1-minute average lags, so a little above 1 is normal
        return None
    return (f"```{{warning}}\nThis page was timed while the machine's 1-minute load average was {load:.1f} on "
            f"{cores} cores: other work ran beside it, so its times are slower than a quiet machine's.\n```")


def threads_note(threads: int, cores: int) -> str:
    return (f"Every row on this page is timed with {threads} PyTorch thread{'s' if threads > 1 else ''} on the "
            f"machine's {cores} cores: the study runs this page alone and gives it every core. Its training workers "
            "compute on one thread each, side by side (their own times are on the front page).")


def epoch_split(rows: list) -> str:
    """The epoch rows as a Markdown table: time and where it went (the row's note)."""
    return ("| epoch | time | precision and split of the epoch |\n|---|---:|---|\n"
            + "\n".join(f"| {r.name.replace(' | ', ', ')} | {r.seconds:.1f} s | {r.note} |"
                         for r in rows if r.group == "epoch"))


def epochs_text(t: Timing, epoch_methods, n_qubits: int) -> str:
    """Where a whole epoch's time goes, or why whole epochs were not timed (Markdown)."""
    if t.epochs_measured:
        return ("Where a whole epoch's time goes (one epoch each, exact probabilities; validation runs both "
                "protocols, exact and with 1,024 shots):\n\n" + epoch_split(t.rows))
    return "Whole epochs were not timed in this run " + (
        "(`epoch_methods` is empty)." if not epoch_methods else
        f"(they run at the original's 8 qubits; this run's rows are at {n_qubits}).")


def per_update(rows: list) -> dict[tuple[str, str], float | None]:
    """This run's seconds per update for each of the deck's rows (:data:`KEYS`), per precision (None: not
    measured here: no GPU)."""
    t = {r.name: r.seconds for r in rows if r.group == "update"}  # epoch rows share the update rows' names
    out = {}
    for precision in PRECISIONS:
        suffix = "" if precision == "complex128" else f", {precision}"
        out[("SPSA, CPU", precision)] = t[f"spsa | PyTorch exact{suffix}"]
        out[("FDSA, GPU", precision)] = t.get(f"fdsa | PyTorch exact{suffix} (cuda)")
        out[("FDSA, CPU", precision)] = t[f"fdsa | PyTorch exact{suffix}"]
    return out


def update_values(rows: list) -> dict[str, str]:
    """The prose's numbers (glue name: text): each estimator's update in both precisions, the epoch they
    imply and how much faster than the deck's."""
    here, U = per_update(rows), reference.UPDATES_PER_EPOCH
    spsa, fdsa = here[("SPSA, CPU", "complex128")], here[("FDSA, CPU", "complex128")]
    spsa64, fdsa64 = here[("SPSA, CPU", "complex64")], here[("FDSA, CPU", "complex64")]
    return {"t_spsa_update_ms": f"{spsa * 1e3:.1f}", "t_fdsa_update_ms": f"{fdsa * 1e3:.0f}",
            "t_spsa64_update_ms": f"{spsa64 * 1e3:.1f}", "t_fdsa64_update_ms": f"{fdsa64 * 1e3:.0f}",
            "t_fdsa_64_speedup": f"{fdsa / fdsa64:.1f}", "t_spsa_epoch_s": f"{spsa * U:.0f}",
            "t_fdsa_epoch_s": f"{fdsa * U:.0f}", "t_epoch_updates": f"{U:,}",
            "t_spsa_vs_deck": f"{reference.SECONDS_PER_UPDATE['SPSA, CPU'] / spsa:.0f}",
            "t_fdsa_vs_deck": f"{reference.SECONDS_PER_UPDATE['FDSA, CPU'] / fdsa:.0f}"}


def deck_table(rows: list) -> str:
    """The deck's train-time table, re-measured per precision (Markdown; a GPU row says so without one)."""
    here, U = per_update(rows), reference.UPDATES_PER_EPOCH
    lines = ["| deck's row | deck: s per update | deck: h per epoch | here | here: s per update | "
             "here: s per epoch | faster than the deck |", "|---|---:|---:|---|---:|---:|---:|"]
    for key in KEYS:
        deck_s, deck_h = reference.SECONDS_PER_UPDATE[key], reference.HOURS_PER_EPOCH[key]
        measured = [p for p in PRECISIONS if here[(key, p)]]
        if not measured:
            lines.append(f"| {key} | {deck_s} | {deck_h} | no GPU here | - | - | - |")
        for precision in measured:
            s = here[(key, precision)]
            lines.append(f"| {key} | {deck_s} | {deck_h} | {precision} | {s:.4f} | {s * U:.1f} | {deck_s / s:.0f}x |")
    return ("The deck's train-time table, re-measured (one update = one 20-step sequence, forward and "
            f"backward, PyTorch exact simulator; an epoch = {U:,} updates, projected):\n\n" + "\n".join(lines))


def epoch_time_figure(rows: list):
    """Hours per epoch, log scale: the deck's beside this run's projection in both precisions, per deck row."""
    figures.style()
    here, U = per_update(rows), reference.UPDATES_PER_EPOCH
    fig, ax = plt.subplots(figsize=(11, 5.2), layout="constrained")
    pos = np.arange(len(KEYS))
    width = 0.27
    deck_hours = [reference.HOURS_PER_EPOCH[k] for k in KEYS]
    ax.bar(pos - width, deck_hours, width, color="C7",
           label=f"deck ({reference.MACHINES['CPU']} CPU, {reference.MACHINES['GPU']} GPU; Qiskit, "
                 f"{reference.SHOTS:,} shots)")
    for p, h in zip(pos, deck_hours):
        ax.text(p - width, h * 1.15, f"{h:g} h", ha="center", va="bottom")
    all_hours = {}
    for k, (precision, color) in enumerate(zip(PRECISIONS, ("C0", "C1"))):
        hours = [here[(key, precision)] * U / 3600 if here[(key, precision)] else np.nan for key in KEYS]
        all_hours[precision] = hours
        ax.bar(pos + k * width, hours, width, color=color, label=f"here, PyTorch exact simulator, {precision}")
        for p, h in zip(pos + k * width, hours):
            if np.isfinite(h):
                ax.text(p, h * 1.15, f"{h * 3600:.0f} s", ha="center", va="bottom")
    bottom = min(np.nanmin(v) for v in all_hours.values()) / 4
    if not any(np.isfinite(v[KEYS.index("FDSA, GPU")]) for v in all_hours.values()):
        ax.text(pos[KEYS.index("FDSA, GPU")] + width / 2, bottom * 2, "no GPU\nhere", ha="center", va="bottom")
    ax.set(xticks=pos, xticklabels=["SPSA (CPU)", "FDSA (GPU)", "FDSA (CPU)"], yscale="log",
           ylabel=f"hours per epoch ({U:,} updates)", ylim=(bottom, 200))
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=1)
    return fig


def versus_text(rows: list) -> str:
    """FDSA against SPSA per update (timed here) and where the per-epoch ratio is (Markdown)."""
    here = per_update(rows)
    ratio = {p: here[("FDSA, CPU", p)] / here[("SPSA, CPU", p)] for p in PRECISIONS}
    return ("**FDSA against SPSA, two measures.** *Per update*, timed on this page (single updates on the same "
            f"inputs, exact probabilities): FDSA takes {ratio['complex128']:.0f}x SPSA's time in complex128 and "
            f"{ratio['complex64']:.0f}x in complex64. *Per training epoch*, timed by the study's own training workers "
            "(complex64, 1,024 shots a circuit, FDSA's epoch over SPSA's on the same seed): the ratio is on [the front "
            "page's scorecard](page-summary), which judges the deck's per-epoch claim on that measure. The two time "
            "different work: one update on fixed inputs in one process, against whole epochs of training with shot "
            "sampling, beside whatever else the study's workers ran.")


def scaling_figure(scaling: list[dict]):
    """Circuits per update and time per update against the number of parameters, SPSA and FDSA, log scale."""
    figures.style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    for est, c in (("spsa", "C0"), ("fdsa", "C3")):
        pts = [s for s in scaling if s["estimator"] == est]
        P = [s["parameters"] for s in pts]
        axes[0].plot(P, [s["circuits"] for s in pts], "o-", color=c, ms=7, label=est.upper())
        axes[1].plot(P, [s["seconds"] * 1e3 for s in pts], "o-", color=c, ms=7)
    axes[0].set(xlabel="quantum parameters P", ylabel="circuits per update", yscale="log", title="circuit evaluations")
    axes[1].set(xlabel="quantum parameters P", ylabel="time per update (ms)", yscale="log",
                title="time per update (T = 20, complex128)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(  # label the 2s and 5s between decades only
            lambda v, _: f"{v:g}" if round(v / 10 ** np.floor(np.log10(v))) in (2, 5) else ""))
    fig.legend(loc="outside lower center", ncol=2)
    return fig


def scaling_values(scaling: list[dict], qubit_counts) -> dict[str, str]:
    """FDSA's time against P as the slope of a least-squares line through the log-log points (``-`` with
    fewer than two points), the qubit counts and their parameter counts (glue name: text)."""
    fdsa = [s for s in scaling if s["estimator"] == "fdsa"]
    slope = (np.polyfit(np.log([s["parameters"] for s in fdsa]), np.log([s["seconds"] for s in fdsa]), 1)[0]
             if len({s["parameters"] for s in fdsa}) > 1 else None)
    return {"t_fdsa_slope": "-" if slope is None else f"{slope:.2f}",
            "t_scaling_qubits": ", ".join(map(str, qubit_counts)),
            "t_scaling_params": ", ".join(str(s["parameters"]) for s in fdsa)}


def engine_table(rows: list, targets: list) -> str:
    """The engine's rows as a Markdown table: seconds, and the ratio to one Aer circuit against its target."""
    ratio = {name.split(" / ")[0]: (ok, text) for name, ok, text in targets}
    body = []
    for r in rows:
        ok, text = ratio.get(r.name, (None, "-"))
        limit = next((f"≤ {v:.4g}" for k, v in KERNEL_TARGETS.items() if r.name.endswith(k)), "-")
        body.append(f"| {r.name} | {r.seconds * 1e3:.2f} ms | {text.split(' (')[0]} | {limit} | "
                    f"{'-' if limit == '-' or ok is None else 'met' if ok else 'missed'} |")
    return "| row | time | ÷ one Aer circuit | target | |\n|---|---:|---:|---:|---|\n" + "\n".join(body)


def _mib(peak_bytes: int) -> str:
    """A peak memory growth in MiB; below 0.1 MiB, ``< 0.1`` (the update ran in memory the process already held)."""
    if peak_bytes < 0:
        return "-"
    return f"{peak_bytes / 2**20:.1f}" if peak_bytes >= 0.1 * 2**20 else "< 0.1"


def engine_scaling_table(points: list) -> str:
    """The scaling rows as a Markdown table (milliseconds, MiB); the last column is the growth of the process's
    peak resident memory during one FDSA update, ``< 0.1`` where it ran in memory already held."""
    return ("| qubits | engine | ms per circuit | ms per FDSA update | circuits | peak MiB added |\n"
            "|---:|---|---:|---:|---:|---:|\n"
            + "\n".join(f"| {p['qubits']} | {p['engine']} | {p['seconds_per_circuit'] * 1e3:.3g} | "
                         f"{p['seconds_per_fdsa_update'] * 1e3:.4g} | {p['fdsa_circuits']} | "
                         f"{_mib(p['peak_bytes'])} |" for p in points))


def gpu_section(report: dict | None, commit: str, path: str) -> list[str]:
    """The GPU benchmark's report (``bench.json`` read from ``path``; None: not measured) as Markdown parts:
    the GPU, a note when it was measured at another ``commit`` than this page's, its tables and its epoch's
    split."""
    if report is None:
        return ["**Not measured: no GPU was available to the runs behind this page** "
                f"(`{path}` does not exist; `make gpu-check` on a machine with an NVIDIA GPU writes it)."]
    name = report["machine"].get("gpu", "a GPU (its name was not recorded)")
    stale = "" if report["git_commit"] == commit else (
        f" **These GPU rows were measured at commit `{report['git_commit'][:12]}`, this page at "
        f"`{commit[:12]}`**: re-run `make gpu-check` to refresh them.")
    parts = [f"Measured on **{name}** (from `{path}`).{stale}\n\n" + markdown_report(report)]
    rows = [Row(**r) for r in report["rows"]]
    if any(r.group == "epoch" for r in rows):
        parts.append("Where the GPU epoch's time goes:\n\n" + epoch_split(rows))
    return parts
