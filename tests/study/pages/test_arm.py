"""The arm page's comparisons on every shape the profiles give them: one seed or several, fewer or more
epochs than the original's log, unfinished seeds (NaN), a log with gaps, a protocol missing."""

import numpy as np
import pytest

from qrnn_study.pages.arm import log_against_seeds, progress, twin_rows

from .fakes import fake_arm

NAN = float("nan")
LOG = {e: (0.0, 0.0, 0.10 - 0.005 * e) for e in range(1, 11)}  # like the original's: epochs 1..10


def test_fewer_epochs_than_the_log_compares_only_the_epochs_run():
    """The quick profile's case that broke `make book`: 2 epochs against a 10-epoch log."""
    v = np.array([[0.080, 0.070], [0.100, 0.095]])
    out = log_against_seeds(LOG, v)
    assert out.compared == [1, 2] and out.beyond == list(range(3, 11))
    assert out.inside == [1, 2] and out.gap == {}


def test_more_epochs_than_the_log_and_a_log_that_starts_later():
    fdsa_log = {e: (0.0, 0.0, 0.2) for e in range(2, 11)}  # the original's FDSA log starts at epoch 2
    v = np.full((3, 12), 0.1)
    out = log_against_seeds(fdsa_log, v)
    assert out.compared == list(range(2, 11)) and out.beyond == []
    assert out.above == list(range(2, 11))
    assert out.gap[2] == pytest.approx(0.1)


def test_below_above_and_gaps_to_the_nearest_seed():
    log = {1: (0, 0, 0.05), 2: (0, 0, 0.30), 3: (0, 0, 0.15)}
    v = np.array([[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]])
    out = log_against_seeds(log, v)
    assert (out.below, out.above, out.inside) == ([1], [2], [3])
    assert out.gap == {1: pytest.approx(0.05), 2: pytest.approx(0.10)}


@pytest.mark.parametrize("v", [np.zeros((1, 10)), np.zeros((0, 10)), np.full((3, 10), NAN)])
def test_no_comparison_with_one_seed_none_or_no_finished_epoch(v):
    assert log_against_seeds(LOG, v) is None


def test_an_epoch_some_seed_has_not_run_is_not_compared():
    v = np.array([[0.1, 0.1, NAN], [0.1, 0.1, 0.1]])
    out = log_against_seeds(LOG, v)
    assert out.compared == [1, 2] and 3 in out.beyond


def _arm(seeds, epochs, value=0.1, spread=0.01, nan_from=None):
    v = value + spread * np.arange(seeds)[:, None] * np.ones((1, epochs))
    if nan_from is not None:
        v[:, nan_from:] = NAN
    return v


def test_twin_rows_over_common_epochs_and_protocols():
    a = {"sequence": _arm(3, 10), "windows": _arm(3, 10)}
    b = {"sequence": _arm(3, 10) + 0.001, "windows": _arm(3, 10, nan_from=4)}
    rows = {r.protocol: r for r in twin_rows(a, b)}
    assert rows["sequence"].epochs == 10 and rows["sequence"].inside == 10
    assert rows["sequence"].worst_difference == pytest.approx(0.001)
    assert rows["windows"].epochs == 4  # the epochs both have run


def test_twin_rows_leave_out_what_cannot_be_compared():
    assert twin_rows({"sequence": _arm(1, 2)}, {"sequence": _arm(1, 2)}) == []  # one seed: no spread
    assert twin_rows({"sequence": _arm(2, 2)}, {"windows": _arm(2, 2)}) == []  # no protocol in common
    assert twin_rows({"sequence": _arm(2, 2, nan_from=0)}, {"sequence": _arm(2, 2)}) == []  # no epoch run
    rows = twin_rows({"sequence": _arm(2, 2)}, {"sequence": _arm(2, 3)})  # different epoch counts: the prefix
    assert rows[0].epochs == 2


def test_identical_twins_are_inside_their_spread():
    v = _arm(2, 3, spread=0.0)
    (row,) = twin_rows({"sequence": v}, {"sequence": v})
    assert row.inside == 3 and row.worst_difference == 0


def test_progress_says_how_far_each_seed_has_run():
    assert progress(fake_arm(seeds=2, epochs=10, done=[8, 2])) == "1929 at epoch 8 of 10, 1930 at epoch 2 of 10"
    assert progress(fake_arm(seeds=1, epochs=2)) == "1929 at epoch 2 of 2"
