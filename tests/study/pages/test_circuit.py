"""The circuit page: the step's figure and counts at any size, the two simulators' agreement at a small
one (seconds), and its figure and table on rows of every shape (one size or three, an exact zero)."""

import matplotlib.pyplot as plt
import pytest

from qrnn_study.pages import circuit as page


def test_the_step_is_drawn_and_counted():
    fig = page.step_figure(4)
    assert fig.axes
    plt.close(fig)
    assert page.step_values(8) == {"n_angles": "55", "n_qubits": "8", "n_memory": "4", "n_crx": "7"}


def test_the_simulators_agree_at_a_small_size():
    rows = page.agreement(n_qubits=4, steps=2, sequences=1, seed=0)
    assert [(r["engine"], r["qubits"]) for r in rows] == [("kernel", 4), ("torch", 4), ("kernel", 6), ("torch", 6)]
    assert all(r["max_abs_difference"] < page.BOUND and r["max_row_sum_error"] < page.BOUND for r in rows)
    assert rows[0]["sequences"] == 1 and rows[0]["steps"] == 2


def row(qubits, difference, engine="torch"):
    return {"engine": engine, "qubits": qubits, "sequences": 3, "steps": 20, "max_abs_difference": difference, "max_row_sum_error": 1e-16}


@pytest.mark.parametrize("rows", [[row(4, 1e-15)], [row(4, 0.0), row(6, 2e-16), row(8, 1e-12)],
                                  [row(4, 1e-15, "kernel"), row(4, 2e-15), row(8, 0.0, "kernel"), row(8, 3e-15)]])
def test_the_agreement_is_drawn_and_tabled_for_any_sizes(rows):
    fig = page.agreement_figure(rows)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(texts[:len(rows)]) == sorted(f"{r['max_abs_difference']:.0e}" if r["max_abs_difference"] else "0"
                                               for r in rows)
    assert texts[-1] == "the tests' bound, 1e-10"
    plt.close(fig)
    lines = page.agreement_table(rows).splitlines()
    assert len(lines) == 2 + len(rows) and lines[2].startswith(f"| {page.ENGINES[rows[0]['engine']]} | "
                                                               f"{rows[0]['qubits']} | 3 x 20 | ")
