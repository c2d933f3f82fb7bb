"""The front page's engine comparison (:mod:`qrnn_study.pages.cost`): only runs finished in full on both
engines are compared, the text and the figure follow, and a profile without a snapshot says so."""

import matplotlib.pyplot as plt

from qrnn_study.pages import cost
from qrnn_study.results import ComputeRow

PREVIOUS = {"engine": "the PyTorch simulator", "machines": {"AMD EPYC, 2 cores": 3},
            "families": [{"family": "fdsa-shots", "instances": 5, "finished": 5, "seconds": 36000.0},
                         {"family": "spsa-shots", "instances": 10, "finished": 10, "seconds": 7200.0}]}


def row(family, instances, finished, seconds):
    return ComputeRow(family, instances, finished, finished * 10, instances * 10, 0.1, 0.1, True, seconds, 0.0, 0.0)


def test_only_runs_finished_on_both_engines_are_compared():
    compute = [row("fdsa-shots", 5, 5, 7200.0), row("spsa-shots", 10, 4, 300.0), row("noisy-fdsa", 5, 5, 100.0)]
    rows = cost.compared(compute, PREVIOUS)
    assert rows == [{"family": "fdsa-shots", "instances": 5, "before": 10.0, "now": 2.0}]
    text = cost.before_after_text(rows, PREVIOUS, compute)
    assert "The same 5 training runs recorded **10.0 worker-hours**" in text and "5.0 times less" in text
    assert "left out of the comparison: `spsa-shots`, whose instances here are not the same set" in text
    assert "12.0 worker-hours" in text
    fig = cost.before_after_figure(rows, PREVIOUS)
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].patches) == 2
    plt.close(fig)


def test_without_a_snapshot_or_a_finished_run_the_page_says_so():
    assert cost.compared([row("fdsa-shots", 5, 5, 1.0)], None) == [] and cost.before_after_text([], None, []) == ""
    assert "none of today's runs has finished" in cost.before_after_text([], PREVIOUS, [])
    for rows, previous in (([], None), ([], PREVIOUS)):
        fig = cost.before_after_figure(rows, previous)
        plt.close(fig)
