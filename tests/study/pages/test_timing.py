"""The timing page on constructed rows of every shape its profiles give: a GPU row or none, epochs timed
or not, two qubit counts or one, the engine measured or not, a GPU report from this commit or another."""

import dataclasses

import matplotlib.pyplot as plt
import pytest

from qrnn_core import reference
from qrnn_study.pages import timing as page
from qrnn_tools.bench import Row


def update(name, seconds):
    return Row("update", name, seconds, "update", 3, 5)


def rows(cuda=False, epochs=False):
    out = [Row("simulator", "PyTorch batch 1", 1e-3, "circuit", 3, 1),
           update("spsa | PyTorch exact", 0.004), update("fdsa | PyTorch exact", 0.2),
           update("spsa | PyTorch exact, complex64", 0.002), update("fdsa | PyTorch exact, complex64", 0.1)]
    if cuda:
        out += [update("fdsa | PyTorch exact (cuda)", 0.05), update("fdsa | PyTorch exact, complex64 (cuda)", 0.02)]
    if epochs:
        out += [Row("epoch", "spsa | kernel", 8.0, "epoch", 1, 7000, "complex64; updates 80 %, validation 20 %")]
    return out


def timing(epochs=False, scaling=None, engine=(), engine_scaling=()):
    scaling = scaling if scaling is not None else [
        {"qubits": n, "parameters": 2 * (7 * n - 1), "estimator": e, "seconds": s * n, "circuits": c}
        for n in (2, 4) for e, s, c in (("spsa", 1e-3, 5), ("fdsa", 1e-2, 1 + 4 * (7 * n - 1)))]
    return page.Timing(rows(epochs=epochs), scaling, list(engine), list(engine_scaling), epochs)


def test_a_busy_machine_is_warned_of():
    assert page.load_warning(1.5, 2) is None
    assert "load average was 3.2 on 2 cores" in page.load_warning(3.2, 2)
    assert page.threads_note(1, 2).startswith("Every row on this page is timed with 1 PyTorch thread on")


def test_the_update_values_and_the_decks_table_without_a_gpu():
    said = page.update_values(rows())
    assert said["t_spsa_update_ms"] == "4.0" and said["t_fdsa64_update_ms"] == "100"
    assert said["t_fdsa_64_speedup"] == "2.0" and said["t_epoch_updates"] == f"{reference.UPDATES_PER_EPOCH:,}"
    assert said["t_spsa_vs_deck"] == f"{reference.SECONDS_PER_UPDATE['SPSA, CPU'] / 0.004:.0f}"
    table = page.deck_table(rows())
    assert "| FDSA, GPU | 18.0 | 8.0 | no GPU here | - | - | - |" in table
    assert table.count("| SPSA, CPU |") == 2  # one line per precision
    assert "FDSA takes 50x SPSA's time in complex128 and 50x in complex64" in page.versus_text(rows())


def test_a_gpu_row_is_tabled_and_drawn():
    table = page.deck_table(rows(cuda=True))
    assert "no GPU here" not in table and "| FDSA, GPU | 18.0 | 8.0 | complex64 | 0.0200 |" in table
    for r in (rows(), rows(cuda=True)):
        fig = page.epoch_time_figure(r)
        assert ("no GPU\nhere" in [t.get_text() for t in fig.axes[0].texts]) == (r == rows())
        plt.close(fig)


@pytest.mark.parametrize("epochs, methods, said", [(True, ["spsa"], "Where a whole epoch's time goes"),
                                                   (False, [], "(`epoch_methods` is empty)"),
                                                   (False, ["spsa"], "this run's rows are at 4")])
def test_whole_epochs_are_shown_or_said_to_be_missing(epochs, methods, said):
    text = page.epochs_text(timing(epochs=epochs), methods, 4)
    assert said in text
    if epochs:
        assert "| spsa, kernel | 8.0 s | complex64; updates 80 %, validation 20 % |" in text


def test_the_scaling_slope_needs_two_sizes():
    said = page.scaling_values(timing().scaling, [2, 4])
    assert said["t_fdsa_slope"] == "0.95"  # twice the time from 26 to 54 parameters: log 2 / log(54 / 26)
    assert said["t_scaling_qubits"] == "2, 4" and said["t_scaling_params"] == "26, 54"
    one = [s for s in timing().scaling if s["qubits"] == 2]
    assert page.scaling_values(one, [2])["t_fdsa_slope"] == "-"
    fig = page.scaling_figure(one)
    plt.close(fig)


def test_the_engine_tables():
    engine = [Row("kernel", "kernel: one circuit, batch 1", 1e-5, "circuit", 3, 1),
              Row("kernel", "kernel: fdsa update", 1.0, "update", 3, 221)]
    targets = [("kernel: one circuit, batch 1 / one Aer exact circuit ≤ 0.0025", True, "0.001 (10 us)"),
               ("kernel: fdsa update / one Aer exact circuit ≤ 0.15", False, "100 (1 s)")]
    table = page.engine_table(engine, targets).splitlines()
    assert table[2] == "| kernel: one circuit, batch 1 | 0.01 ms | 0.001 | ≤ 0.0025 | met |"
    assert table[3].endswith("| 100 | ≤ 0.15 | missed |")
    points = [{"qubits": 2, "engine": "kernel", "seconds_per_circuit": 1e-5, "seconds_per_fdsa_update": 1e-3,
               "fdsa_circuits": 53, "peak_bytes": -1}]
    assert page.engine_scaling_table(points).splitlines()[2] == "| 2 | kernel | 0.01 | 1 | 53 | - |"  # not measured
    held = [dict(points[0], peak_bytes=0), dict(points[0], peak_bytes=3 * 2**20)]
    assert [line.split("|")[-2].strip() for line in page.engine_scaling_table(held).splitlines()[2:]] == ["< 0.1", "3.0"]


def report(commit, epoch=True):
    r = rows(cuda=True, epochs=epoch)
    return {"machine": {"gpu": "NVIDIA H100", "cpu": "x86", "cores": 16, "torch_threads": 16},
            "versions": {"torch": "2", "qiskit": "1"}, "git_commit": commit,
            "rows": [dataclasses.asdict(x) for x in r], "targets": []}


def test_the_gpu_section_says_what_measured_it_and_when():
    (missing,) = page.gpu_section(None, "abc", "results/gpu/bench.json")
    assert missing.startswith("**Not measured: no GPU was available")
    parts = page.gpu_section(report("a" * 40), "a" * 40, "results/gpu/bench.json")
    assert parts[0].startswith("Measured on **NVIDIA H100** (from `results/gpu/bench.json`).\n\n")
    assert len(parts) == 2 and parts[1].startswith("Where the GPU epoch's time goes")
    stale = page.gpu_section(report("b" * 40, epoch=False), "a" * 40, "x.json")
    assert len(stale) == 1 and "measured at commit `bbbbbbbbbbbb`, this page at `aaaaaaaaaaaa`" in stale[0]
