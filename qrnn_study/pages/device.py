"""The "On a device" page: the seed circuit on a calibrated IBM device model, what each noise source does to
the per-step readout, the study's engine against Aer on it, and what training costs in QPU time.

Pure functions over :mod:`qrnn_core.device` (the noise model of a ``qiskit-ibm-runtime`` fake backend),
:mod:`qrnn_core.noisy_kernel` (the study's engine under that noise) and :mod:`qrnn_core.qpu` (QPU time, and
one update's circuits as ``SamplerV2`` PUBs run in local testing mode). Every number is computed here.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import matplotlib.pyplot as plt
import numpy as np

from qrnn_core import reference
from qrnn_core.circuit import n_angles
from qrnn_core.device import device_noise, noise_source_table
from qrnn_core.noisy_kernel import engine_probabilities
from qrnn_core.qpu import chi_square, qpu_time_table, run_local, update_pubs

from .. import figures
from ..words import count

#: The estimators of the QPU table, as the page names them (qrnn_core.qpu.ESTIMATOR_RUNS' labels).
ESTIMATOR_WORDS = {"spsa": "SPSA corrected", "spsa (as originally run)": "SPSA as originally run", "fdsa": "FDSA",
                   "parameter_shift": "parameter-shift", "exact": "exact gradient (simulator only)"}


@dataclass(frozen=True)
class NoiseSources:
    """What each noise source does alone and together: ``rows`` of ``noise``, ``engine`` and ``aer`` (the
    mean over steps of the total-variation distance of the per-step distributions from the noiseless ones,
    by the study's engine and by Aer's density matrix), with the run's settings and timings."""

    backend: str
    n_qubits: int
    steps: int
    seed: int
    rows: list[dict]
    engine_seconds: float
    aer_seconds: float

    @property
    def largest_difference(self) -> float:
        return max(abs(r["engine"] - r["aer"]) for r in self.rows)


def noise_sources(backend: str, n_qubits: int, steps: int, seed: int) -> NoiseSources:
    """:func:`qrnn_core.device.noise_source_table` by the engine and by Aer, on the same random angles
    (``numpy`` generator seeded with ``seed``, one each: the tables draw the same angles and shots)."""
    t0 = time.perf_counter()
    engine = noise_source_table(backend, n_qubits, steps, generator=np.random.default_rng(seed),
                                probabilities=engine_probabilities)
    t1 = time.perf_counter()
    aer = noise_source_table(backend, n_qubits, steps, generator=np.random.default_rng(seed))
    t2 = time.perf_counter()
    rows = [{"noise": e["noise"], "engine": e["mean_tvd"], "aer": a["mean_tvd"]} for e, a in zip(engine, aer)]
    return NoiseSources(backend, n_qubits, steps, seed, rows, t1 - t0, t2 - t1)


def noise_table(ns: NoiseSources) -> str:
    """Markdown: each noise source's mean TVD by the engine and by Aer (the last row: shot noise, for scale)."""
    lines = ["| noise | mean TVD, engine | mean TVD, Aer |", "|---|---:|---:|"]
    lines += [f"| {r['noise']} | {r['engine']:.5f} | {r['aer']:.5f} |" for r in ns.rows]
    return "\n".join(lines)


def calibration(backend: str, n_qubits: int) -> dict[str, str]:
    """The calibration figures the page quotes, formatted: the layout, the median T1 and T2 of its qubits,
    and the measure and reset durations (the memory qubits' idle time each step)."""
    noise = device_noise(backend, n_qubits)
    q = noise.qubits
    median = (lambda xs: float(np.median(xs)))
    return {"dev_backend": backend, "dev_layout": ", ".join(map(str, noise.layout)),
            "dev_t1_us": f"{median([c.t1 for c in q]) * 1e6:.0f}", "dev_t2_us": f"{median([c.t2 for c in q]) * 1e6:.0f}",
            "dev_measure_us": f"{max(c.measure for c in q) * 1e6:.2f}", "dev_reset_us": f"{max(c.reset for c in q) * 1e6:.2f}"}


def qpu_rows(backends: tuple[str, ...], n_qubits: int, rep_delay: float | None = None) -> list[dict]:
    """:func:`qrnn_core.qpu.qpu_time_table` for ``backends`` (the deck's protocol: 1,024 shots, 1,384 updates an
    epoch, 10 epochs), each estimator named as the page names it."""
    return [r | {"estimator": ESTIMATOR_WORDS[r["estimator"]]}
            for r in qpu_time_table(tuple(backends), n_qubits, rep_delay=rep_delay)]


def hours(h: float | None) -> str:
    if h is None:
        return "cannot run on a device"
    return f"{h * 60:.1f} min" if h < 1 else f"{h:,.1f} h" if h < 48 else f"{h / 24:,.1f} days"


def qpu_table(rows: list[dict]) -> str:
    """Markdown: per backend and estimator, one circuit's duration, circuits per update, QPU time per update,
    per epoch and per 10-epoch run."""
    lines = ["| device | estimator | circuit | circuits an update | an update | an epoch | a 10-epoch run |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        update = "-" if r["update_s"] is None else f"{r['update_s']:.1f} s"
        circuits = "-" if r["circuits"] is None else f"{r['circuits']:,}"
        lines.append(f"| {r['backend']} | {r['estimator']} | {r['circuit_s'] * 1e6:.0f} µs | {circuits} | {update} "
                     f"| {hours(r['epoch_h'])} | {hours(r['run_h'])} |")
    return "\n".join(lines)


def deck_hours() -> dict[str, float]:
    """The deck's simulator hours per epoch (its CPU figures), for the page to set beside the QPU's."""
    return {k: v for k, v in reference.HOURS_PER_EPOCH.items() if "CPU" in k}


def qpu_figure(rows: list[dict]):
    """QPU hours per epoch (log axis) for each estimator that runs on a device, one bar per backend; the
    deck's simulator hours per epoch as vertical lines, named in the legend below. Returns the figure."""
    figures.style()
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    names = list(dict.fromkeys(r["estimator"] for r in rows if r["epoch_h"] is not None))
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.9 * len(names)), layout="constrained")
    height = 0.8 / max(len(backends), 1)
    for k, b in enumerate(backends):
        by = {r["estimator"]: r["epoch_h"] for r in rows if r["backend"] == b}
        y = np.arange(len(names)) + (k - (len(backends) - 1) / 2) * height
        ax.barh(y, [by.get(n) or np.nan for n in names], height=height * 0.95, color=f"C{k}", label=b)
    for (label, h), style in zip(deck_hours().items(), (":", "--", "-.")):
        ax.axvline(h, color="k", ls=style, lw=1.5, label=f"the deck's simulator: {label}")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set(xscale="log", xlabel="QPU hours per training epoch (log axis)")
    ax.grid(alpha=0.3, axis="x")
    fig.legend(loc="outside lower center", ncol=2, frameon=False)  # below the axes: never over a bar
    return fig


#: The noise that qiskit-ibm-runtime's local testing mode simulates (Aer's ``NoiseModel.from_backend``): no
#: idle noise of the memory qubits while the readout qubits are measured and reset (no delays scheduled).
LOCAL_MODE_NOISE = ("gates", "relaxation", "readout", "reset")


@dataclass(frozen=True)
class LocalRun:
    """One update's circuits as PUBs, run in ``qiskit-ibm-runtime``'s local testing mode on the fake backend:
    Pearson's chi-square test of their counts against the engine's per-step distributions of the noise that
    mode simulates (``p_value``, ``statistic``, ``dof``), and against the engine's full model, idle noise
    included (``p_full``), which the mode leaves out."""

    backend: str
    n_qubits: int
    steps: int
    circuits: int
    shots: int
    statistic: float
    dof: int
    p_value: float
    p_full: float


def local_run(backend: str, n_qubits: int, steps: int, seed: int, circuits: int = 3, shots: int = 1024) -> LocalRun:
    """``circuits`` random-angle circuits of ``steps`` steps as PUBs (:func:`qrnn_core.qpu.update_pubs`), run
    locally with the simulator seeded by ``seed``; their counts against the engine's distributions."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(-np.pi, np.pi, (circuits, steps, n_angles(n_qubits)))
    counts = run_local(update_pubs(angles, backend=backend, shots=shots), backend=backend, seed=seed)[0]
    noise = device_noise(backend, n_qubits)
    local = np.stack([engine_probabilities(noise.only(*LOCAL_MODE_NOISE), a) for a in angles])
    full = np.stack([engine_probabilities(noise, a) for a in angles])
    test = chi_square(counts, local)
    return LocalRun(backend, n_qubits, steps, circuits, shots, test["statistic"], test["dof"], test["p_value"],
                    chi_square(counts, full)["p_value"])


def values(ns: NoiseSources, qpu: list[dict], local: LocalRun | None) -> dict[str, str]:
    """What the prose glues: the noise table's headline figures, the engine's agreement and speed against
    Aer, the QPU hours of an epoch per estimator on the first backend, and the local run's test."""
    first = {r["noise"]: r["engine"] for r in ns.rows}
    shots = next(v for k, v in first.items() if k.endswith("shots, noiseless"))
    b0 = qpu[0]["backend"]
    epoch = {r["estimator"]: r["epoch_h"] for r in qpu if r["backend"] == b0}
    out = {"dev_all_tvd": f"{first['all']:.4f}", "dev_shots_tvd": f"{shots:.4f}",
           "dev_agree": f"{ns.largest_difference:.1e}", "dev_n": str(ns.n_qubits), "dev_steps": str(ns.steps),
           "dev_qpu_backend": b0, "dev_rep_delay_us": f"{qpu[0]['rep_delay_s'] * 1e6:.0f}",
           "dev_spsa_epoch": hours(epoch.get("SPSA corrected")), "dev_fdsa_epoch": hours(epoch.get("FDSA")),
           "dev_ps_epoch": hours(epoch.get("parameter-shift"))}
    if local is not None:
        out |= {"dev_local_circuits": count(local.circuits, "circuit"), "dev_local_p": f"{local.p_value:.2f}",
                "dev_local_chi2": f"{local.statistic:.0f}", "dev_local_dof": str(local.dof),
                "dev_local_p_full": f"{local.p_full:.2g}", "dev_local_n": str(local.n_qubits),
                "dev_local_steps": str(local.steps), "dev_local_shots": f"{local.shots:,}",
                "dev_local_full_words": ("at this size the idle noise it leaves out is within shot noise"
                                         if local.p_full >= 0.05 else
                                         "a hint, from one test of this few circuits, that the idle noise it leaves "
                                         "out shows in the counts")}
    return out


def record(ns: NoiseSources, qpu: list[dict], local: LocalRun | None) -> dict:
    """The page's results as JSON (``device.json``)."""
    return {"noise_sources": asdict(ns), "qpu": qpu, "local_run": None if local is None else asdict(local)}

