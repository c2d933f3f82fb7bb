"""The gradients page at a tiny size (2 qubits, 3 steps: fractions of a second) and on constructed results
of every shape: one FDSA step size or several, one SPSA draw or many, an error of exactly 0."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_core.estimators import FDSA
from qrnn_study.pages import gradients as page


@pytest.fixture(scope="module")
def tiny():
    return page.compare(n_qubits=2, steps=3, seed=1929, spsa_draws=3, fdsa_steps=[0.4, 0.1])


def test_the_rows_compare_every_estimator_with_the_exact_gradient(tiny):
    names = [r["estimator"] for r in tiny.rows]
    assert names[:3] == ["parameter-shift", "FDSA h=0.4", "FDSA h=0.1"]
    assert names[3].startswith("SPSA (c = ") and names[3].endswith("median over 3 draws")
    assert names[4] == "SPSA, mean of 3 draws"
    assert tiny.rows[0]["rel_error"] < 1e-8  # the shift rules are exact
    assert tiny.rows[2]["rel_error"] < tiny.rows[1]["rel_error"]  # a smaller step, a smaller error
    assert tiny.n_params == 2 * (7 * 2 - 1) and len(tiny.spsa_errors) == len(tiny.spsa_cosine) == 3
    assert tiny.rows[4]["circuits"] == 3 * tiny.spsa_circuits
    assert tiny.record()["n_params"] == tiny.n_params


def test_the_values_name_the_window_and_the_studys_step_size(tiny):
    said = page.values(tiny)
    assert said["grad_window"].endswith("inputs x at rows 0 to 2, targets y and z at rows 1 to 3")
    assert said["grad_scored"] == "2 to 2"  # a 3-step window keeps its last step scored
    assert said["grad_fdsa_h"] == f"{FDSA().h:g}"
    assert FDSA().h == 0.1 and said["grad_fdsa_error"] == f"{tiny.rows[2]['rel_error']:.1e}"
    assert page.table(tiny).count("\n| ") == 1 + len(tiny.rows) - 1


def fake(steps=(0.4, 0.2, 0.1), draws=200, ps_error=0.0):
    rows = [{"estimator": "parameter-shift", "circuits": 440, "rel_error": ps_error}]
    rows += [{"estimator": f"FDSA h={h}", "circuits": 220, "rel_error": h / 10} for h in steps]
    errors = list(np.linspace(0.5, 1.5, draws))
    rows += [{"estimator": "SPSA, one draw", "circuits": 4, "rel_error": float(np.median(errors))},
             {"estimator": f"SPSA, mean of {draws} draws", "circuits": 4 * draws, "rel_error": 0.1}]
    return page.Gradients(rows, errors, list(np.linspace(0, 0.5, draws)), 110, 4, 2, tuple(steps), 20, 1929, 5)


@pytest.mark.parametrize("g", [fake(), fake(steps=(0.4,), draws=1), fake(draws=2, ps_error=1e-20)])
def test_the_figure_draws_every_shape(g):
    fig = page.figure(g)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and min(ax.collections[0].get_offsets()[:, 1]) >= page.FLOOR
    assert len(ax.texts) == 2  # the first and last step size labelled (the same point for one)
    plt.close(fig)


def test_a_step_size_the_study_does_not_use_has_no_error_to_quote():
    assert FDSA().h not in (0.4, 0.2)
    assert page.values(fake(steps=(0.4, 0.2)))["grad_fdsa_error"] == "-"
    assert page.values(fake())["grad_fdsa_error"] == "1.0e-02" and page.values(fake())["grad_ps_error"] == "0.0e+00"
