"""Baselines of the Lorenz cross-prediction task: what a validation RMSE means here.

Five predictors of ``(y, z)(t+1)`` from ``x(t)`` (and, for those with memory, earlier ``x``):

* ``mean``: the training mean of ``(y, z)``, whatever the input (its RMSE is about the targets' spread);
* ``linear``: least squares ``(y, z)(t+1) = a x(t) + b``, no memory;
* ``ngrc``: next-generation reservoir computing (Gauthier et al. 2021): a constant, ``k`` delayed
  inputs ``x(t), x(t-s), ..., x(t-(k-1)s)`` and their unique quadratic monomials, ridge readout;
* ``esn``: a classical echo-state network "reservoir observer" (Lu et al. 2017): a reservoirpy
  ``Reservoir`` driven by ``x(t)``, ridge readout of its state; the reservoir's seed varies, its
  hyperparameters are chosen once with reservoir seed :data:`ESN_SELECTION_SEED`;
* ``qesn``: the QRNN circuit frozen at its random initialisation (the quantum echo-state network of
  Connerty et al. 2025): the per-step readout probabilities of
  ``build_model(TrainConfig(seed=s, precision="complex64"))``, the circuit every trained arm of seed
  ``s`` starts from, with only a ridge readout (16 probabilities + intercept) fitted.

**Training data.** Only the training span, rows ``< task.val_start`` of the series: the pairs
``x(t) -> (y, z)(t+1)`` with ``t + 1 < val_start`` (one continuous sequence, :func:`training_pairs`) or
the training windows whose targets all lie there (:func:`training_windows`: the task's 1,384 windows
less the last two, which in the seed's protocol reach rows 6,930..6,935 of the validation span).

**Two fitting forms, matching the two validation protocols** (:mod:`qrnn_core.evaluation`):

* ``sequence``: the training pairs as ONE sequence started from a fresh memory, fitted so that its
  loss is the validation sequence's: every step counts, the fresh-start transient included. Steps
  :data:`WASHOUT`.. of the one long run are fitted with weight 1; the first ``WASHOUT`` steps are
  replaced by ``M`` fresh starts every :data:`TRANSIENT_EVERY` rows of the span (their first
  ``WASHOUT`` steps each, weight ``1 / M``: one transient's worth, seen from many starting points).
  Evaluated on the validation span as one sequence, again started fresh, every step scored (the
  deck's protocol). Without the transient rows a readout fitted on settled states alone extrapolates
  wildly on the first tens of fresh steps (held-out RMSE 0.03-40 instead of 0.006 for the ESN);
* ``windows``: the training windows, each started fresh (no history from before the window), steps
  :data:`WARMUP`..19 fitted; evaluated on the 590 validation windows, each started fresh, steps 5..19
  scored (the training-like protocol).

``mean`` and ``linear`` have no memory: one fit on the training pairs serves both protocols.
``ngrc``, ``esn`` and ``qesn`` are fitted (hyperparameters included) once per form, each protocol
scored with the model fitted in its form: the QESN's windows readout on the training windows, as the
trained arms are (loss steps 5..19); its sequence readout with its washout (:data:`QESN_WASHOUTS`) and
ridge penalty chosen by the 80/20 rule (a readout fitted on windows alone scored worse than the training
mean on the one sequence for some seeds: 0.51 for seed 1931, alpha 1e-10). With shots each is also
refitted on :data:`SHOTS`-shot frequencies (see :func:`qesn`). ``mean``, ``linear`` and ``ngrc`` draw
nothing at random (one value each); ``esn`` and ``qesn`` return their per-seed scores (``per_seed``)
beside the mean and standard deviation over seeds. "Fresh" for ``ngrc`` means
missing history is the first available value repeated (``x(t - j s) := x(0)`` for ``t < j s``, ``t``
counted from the start of the sequence or window); for ``esn`` a zero reservoir state; for ``qesn``
the circuit's initial state.

**The 80/20 rule**, for every hyperparameter (ridge ``alpha`` included): the split row
``r = round(0.8 (val_start - 1))`` cuts the training pairs; candidates are fitted on the part before
``r`` (pairs ``t < r``, or the windows whose rows all lie before ``r``) and scored on the part from ``r``
(pairs ``t >= r`` as one fresh sequence, all steps scored; or the windows starting at or after ``r``,
steps 5..19); windows straddling ``r`` are in neither. The candidate with the lowest held-out mean RMSE
over ``(y, z)`` wins (ties: the first in grid order), and the model is refitted with it on the whole
training span of its form. Nothing from the validation span is used to fit or to choose.

**Ridge** (:func:`ridge_fit`): centred ridge regression with an unpenalised intercept, the solution of
``sklearn.linear_model.Ridge(alpha)`` and of ``reservoirpy.nodes.Ridge(ridge=alpha)``. The NG-RC's
constant feature is that intercept (Gauthier et al. penalise it too; the difference is immaterial).

All arrays are float64 numpy; inputs ``x (B, T)``, targets ``(B, T, 2)``, each row a sequence started
fresh. :func:`run_baselines` runs everything and returns a JSON-able dict.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .data import LorenzTask
from .evaluation import PROTOCOLS, scores, validation_inputs
from .train import TrainConfig

#: Steps at the start of each window left out of the fit and of the windows protocol's score: the
#: trained arms' (so both are scored on the same steps).
WARMUP = TrainConfig.warmup
#: Sequence form: the fresh-start transient's length (steps of the long run replaced by fresh starts).
WASHOUT = 100
#: QESN, sequence form: the washouts (fresh-start transients) the 80/20 rule chooses from.
QESN_WASHOUTS = (25, 50, 100, 200)
#: Share of the training span the 80/20 rule fits on.
SELECT_FRACTION = 0.8
#: Ridge strengths tried by the 80/20 rule (all ridge baselines).
ALPHAS = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0)
#: NG-RC grid: number of delayed inputs k and their spacing s (k = 1 needs no s).
NGRC_K = (1, 2, 3, 4, 5, 6, 7, 8)
NGRC_S = (1, 2, 4, 6, 8)
#: Sequence form: a fresh start every this many rows of the span shows the readout the transient.
TRANSIENT_EVERY = 25
#: ESN: fixed settings and the grid the 80/20 rule picks from.
ESN_UNITS = 300
ESN_FIXED = {"units": ESN_UNITS, "input_connectivity": 1.0, "rc_connectivity": 0.1, "bias": "U(-1, 1)",
             "Win": "Bernoulli(+-1) * input_scaling", "W": "sparse normal, rescaled to sr", "activation": "tanh"}
ESN_SR = (0.6, 0.9, 1.2)
ESN_LR = (0.2, 0.5)
ESN_INPUT_SCALING = (0.3, 1.0, 3.0)
#: The reservoir seed ESN hyperparameters are chosen with (then every evaluation seed reuses them).
ESN_SELECTION_SEED = 0
#: Shots of the QESN's shot-noise scores: the trained arms' validation shots.
SHOTS = TrainConfig.val_shots

Predictor = Callable[[np.ndarray], np.ndarray]  # x (B, T) -> (B, T, 2), each row started fresh


# --------------------------------------------------------------------------------------------
# Training data in its two forms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Inputs ``x (B, T)``, targets ``y (B, T, 2)``, every row started fresh; steps ``first..`` are
    fitted (or scored), each with the least-squares weight ``weight``."""

    x: np.ndarray
    y: np.ndarray
    first: int
    weight: float = 1.0


def training_pairs(task: LorenzTask) -> tuple[np.ndarray, np.ndarray]:
    """The training span as pairs: ``x (N,)`` = ``x(t)``, ``yz (N, 2)`` = ``(y, z)(t+1)``, ``t + 1 < val_start``.

    ``N = val_start - 1`` (6,929 for the seed): every pair whose target row precedes the validation span.
    """
    s = task.series.detach().cpu().numpy().astype(np.float64)
    v = task.val_start
    return s[: v - 1, 0].copy(), s[1:v, 1:].copy()


def training_windows(task: LorenzTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The task's training windows whose targets all precede the validation span.

    Returns ``starts (S,)`` (row of each window's first input), ``x (S, W)``, ``y (S, W, 2)``. The
    windows start every ``stride`` rows from row 0 (as :func:`qrnn_core.data.make_task` cuts them;
    checked against ``task.train_x``/``train_y``); a window is kept when its last target row
    ``start + W`` is ``< val_start``: 1,382 of the seed's 1,384.
    """
    tx = task.train_x.detach().cpu().numpy().astype(np.float64)
    ty = task.train_y.detach().cpu().numpy().astype(np.float64)
    s = task.series.detach().cpu().numpy().astype(np.float64)
    n_win, W = tx.shape
    x_all, yz_all = s[:-1, 0], s[1:, 1:]
    stride = 1
    if n_win > 1:
        hits = [k for k in range(1, len(x_all) - W + 1)
                if np.array_equal(x_all[k:k + W], tx[1]) and np.array_equal(yz_all[k:k + W], ty[1])]
        if not hits:
            raise ValueError("the training windows are not windows of the series")
        stride = hits[0]
    starts = stride * np.arange(n_win)
    index = starts[:, None] + np.arange(W)
    if index.max() >= len(x_all) or not (np.array_equal(x_all[index], tx) and np.array_equal(yz_all[index], ty)):
        raise ValueError("the training windows are not every stride-th window of the series from row 0")
    keep = starts + W < task.val_start
    return starts[keep], tx[keep], ty[keep]


def split_row(task: LorenzTask) -> int:
    """``r = round(0.8 (val_start - 1))``: the 80/20 rule fits on pairs ``t < r``, scores pairs ``t >= r``."""
    return int(round(SELECT_FRACTION * (task.val_start - 1)))


def window_split(task: LorenzTask, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(S,)`` of the 80/20 rule: windows whose rows all precede ``r``, windows from ``r`` on."""
    r = split_row(task)
    fit, score = starts + window <= r, starts >= r
    if not fit.any() or not score.any():
        raise ValueError("too few training windows for the 80/20 rule")
    return fit, score


def sequence_parts(x: np.ndarray, yz: np.ndarray, washout: int = WASHOUT) -> list[Part]:
    """A span ``x (N,)``, ``yz (N, 2)`` in the sequence form: its loss as if scored like the validation sequence.

    The span is run as one fresh sequence; its steps from ``washout`` (default :data:`WASHOUT`) on are
    fitted with weight 1 (``Part (1, N)``). Its first ``washout`` steps, the fresh-start transient the
    sequence protocol scores, are replaced by the average over ``M`` fresh starts, every
    :data:`TRANSIENT_EVERY` rows of the span (``Part (M, washout)``, all steps, weight ``1 / M``): one
    transient's worth in all, seen from many starting points so that the readout learns it instead of
    one instance of it.
    """
    if len(x) <= washout:
        raise ValueError(f"a sequence-form span needs more than {washout} pairs, got {len(x)}")
    offsets = np.arange(0, len(x) - washout + 1, TRANSIENT_EVERY)
    index = offsets[:, None] + np.arange(washout)
    return [Part(x[None], yz[None], washout), Part(x[index], yz[index], 0, 1.0 / len(offsets))]


def sequence_form(task: LorenzTask, washout: int = WASHOUT) -> dict:
    """The sequence form of the 80/20 rule with a fresh-start transient of ``washout`` steps.

    ``all`` = :func:`sequence_parts` of the training pairs; ``fit`` = that of the pairs ``t < r``;
    ``score`` = the pairs ``t >= r`` ``(1, N - r)`` as one fresh sequence, every step scored (as the
    validation sequence is). Time-ordered: nothing fitted lies after what scores it.
    """
    x, yz = training_pairs(task)
    r = split_row(task)
    if not 2 * washout < r < len(x):
        raise ValueError(f"the training span ({len(x)} pairs) is too short for the 80/20 rule with washout {washout}")
    return {"all": sequence_parts(x, yz, washout), "fit": sequence_parts(x[:r], yz[:r], washout),
            "score": Part(x[None, r:], yz[None, r:], 0)}


def fitting_forms(task: LorenzTask) -> dict[str, dict]:
    """Per form (``sequence``, ``windows``): ``fit`` and ``score`` of the 80/20 rule, and ``all``.

    ``fit`` and ``all`` are lists of :class:`Part`, ``score`` one :class:`Part`. ``sequence``: ``all`` =
    :func:`sequence_parts` of the training pairs; ``fit`` = that of the pairs ``t < r``; ``score`` = the
    pairs ``t >= r`` ``(1, N - r)`` as one fresh sequence, every step scored (as the validation
    sequence is). ``windows``: ``all`` = the kept training windows ``(S, W)``; ``fit`` = those whose
    rows all precede ``r``; ``score`` = those starting at or after ``r``; steps ``WARMUP..`` each.
    """
    starts, wx, wy = training_windows(task)
    fit, score = window_split(task, starts, wx.shape[1])
    return {
        "sequence": sequence_form(task),
        "windows": {"all": [Part(wx, wy, WARMUP)], "fit": [Part(wx[fit], wy[fit], WARMUP)],
                    "score": Part(wx[score], wy[score], WARMUP)},
    }


# --------------------------------------------------------------------------------------------
# Ridge readout and scoring
# --------------------------------------------------------------------------------------------


def ridge_path(X: np.ndarray, Y: np.ndarray, alphas, weight: np.ndarray | None = None
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Centred ridge, intercept unpenalised: ``X (n, F)``, ``Y (n, O)`` -> ``[(coef (F, O), intercept (O,))]``.

    The solution of ``argmin sum_i w_i |Y_i - X_i coef - intercept|^2 + alpha |coef|^2`` (``weight (n,)``,
    default 1: sklearn's ``Ridge(alpha)``, reservoirpy's ``Ridge(ridge=alpha)``); one Gram matrix and
    one eigendecomposition serve every ``alpha``.
    """
    w = np.ones(len(X)) if weight is None else np.asarray(weight, dtype=np.float64)
    xm, ym = w @ X / w.sum(), w @ Y / w.sum()
    sw = np.sqrt(w)[:, None]
    Xc, Yc = (X - xm) * sw, (Y - ym) * sw
    lam, Q = np.linalg.eigh(Xc.T @ Xc)
    QtXY = Q.T @ (Xc.T @ Yc)
    out = []
    for a in alphas:
        coef = Q @ (QtXY / (np.clip(lam, 0, None) + a)[:, None])
        out.append((coef, ym - xm @ coef))
    return out


def _rows(F: np.ndarray, first: int) -> np.ndarray:
    """``(B, T, F)`` -> ``(B (T - first), F)``: the fitted or scored steps, stacked."""
    return F[:, first:].reshape(-1, F.shape[-1])


def design(pairs: list[tuple[np.ndarray, Part]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[(features (B, T, F), part)]`` -> the fitted rows ``X (n, F)``, targets ``Y (n, 2)``, weights ``(n,)``."""
    X = np.concatenate([_rows(F, p.first) for F, p in pairs])
    Y = np.concatenate([_rows(p.y, p.first) for _, p in pairs])
    w = np.concatenate([np.full(len(_rows(p.y, p.first)), p.weight) for _, p in pairs])
    return X, Y, w


def ridge_fit(pairs: list[tuple[np.ndarray, Part]], alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The ridge readout ``(coef (F, 2), intercept (2,))`` of features on the parts' fitted steps."""
    X, Y, w = design(pairs)
    return ridge_path(X, Y, [alpha], w)[0]


def _rmse_mean(pred: np.ndarray, target: np.ndarray) -> float:
    return scores(torch.from_numpy(pred), torch.from_numpy(target))["rmse_mean"]


def best_alpha(fit: list[tuple[np.ndarray, Part]], score: tuple[np.ndarray, Part], alphas=ALPHAS
               ) -> tuple[float | None, float]:
    """``(alpha, held-out mean RMSE)``: ridge readouts fitted on ``fit`` ``[(features, part)]``, scored on
    the steps ``first..`` of ``score`` ``(features, part)``; the first ``alpha`` on ties."""
    X, Y, w = design(fit)
    F, part = score
    target = part.y[:, part.first:]
    best = (None, math.inf)
    for alpha, (coef, b) in zip(alphas, ridge_path(X, Y, alphas, w)):
        e = _rmse_mean(F[:, part.first:] @ coef + b, target)
        if math.isfinite(e) and e < best[1]:
            best = (alpha, e)
    return best


def evaluate(predictors: dict[str, Predictor], task: LorenzTask) -> dict[str, dict]:
    """``{protocol: {"exact": scores}}``: each protocol's predictor on its validation inputs.

    ``predictors[protocol]`` maps ``x (B, T)`` to ``(B, T, 2)``; inputs and scored steps are those of
    :func:`qrnn_core.evaluation.validation_inputs` with ``warmup = WARMUP``.
    """
    out = {}
    for protocol, (x, y, first) in validation_inputs(task, warmup=WARMUP).items():
        pred = predictors[protocol](x.detach().cpu().numpy().astype(np.float64))
        out[protocol] = {"exact": scores(torch.from_numpy(pred[:, first:]), y[:, first:].cpu().double())}
    return out


def select(features: Callable[[np.ndarray, dict], np.ndarray], grid: list[dict], form: dict, alphas=ALPHAS) -> dict:
    """The 80/20 rule over ``grid`` x ``alphas``: ``{**best_hyperparameters, "alpha", "heldout_rmse_mean"}``.

    ``features(x (B, T), hp) -> (B, T, F)`` (each row started fresh); each candidate's ridge readout
    is fitted on ``form["fit"]`` and scored on ``form["score"]``; the lowest held-out mean RMSE wins,
    the first in grid order on ties.
    """
    best = None
    for hp in grid:
        alpha, e = best_alpha([(features(p.x, hp), p) for p in form["fit"]],
                              (features(form["score"].x, hp), form["score"]), alphas)
        if alpha is not None and (best is None or e < best["heldout_rmse_mean"]):
            best = {**hp, "alpha": alpha, "heldout_rmse_mean": e}
    if best is None:
        raise ValueError("no candidate of the grid gave a finite held-out RMSE")
    return best


def fit_selected(features: Callable[[np.ndarray], np.ndarray], form: dict, alpha: float) -> Predictor:
    """The ridge readout of ``features`` refitted on ``form["all"]``, as a predictor ``x (B, T) -> (B, T, 2)``."""
    coef, b = ridge_fit([(features(p.x), p) for p in form["all"]], alpha)
    return lambda x: features(x) @ coef + b


# --------------------------------------------------------------------------------------------
# mean and linear
# --------------------------------------------------------------------------------------------


def fit_mean(task: LorenzTask) -> tuple[dict[str, Predictor], dict]:
    """The training mean of ``(y, z)`` (over the training pairs' targets), the same for both protocols."""
    _, yz = training_pairs(task)
    m = yz.mean(0)
    predict = lambda x: np.broadcast_to(m, x.shape + (2,)).copy()  # noqa: E731
    return {p: predict for p in PROTOCOLS}, {"mean_y": float(m[0]), "mean_z": float(m[1]),
                                             "fitted_on": "training pairs"}


def fit_linear(task: LorenzTask) -> tuple[dict[str, Predictor], dict]:
    """Least squares ``(y, z)(t+1) = a x(t) + b`` on the training pairs, the same for both protocols."""
    x, yz = training_pairs(task)
    A = np.stack([x, np.ones_like(x)], 1)
    (a, b), *_ = np.linalg.lstsq(A, yz, rcond=None)
    predict = lambda x: x[..., None] * a + b  # noqa: E731
    return {p: predict for p in PROTOCOLS}, {"slope_y": float(a[0]), "slope_z": float(a[1]),
                                             "intercept_y": float(b[0]), "intercept_z": float(b[1]),
                                             "fitted_on": "training pairs"}


# --------------------------------------------------------------------------------------------
# NG-RC
# --------------------------------------------------------------------------------------------


def ngrc_features(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """``x (B, T)`` -> ``(B, T, k + k (k + 1) / 2)``: delayed inputs and their unique quadratic monomials.

    Step ``t`` holds ``x(t), x(t-s), ..., x(t-(k-1)s)`` (missing history: ``x(0)`` of the row, i.e.
    the first available value repeated) and the products ``x(t - i s) x(t - j s)``, ``i <= j``. The
    constant feature is the readout's intercept.
    """
    T = x.shape[1]
    lin = np.stack([x[:, np.maximum(np.arange(T) - j * s, 0)] for j in range(k)], -1)
    i, j = np.triu_indices(k)
    return np.concatenate([lin, lin[..., i] * lin[..., j]], -1)


def ngrc_grid() -> list[dict]:
    """``[{"k", "s"}]``: every ``k`` of :data:`NGRC_K` with every ``s`` of :data:`NGRC_S` (``k = 1``: s = 1 only)."""
    return [{"k": k, "s": s} for k in NGRC_K for s in NGRC_S if k > 1 or s == NGRC_S[0]]


def fit_ngrc(task: LorenzTask) -> tuple[dict[str, Predictor], dict]:
    """NG-RC per form: ``k``, ``s``, ``alpha`` by the 80/20 rule, then refitted on the form's whole span."""
    forms = fitting_forms(task)
    feats = lambda x, hp: ngrc_features(x, hp["k"], hp["s"])  # noqa: E731
    predictors, settings = {}, {"features": "x(t - j s), j < k, and their unique quadratic monomials; "
                                            "intercept unpenalised"}
    for protocol in PROTOCOLS:
        form = forms[protocol]
        best = select(feats, ngrc_grid(), form)
        hp = {"k": best["k"], "s": best["s"]}
        predictors[protocol] = fit_selected(lambda x, hp=hp: feats(x, hp), form, best["alpha"])
        settings[protocol] = {**best, "n_features": 1 + best["k"] + best["k"] * (best["k"] + 1) // 2}
    return predictors, settings


# --------------------------------------------------------------------------------------------
# ESN (reservoirpy)
# --------------------------------------------------------------------------------------------


def reservoirpy_reservoir(seed: int, sr: float, lr: float, input_scaling: float, units: int = ESN_UNITS):
    """A reservoirpy ``Reservoir`` (1 input) built and initialised by reservoirpy itself from ``seed``.

    ``W``: sparse normal (connectivity :data:`ESN_FIXED` ``rc_connectivity``) rescaled to spectral
    radius ``sr``; ``Win``: Bernoulli(+-1) times ``input_scaling``, every unit connected; bias U(-1, 1).
    """
    from reservoirpy import mat_gen
    from reservoirpy.nodes import Reservoir

    res = Reservoir(units, lr=lr, sr=sr, input_scaling=input_scaling,
                    input_connectivity=ESN_FIXED["input_connectivity"],
                    rc_connectivity=ESN_FIXED["rc_connectivity"], bias=mat_gen.uniform(low=-1.0, high=1.0),
                    seed=seed)
    res.initialize(np.zeros((1, 1)))
    return res


@functools.lru_cache(maxsize=4)
def _unit_reservoir(seed: int, units: int):
    r = reservoirpy_reservoir(seed, 1.0, 1.0, 1.0, units)
    return r.W, r.Win, np.asarray(r.bias, dtype=np.float64)


def make_reservoir(seed: int, sr: float, lr: float, input_scaling: float, units: int = ESN_UNITS):
    """:func:`reservoirpy_reservoir`, with ``W`` and ``Win`` rescaled from the seed's ``sr = 1``,
    ``input_scaling = 1`` reservoir (one spectral-radius computation a seed instead of one a setting).

    reservoirpy draws ``W``, ``Win`` and the bias from the seed independently of ``sr`` and
    ``input_scaling`` and scales them linearly, so this is the same reservoir up to rounding.
    """
    from reservoirpy.nodes import Reservoir

    W, Win, bias = _unit_reservoir(int(seed), int(units))
    res = Reservoir(lr=lr, W=W * sr, Win=Win * input_scaling, bias=bias.copy(), input_dim=1)
    res.initialize(np.zeros((1, 1)))
    return res


def reservoir_states(reservoir, x: np.ndarray) -> np.ndarray:
    """``x (B, T)`` -> states ``(B, T, units)``, every row from the zero state, all rows at once.

    The update of reservoirpy's ``Reservoir`` (``s' = (1 - lr) s + lr tanh(W s + Win x + bias)``;
    ``reservoir.run`` on a ``(B, T, 1)`` array after ``reset()`` gives the same states, one row at a time).
    """
    def dense(a):
        return np.asarray(a.toarray() if hasattr(a, "toarray") else a, dtype=np.float64)

    B, T = x.shape
    W = dense(reservoir.W) if B < 64 else reservoir.W  # a dense matvec is faster for few rows
    win, lr = dense(reservoir.Win)[:, 0], reservoir.lr
    bias = np.broadcast_to(np.asarray(reservoir.bias, dtype=np.float64).reshape(-1), win.shape)
    drive = x.T[:, None, :] * win[None, :, None] + bias[None, :, None]  # (T, units, B)
    s = np.zeros((reservoir.units, B))
    out = np.empty((T, reservoir.units, B))
    for t in range(T):
        s = (1 - lr) * s + lr * np.tanh(W @ s + drive[t])
        out[t] = s
    return out.transpose(2, 0, 1)


def esn_grid() -> list[dict]:
    """``[{"sr", "lr", "input_scaling"}]``: the product of :data:`ESN_SR`, :data:`ESN_LR`, :data:`ESN_INPUT_SCALING`."""
    return [{"sr": a, "lr": b, "input_scaling": c} for a, b, c in itertools.product(ESN_SR, ESN_LR, ESN_INPUT_SCALING)]


def select_esn(task: LorenzTask, seed: int = ESN_SELECTION_SEED, grid: list[dict] | None = None) -> dict[str, dict]:
    """Per form ``{"sr", "lr", "input_scaling", "alpha", "heldout_rmse_mean"}``: the 80/20 rule over ``grid``
    (default :func:`esn_grid`), reservoir ``seed``."""
    forms = fitting_forms(task)
    reservoirs = {}

    def feats(x, hp):
        key = (hp["sr"], hp["lr"], hp["input_scaling"])
        if key not in reservoirs:
            reservoirs[key] = make_reservoir(seed, *key)
        return reservoir_states(reservoirs[key], x)

    return {protocol: select(feats, grid or esn_grid(), forms[protocol]) for protocol in PROTOCOLS}


def fit_esn(task: LorenzTask, seed: int, chosen: dict[str, dict]) -> dict[str, Predictor]:
    """The ESN of reservoir ``seed`` with each form's ``chosen`` hyperparameters, readout fitted on the form's span."""
    forms = fitting_forms(task)
    predictors = {}
    for protocol in PROTOCOLS:
        hp = chosen[protocol]
        res = make_reservoir(seed, hp["sr"], hp["lr"], hp["input_scaling"])
        predictors[protocol] = fit_selected(lambda x, res=res: reservoir_states(res, x), forms[protocol], hp["alpha"])
    return predictors


# --------------------------------------------------------------------------------------------
# QESN: the QRNN circuit at its initialisation, readout fitted
# --------------------------------------------------------------------------------------------


def qesn_model(seed: int, circuit: np.ndarray | None = None, n_qubits: int = 8):
    """The QRNN of ``seed`` at initialisation (exact probabilities, complex64) and two shot generators.

    Returns ``(model, fit_generator, val_generator)``: ``val_generator`` is
    :func:`qrnn_core.train.validation_generator` at epoch 0 and ``fit_generator`` the same stream at
    epoch -1, streams that no trained run draws from. ``circuit``: the quantum layer's parameters to
    set instead of the initial ones, a trajectory's ``params`` row (``(144,)`` float64, ``w`` and ``b``
    first; the readout's entries after them are not used): a trained circuit whose readout is refitted,
    on ``n_qubits`` qubits (its run's).
    """
    from .train import TrainConfig, build_model, validation_generator

    config = TrainConfig(seed=seed, precision="complex64", n_qubits=n_qubits)
    model, _ = build_model(config)
    model.quantum.runner.shots = None
    if circuit is not None:
        set_circuit(model, circuit)
    fit_generator = torch.Generator().manual_seed((config.seed * 1_000_003 - 1) % 2**63)
    return model, fit_generator, validation_generator(config, 0)


@torch.no_grad()
def set_circuit(model, params: np.ndarray) -> None:
    """Copy the quantum layer's parameters from the leading entries of ``params`` (a trajectory row,
    :func:`qrnn_core.train.train`: ``w``, ``b``, then the readout's, flattened), each in its own dtype."""
    params = np.asarray(params, dtype=np.float64)
    layer = list(model.quantum.parameters())
    need = sum(p.numel() for p in layer)
    if len(params) < need or not np.isfinite(params[:need]).all():
        raise ValueError(f"a circuit needs {need} finite parameters; got {len(params)}, "
                         f"{int((~np.isfinite(params[:need])).sum())} of the first {need} not finite")
    at = 0
    for p in layer:
        p.copy_(torch.from_numpy(params[at:at + p.numel()]).reshape(p.shape))
        at += p.numel()


@torch.no_grad()
def circuit_probabilities(model, x: np.ndarray) -> np.ndarray:
    """``x (B, T)`` -> exact per-step readout probabilities ``(B, T, 16)`` float64, every row from the initial state."""
    return model.quantum(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).double().numpy()


def fit_window_readout(task: LorenzTask, features: np.ndarray, alphas=ALPHAS) -> tuple[np.ndarray, np.ndarray, dict]:
    """A ridge readout of per-step ``features (S, W, F)`` of the :func:`training_windows` (steps 5..19).

    ``alpha`` by the 80/20 rule on the windows; returns ``(coef (F, 2), intercept (2,),
    {"alpha", "washout", "heldout_rmse_mean"})`` (``washout`` is :data:`WARMUP`: the windows protocol
    scores steps 5..19, so the fit leaves out the same steps).
    """
    starts, wx, wy = training_windows(task)
    fit, score = window_split(task, starts, wx.shape[1])
    alpha, e = best_alpha([(features[fit], Part(wx[fit], wy[fit], WARMUP))],
                          (features[score], Part(wx[score], wy[score], WARMUP)), alphas)
    if alpha is None:
        raise ValueError("no alpha gave a finite held-out RMSE")
    coef, b = ridge_fit([(features, Part(wx, wy, WARMUP))], alpha)
    return coef, b, {"alpha": alpha, "washout": WARMUP, "heldout_rmse_mean": e}


def fit_sequence_readout(task: LorenzTask, features: Callable[[np.ndarray], np.ndarray], washouts=QESN_WASHOUTS,
                         alphas=ALPHAS) -> tuple[np.ndarray, np.ndarray, dict]:
    """A ridge readout in the sequence form, its ``washout`` and ``alpha`` chosen by the 80/20 rule.

    ``features(x (B, T)) -> (B, T, F)``, each row from a fresh start. For each ``washout`` of
    ``washouts`` (:func:`sequence_form`) and each ``alpha``, the readout is fitted on the pairs before
    the split row and scored on the pairs after it run as one fresh sequence, every step (as the
    validation sequence is scored): time-ordered, inside the training span. The lowest held-out mean
    RMSE wins (ties: the first, washouts in order, then alphas); the readout is refitted with it on the
    whole span. Returns ``(coef (F, 2), intercept (2,), {"alpha", "washout", "heldout_rmse_mean"})``.
    """
    best = None
    for washout in washouts:
        form = sequence_form(task, washout)
        alpha, e = best_alpha([(features(p.x), p) for p in form["fit"]],
                              (features(form["score"].x), form["score"]), alphas)
        if alpha is not None and (best is None or e < best["heldout_rmse_mean"]):
            best = {"alpha": alpha, "washout": washout, "heldout_rmse_mean": e}
    if best is None:
        raise ValueError("no washout and alpha gave a finite held-out RMSE")
    form = sequence_form(task, best["washout"])
    coef, b = ridge_fit([(features(p.x), p) for p in form["all"]], best["alpha"])
    return coef, b, best


def _sample(probs: np.ndarray, shots: int, generator: torch.Generator) -> np.ndarray:
    from .simulator import sample_frequencies

    return sample_frequencies(torch.from_numpy(probs), shots, generator).numpy()


def _memo(compute: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``compute`` run once per distinct input array (by shape and bytes): the 80/20 rule asks for the
    same parts' features once per washout, and sampled frequencies must be the same draw each time."""
    cache: dict = {}

    def features(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        key = (x.shape, x.tobytes())
        if key not in cache:
            cache[key] = compute(x)
        return cache[key]

    return features


@torch.no_grad()
def qesn(task: LorenzTask, seed: int, shots: int | None = SHOTS, circuit: np.ndarray | None = None,
         n_qubits: int = 8) -> dict:
    """One seed's QESN, a readout fitted per form (protocol) and per mode, scored on both protocols.

    Returns ``{"seed", "sequence": {mode: scores}, "windows": {...}, "selected": {protocol: {mode:
    {"alpha", "washout", "heldout_rmse_mean"}}}}`` with modes

    * ``exact``: readout fitted on exact probabilities, applied to exact probabilities;
    * ``shots``: readout fitted on ``shots``-shot frequencies (its own ``alpha`` and ``washout``, the
      80/20 rule scored on frequencies too), applied to ``shots``-shot frequencies;
    * ``shots_exact_readout``: the ``exact`` readout applied to the same validation frequencies.

    Like the ESN, each protocol is scored with the readout fitted in its own form: ``windows`` on the
    training windows, steps 5..19 (:func:`fit_window_readout`, as the trained arms are); ``sequence``
    in the sequence form with its washout and ridge penalty chosen on the training span
    (:func:`fit_sequence_readout`). A readout fitted on windows alone extrapolates on the 2,969-step
    sequence (RMSE 0.11 to 0.51 over the paper seeds, worse than the training mean for some).

    The circuits run with exact probabilities (each distinct input once); frequencies are sampled from
    them (:func:`qrnn_core.simulator.sample_frequencies`): the training span's from ``fit_generator``,
    then the validation sequence's and windows' from ``val_generator`` (:func:`qesn_model`).

    ``circuit``: a trained circuit's parameters on ``n_qubits`` qubits (:func:`qesn_model`) in place of
    seed ``seed``'s initial ones: its readout refitted the same way, which sets a trained arm beside the
    QESN with the readout fitted alike (the readout control).
    """
    model, fit_gen, val_gen = qesn_model(seed, circuit, n_qubits)
    exact = _memo(lambda x: circuit_probabilities(model, x))
    modes = {"exact": exact}
    if shots is not None:
        modes["shots"] = _memo(lambda x: _sample(exact(x), shots, fit_gen))
    _, wx, _ = training_windows(task)
    readouts = {"windows": {m: fit_window_readout(task, f(wx)) for m, f in modes.items()},
                "sequence": {m: fit_sequence_readout(task, f) for m, f in modes.items()}}
    out = {"seed": seed}
    for protocol, (x, y, first) in validation_inputs(task, warmup=WARMUP).items():
        probs = circuit_probabilities(model, x.numpy())
        y = y[:, first:].cpu().double()

        def score(features, mode):
            coef, b, _ = readouts[protocol][mode]
            return scores(torch.from_numpy((features @ coef + b)[:, first:]), y)

        out[protocol] = {"exact": score(probs, "exact")}
        if shots is not None:
            freqs = _sample(probs, shots, val_gen)
            out[protocol]["shots"] = score(freqs, "shots")
            out[protocol]["shots_exact_readout"] = score(freqs, "exact")
    out["selected"] = {p: {m: best for m, (_, _, best) in r.items()} for p, r in readouts.items()}
    return out


def beats_mean(results: dict, mode: str = "exact") -> dict[tuple[str, str], bool]:
    """``{(baseline, protocol): its RMSE (mean of y, z; mean over seeds) < the training mean's}`` from
    :func:`run_baselines`'s dict: a baseline that does not beat a constant has learnt nothing from x."""
    mean = {p: results["mean"][p]["exact"]["rmse_mean"] for p in PROTOCOLS}
    return {(name, p): r[p][mode if mode in r[p] else "exact"]["rmse_mean"] < mean[p]
            for name, r in results.items() if name != "mean" for p in PROTOCOLS}


# --------------------------------------------------------------------------------------------
# Everything
# --------------------------------------------------------------------------------------------


def _aggregate(per_seed: list[dict]) -> tuple[dict, dict]:
    """Mean and standard deviation (ddof 1; 0 for one seed) over seeds of ``{protocol: {mode: scores}}``."""
    mean, std = {}, {}
    for protocol in PROTOCOLS:
        mean[protocol], std[protocol] = {}, {}
        for mode in per_seed[0][protocol]:
            mean[protocol][mode], std[protocol][mode] = {}, {}
            for key in per_seed[0][protocol][mode]:
                v = np.array([s[protocol][mode][key] for s in per_seed])
                mean[protocol][mode][key] = float(v.mean())
                std[protocol][mode][key] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return mean, std


def run_baselines(task: LorenzTask, seeds, shots: int | None = SHOTS, log=None,
                  esn_candidates: list[dict] | None = None) -> dict:
    """Every baseline fitted on the training span and scored on both validation protocols; JSON-able.

    ``{name: {"sequence": {mode: scores}, "windows": {mode: scores}, "settings": {...}, "seconds",
    "cpu_seconds"}}`` for ``mean``, ``linear``, ``ngrc``, ``esn``, ``qesn``; scores are ``rmse_y``,
    ``rmse_z``, ``rmse_mean`` (:func:`qrnn_core.evaluation.scores`); the mode is ``exact`` and, for
    ``qesn`` with ``shots``, also ``shots`` and ``shots_exact_readout`` (see :func:`qesn`). For the
    seeded ``esn`` and ``qesn`` the protocol entries are means over ``seeds``, ``"std"`` holds the
    standard deviations over seeds (ddof 1) in the same layout and ``"per_seed"`` the list.
    ``shots=None`` leaves out the QESN's shot scores; ``log`` (e.g. ``print``) gets a line per baseline;
    ``esn_candidates``: the ESN's hyperparameters to choose from (``[{"sr", "lr", "input_scaling"}]``; default
    the whole :func:`esn_grid`, a cut one for a smoke test).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_baselines needs at least one seed")
    out = {}

    def timed(name, make):
        t0, c0 = time.perf_counter(), time.process_time()
        out[name] = make()
        out[name]["seconds"] = time.perf_counter() - t0
        out[name]["cpu_seconds"] = time.process_time() - c0
        if log:
            log(f"{name}: {out[name]['seconds']:.1f} s")

    def memoryless(fit):
        predictors, settings = fit(task)
        return {**evaluate(predictors, task), "settings": settings}

    def esn():
        grid = [dict(c) for c in esn_candidates] if esn_candidates else esn_grid()
        chosen = select_esn(task, grid=grid)
        per_seed = [{"seed": s, **evaluate(fit_esn(task, s, chosen), task)} for s in seeds]
        mean, std = _aggregate(per_seed)
        return {**mean, "std": std, "per_seed": per_seed,
                "settings": {**ESN_FIXED, "washout": WASHOUT, "transient_every": TRANSIENT_EVERY,
                             "selection_seed": ESN_SELECTION_SEED, "seeds": seeds, "candidates": len(grid), **chosen}}

    def qesn_all():
        per_seed = [qesn(task, s, shots) for s in seeds]
        mean, std = _aggregate(per_seed)
        settings = {"circuit": "build_model(TrainConfig(seed=s, precision='complex64')) at initialisation",
                    "fitted_on": {"windows": "training windows, steps 5..19",
                                  "sequence": "training pairs in the sequence form, washout and alpha by the 80/20 rule"},
                    "washouts": list(QESN_WASHOUTS), "shots": shots, "seeds": seeds,
                    "selected": [s["selected"] for s in per_seed]}
        return {**mean, "std": std, "per_seed": per_seed, "settings": settings}

    timed("mean", lambda: memoryless(fit_mean))
    timed("linear", lambda: memoryless(fit_linear))
    timed("ngrc", lambda: memoryless(fit_ngrc))
    timed("esn", esn)
    timed("qesn", qesn_all)
    return out
