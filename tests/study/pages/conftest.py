"""Every figure a page draws in these tests is checked for legibility before it is closed: no text below
9 pt as the book renders it (:func:`qrnn_study.figures.illegible`), whatever shape of results drew it."""

import matplotlib.pyplot as plt
import pytest

from qrnn_study.figures import illegible


@pytest.fixture(autouse=True)
def figures_are_legible(monkeypatch):
    problems = []
    close = plt.close

    def checked_close(fig=None):
        targets = plt.get_fignums() if fig == "all" else [fig if fig is not None else plt.gcf()]
        for f in targets:
            f = plt.figure(f) if isinstance(f, int) else f
            if hasattr(f, "canvas"):
                problems.extend(illegible(f))
        close(fig)

    monkeypatch.setattr(plt, "close", checked_close)
    yield
    for num in plt.get_fignums():
        problems.extend(illegible(plt.figure(num)))
    close("all")
    assert not problems, "text too small to read as rendered: " + "; ".join(problems[:8])
