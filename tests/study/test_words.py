"""What the pages say about numbers and curves, on constructed curves with a known shape."""

import numpy as np
import pytest

from qrnn_study.words import after_epochs, and_join, count, describe_curve, turning_points


def test_count_and_join():
    assert count(1, "seed") == "1 seed"
    assert count(3, "seed") == "3 seeds"
    assert count(1384, "update") == "1,384 updates"
    assert count(2, "child", "children") == "2 children"
    assert and_join(["a"]) == "a"
    assert and_join(["a", "b"]) == "a and b"
    assert and_join(iter(["a", "b", "c"])) == "a, b and c"


@pytest.mark.parametrize("epochs, words", [
    ([3], "after epoch 3"),
    ([1, 2], "after epochs 1 and 2"),
    ([2, 3, 4, 5, 6, 7, 8, 9, 10], "after epochs 2 to 10"),
    ([1, 2, 5], "after epochs 1, 2 and 5"),
    ([1, 2, 3, 7, 9, 10], "after epochs 1 to 3, 7, 9 and 10"),
])
def test_after_epochs(epochs, words):
    assert after_epochs(epochs) == words


def test_a_fall_then_a_rise_turns_once_at_the_lowest():
    curve = [0.20, 0.15, 0.12, 0.14, 0.18]
    assert turning_points(curve, tol=0.01) == [0, 2, 4]
    assert describe_curve(curve, tol=0.01) == (
        "0.2000 after epoch 1 (its highest), then falls to 0.1200 after epoch 3 (its lowest), "
        "then rises to 0.1800 after epoch 5")


def test_moves_within_the_spread_are_no_turn():
    # Wiggles of 0.002 against a spread of 0.01: one fall, no turn on the way.
    curve = [0.20, 0.17, 0.172, 0.15, 0.152, 0.13]
    assert turning_points(curve, tol=0.01) == [0, 5]
    assert describe_curve(curve, tol=0.01).endswith("then falls to 0.1300 after epoch 6 (its lowest)")


def test_a_flat_curve_stays_within_the_spread():
    curve = [0.100, 0.103, 0.098, 0.101]
    assert turning_points(curve, tol=0.01) == [0, 3]
    assert describe_curve(curve, tol=0.01) == (
        "0.1000 after epoch 1, then stays within the seed spread of that up to epoch 4 (0.1010)")


def test_a_curve_that_starts_flat_turns_where_it_leaves_its_extreme():
    # Flat for three epochs, then a rise measured from its lowest so far (epoch 2).
    curve = [0.100, 0.099, 0.100, 0.130, 0.160]
    assert turning_points(curve, tol=0.01) == [0, 1, 4]


def test_one_seed_gives_first_lowest_highest_and_last():
    curve = np.array([0.15, 0.11, 0.19, 0.16])
    assert describe_curve(curve, tol=None) == (
        "0.1500 after epoch 1, 0.1100 after epoch 2 (its lowest), 0.1900 after epoch 3 (its highest), "
        "0.1600 after epoch 4")


def test_the_windows_a_reduced_budget_trained_on_in_words():
    from qrnn_study.words import training_windows_words

    assert training_windows_words({"train_sequences": 230, "train_windows": "spread"}) == (
        "230 training windows spread evenly over the training span")
    assert training_windows_words({"train_sequences": 230}) == "the first 230 training windows"  # recorded before
    assert training_windows_words({"train_sequences": None}) == "every training window"
