"""The arm page's comparisons: an arm's seeds against the original's logged run, and against a twin arm.

Shapes: ``v`` arrays are ``(S, E)`` validation RMSE (mean of y and z) per seed and epoch, epoch ``e``
at column ``e - 1``, NaN where a seed has not run that epoch. A log is ``{epoch: (y, z, mean)}`` as
:func:`qrnn_core.reference.original_log` returns it; its epochs need not be the arm's (the quick
profile trains 2 epochs, the original logged 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def progress(res) -> str:
    """``1929 at epoch 8 of 10, 1930 at epoch 2 of 10``: how far each seed of ``res`` (an
    :class:`~qrnn_study.results.ArmResults`) has run."""
    return ", ".join(f"{s} at epoch {e} of {res.config['epochs']}" for s, e in zip(res.seeds, res.epochs_done))


@dataclass(frozen=True)
class LogComparison:
    """Where one logged run lies against the range of an arm's seeds, epoch by epoch.

    ``below``/``above``/``inside``: the compared epochs where the log lies below every seed, above every
    seed, or within their range; ``gap[e]``: its distance to the nearest seed at an epoch outside the
    range; ``beyond``: logged epochs the arm has not run (not compared); ``n_seeds``: seeds compared.
    """

    n_seeds: int
    below: list[int]
    above: list[int]
    inside: list[int]
    gap: dict[int, float] = field(default_factory=dict)
    beyond: list[int] = field(default_factory=list)

    @property
    def compared(self) -> list[int]:
        return sorted(self.below + self.above + self.inside)


def log_against_seeds(log: dict[int, tuple[float, float, float]], v: np.ndarray) -> LogComparison | None:
    """Compare the log's mean RMSE with the seeds' range at every epoch both have.

    ``v``: ``(S, E)`` float; an epoch counts only where every seed has a finite value. None when there
    are fewer than two seeds (one run against one run has no range) or no epoch in common.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 2 or v.shape[0] < 2:
        return None
    epochs = sorted(log)
    ran = [e for e in epochs if 1 <= e <= v.shape[1] and np.isfinite(v[:, e - 1]).all()]
    if not ran:
        return None
    value = {e: log[e][2] for e in ran}
    low = {e: float(v[:, e - 1].min()) for e in ran}
    high = {e: float(v[:, e - 1].max()) for e in ran}
    below = [e for e in ran if value[e] < low[e]]
    above = [e for e in ran if value[e] > high[e]]
    inside = [e for e in ran if e not in below and e not in above]
    gap = {e: low[e] - value[e] for e in below} | {e: value[e] - high[e] for e in above}
    return LogComparison(n_seeds=v.shape[0], below=below, above=above, inside=inside, gap=gap,
                         beyond=[e for e in epochs if e not in ran])


@dataclass(frozen=True)
class TwinRow:
    """One protocol of an arm against its twin over their common seeds: at each epoch both have run,
    the absolute mean difference against the pooled seed-to-seed SD; ``inside`` of ``epochs`` epochs
    had the difference within the SD; ``worst`` is the epoch of the largest ratio."""

    protocol: str
    inside: int
    epochs: int
    worst_difference: float
    worst_sd: float


def twin_rows(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[TwinRow]:
    """``a``, ``b``: ``{protocol: (S, E) array}`` of two arms over the SAME seeds in the same order.

    A protocol is left out where fewer than two seeds are compared, no epoch is run by every seed of
    both arms, or the arms' epoch counts differ (only the common prefix is compared then).
    """
    rows = []
    for protocol in a:
        if protocol not in b:
            continue
        x, y = np.asarray(a[protocol], float), np.asarray(b[protocol], float)
        if x.shape[0] < 2 or x.shape[0] != y.shape[0]:
            continue
        E = min(x.shape[1], y.shape[1])
        x, y = x[:, :E], y[:, :E]
        both = np.isfinite(x).all(0) & np.isfinite(y).all(0)
        if not both.any():
            continue
        diff = np.abs((x - y)[:, both].mean(0))
        sd = np.sqrt((np.var(x[:, both], axis=0, ddof=1) + np.var(y[:, both], axis=0, ddof=1)) / 2)
        ratio = np.divide(diff, sd, out=np.where(diff > 0, np.inf, 0.0), where=sd > 0)
        worst = int(np.argmax(ratio))
        rows.append(TwinRow(protocol, int((diff <= sd).sum()), int(both.sum()), float(diff[worst]), float(sd[worst])))
    return rows
