"""The Lorenz cross-prediction task: input x(t), predict (y(t+1), z(t+1)), the seed's protocol.

* the Lorenz system (sigma 10, rho 28, beta 8/3) integrated with an 8th-order Runge-Kutta method
  (DOP853, rtol 1e-10) sampled every ``dt = 0.01``, after a discarded transient;
* 9,900 samples of ``(x, y, z)``, each column min-max scaled to [0, 1] (on the whole series as the
  seed did, or on the training span only);
* training: all length-20 windows of ``x_t -> (y, z)_{t+1}`` pairs (9,880), the first 70 % of
  them, every 5th kept: 1,384 sequences;
* validation, two protocols: the deck's, the last 30 % of the series (rows 6,930..9,899) as ONE
  continuous sequence of 2,969 steps ``x_t -> (y, z)_{t+1}``; and windows matching training, every
  ``stride``-th 20-step window of that span, scored like training (warm-up steps left out).

The series is either integrated here (``source="generated"``) or read from the original study's own
file (``source="original"``, ``data/original/train_data_lorenz_full.npy``): that file was scaled over a longer
trajectory, so RMSEs on the two sources are in different units and never compared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.integrate import solve_ivp

from .options import option


@dataclass(frozen=True)
class DataConfig:
    """Every setting of the task, the seed's value as default."""

    n_samples: int = option(9900, "Samples of (x, y, z) in the series.", minimum=3)
    dt: float = option(0.01, "Sampling step of the series (time units).")
    sigma: float = option(10.0, "Lorenz sigma.")
    rho: float = option(28.0, "Lorenz rho.")
    beta: float = option(8.0 / 3.0, "Lorenz beta.")
    initial: tuple[float, float, float] = option((1.0, 1.0, 1.0), "Initial (x, y, z), comma-separated.")
    transient: float = option(10.0, "Time units integrated and discarded before sampling.", minimum=0)
    window: int = option(20, "Steps per training window.", minimum=1)
    train_fraction: float = option(0.7, "Share of the windows (and of the series) used for training.")
    stride: int = option(5, "Keep every stride-th training window (and validation window).", minimum=1)
    scaling: str = option("whole", "Min-max scaling over the whole series (the deck) or the training span.",
                          ("whole", "train"))
    source: str = option("generated", "Integrate the series here, or read the original study's own file.",
                         ("generated", "original"))

    def check(self) -> None:
        def positive_int(name, minimum=1):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"data.{name} must be an integer >= {minimum}, got {value!r}")

        if self.source not in SOURCES:
            raise ValueError(f"data.source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        for name in ("dt", "sigma", "rho", "beta", "transient", "train_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"data.{name} must be a finite number, got {value!r}")
        if len(self.initial) != 3 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in self.initial):
            raise ValueError(f"data.initial must be three finite numbers, got {self.initial!r}")
        positive_int("n_samples", 3)
        positive_int("window")
        positive_int("stride")
        for name in ("dt", "sigma", "rho", "beta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"data.{name} must be positive, got {getattr(self, name)!r}")
        if self.transient < 0:
            raise ValueError(f"data.transient must be >= 0, got {self.transient!r}")
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"data.train_fraction must be in (0, 1), got {self.train_fraction!r}")
        if self.scaling not in ("whole", "train"):
            raise ValueError(f"data.scaling must be 'whole' or 'train', got {self.scaling!r}")
        if self.window >= self.n_samples - 1:
            raise ValueError(f"data.window ({self.window}) must be shorter than the series")
        if self.source == "original" and self.n_samples != ORIGINAL_ROWS:
            raise ValueError(f"data.n_samples must be {ORIGINAL_ROWS} with data.source 'original' (its rows), "
                             f"got {self.n_samples}")
        if self.source == "original":
            # The file is already integrated and scaled: a setting of the integration or the scaling would
            # be silently ignored, so it is refused instead.
            ignored = [f.name for f in dataclasses.fields(self) if f.name in GENERATOR_SETTINGS
                       and getattr(self, f.name) != f.default]
            if ignored:
                raise ValueError(f"data.{', data.'.join(ignored)}: a setting of the generated series; "
                                 "data.source 'original' reads a file already integrated and scaled")


SOURCES = ("generated", "original")
#: The settings that make the generated series (integration and scaling); the original file has its own.
GENERATOR_SETTINGS = ("dt", "sigma", "rho", "beta", "initial", "transient", "scaling")
#: The original study's series (see data/original/README.md): rows and SHA-256, checked when read.
ORIGINAL_SERIES = Path(__file__).resolve().parent.parent / "data" / "original" / "train_data_lorenz_full.npy"
ORIGINAL_ROWS = 9900
ORIGINAL_SHA256 = "2370f749ee8b374d781e24161794efecabe2aa45e36faf22f1d51b57f0237987"


def original_series(path: Path = ORIGINAL_SERIES) -> np.ndarray:
    """The original study's ``(9900, 3)`` scaled series, checked against its recorded hash."""
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != ORIGINAL_SHA256:
        raise ValueError(f"{path} is not the original study's series (its SHA-256 differs)")
    return np.load(path)


@dataclass(frozen=True)
class LorenzTask:
    """Scaled series and the seed's splits, float64.

    ``series (n, 3)`` scaled x, y, z; ``train_x (S, W)``, ``train_y (S, W, 2)`` the training
    sequences; ``val_x (V,)``, ``val_y (V, 2)`` the validation sequence (the deck's protocol);
    ``val_windows_x (M, W)``, ``val_windows_y (M, W, 2)`` every ``stride``-th window inside the
    validation span (the training-like protocol); ``scale_min``,
    ``scale_max`` ``(3,)`` the min-max scaling (``raw = min + scaled * (max - min)``).
    """

    series: torch.Tensor
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    val_windows_x: torch.Tensor
    val_windows_y: torch.Tensor
    val_start: int
    scale_min: torch.Tensor
    scale_max: torch.Tensor


def lorenz_series(config: DataConfig = DataConfig()) -> np.ndarray:
    """``(n_samples, 3)`` unscaled Lorenz trajectory sampled every ``dt`` after the transient."""
    s, r, b = config.sigma, config.rho, config.beta

    def rhs(_, u):
        x, y, z = u
        return [s * (y - x), x * (r - z) - y, x * y - b * z]

    t_eval = config.transient + config.dt * np.arange(config.n_samples)
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), config.initial, method="DOP853", t_eval=t_eval,
                    rtol=1e-10, atol=1e-12)
    if not sol.success:  # pragma: no cover - DOP853 on Lorenz does not fail
        raise RuntimeError(f"Lorenz integration failed: {sol.message}")
    return sol.y.T


def spread_indices(n: int, k: int) -> np.ndarray:
    """``k`` of the positions ``0..n-1`` spread evenly over them, first and last included: ``(k,)`` int64.

    The subsample a reduced budget trains on (``TrainConfig.train_windows = "spread"``): windows at
    evenly spaced positions of the full list cover the whole training span, as an epoch of the deck's
    does, where the first ``k`` would cover only its start (for the seed's series, the first 230
    windows are rows 0..1,165, the run-in of the trajectory before it settles on the attractor).
    ``k = 1`` gives position 0; ``k > n`` or ``k < 1`` is refused.
    """
    if not 1 <= k <= n:
        raise ValueError(f"{k} positions asked of {n}")
    # Spacing (n - 1) / (k - 1) >= 1, so the rounded positions are distinct and increasing.
    return np.rint(np.linspace(0, n - 1, k)).astype(np.int64)


def make_task(config: DataConfig = DataConfig()) -> LorenzTask:
    """The series, scaled, and cut into the seed's training windows and validation sequence."""
    config.check()
    n = config.n_samples
    val_start = int(round(config.train_fraction * n))  # 6,930 for the seed
    if config.source == "original":  # already scaled by the original study: kept as it is
        series = torch.from_numpy(original_series())
        lo, hi = torch.zeros(3, dtype=series.dtype), torch.ones(3, dtype=series.dtype)
    else:
        raw = torch.from_numpy(lorenz_series(config))
        fit = raw if config.scaling == "whole" else raw[:val_start]
        lo, hi = fit.min(0).values, fit.max(0).values
        series = (raw - lo) / (hi - lo)
    x, yz = series[:-1, 0], series[1:, 1:]  # pair t: x_t -> (y, z)_{t+1}
    n_windows = len(x) - config.window + 1  # 9,880
    starts = torch.arange(0, int(config.train_fraction * n_windows), config.stride)
    index = starts[:, None] + torch.arange(config.window)
    # Windows inside the validation span, pairs val_start .. n-2, at the training stride.
    val_starts = torch.arange(val_start, len(x) - config.window + 1, config.stride)
    val_index = val_starts[:, None] + torch.arange(config.window)
    return LorenzTask(
        series=series,
        train_x=x[index],
        train_y=yz[index],
        val_x=x[val_start:],
        val_y=yz[val_start:],
        val_windows_x=x[val_index],
        val_windows_y=yz[val_index],
        val_start=val_start,
        scale_min=lo,
        scale_max=hi,
    )
