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


def simulator_rows(repeats: int = 5, aer_shots_circuits: int = 2, seed: int = 0) -> list[Row]:
    """Seconds per 20-step seed circuit: PyTorch at batch 1, 5, 221; Aer exact; Aer 1,024 shots."""
    from .aer_backend import AerBackend
    from .simulator import TorchSimulator

    sim, aer = TorchSimulator(8), AerBackend(8)
    g = torch.Generator().manual_seed(seed)
    angles = (2 * torch.rand(221, 20, sim.n_angles, generator=g, dtype=torch.float64) - 1) * torch.pi
    rows = []
    for batch, what in [(1, "a forward"), (5, "an SPSA update's circuits"), (221, "an FDSA update's circuits")]:
        seconds, n = time_call(lambda: sim(angles[:batch]), repeats, min_seconds=0.5)
        rows.append(Row("simulator", f"PyTorch exact, batch {batch}", seconds / batch, "circuit", n, batch, what))
    seconds, n = time_call(lambda: aer(angles[:4]), max(1, repeats // 2))
    rows.append(Row("simulator", "Aer exact (density matrix), batch 4", seconds / 4, "circuit", n, 4))
    shots_gen = torch.Generator().manual_seed(seed + 1)
    k = aer_shots_circuits
    seconds, n = time_call(lambda: aer(angles[:k], shots=1024, generator=shots_gen), 1)
    rows.append(
        Row("simulator", f"Aer 1,024 shots, mid-circuit measurement (seed's way), batch {k}",
            seconds / k, "circuit", n, k)
    )
    return rows


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


def main(json_path: str | None = None, repeats: int = 5) -> dict:
    print(f"QRNN benchmark on {provenance()['machine']['cpu']} "
          f"({torch.get_num_threads()} torch threads)\n", flush=True)
    rows = simulator_rows(repeats)
    print(simulator_table(rows))
    targets = simulator_targets(rows)
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
