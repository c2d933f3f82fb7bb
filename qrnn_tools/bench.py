"""``python -m qrnn_study bench``: seconds per unit of work, all measured in one run.

Timings on shared machines drift, so every row is measured in the same process on the same random
inputs and reported beside ratios; the deck's published times (the original's, on an Apple M3 Max
CPU) are quoted for scale, not re-measured.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from qrnn_core import reference
from qrnn_core.provenance import provenance



@dataclass
class Row:
    """One measured line: ``seconds`` per ``unit`` (e.g. per circuit), from ``repeats`` timings."""

    group: str
    name: str
    seconds: float
    unit: str
    repeats: int
    circuits: int | None = None  # circuits evaluated per unit of work
    note: str = ""


def time_call(fn: Callable[[], object], repeats: int, min_seconds: float = 0.0) -> tuple[float, int]:
    """Median wall time of ``fn()`` over ``repeats`` calls (more while under ``min_seconds``), after
    one warm-up call."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def _inputs(seed: int):
    """The same random inputs for every row: 221 sequences of random angles, and one x sequence."""
    g = torch.Generator().manual_seed(seed)
    angles = (2 * torch.rand(221, 20, 55, generator=g, dtype=torch.float64) - 1) * torch.pi
    x = torch.rand(1, 20, generator=g, dtype=torch.float64)
    return angles, x


def _sync(x):
    if isinstance(x, torch.Tensor) and x.is_cuda:
        torch.cuda.synchronize()
    return x


def simulator_rows(part: str, repeats: int = 5, seed: int = 0, precisions=("complex128", "complex64"),
                   device: str = "cpu") -> list[Row]:
    """Seconds per 20-step circuit of the original's. ``part="torch"``: PyTorch at batch 1, 5, 221;
    ``part="aer"``: Aer exact and Aer with 1,024 shots, the original's way."""
    from qrnn_core.aer_backend import AerBackend
    from qrnn_core.simulator import TorchSimulator

    angles, _ = _inputs(seed)
    rows = []
    if part == "torch":
        for dtype in precisions:
            sim = TorchSimulator(8, dtype=getattr(torch, dtype), device=device)
            a = angles.to(sim.device)
            suffix = ("" if dtype == "complex128" else f", {dtype}") + ("" if sim.device.type == "cpu" else f" ({sim.device.type})")
            for batch, what in [(1, "a forward"), (5, "an SPSA update's circuits"), (221, "an FDSA update's circuits"),
                                (2210, "ten seeds' FDSA updates")][: 4 if sim.device.type == "cuda" else 3]:
                inputs = a.repeat(10, 1, 1) if batch == 2210 else a[:batch]
                seconds, n = time_call(lambda: _sync(sim(inputs)), repeats, min_seconds=0.5)
                rows.append(Row("simulator", f"PyTorch exact{suffix}, batch {batch}", seconds / batch, "circuit", n,
                                batch, what))
        return rows
    aer = AerBackend(8)
    seconds, n = time_call(lambda: aer(angles[:4]), max(1, repeats // 2))
    rows.append(Row("simulator", "Aer exact (density matrix), batch 4", seconds / 4, "circuit", n, 4))
    shots_gen = torch.Generator().manual_seed(seed + 1)
    seconds, n = time_call(lambda: aer(angles[:2], shots=1024, generator=shots_gen), 1)
    rows.append(
        Row("simulator", "Aer 1,024 shots, mid-circuit measurement (the original's way), batch 2", seconds / 2, "circuit", n, 2)
    )
    return rows


def update_rows(part: str, repeats: int = 5, full: bool = False, seed: int = 0, *, n_qubits: int = 8,
                device: str = "cpu", methods=("spsa", "fdsa", "exact", "parameter_shift"),
                min_seconds: float = 0.5, precisions=("complex128",)) -> list[Row]:
    """Seconds per training update (forward + backward) per estimator at the original's size:
    ``2 * n_angles`` quantum parameters (110 for 8 qubits), T = 20, batch 1.

    ``part="torch"``: ``methods`` on the PyTorch simulator (on ``device``); ``part="aer"``: SPSA
    and FDSA through Aer exact and SPSA with 1,024 shots (``device`` "CPU" or "GPU"; ``full``
    adds FDSA with 1,024 shots, which takes minutes)."""
    from qrnn_core.aer_backend import AerBackend
    from qrnn_core.quantum_layer import QuantumLayer
    from qrnn_core.simulator import TorchSimulator

    _, x = _inputs(seed)
    grad_out = torch.randn(1, 20, 2 ** (n_qubits // 2), generator=torch.Generator().manual_seed(seed),
                           dtype=torch.float64)

    def update_row(backend, label, estimator, repeats, shots=None):
        shot_gen = torch.Generator(getattr(backend, "device", "cpu") if part == "torch" else "cpu")
        layer = QuantumLayer(
            backend, estimator, shots=shots,
            generator=torch.Generator().manual_seed(seed + 1),
            shot_generator=shot_gen.manual_seed(seed + 2),
            init_generator=torch.Generator().manual_seed(seed + 3),
        )
        xs, gs = x.to(layer.weight.device), grad_out

        def update():
            layer.zero_grad()
            (layer(xs) * gs.to(layer.weight.device)).sum().backward()

        seconds, n = time_call(update, repeats, min_seconds=min_seconds if repeats > 1 else 0.0)
        circuits = 1 + layer.costs[-1].circuits if estimator != "exact" else 1
        return Row("update", f"{estimator} | {label}", seconds, "update", n, circuits,
                   f"{n_qubits} qubits, {2 * layer.n_angles} parameters")

    if part == "torch":
        rows = []
        for dtype in precisions:
            sim = TorchSimulator(n_qubits, device=device, dtype=getattr(torch, dtype))
            label = ("PyTorch exact" + ("" if dtype == "complex128" else f", {dtype}")
                     + ("" if sim.device.type == "cpu" else f" ({sim.device.type})"))
            rows += [update_row(sim, label, name, repeats if name != "parameter_shift" else max(1, repeats // 2))
                     for name in methods]
        return rows
    aer = AerBackend(n_qubits, device=device if device != "cpu" else "CPU")
    suffix = "" if aer.device == "CPU" else " (GPU)"
    rows = [
        update_row(aer, "Aer exact" + suffix, "spsa", 1),
        update_row(aer, "Aer 1,024 shots" + suffix, "spsa", 1, shots=1024),
        update_row(aer, "Aer exact" + suffix, "fdsa", 1),
    ]
    if full:
        rows.append(update_row(aer, "Aer 1,024 shots" + suffix, "fdsa", 1, shots=1024))
    return rows


def epoch_rows(methods=("spsa", "exact", "fdsa"), seed: int = 1929, precision: str = "complex64",
               device: str = "cpu") -> list[Row]:
    """Seconds per training epoch (1,384 updates, the deck's protocol, exact probabilities) and its split:
    the updates, the validation (both protocols, exact and 1,024 shots) and the saving, in shares."""
    import tempfile

    from qrnn_core.train import TrainConfig, train

    rows = []
    for method in methods:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"  one {method} epoch ({precision}, {device}) ...", flush=True)
            metrics = train(TrainConfig(method=method, epochs=1, seed=seed, precision=precision, device=device),
                            tmp, progress=False)
        upd, val, save = metrics["epoch_seconds"][0], metrics["val_seconds"][0], metrics["save_seconds"][0]
        total = upd + val + save
        # The engine a default TrainConfig trains on: the compiled kernel on the CPU, the PyTorch simulator on a GPU.
        label = "kernel" if device == "cpu" else f"PyTorch exact ({device})"
        rows.append(Row("epoch", f"{method} | {label}", total, "epoch", 1, metrics["circuits"][0],
                        f"{precision}; updates {upd / total:.1%}, validation {val / total:.1%}, "
                        f"saving {save / total:.1%}"))
    return rows


def _default_backend(n_qubits: int = 8, precision: str = "complex64"):
    """The backend a default TrainConfig builds (the kernel), at this size and precision."""
    from qrnn_core.train import TrainConfig, build_model

    model, _ = build_model(TrainConfig(n_qubits=n_qubits, precision=precision))
    return model.quantum.backend


def _layer_update(backend, estimator: str, x, grad_out, seed: int = 0):
    """A callable running one update (forward + backward) of a fresh QuantumLayer on ``backend``."""
    from qrnn_core.quantum_layer import QuantumLayer

    layer = QuantumLayer(backend, estimator, generator=torch.Generator().manual_seed(seed + 1),
                         init_generator=torch.Generator().manual_seed(seed + 3))

    def run():
        layer.zero_grad()
        (layer(x) * grad_out).sum().backward()

    return run


def kernel_rows(repeats: int = 5, seed: int = 0, precision: str = "complex64", aer: bool = True) -> list[Row]:
    """The default engine (the kernel a default ``TrainConfig`` builds) beside ONE Aer exact
    density-matrix circuit timed in the same run (8 qubits, 20 steps): a circuit at batch 1, and an
    SPSA, FDSA and exact (adjoint) update of one window."""
    angles, x = _inputs(seed)
    backend = _default_backend(8, precision)
    name = f"{type(backend).__name__} ({precision})"
    g = torch.randn(1, 20, backend.n_outcomes, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    rows = []
    seconds, n = time_call(lambda: backend(angles[:1]), repeats, min_seconds=0.5)
    rows.append(Row("kernel", f"{name}: one circuit, batch 1", seconds, "circuit", n, 1))
    for est, circuits in (("spsa", 5), ("fdsa", 221), ("exact", 1)):
        seconds, n = time_call(_layer_update(backend, est, x, g, seed), repeats, min_seconds=0.5)
        rows.append(Row("kernel", f"{name}: {est} update", seconds, "update", n, circuits))
    if aer:
        from qrnn_core.aer_backend import AerBackend

        aer_backend = AerBackend(8)
        seconds, n = time_call(lambda: aer_backend(angles[:1]), max(1, repeats // 2))
        rows.append(Row("kernel", "Aer exact (density matrix): one circuit", seconds, "circuit", n, 1))
    return rows


#: The kernel's targets, as a fraction of one Aer exact circuit's time measured in the same run.
KERNEL_TARGETS = {"one circuit, batch 1": 1 / 400, "fdsa update": 0.15, "exact update": 1 / 60}


def kernel_targets(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """Each kernel row as a ratio to the one Aer exact circuit, against its target where it has one."""
    aer = next((r.seconds for r in rows if r.group == "kernel" and r.name.startswith("Aer exact")), None)
    out = []
    for r in rows:
        if r.group != "kernel" or aer is None or r.name.startswith("Aer"):
            continue
        what = r.name.split(": ", 1)[1]
        limit = KERNEL_TARGETS.get(what)
        ratio = r.seconds / aer
        out.append((f"{r.name} / one Aer exact circuit" + (f" ≤ {limit:.4g}" if limit else ""),
                    limit is None or ratio <= limit, f"{ratio:.4g} ({_fmt_seconds(r.seconds)})"))
    return out


#: The noisy engine's target (issue 29): one noisy circuit at most this many times one noiseless one.
NOISY_TARGET = 3.0


def noisy_rows(repeats: int = 9, seed: int = 0, precision: str = "complex64", backend: str = "FakeMarrakesh",
               scale: float = 1.0, batches=(1, 221), n_qubits: int = 8) -> list[Row]:
    """The noisy engine (:class:`~qrnn_core.noisy_kernel.NoisyKernelSimulator`, every noise source of
    ``backend`` at ``scale``) beside the noiseless kernel, in pairs of rows (noiseless, noisy): per
    20-step circuit at each batch (1: a forward; 221: an FDSA update's circuits), then the exact
    gradient of one circuit (the adjoint sweeps, ``vjp``). The two of a pair are timed in
    alternation, so that both see the same load; each noisy row's note is the median of the
    alternations' ratios."""
    from qrnn_core.kernel import KernelSimulator
    from qrnn_core.noisy_kernel import NoisyKernelSimulator

    dtype = getattr(torch, precision)
    engines = (KernelSimulator(n_qubits, dtype=dtype), NoisyKernelSimulator.on(backend, n_qubits, scale=scale, dtype=dtype))
    g = torch.Generator().manual_seed(seed)
    angles = (2 * torch.rand(max(batches), 20, engines[1].n_angles, generator=g, dtype=torch.float64) - 1) * torch.pi
    grad = torch.randn(1, 20, engines[1].n_outcomes, generator=g, dtype=torch.float64)
    work = [(f"batch {b}", b, lambda e, a=angles[:b]: e(a)) for b in batches]
    work.append(("exact gradient (adjoint), batch 1", 1, lambda e: e.vjp(angles[:1], grad)))
    labels = (f"KernelSimulator ({precision})", f"NoisyKernelSimulator ({backend}, s={scale:g}, {precision})")
    rows = []
    for what, batch, run in work:
        for e in engines:
            run(e)  # warm: each loads its compiled code
        pairs = []
        for _ in range(repeats):
            times = []
            for e in engines:
                t0 = time.perf_counter()
                run(e)
                times.append(time.perf_counter() - t0)
            pairs.append(times)
        seconds = [statistics.median(p[i] for p in pairs) / batch for i in (0, 1)]
        ratio = statistics.median(p[1] / p[0] for p in pairs)
        rows.append(Row("noisy", f"{labels[0]}, {what}", seconds[0], "circuit", repeats, batch, f"{n_qubits} qubits, noiseless"))
        rows.append(Row("noisy", f"{labels[1]}, {what}", seconds[1], "circuit", repeats, batch,
                        f"median ratio of the alternations {ratio:.2f}"))
    return rows


def noisy_targets(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """Each noisy row of :func:`noisy_rows` as a ratio to the noiseless row before it; the circuits'
    against :data:`NOISY_TARGET` (the gradient's is reported, with no target)."""
    noisy = [r for r in rows if r.group == "noisy"]
    out = []
    for plain, r in zip(noisy[::2], noisy[1::2]):
        what = r.name.split("), ", 1)[1]
        ratio = r.seconds / plain.seconds
        limit = NOISY_TARGET if what.startswith("batch") else None
        out.append((f"noisy / noiseless, {what}" + (f" ≤ {limit:g}" if limit else ""), limit is None or ratio <= limit,
                    f"{ratio:.2f} ({_fmt_seconds(r.seconds)} vs {_fmt_seconds(plain.seconds)} a circuit)"))
    return out


def _peak_rss_growth(fn) -> tuple[object, int]:
    """``fn()`` and the growth of the process's peak resident memory while it ran (bytes; Linux:
    the peak is reset through /proc/self/clear_refs first, so earlier peaks do not hide it)."""
    def status(key):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
        return 0
    try:
        Path("/proc/self/clear_refs").write_text("5")
        base = status("VmRSS:")
    except OSError:
        return fn(), -1
    out = fn()
    return out, max(0, status("VmHWM:") - base)


def scaling_rows(ns=(2, 4, 6, 8, 10, 12), aer_max: int = 8, precision: str = "complex64", seed: int = 0) -> list[dict]:
    """Per qubit count: seconds per circuit (batch 5) and per FDSA update (one window, 20 steps), and
    the peak memory growth of the FDSA update, for the kernel, PyTorch and Aer (exact; Aer only up to
    ``aer_max`` qubits: beyond, one FDSA update takes minutes)."""
    from qrnn_core.aer_backend import AerBackend
    from qrnn_core.kernel import KernelSimulator
    from qrnn_core.simulator import TorchSimulator

    dtype = getattr(torch, precision)
    out = []
    for n in ns:
        gen = torch.Generator().manual_seed(seed)
        engines = [("kernel", KernelSimulator(n, dtype=dtype)), ("torch", TorchSimulator(n, dtype=dtype))]
        if n <= aer_max:
            engines.append(("aer", AerBackend(n)))
        for name, sim in engines:
            A, R = sim.n_angles, 2 ** (n // 2)
            angles = (2 * torch.rand(5, 20, A, generator=gen, dtype=torch.float64) - 1) * torch.pi
            x = torch.rand(1, 20, generator=gen, dtype=torch.float64)
            g = torch.randn(1, 20, R, generator=gen, dtype=torch.float64)
            reps = 1 if name == "aer" else 3
            per_circuit, _ = time_call(lambda: sim(angles), reps)
            update = _layer_update(sim, "fdsa", x, g, seed)
            if name != "aer":
                update()  # warm: the kernel's first call loads its compiled code (Aer compiles nothing)
            start = time.perf_counter()
            _, peak = _peak_rss_growth(update)
            fdsa = time.perf_counter() - start  # Aer's one timed update (seconds to minutes each)
            if name != "aer":
                fdsa, _ = time_call(update, 1)
            out.append({"qubits": n, "engine": name, "seconds_per_circuit": per_circuit / 5,
                        "seconds_per_fdsa_update": fdsa, "fdsa_circuits": 1 + 4 * A, "peak_bytes": peak})
    return out


#: The deck's published seconds on the CPU (Apple M3 Max) for the same unit of work.
DECK_REFERENCE = {
    ("update", "spsa"): reference.SECONDS_PER_UPDATE["SPSA, CPU"],
    ("update", "fdsa"): reference.SECONDS_PER_UPDATE["FDSA, CPU"],
    ("epoch", "spsa"): reference.HOURS_PER_EPOCH["SPSA, CPU"] * 3600.0,
    ("epoch", "fdsa"): reference.HOURS_PER_EPOCH["FDSA, CPU"] * 3600.0,
}


def _ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def _fmt_seconds(s: float) -> str:
    if s >= 120:
        return f"{s / 60:.1f} min"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} us"


def tables(rows: list[Row]) -> list[tuple[list[str], list[list[str]]]]:
    """The report's tables, each ``(header, rows)`` of strings, for the terminal and Markdown."""
    out = []
    kern = [r for r in rows if r.group == "kernel"]
    aer_one = next((r.seconds for r in kern if r.name.startswith("Aer exact")), None)
    if kern:
        out.append((["default engine, 8 qubits, T=20", "circuits", "time", "/ one Aer exact circuit"],
                    [[r.name, f"{r.circuits:,}", _fmt_seconds(r.seconds),
                      f"{r.seconds / aer_one:.4g}" if aer_one else "-"] for r in kern]))
    noisy = [r for r in rows if r.group == "noisy"]
    if noisy:
        out.append((["device noise on the engine, T=20", "circuits", "time a circuit", "note"],
                    [[r.name, f"{r.circuits:,}", _fmt_seconds(r.seconds), r.note] for r in noisy]))
    sim = [r for r in rows if r.group == "simulator"]
    if sim:
        aer_exact = next((r.seconds for r in sim if r.name.startswith("Aer exact")), None)
        aer_shots = next((r.seconds for r in sim if r.name.startswith("Aer 1,024")), None)
        out.append((
            ["per 20-step circuit", "time", "vs Aer exact", "vs Aer shots"],
            [[r.name, _fmt_seconds(r.seconds), _ratio(aer_exact and aer_exact / r.seconds),
              _ratio(aer_shots and aer_shots / r.seconds)] for r in sim],
        ))
    for group, title, circuits in (
            ("update", "update (forward + backward), T=20, batch 1", "circuits"),
            ("epoch", f"epoch ({reference.UPDATES_PER_EPOCH:,} updates)", "circuits (training + validation)")):
        grp = [r for r in rows if r.group == group]
        if not grp:
            continue
        aer = {r.name.split(" | ")[0]: r.seconds for r in grp if r.name.endswith("| Aer exact")}
        body = []
        for r in grp:
            est = r.name.split(" | ")[0]
            deck = DECK_REFERENCE.get((group, est))
            body.append([r.name.replace(" | ", ", "), f"{r.circuits:,}", _fmt_seconds(r.seconds),
                         _fmt_seconds(deck) if deck else "-", _ratio(deck and deck / r.seconds),
                         _ratio(aer[est] / r.seconds if est in aer else None)])
        out.append(([title, circuits, "time", f"deck ({reference.MACHINES['CPU']} CPU)", "vs deck", "vs Aer exact"],
                    body))
    return out


def table_notes(rows: list[Row]) -> list[str]:
    """What the tables need said in words: what an epoch row's circuits count, and any update that is
    slower in complex64 than in complex128 (measured, not explained)."""
    notes = []
    per_update = {r.name.split(" | ")[0]: r.circuits for r in rows if r.group == "update"}  # by estimator: any engine
    splits = [f"{r.name.replace(' | ', ', ')}: {reference.UPDATES_PER_EPOCH:,} updates x {per_update[est]:,} = "
              f"{reference.UPDATES_PER_EPOCH * per_update[est]:,} in training and "
              f"{r.circuits - reference.UPDATES_PER_EPOCH * per_update[est]:,} in validation"
              for r in rows if r.group == "epoch" and r.circuits and per_update.get(est := r.name.split(" | ")[0])]
    if splits:
        notes.append("An epoch row's circuits are every circuit the epoch ran, its updates' and the validation's "
                     "after it (" + "; ".join(splits) + "). Validation runs each circuit of both protocols once, "
                     "the long sequence and every window, with exact probabilities; its shot-noise scores are "
                     "sampled from those probabilities and add no circuit.")
    timed = sorted({r.name.split(" | ")[0] for r in rows if r.group == "epoch"} & {e for g, e in DECK_REFERENCE if g == "epoch"})
    if timed:  # the deck's two tables disagree: say so beside the two "vs deck" columns
        U = reference.UPDATES_PER_EPOCH
        notes.append("The deck's epoch table is not its update time x " f"{U:,}: "
                     + "; ".join(f"{e.upper()} {DECK_REFERENCE[('update', e)]:g} s x {U:,} = "
                                 f"{DECK_REFERENCE[('update', e)] * U / 3600:.2f} h against its table's "
                                 f"{DECK_REFERENCE[('epoch', e)] / 3600:g} h" for e in timed)
                     + ". So an epoch row's \"vs deck\" differs from its update row's by that factor, besides "
                     "what an epoch adds to its updates here (validation, saving).")
    # Each update row against its complex128 twin (same estimator, backend and device).
    single = {tuple(r.name.split(" | ")): r.seconds for r in rows if r.group == "update"}
    twins = {(est, label): (t64, single[(est, label.replace(", complex64", ""))]) for (est, label), t64 in single.items()
             if ", complex64" in label and (est, label.replace(", complex64", "")) in single}
    for (est, label), (t64, t128) in twins.items():
        if t64 <= t128:
            continue
        faster = sorted(e for (e, l), (a, b) in twins.items() if l == label and a < b)
        notes.append(
            f"The {est} update ({label.replace(', complex64', '')}) is slower in complex64 ({_fmt_seconds(t64)}) "
            f"than in complex128 ({_fmt_seconds(t128)})"
            + (f", unlike the {', '.join(faster[:-1]) + ' and ' if len(faster) > 1 else ''}{faster[-1]} "
               f"update{'s' if len(faster) > 1 else ''}" if faster else "")
            + (": it is the one update timed through a backward pass of the simulator (autograd) rather than "
               "forward passes only. " if est == "exact" else ". ")
            + "This is measured here, not explained.")
    return notes


def targets_of(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """Every speed target set for this study that these rows can check: (what, met, measured)."""
    # complex128 rows (the epoch rows are complex64 only: they are checked below, not here)
    named = {(r.group, r.name.split(" | ")[0]): r for r in rows if r.name.endswith("| PyTorch exact")
             and "complex64" not in r.note}
    out = []
    sim = {r.circuits: r.seconds for r in rows if r.group == "simulator" and r.name.startswith("PyTorch")}
    aer_exact = next((r.seconds for r in rows if r.name.startswith("Aer exact")), None)
    aer_shots = next((r.seconds for r in rows if r.name.startswith("Aer 1,024")), None)
    if 221 in sim:
        out.append(("batch 221: ≤ 1 ms per circuit", sim[221] <= 1e-3, _fmt_seconds(sim[221])))
        if aer_exact:
            out.append(("batch 221: ≥ 100x faster than Aer exact", aer_exact / sim[221] >= 100, _ratio(aer_exact / sim[221])))
        if aer_shots:
            out.append(("batch 221: ≥ 500x faster than Aer shots", aer_shots / sim[221] >= 500, _ratio(aer_shots / sim[221])))
    if 5 in sim:
        out.append(("batch 5: ≤ 10 ms for all five", sim[5] * 5 <= 10e-3, _fmt_seconds(sim[5] * 5)))
    limits = {("update", "spsa"): 10e-3, ("update", "fdsa"): 0.25, ("update", "exact"): 15e-3,
              ("update", "parameter_shift"): 3.0, ("epoch", "spsa"): 15.0, ("epoch", "exact"): 30.0,
              ("epoch", "fdsa"): 360.0}
    for (group, est), limit in limits.items():
        if (group, est) in named:
            t = named[(group, est)].seconds
            out.append((f"{est} {group} ≤ {_fmt_seconds(limit)}", t <= limit, _fmt_seconds(t)))
    # complex64 (the paper profile's precision): the targets for the precision the study trains in
    single = {(r.group, r.name.split(" | ")[0]): r.seconds for r in rows if r.name.endswith("PyTorch exact, complex64")}
    epochs = {r.name.split(" | ")[0]: r.seconds for r in rows if r.group == "epoch" and "complex64" in r.note
              and r.name.endswith(("| kernel", "| PyTorch exact"))}
    if ("update", "fdsa") in single:
        t = single[("update", "fdsa")]
        out.append(("fdsa update, complex64 ≤ 55 ms", t <= 0.055, _fmt_seconds(t)))
        if ("update", "fdsa") in named:
            r = named[("update", "fdsa")].seconds / t
            out.append(("fdsa update: complex64 at least 1.8x faster than complex128", r >= 1.8, _ratio(r)))
    for est, limit in (("fdsa", 75.0), ("spsa", 6.0), ("exact", 15.0)):
        if est in epochs:
            out.append((f"{est} epoch, complex64 ≤ {_fmt_seconds(limit)}", epochs[est] <= limit,
                        _fmt_seconds(epochs[est])))
    return out


def _text_table(header, body) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([fmt(header)] + [fmt(r) for r in body])


def markdown_tables(rows: list[Row], targets: list[tuple[str, bool, str]]) -> str:
    """The rows' tables and the targets they check, as Markdown."""
    lines = []
    for header, body in tables(rows):
        lines += ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
        lines += ["| " + " | ".join(r) + " |" for r in body] + [""]
    lines += [f"{note}\n" for note in table_notes(rows)]
    lines += ["**Speed targets set for this study.** Before its trainings ran, the study set itself these times "
              "for its simulator, so that the paper profile (every arm, every seed, the deck's full protocol) "
              "would fit in the compute of a 2-core machine; they check this implementation, not the deck's "
              "claims. They assume a quiet 2-core machine; the page's banner gives the machine and its load "
              "while it was timed.", "",
              "| target | measured | met |", "| --- | ---: | :---: |"]
    lines += [f"| {what} | {measured} | {'yes' if met else 'no'} |" for what, met, measured in targets]
    return "\n".join(lines) + "\n"


def markdown_report(report: dict) -> str:
    """A report's tables and targets as Markdown, with the machine, versions and commit."""
    rows = [Row(**r) for r in report["rows"]]
    targets = [(t["target"], t["met"], t["measured"]) for t in report["targets"]]
    m, v = report["machine"], report["versions"]
    return markdown_tables(rows, targets) + (
        f"\nMeasured on {m['cpu']} ({m['cores']} cores, {m['torch_threads']} torch threads), "
        f"torch {v.get('torch')}, qiskit {v.get('qiskit')}, "
        f"qiskit-aer {v.get('qiskit-aer', v.get('qiskit-aer-gpu'))}, git commit `{report['git_commit']}`.\n"
    )


def gpu_rows(repeats: int = 5) -> list[Row]:
    """The GPU benchmark: PyTorch CUDA complex64 and complex128 at batch 1, 5, 221 and 221 x 10 seeds,
    an update per estimator, Aer GPU exact and with shots, and an FDSA epoch on the GPU."""
    if not torch.cuda.is_available():
        raise SystemExit("bench --gpu: no CUDA device here (torch.cuda.is_available() is False); "
                         "run it on a machine with an NVIDIA GPU (make gpu-check)")
    rows = simulator_rows("torch", repeats, device="cuda")
    rows += update_rows("torch", repeats, device="cuda", precisions=("complex128", "complex64"))
    rows += epoch_rows(("fdsa",), device="cuda")
    from qrnn_core.aer_backend import aer_devices

    if "GPU" in aer_devices():
        rows += update_rows("aer", 1, device="GPU")
    return rows


def main(json_path: str | None = None, repeats: int = 5, full: bool = False,
         sections=("kernel", "simulator", "update", "epoch"), gpu: bool = False) -> dict:
    print(f"QRNN benchmark on {provenance()['machine']['cpu']} "
          f"({torch.get_num_threads()} torch threads)\n", flush=True)
    # Every PyTorch row is timed before Aer first runs: once Aer's OpenMP pool exists in the
    # process, PyTorch's small two-thread operations were measured 2-3x slower on 2-core machines.
    rows: list[Row] = []
    if gpu:
        rows += gpu_rows(repeats)
        sections = set()
    if "simulator" in sections:
        rows += simulator_rows("torch", repeats)
    if "update" in sections:
        rows += update_rows("torch", repeats, precisions=("complex128", "complex64"))
    if "epoch" in sections:
        rows += epoch_rows(precision="complex128") + epoch_rows(precision="complex64")
    if "kernel" in sections:
        rows += kernel_rows(repeats)
    if "noisy" in sections:  # opt-in: main(sections={"noisy"})
        rows += noisy_rows(repeats)
    if sections & {"simulator", "update"}:
        print("timing Aer ...", flush=True)
    if "simulator" in sections:
        rows += simulator_rows("aer", repeats)
    if "update" in sections:
        rows += update_rows("aer", repeats, full)
    rows.sort(key=lambda r: ["kernel", "noisy", "simulator", "update", "epoch"].index(r.group))
    for header, body in tables(rows):
        print("\n" + _text_table(header, body))
    targets = targets_of(rows) + kernel_targets(rows) + noisy_targets(rows)
    print()
    for what, met, measured in targets:
        print(f"  [{'met' if met else 'MISSED'}] {what}: {measured}")
    report = {
        "rows": [asdict(r) for r in rows],
        "targets": [{"target": w, "met": m, "measured": v} for w, m, v in targets],
        "deck_reference_seconds": {f"{est} {group}": v for (group, est), v in DECK_REFERENCE.items()},
        **provenance(),
    }
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))
        path.with_suffix(".md").write_text(markdown_report(report))
        print(f"\nwrote {path} and {path.with_suffix('.md')}")
    return report
