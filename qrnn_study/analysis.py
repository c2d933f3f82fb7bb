"""Statistics over seeds and the verdict rules of the scorecard, pure and tested on constructed data.

Each interval is named where it is printed (:attr:`Estimate.method`, with its ``n``):

* a mean over seeds: the **Student t interval** (:func:`mean_ci`, :func:`t_interval`), everywhere: curves,
  single arms, tables, the scorecard (one interval for one quantity on every page);
* a paired comparison (the same seeds of two arms): the **paired t interval** of the mean difference,
  with the paired t-test's p and the effect size d_z (:func:`paired`); a per-seed ratio likewise
  (:func:`ratio_paired`, a t interval of the ratios). A percentile bootstrap over 3 to 10 seeds would
  be too narrow (over 2 it is their range); the t interval is the test's own and agrees with it;
* a discrete outcome per seed (the epoch of the lowest validation RMSE in a claimed range): the
  proportion of seeds with it and its **Clopper-Pearson** interval, with the exact binomial test against
  one half (:func:`proportion`), never the zero-width interval of a mean of equal integers. Over 5 seeds
  that test cannot reach p < 0.05 (its smallest p is 2 / 2^5 = 0.0625): such a claim stays inconclusive
  whatever the seeds show, and the scorecard says so (:func:`min_binomial_p`);
* the claims' p-values as a family: **Holm**-adjusted (:func:`holm`); a verdict that needs a test
  uses the adjusted p, and both are reported.

A verdict is one of

* ``reproduced``: the interval lies on the claimed side (or inside the claimed band);
* ``not reproduced``: the interval lies wholly on the other side (or outside the band);
* ``inconclusive``: the interval straddles the deck's figure, the band's edge, or zero (or, for a
  paired comparison, its t-test does not give p < 0.05);
* ``not tested``: with the reason (fewer than :data:`MIN_SEEDS` finished seeds, or the runs differ in
  data, updates or protocol).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
#: Finished seeds a verdict needs (two seeds' t interval has one degree of freedom: about 13 standard errors wide).
MIN_SEEDS = 3
#: Config fields two arms must share before one verdict compares them.
MUST_MATCH = ("data", "epochs", "train_sequences", "train_windows", "batch_size", "warmup", "val_steps", "val_shots", "n_qubits")


#: The verdicts as codes, for numeric tables (the scorecard's CSV).
VERDICT_CODES = {"reproduced": 1, "inconclusive": 0, "not reproduced": -1, "not tested": -9}
T_METHOD, PAIRED_T_METHOD, CLOPPER_PEARSON, PREDICTION_METHOD = (
    "t", "paired t", "Clopper-Pearson", "t prediction interval for one more run")
#: An equivalence test's interval: the paired t interval at ``1 - 2 alpha`` (90 % for alpha = 0.05), which lies
#: inside the margin exactly when both one-sided tests reject at alpha (TOST, Schuirmann 1987).
TOST_METHOD = "paired t (two one-sided tests)"


def fixed(value: float, digits: int) -> str:
    """``value`` to ``digits`` places, a negative value that rounds to zero without its sign (not ``-0.000``)."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


@dataclass(frozen=True)
class Estimate:
    """A value over ``n`` seeds (a mean, or a proportion) with its ``LEVEL`` interval, computed by
    ``method`` (NaN bounds when ``n < 2``; empty: an interval the page names once, not each value)."""

    mean: float
    low: float
    high: float
    n: int
    method: str = ""
    level: float = LEVEL
    quiet: bool = False  # the page names the interval once (a mean over seeds: :func:`mean_ci`), not each value

    def named(self) -> str:
        """``95 % paired t interval, n = 5``: what the interval is, for a page."""
        return f"{self.level * 100:.0f} % {self.method} interval, n = {self.n}"

    def __str__(self) -> str:
        return self.format(4)

    def format(self, digits: int = 4, seeds: bool = False) -> str:
        """``mean [low, high]`` to ``digits`` places (``(n = k)`` appended if ``seeds``), the interval named
        unless ``quiet`` or unnamed; one seed has no interval, none has no value."""
        if self.n == 0:
            return "- (no finished seed)"
        if self.n < 2:
            return f"{fixed(self.mean, digits)} (1 seed, no interval)"
        interval = f"{fixed(self.mean, digits)} [{fixed(self.low, digits)}, {fixed(self.high, digits)}]"
        if self.method and not self.quiet:  # a named interval says so, but the page's own
            return f"{interval} ({self.named()})"
        return interval + (f" (n = {self.n})" if seeds else "")


@dataclass(frozen=True)
class Comparison:
    """Paired by seed: ``a - b``. ``p``: paired t-test; ``d_z``: mean difference / its SD."""

    difference: Estimate
    p: float
    d_z: float

    def __str__(self) -> str:
        return self.format(4)

    def format(self, digits: int = 4) -> str:
        """The difference to ``digits`` places with its paired t interval and ``n``, the test and the effect
        size (no test below :data:`MIN_SEEDS` seeds)."""
        d = self.difference
        if d.n < MIN_SEEDS:
            return d.format(digits)
        return (f"{fixed(d.mean, digits)} [{fixed(d.low, digits)}, {fixed(d.high, digits)}] ({d.named()}; paired t-test "
                f"p = {self.p:.3g}, effect size d_z = {self.d_z:.2f})")


@dataclass(frozen=True)
class Verdict:
    outcome: str  # reproduced | not reproduced | inconclusive | not tested
    rule: str

    def __str__(self) -> str:
        return self.outcome


def mean_ci(values, level: float = LEVEL) -> Estimate:
    """Mean of ``values (S,)`` (NaNs dropped) with its Student t interval (:func:`t_interval`): the study's one
    interval of a mean over seeds, on every page; ``quiet``, as a page names it once in its prose."""
    return dataclasses.replace(t_interval(values, level), quiet=True)


def t_interval(values, level: float = LEVEL, method: str = T_METHOD, one_more: bool = False) -> Estimate:
    """Mean of ``values (S,)`` (NaNs dropped) with its Student t interval, ``mean +- t_{n-1} sd / sqrt(n)``;
    ``one_more``: the prediction interval for one more value instead, ``mean +- t_{n-1} sd sqrt(1 + 1/n)``.

    For paired differences (``method = PAIRED_T_METHOD``) this is the interval of the paired t-test: it
    excludes 0 exactly when the two-sided test gives p < 1 - ``level``. Zero width only when every value
    is equal."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, method, level)
    if len(v) < 2:
        return Estimate(float(v.mean()), math.nan, math.nan, 1, method, level)
    t_sd = stats.t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1)
    half = float(t_sd * math.sqrt(1 + 1 / len(v)) if one_more else t_sd / math.sqrt(len(v)))
    return Estimate(float(v.mean()), float(v.mean()) - half, float(v.mean()) + half, len(v), method, level)


def prediction_interval(values, level: float = LEVEL) -> Estimate:
    """Where one more run would fall (:func:`t_interval` with ``one_more``): the yardstick for a single run's
    figure (the deck's); the interval of a mean narrows with more seeds while one run's spread does not."""
    return t_interval(values, level, PREDICTION_METHOD, one_more=True)


def median_range(values) -> str:
    """Small whole numbers (e.g. each seed's epoch of the lowest, NaN: none) in words: ``2`` for one value, else
    ``median (min–max)``, e.g. ``2 (1–3)``: their spread, never a mean's zero-width interval."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)].astype(int)
    if len(v) == 0:
        return "-"
    return str(v[0]) if len(v) == 1 else f"{np.median(v):g} ({v.min()}–{v.max()})"


def proportion(hits, level: float = LEVEL) -> tuple[Estimate, float]:
    """The share of seeds with an outcome, ``hits (S,)`` bool (NaN entries: seeds without one, dropped),
    with its Clopper-Pearson (exact) interval; and the exact two-sided binomial test's p against 1/2.

    ``scipy.stats.binomtest(k, n).proportion_ci(level, method="exact")``; ``(Estimate, p)``, NaN p and
    bounds for no seed."""
    from scipy import stats

    h = np.asarray(hits, dtype=float)
    h = h[np.isfinite(h)]
    n, k = len(h), int(h.sum())
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, CLOPPER_PEARSON), math.nan
    test = stats.binomtest(k, n, 0.5)
    ci = test.proportion_ci(confidence_level=level, method="exact")
    return Estimate(k / n, float(ci.low), float(ci.high), n, CLOPPER_PEARSON), float(test.pvalue)


def min_binomial_p(n: int) -> float:
    """The smallest two-sided p the exact binomial test against one half can give over ``n`` seeds."""
    return min(1.0, 2 * 0.5 ** n) if n > 0 else 1.0


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values ``(m,)`` float; NaN entries (claims without a
    test) stay NaN and are not counted in the family.

    Sorted ascending, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))`` (1-based ``j``),
    returned in the input order: it controls the family-wise error rate at any dependence between tests."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = len(idx)
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[i]))
        out[i] = running
    return out


def band(values_se, level: float = LEVEL) -> tuple[np.ndarray, ...]:
    """Per column of ``values_se (S, E)``: mean and its t interval's bounds (:func:`mean_ci`), each ``(E,)``."""
    v = np.asarray(values_se, dtype=float)
    cols = [mean_ci(v[:, e], level) for e in range(v.shape[1])]
    return tuple(np.array([getattr(c, k) for c in cols]) for k in ("mean", "low", "high"))


def paired(a, b, level: float = LEVEL) -> Comparison:
    """``a - b`` paired by seed: its paired t interval, the paired t-test's p and d_z.

    ``a``, ``b``: ``(S,)`` the same seeds' values of two arms; seeds missing in either are dropped."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    est = t_interval(d, level, PAIRED_T_METHOD)
    if len(d) < 2:
        return Comparison(est, math.nan, math.nan)
    if np.all(d == d[0]):
        # No spread, so no t statistic: identical arms are no evidence of a difference (p = 1); a
        # difference the same on every seed is as strong as evidence gets (p = 0, infinite effect).
        return (Comparison(est, 1.0, 0.0) if d[0] == 0 else
                Comparison(est, 0.0, math.copysign(math.inf, d[0])))
    p = float(stats.ttest_rel(a[keep], b[keep]).pvalue)
    return Comparison(est, p, float(d.mean() / d.std(ddof=1)))


def equivalence(a, b, margin: float, alpha: float = 0.05) -> tuple[Estimate, float]:
    """``a - b`` paired by seed, tested for equivalence within ``+-margin`` by two one-sided paired t-tests.

    Returns the difference with its ``1 - 2 alpha`` paired t interval (:data:`TOST_METHOD`) and the TOST
    p-value, the larger of the two one-sided tests' (H0: difference <= -margin; H0: difference >= +margin).
    ``a``, ``b``: ``(S,)``; seeds missing in either are dropped. NaN p below two seeds."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    est = t_interval(d, 1 - 2 * alpha, TOST_METHOD)
    if len(d) < 2:
        return est, math.nan
    se = d.std(ddof=1) / math.sqrt(len(d))
    if se == 0:  # no spread: inside the margin is as sure as it gets, outside as sure the other way
        return est, 0.0 if abs(d.mean()) < margin else 1.0
    p_low = stats.t.sf((d.mean() + margin) / se, len(d) - 1)
    p_high = stats.t.cdf((d.mean() - margin) / se, len(d) - 1)
    return est, float(max(p_low, p_high))


def verdict_equivalent(estimate: Estimate, margin: float, claim: str, p: float | None = None, alpha: float = 0.05,
                       test: str = "two one-sided paired t-tests") -> Verdict:
    """Claim: the difference lies within ``+-margin`` (the two arms are "comparable"), by equivalence test.

    Reproduced when the :data:`TOST_METHOD` interval lies inside ``(-margin, margin)`` and ``p`` (the TOST's,
    Holm-adjusted in the scorecard) is below ``alpha``; not reproduced when the interval lies wholly
    outside the margin (a difference larger than it, at the same one-sided level); else inconclusive."""
    rule = (f"reproduced if the {estimate.level * 100:.0f} % {estimate.method} interval lies inside ±{margin:.4g} with "
            f"p < {alpha:g} ({test}), not reproduced if it lies wholly outside, else inconclusive")
    if estimate.n < MIN_SEEDS:
        return Verdict("not tested", f"{claim}: needs at least {MIN_SEEDS} seeds, has {estimate.n}")
    if -margin < estimate.low and estimate.high < margin and (p is None or p < alpha):
        return Verdict("reproduced", rule)
    if estimate.low >= margin or estimate.high <= -margin:
        return Verdict("not reproduced", rule)
    return Verdict("inconclusive", rule)


def comparable(config_a: dict, config_b: dict) -> list[str]:
    """The settings in which two arms differ that forbid comparing them (empty: comparable)."""
    return [k for k in MUST_MATCH if config_a.get(k) != config_b.get(k)]


def verdict_less(estimate: Estimate, claim: str, threshold: float = 0.0, p: float | None = None,
                 alpha: float = 0.05, test: str = "paired t-test") -> Verdict:
    """Claim ``estimate < threshold`` (e.g. a paired difference below 0).

    ``p``: the paired test of the same seeds (Holm-adjusted in a family of claims: say so in ``test``).
    When given, a verdict either way also needs ``p < alpha``: an adjusted p can fail where the
    unadjusted interval excludes the threshold."""
    test = f" with p < {alpha:g} ({test})" if p is not None else ""
    rule = (f"reproduced if the {LEVEL:.0%} {estimate.method} interval lies below {threshold:g}{test}, not reproduced "
            f"if it lies above{test}, else inconclusive")
    if estimate.n < MIN_SEEDS:
        return Verdict("not tested", f"{claim}: needs at least {MIN_SEEDS} seeds, has {estimate.n}")
    if p is not None and not p < alpha:
        return Verdict("inconclusive", rule)
    if estimate.high < threshold:
        return Verdict("reproduced", rule)
    if estimate.low > threshold:
        return Verdict("not reproduced", rule)
    return Verdict("inconclusive", rule)


def verdict_band(estimate: Estimate, low: float, high: float, what: str) -> Verdict:
    """Claim: the value lies in ``[low, high]`` (a deck figure with its rounding, or a stated range)."""
    rule = (f"reproduced if the {LEVEL:.0%} interval lies inside {what} [{low:.3g}, {high:.3g}], not reproduced "
            f"if it lies wholly outside, else inconclusive")
    if estimate.n < MIN_SEEDS:
        return Verdict("not tested", f"needs at least {MIN_SEEDS} seeds, has {estimate.n}")
    if low <= estimate.low and estimate.high <= high:
        return Verdict("reproduced", rule)
    if estimate.high < low or estimate.low > high:
        return Verdict("not reproduced", rule)
    return Verdict("inconclusive", rule)


def verdict_single_run(spread: Estimate, low: float, high: float, what: str) -> Verdict:
    """Claim: one run (the deck's) gave a figure in ``[low, high]`` (its rounding). ``spread``: the
    :func:`prediction_interval` of our seeds. Reproduced if the figure's band meets the interval (the deck's
    run could be one of ours), not reproduced if it lies wholly outside."""
    rule = (f"reproduced (the deck's one run is consistent with ours, no more) if {what} [{low:g}, {high:g}] meets "
            f"the {LEVEL:.0%} {spread.method} (n = {spread.n}), not reproduced if it lies wholly outside")
    if spread.n < MIN_SEEDS:
        return Verdict("not tested", f"needs at least {MIN_SEEDS} seeds, has {spread.n}")
    if high < spread.low or low > spread.high:
        return Verdict("not reproduced", rule)
    return Verdict("reproduced", rule)


def verdict_point_band(value: float, low: float, high: float, what: str, basis: str) -> Verdict:
    """Claim: a measured value without an interval (``basis`` says why: e.g. one timing of each, the median of
    its repeats) lies in ``[low, high]``: reproduced inside, not reproduced outside, not tested if missing."""
    rule = f"reproduced if the measured value ({basis}) lies inside {what} [{low:.3g}, {high:.3g}], else not reproduced"
    if not math.isfinite(value):
        return Verdict("not tested", f"no measured value ({basis})")
    return Verdict("reproduced" if low <= value <= high else "not reproduced", rule)


def verdict_proportion(share: Estimate, p: float, claim: str, alpha: float = 0.05,
                       test: str = "exact binomial test against 1/2") -> Verdict:
    """Claim: most seeds show an outcome. ``share``: the proportion of seeds with it, its Clopper-Pearson
    interval (:func:`proportion`); ``p``: the binomial test against 1/2 (Holm-adjusted in a family).

    Reproduced if the interval lies above 1/2 with ``p < alpha``, not reproduced if below 1/2 with
    ``p < alpha``, else inconclusive (with 3 seeds, 3 of 3 gives [0.29, 1]: inconclusive, as it should)."""
    rule = (f"reproduced if the {LEVEL:.0%} {share.method} interval of the share of seeds lies above 1/2 with p < "
            f"{alpha:g} ({test}), not reproduced if it lies below 1/2 likewise, else inconclusive")
    if share.n < MIN_SEEDS:
        return Verdict("not tested", f"{claim}: needs at least {MIN_SEEDS} seeds, has {share.n}")
    if not p < alpha:
        if min_binomial_p(share.n) >= alpha:  # no outcome of these seeds could have decided it
            rule += (f"; over {share.n} seeds the test's smallest p is {min_binomial_p(share.n):.4g}, so this claim "
                     f"cannot be decided at {share.n} seeds, whatever they show")
        return Verdict("inconclusive", rule)
    if share.low > 0.5:
        return Verdict("reproduced", rule)
    if share.high < 0.5:
        return Verdict("not reproduced", rule)
    return Verdict("inconclusive", rule)


def rounding_band(figure: float, decimals: int) -> tuple[float, float]:
    """The values a figure stated to ``decimals`` places stands for: ``.09`` -> ``[.085, .095]``."""
    half = 0.5 * 10 ** -decimals
    return figure - half, figure + half


def best_epoch(curves_se) -> np.ndarray:
    """Per seed, the 1-based epoch of the lowest value of ``curves_se (S, E)`` (NaN rows give NaN)."""
    c = np.asarray(curves_se, dtype=float)
    out = np.full(c.shape[0], np.nan)
    for i, row in enumerate(c):
        if np.isfinite(row).any():
            out[i] = int(np.nanargmin(row)) + 1
    return out


def final_train_rmse(train_rmse_seu, epochs_done) -> np.ndarray:
    """Per seed, the mean training RMSE over the updates of its last finished epoch.

    ``train_rmse_seu (S, E, U)`` per update, ``epochs_done (S,)``; a seed with none finished gives NaN.
    """
    t = np.asarray(train_rmse_seu, dtype=float)
    return np.array([np.nanmean(t[i, e - 1]) if e > 0 else np.nan for i, e in enumerate(epochs_done)])


def ratio_paired(a, b) -> Estimate:
    """Per seed ``a / b`` (the same seeds' values of two arms), as a mean with its t interval (paired by
    seed, so the seeds' spread of the ratio, not of each arm, sets the width)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return t_interval(a / b, method=PAIRED_T_METHOD)


def subspace_rank(params_te, tol: float = 1e-8) -> np.ndarray:
    """Rank of ``{theta_t - theta_0 : t <= k}`` for each k, from ``params_te (T, P)`` snapshots.

    Relative tolerance ``tol`` on the singular values (the quirk's fixed directions give rank <= 2).
    """
    p = np.asarray(params_te, dtype=float)
    d = p[1:] - p[0]
    ranks = []
    for k in range(1, len(d) + 1):
        s = np.linalg.svd(d[:k], compute_uv=False)
        ranks.append(int((s > tol * max(s.max(), 1e-300)).sum()))
    return np.array(ranks)
