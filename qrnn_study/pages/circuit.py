"""The circuit page: one time step as Qiskit draws it, and the PyTorch simulator against Qiskit Aer.

Shapes: ``rows`` is :func:`agreement`'s list, one per circuit size (one or more), each with ``qubits``,
``sequences``, ``steps``, ``max_abs_difference`` (exactly 0 possible) and ``max_row_sum_error``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from qrnn_core.aer_backend import AerBackend
from qrnn_core.circuit import build_step_block, n_angles
from qrnn_core.kernel import KernelSimulator
from qrnn_core.simulator import TorchSimulator

from .. import figures

#: The tests' bound on the two simulators' difference, and where an exact zero is drawn on the log axis.
BOUND, FLOOR = 1e-10, 1e-18


def step_figure(n_qubits: int):
    """One time step of the circuit on ``n_qubits`` qubits, as Qiskit draws it: folded in two rows with 14 pt
    gate labels and 12 pt angle names, about 8 inches wide, shown unscaled."""
    figures.style()
    return build_step_block(n_qubits).draw("mpl", fold=11, scale=1.0, style={"fontsize": 14, "subfontsize": 12})


def step_values(n_qubits: int) -> dict[str, str]:
    """The caption's numbers (glue name: text): angles, qubits, memory qubits, controlled rotations."""
    return {"n_angles": str(n_angles(n_qubits)), "n_qubits": str(n_qubits), "n_memory": str(n_qubits // 2),
            "n_crx": str(n_qubits - 1)}


#: The engines set against Aer, as the page names them: the compiled kernel every training run uses, and its
#: PyTorch reference (both in complex128, the precision the tests' bound is for).
ENGINES = {"kernel": "compiled kernel", "torch": "PyTorch simulator"}


def agreement(n_qubits: int, steps: int, sequences: int, seed: int) -> list[dict]:
    """Random angles in (-pi, pi) through each engine of :data:`ENGINES` and through Aer, at 4, 6 and
    ``n_qubits`` qubits: per engine and size the largest difference of any step's outcome probability from
    Aer's, and the largest error of a step's total."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for n in sorted({4, 6, n_qubits}):
        angles = (2 * torch.rand(sequences, steps, n_angles(n), generator=g, dtype=torch.float64) - 1) * torch.pi
        aer = AerBackend(n)(angles)
        for engine, sim in (("kernel", KernelSimulator(n)), ("torch", TorchSimulator(n))):
            ours = sim(angles)
            rows.append({"engine": engine, "qubits": n, "sequences": sequences, "steps": steps,
                         "max_abs_difference": (ours - aer).abs().max().item(),
                         "max_row_sum_error": (ours.sum(-1) - 1).abs().max().item()})
    return rows


def agreement_figure(rows: list[dict]):
    """The largest difference per circuit size and engine as bars on a log axis, numbers on the bars, the
    tests' bound dashed."""
    figures.style()
    fig, ax = plt.subplots(figsize=(9, 4.6), layout="constrained")
    sizes = sorted({r["qubits"] for r in rows})
    engines = [e for e in ENGINES if any(r.get("engine", "torch") == e for r in rows)]
    width = 0.8 / len(engines)
    for k, e in enumerate(engines):
        mine = {r["qubits"]: r["max_abs_difference"] for r in rows if r.get("engine", "torch") == e}
        pos = [sizes.index(n) + (k - (len(engines) - 1) / 2) * width for n in mine]
        ax.bar(pos, [max(d, FLOOR) for d in mine.values()], color=f"C{k}", width=width * 0.9, label=ENGINES[e])
        for p, d in zip(pos, mine.values()):
            ax.text(p, max(d, FLOOR) * 2, f"{d:.0e}" if d else "0", ha="center", va="bottom", fontsize=figures.FONT - 2)
    ax.axhline(BOUND, color="k", ls="--", lw=1)
    ax.text(len(sizes) - 0.55, BOUND * 2, f"the tests' bound, {BOUND:.0e}", ha="right", va="bottom")
    ax.set(xticks=list(range(len(sizes))), xticklabels=[str(n) for n in sizes], yscale="log",
           ylim=(FLOOR / 10, BOUND * 1e3), xlim=(-0.5, len(sizes) - 0.5), xlabel="qubits in the circuit",
           ylabel="largest |p - p_Aer|\n(probability)")
    ax.legend(loc="upper left", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def agreement_table(rows: list[dict]) -> str:
    """The agreement per engine and circuit size (Markdown)."""
    return ("| engine | qubits | sequences x steps | largest difference from Aer | largest error of a step's total |\n"
            "|---|---:|---:|---:|---:|\n" + "\n".join(
                f"| {ENGINES[r.get('engine', 'torch')]} | {r['qubits']} | {r['sequences']} x {r['steps']} | "
                f"{r['max_abs_difference']:.1e} | {r['max_row_sum_error']:.1e} |" for r in rows))
