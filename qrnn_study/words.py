"""Numbers and curves in words, for the pages: the sentences a page writes from its results.

Pure functions over plain numbers, so that what a page says about a curve is tested on constructed
curves (``tests/study/test_words.py``), not only read on a built page. Epochs in the words are 1-based: the
value after epoch ``k`` is ``curve[k - 1]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 seed``, ``3 seeds``: a number with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def and_join(words: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def after_epochs(epochs: Sequence[int]) -> str:
    """``after epoch 3``, ``after epochs 2 to 10``, ``after epochs 1, 2 and 5`` (1-based, ascending).

    Three or more consecutive epochs are written as a range; two are listed."""
    epochs = list(epochs)
    runs, start = [], epochs[0]
    for a, b in zip(epochs, epochs[1:] + [None]):
        if b != a + 1:
            runs += [f"{start} to {a}"] if a - start >= 2 else [str(e) for e in range(start, a + 1)]
            start = b
    return f"after epoch{'s' if len(epochs) > 1 else ''} {and_join(runs)}"


def turning_points(curve: Sequence[float], tol: float) -> list[int]:
    """Indices into ``curve`` (``(E,)`` floats): its first value, each extreme it then leaves by more than
    ``tol`` (a smaller move is no turn), the extreme it last moved to, and its last value. Ascending."""
    curve = np.asarray(curve, dtype=float)
    points, trend, ext = [0], 0, 0
    for i in range(1, len(curve)):
        if trend == 0:  # no move of more than tol yet: measured from the lowest and highest so far
            lo, hi = int(np.argmin(curve[: i + 1])), int(np.argmax(curve[: i + 1]))
            if curve[i] - curve[lo] > tol or curve[hi] - curve[i] > tol:
                trend, start = (1, lo) if curve[i] - curve[lo] > tol else (-1, hi)
                points += [start] if start > 0 else []
                ext = i
        elif trend * (curve[i] - curve[ext]) >= 0:  # still moving the same way: a new extreme
            ext = i
        elif abs(curve[i] - curve[ext]) > tol:  # turned by more than tol
            points.append(ext)
            trend, ext = -trend, i
    return points + [k for k in dict.fromkeys((ext, len(curve) - 1)) if k > points[-1]]


def describe_curve(curve: Sequence[float], tol: float | None) -> str:
    """A curve's shape in words: its first value, each turn, its last value (1-based epochs).

    ``tol``: the smallest change called a fall or a rise (the seeds' spread); None when there is no
    spread to tell a turn from noise (one seed): then its first, lowest, highest and last values."""
    curve = np.asarray(curve, dtype=float)
    low, high = int(np.argmin(curve)), int(np.argmax(curve))

    def at(i):
        mark = " (its lowest)" if i == low else " (its highest)" if i == high else ""
        return f"{curve[i]:.4f} after epoch {i + 1}{mark}"

    if tol is None:
        return ", ".join(at(i) for i in sorted({0, low, high, len(curve) - 1}))
    points = turning_points(curve, tol)
    steps = [at(points[0])]
    for a, b in zip(points, points[1:]):
        change = curve[b] - curve[a]
        steps.append(f"stays within the seed spread of that up to epoch {b + 1} ({curve[b]:.4f})"
                     if abs(change) <= tol else f"{'falls' if change < 0 else 'rises'} to {at(b)}")
    return ", then ".join(steps)


def training_windows_words(config: dict) -> str:
    """Which windows a recorded run trained on, for a page: ``230 training windows spread evenly over the
    training span``, ``the first 230 training windows`` or ``all 1,384 training windows``-style wording.

    ``config``: a run's recorded config (``metrics.json``); one recorded before ``train_windows`` existed
    trained on the first k (as :meth:`qrnn_core.train.TrainConfig.from_dict` reads it)."""
    k = config.get("train_sequences")
    if k is None:
        return "every training window"
    if config.get("train_windows", "first") == "spread":
        return f"{k:,} training windows spread evenly over the training span"
    return f"the first {k:,} training windows"
