"""Gradient estimators of the quantum layer: their settings and their maths, kept pure.

Each estimator is a frozen dataclass of settings, chosen by name with :func:`make_estimator`. The
maths here works on plain tensors: which parameter vectors to evaluate (``perturbations``) and how
to turn the scalars ``s(θ') = <grad_output, probs(θ')>`` into a vector-Jacobian product
(``combine``). Circuits are evaluated elsewhere (:mod:`qrnn_core.quantum_layer`), all of one
backward in ONE batched call. Randomness comes from a ``torch.Generator`` passed in, never global.

Parameters are ``θ = (w, b)``, ``P = 2 * n_angles`` of them (110 in the seed), float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

ESTIMATORS = ("spsa", "fdsa", "parameter_shift", "exact")


def rademacher(num: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """``(num, size)`` float64 tensor of independent +-1 entries."""
    return torch.randint(0, 2, (num, size), generator=generator, dtype=torch.float64) * 2 - 1


def directional_estimate(
    s_plus: torch.Tensor, s_minus: torch.Tensor, directions: torch.Tensor, c: float
) -> torch.Tensor:
    """SPSA's gradient from two-sided differences along ``directions``.

    ``s_plus``, ``s_minus``: ``(K,)`` values at ``θ ± c Δ_k``; ``directions``: ``(K, P)``.
    Returns ``(P / K) Σ_k d_k Δ_k / |Δ_k|²`` with ``d_k = (s⁺_k - s⁻_k) / 2c``: for Rademacher
    directions (``|Δ|² = P``, ``1/Δ_i = Δ_i``) this is Spall's ``mean_k d_k / Δ_k``; for all ``P``
    coordinate directions it is exactly the central difference. It is unbiased (to ``O(c²)``)
    whenever ``E[Δ Δᵀ / |Δ|²] = 1 / P``, as for both.
    """
    d = (s_plus - s_minus) / (2 * c)
    K, P = directions.shape
    return (P / K) * ((d / directions.pow(2).sum(1))[:, None] * directions).sum(0)


def central_difference(s_plus: torch.Tensor, s_minus: torch.Tensor, h: float) -> torch.Tensor:
    """FDSA: ``(s(θ + h e_i) - s(θ - h e_i)) / 2h`` for each ``i``; inputs ``(P,)``."""
    return (s_plus - s_minus) / (2 * h)


def shift_rule(gate: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Shifts and coefficients with ``f'(a) = Σ_j coef_j f(a + shift_j)``, exact for the gate.

    A rotation ``exp(-i a σ/2)`` makes ``f`` a trig polynomial of frequency 1: two terms
    (``±π/2``, ``±1/2``). A controlled rotation has frequencies ``1/2`` and ``1``: four terms
    (``±π/2`` with ``±c₊``, ``±3π/2`` with ``∓c₋``, ``c± = (√2 ± 1) / 4√2``).
    """
    if gate in ("rx", "ry", "rz"):
        return (math.pi / 2, -math.pi / 2), (0.5, -0.5)
    if gate in ("crx", "cry", "crz"):
        cp = (math.sqrt(2) + 1) / (4 * math.sqrt(2))
        cm = (math.sqrt(2) - 1) / (4 * math.sqrt(2))
        return (math.pi / 2, -math.pi / 2, 3 * math.pi / 2, -3 * math.pi / 2), (cp, -cp, -cm, cm)
    raise ValueError(f"no shift rule for gate {gate!r}")


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SPSA:
    """Simultaneous perturbation: ``num_directions`` Rademacher directions, 2 circuits each.

    ``c``: perturbation (seed 0.1); ``gamma``: Spall's schedule ``c_k = c / (k + 1) ** gamma`` over
    updates ``k = 0, 1, ...`` (0, the seed's constant ``c``, by default; Spall suggests 0.101).
    ``fixed_directions=True`` reproduces the seed's quirk: its generator was re-created from one
    fixed seed in every backward, so every update used the SAME directions and the quantum
    parameters only moved inside their span. Here the directions of the first update are kept.
    """

    c: float = 0.1
    num_directions: int = 2
    gamma: float = 0.0
    fixed_directions: bool = False
    name: ClassVar[str] = "spsa"

    def __post_init__(self):
        _positive("c", self.c)
        if isinstance(self.num_directions, bool) or not isinstance(self.num_directions, int) or self.num_directions < 1:
            raise ValueError(f"num_directions must be an integer >= 1, got {self.num_directions!r}")
        if not isinstance(self.gamma, (int, float)) or self.gamma < 0:
            raise ValueError(f"gamma must be a number >= 0, got {self.gamma!r}")

    def c_at(self, k: int) -> float:
        return self.c / (k + 1) ** self.gamma

    def directions(self, n_params: int, generator: torch.Generator, cached: torch.Tensor | None):
        if self.fixed_directions and cached is not None:
            return cached
        return rademacher(self.num_directions, n_params, generator)


@dataclass(frozen=True)
class FDSA:
    """Central finite differences, one parameter at a time: ``2 P`` circuits (220 in the seed)."""

    h: float = 0.1
    name: ClassVar[str] = "fdsa"

    def __post_init__(self):
        _positive("h", self.h)


@dataclass(frozen=True)
class ParameterShift:
    """Exact shift rules per gate and per time step, through the measure-and-reset.

    Measurement and reset do not depend on the angles, so each step's readout probabilities are
    trigonometric polynomials of each of its angles and the rules hold exactly (the seed dropped
    this method believing otherwise). Each angle of each step is shifted on its own: ``2`` circuits
    per rotation angle and ``4`` per controlled rotation, per step (``20 * 124 = 2480`` in the seed).
    """

    name: ClassVar[str] = "parameter_shift"


@dataclass(frozen=True)
class Exact:
    """Reverse-mode autograd through the PyTorch simulator (needs a differentiable backend)."""

    name: ClassVar[str] = "exact"


Estimator = SPSA | FDSA | ParameterShift | Exact
_BY_NAME = {"spsa": SPSA, "fdsa": FDSA, "parameter_shift": ParameterShift, "exact": Exact}


def make_estimator(name: str, **settings) -> Estimator:
    """The estimator called ``name`` (one of :data:`ESTIMATORS`) with its ``settings``."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown estimator {name!r}: choose one of {', '.join(ESTIMATORS)}")
    try:
        return _BY_NAME[name](**settings)
    except TypeError as err:
        raise ValueError(f"bad settings for estimator {name!r}: {err}") from err
