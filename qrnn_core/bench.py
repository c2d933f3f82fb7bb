"""``python -m qrnn_core bench``: seconds per unit of work, all measured in one run.

Timings on shared machines drift, so every row is measured in the same process on the same random
inputs and reported beside ratios; the seed's published times are the deck's (Apple M3 Max CPU,
2 x A100 GPU), quoted for scale, not re-measured.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .provenance import provenance

#: Seconds per update the seed's code took (reference.md).
SEED_SECONDS = {"spsa_update_cpu": 1.2, "fdsa_update_gpu": 18.0, "fdsa_update_cpu": 39.58}


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
    g = torch.Generator().manual_seed(seed)
    angles = (2 * torch.rand(221, 20, 55, generator=g, dtype=torch.float64) - 1) * torch.pi
    x = torch.rand(1, 20, generator=g, dtype=torch.float64)
    grad_out = torch.randn(1, 20, 16, generator=g, dtype=torch.float64)
    return angles, x, grad_out


def simulator_rows(part: str, repeats: int = 5, seed: int = 0) -> list[Row]:
    """Seconds per 20-step seed circuit. ``part="torch"``: PyTorch at batch 1, 5, 221;
    ``part="aer"``: Aer exact and Aer with 1,024 shots, the seed's way."""
    from .aer_backend import AerBackend
    from .simulator import TorchSimulator

    angles, _, _ = _inputs(seed)
    rows = []
    if part == "torch":
        sim = TorchSimulator(8)
        for batch, what in [(1, "a forward"), (5, "an SPSA update's circuits"), (221, "an FDSA update's circuits")]:
            seconds, n = time_call(lambda: sim(angles[:batch]), repeats, min_seconds=0.5)
            rows.append(Row("simulator", f"PyTorch exact, batch {batch}", seconds / batch, "circuit", n, batch, what))
        return rows
    aer = AerBackend(8)
    seconds, n = time_call(lambda: aer(angles[:4]), max(1, repeats // 2))
    rows.append(Row("simulator", "Aer exact (density matrix), batch 4", seconds / 4, "circuit", n, 4))
    shots_gen = torch.Generator().manual_seed(seed + 1)
    seconds, n = time_call(lambda: aer(angles[:2], shots=1024, generator=shots_gen), 1)
    rows.append(
        Row("simulator", "Aer 1,024 shots, mid-circuit measurement (seed's way), batch 2", seconds / 2, "circuit", n, 2)
    )
    return rows


def update_rows(part: str, repeats: int = 5, full: bool = False, seed: int = 0) -> list[Row]:
    """Seconds per training update (forward + backward) per estimator at the seed's size:
    110 quantum parameters, T = 20, batch 1. ``part="torch"``: every estimator on the PyTorch
    simulator; ``part="aer"``: the same SPSA and FDSA updates through Aer."""
    from .aer_backend import AerBackend
    from .quantum_layer import QuantumLayer
    from .simulator import TorchSimulator

    _, x, grad_out = _inputs(seed)

    def update_row(backend, label, estimator, repeats, shots=None):
        layer = QuantumLayer(
            backend, estimator, shots=shots,
            generator=torch.Generator().manual_seed(seed + 1),
            shot_generator=torch.Generator().manual_seed(seed + 2),
            init_generator=torch.Generator().manual_seed(seed + 3),
        )

        def update():
            layer.zero_grad()
            (layer(x) * grad_out).sum().backward()

        seconds, n = time_call(update, repeats, min_seconds=0.5 if repeats > 1 else 0.0)
        circuits = 1 + layer.costs[-1].circuits if estimator != "exact" else 1
        return Row("update", f"{estimator} | {label}", seconds, "update", n, circuits)

    if part == "torch":
        sim = TorchSimulator(8)
        rows = [update_row(sim, "PyTorch exact", name, repeats) for name in ("spsa", "fdsa", "exact")]
        rows.append(update_row(sim, "PyTorch exact", "parameter_shift", max(1, repeats // 2)))
        return rows
    aer = AerBackend(8)
    rows = [
        update_row(aer, "Aer exact", "spsa", 1),
        update_row(aer, "Aer 1,024 shots", "spsa", 1, shots=1024),
        update_row(aer, "Aer exact", "fdsa", 1),
    ]
    if full:
        rows.append(update_row(aer, "Aer 1,024 shots", "fdsa", 1, shots=1024))
    return rows


#: What each estimator's update is compared with: the seed's published seconds per update.
SEED_UPDATE = {"spsa": ("spsa_update_cpu", "seed SPSA, CPU: 1.2 s"), "fdsa": ("fdsa_update_cpu", "seed FDSA, CPU: 39.58 s")}


def update_table(rows: list[Row]) -> str:
    rows = [r for r in rows if r.group == "update"]
    aer = {r.name.split(" | ")[0]: r.seconds for r in rows if r.name.endswith("| Aer exact")}
    lines = [f"{'update (forward + backward), T=20, batch 1':<48} {'circuits':>9} {'time':>10} "
             f"{'vs seed':>10} {'vs Aer exact':>13}"]
    for r in rows:
        est = r.name.split(" | ")[0]
        seed = SEED_SECONDS[SEED_UPDATE[est][0]] / r.seconds if est in SEED_UPDATE else None
        vs_aer = aer[est] / r.seconds if est in aer else None
        lines.append(
            f"{r.name:<48} {r.circuits:>9} {_fmt_seconds(r.seconds):>10} "
            f"{_ratio(seed):>10} {_ratio(vs_aer):>13}"
        )
    return "\n".join(lines)


def update_targets(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """The gradient issue's targets (PyTorch exact probabilities)."""
    t = {r.name.split(" | ")[0]: r.seconds for r in rows if r.name.endswith("| PyTorch exact")}
    return [
        ("SPSA update <= 10 ms", t["spsa"] <= 10e-3, _fmt_seconds(t["spsa"])),
        ("FDSA update <= 0.25 s", t["fdsa"] <= 0.25, _fmt_seconds(t["fdsa"])),
        ("exact update <= 15 ms", t["exact"] <= 15e-3, _fmt_seconds(t["exact"])),
        ("parameter-shift update <= 3 s", t["parameter_shift"] <= 3, _fmt_seconds(t["parameter_shift"])),
    ]


def _ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def _fmt_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} us"


def simulator_table(rows: list[Row]) -> str:
    aer_exact = next(r for r in rows if r.name.startswith("Aer exact"))
    aer_shots = next(r for r in rows if r.name.startswith("Aer 1,024"))
    lines = [f"{'per 20-step circuit':<70} {'time':>10} {'vs Aer exact':>13} {'vs Aer shots':>13}"]
    for r in rows:
        lines.append(
            f"{r.name:<70} {_fmt_seconds(r.seconds):>10} "
            f"{aer_exact.seconds / r.seconds:>12.1f}x {aer_shots.seconds / r.seconds:>12.1f}x"
        )
    return "\n".join(lines)


def simulator_targets(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """The foundation issue's targets: (what, met, measured)."""
    r = {row.circuits: row for row in rows if row.name.startswith("PyTorch")}
    aer_exact = next(x for x in rows if x.name.startswith("Aer exact")).seconds
    aer_shots = next(x for x in rows if x.name.startswith("Aer 1,024")).seconds
    b221, b5 = r[221].seconds, r[5].seconds * 5
    return [
        ("batch 221: <= 1 ms per circuit", b221 <= 1e-3, _fmt_seconds(b221)),
        ("batch 221: >= 100x faster than Aer exact", aer_exact / b221 >= 100, f"{aer_exact / b221:.0f}x"),
        ("batch 221: >= 500x faster than Aer shots", aer_shots / b221 >= 500, f"{aer_shots / b221:.0f}x"),
        ("batch 5: <= 10 ms for all five", b5 <= 10e-3, _fmt_seconds(b5)),
    ]


def markdown_report(report: dict) -> str:
    """The simulator rows and targets of a report as a Markdown table, with where they came from."""
    rows = [Row(**r) for r in report["rows"] if r["group"] == "simulator"]
    aer_exact = next(r for r in rows if r.name.startswith("Aer exact")).seconds
    aer_shots = next(r for r in rows if r.name.startswith("Aer 1,024")).seconds
    lines = ["| per 20-step circuit | time | vs Aer exact | vs Aer shots |", "| --- | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(
            f"| {r.name} | {_fmt_seconds(r.seconds)} | {aer_exact / r.seconds:.1f}x | {aer_shots / r.seconds:.1f}x |"
        )
    updates = [Row(**r) for r in report["rows"] if r["group"] == "update"]
    if updates:
        aer = {r.name.split(" | ")[0]: r.seconds for r in updates if r.name.endswith("| Aer exact")}
        lines += ["", "| update (forward + backward), T=20, batch 1 | circuits | time | vs seed | vs Aer exact |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for r in updates:
            est = r.name.split(" | ")[0]
            seed = report["seed_seconds"][SEED_UPDATE[est][0]] / r.seconds if est in SEED_UPDATE else None
            vs_aer = aer[est] / r.seconds if est in aer else None
            lines.append(f"| {r.name.replace(' | ', ', ')} | {r.circuits} | {_fmt_seconds(r.seconds)} | "
                         f"{_ratio(seed)} | {_ratio(vs_aer)} |")
    lines += ["", "| target | measured | met |", "| --- | ---: | :---: |"]
    lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'no'} |" for t in report["targets"]]
    m, v = report["machine"], report["versions"]
    lines += [
        "",
        f"Measured on {m['cpu']} ({m['cores']} cores, {m['torch_threads']} torch threads), "
        f"torch {v.get('torch')}, qiskit {v.get('qiskit')}, "
        f"qiskit-aer {v.get('qiskit-aer', v.get('qiskit-aer-gpu'))}, git commit `{report['git_commit']}`.",
    ]
    return "\n".join(lines) + "\n"


def main(json_path: str | None = None, repeats: int = 5, full: bool = False) -> dict:
    print(f"QRNN benchmark on {provenance()['machine']['cpu']} "
          f"({torch.get_num_threads()} torch threads)\n", flush=True)
    # Every PyTorch row is timed before Aer first runs: once Aer's OpenMP pool exists in the
    # process, PyTorch's small two-thread operations were measured 2-3x slower on 2-core machines.
    torch_sim, torch_updates = simulator_rows("torch", repeats), update_rows("torch", repeats)
    print("timing Aer ...", flush=True)
    rows = torch_sim + simulator_rows("aer", repeats)
    updates = torch_updates + update_rows("aer", repeats, full)
    print(simulator_table(rows) + "\n")
    print(update_table(updates))
    targets = simulator_targets(rows) + update_targets(updates)
    rows += updates
    print()
    for what, met, measured in targets:
        print(f"  [{'met' if met else 'MISSED'}] {what}: {measured}")
    report = {
        "rows": [asdict(r) for r in rows],
        "targets": [{"target": w, "met": m, "measured": v} for w, m, v in targets],
        "seed_seconds": SEED_SECONDS,
        **provenance(),
    }
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))
        path.with_suffix(".md").write_text(markdown_report(report))
        print(f"\nwrote {path} and {path.with_suffix('.md')}")
    return report
