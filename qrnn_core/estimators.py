"""Gradient estimators of the quantum layer: their settings, their plans and their maths, kept pure.

Each estimator is a frozen dataclass of settings, chosen by name with :func:`make_estimator`, in the
spirit of PennyLane's gradient transforms: ``plan(...)`` says which extra circuits an update needs and
returns a :class:`ThetaPlan` or :class:`ShiftPlan` that turns their probabilities into the
vector-Jacobian product, for the parameters and, where the estimator can, for the layer's input.
Circuits are evaluated elsewhere (:mod:`qrnn_core.quantum_layer`), all of one update in ONE batched
call with the forward. Randomness comes from a ``torch.Generator`` passed in, never global; state an
estimator keeps between updates (SPSA's fixed directions) lives in the ``state`` dict it is given,
which travels with the layer's ``state_dict`` and so with every checkpoint.

Adding an estimator: a dataclass here with ``name``, ``plan`` and its settings, an entry in
:data:`ESTIMATOR_CLASSES`, and its settings in :class:`~qrnn_core.train.TrainConfig`.

Parameters are ``θ = (w, b)``, ``P = 2 * n_angles`` of them (110 in the seed), float64; angles are
``a[..., t, i] = w_i x[..., t] + b_i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar, Protocol

import torch


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


def angles_from(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x (..., T)``, ``weight``/``bias (..., n_angles)`` -> angles ``(..., T, n_angles)``.

    ``weight`` and ``bias`` may carry leading perturbation dims ``(E, n_angles)``; they then lead
    the result: ``(E, ..., T, n_angles)``.
    """
    lead = weight.shape[:-1]
    view = lead + (1,) * x.dim() + weight.shape[-1:]
    return x[..., None] * weight.reshape(view) + bias.reshape(view)


@dataclass
class ThetaPlan:
    """Extra circuits at perturbed parameter vectors ``rows (E, P)``; ``combine`` maps the ``(E,)``
    values ``s_e = <grad_output, probs(θ_e)>`` to the gradient ``(P,)``. No input gradient."""

    rows: torch.Tensor
    combine: Callable[[torch.Tensor], torch.Tensor]
    input_gradient: ClassVar[bool] = False

    def angles(self, x, weight, bias) -> torch.Tensor:
        """The extra circuits' angles, ``(E, ..., T, n_angles)``."""
        A = weight.numel()
        return angles_from(x, self.rows[:, :A], self.rows[:, A:])

    def vjp(self, x, weight, extra, grad_output) -> tuple[torch.Tensor, None]:
        """``extra (E, ..., T, R)``, ``grad_output (..., T, R)`` -> (gradient ``(P,)``, None)."""
        E = extra.shape[0]
        return self.combine((extra * grad_output).reshape(E, -1).sum(1)), None


@dataclass
class ShiftPlan:
    """One circuit per shifted angle of one step: ``step``, ``angle``, ``shift``, ``coef``, each ``(E,)``.

    The rules give the derivative of every step's probabilities by every angle of every step,
    so the input's gradient follows too: ``d/dx[b, t] = sum_i w_i d/da[b, t, i]``.
    """

    step: torch.Tensor
    angle: torch.Tensor
    shift: torch.Tensor
    coef: torch.Tensor
    input_gradient: ClassVar[bool] = True

    def angles(self, x, weight, bias) -> torch.Tensor:
        base = angles_from(x, weight, bias)
        E = len(self.step)
        shifted = base.expand((E,) + base.shape).clone()
        flat = shifted.reshape(E, -1, *base.shape[-2:])  # (E, B, T, A), a view
        flat[torch.arange(E), :, self.step, self.angle] += self.shift[:, None]
        return shifted

    def vjp(self, x, weight, extra, grad_output) -> tuple[torch.Tensor, torch.Tensor]:
        E = extra.shape[0]
        T, A = x.shape[-1], weight.numel()
        B = x[..., 0].numel()
        s = (extra.reshape(E, B, -1) * grad_output.reshape(1, B, -1)).sum(2)  # (E, B)
        # d<g, p>/d a[b, t, i] = sum of coef * s over the shifts of (t, i)
        d_angle = torch.zeros(B, T * A, dtype=s.dtype)
        d_angle.index_add_(1, self.step * A + self.angle, (self.coef[:, None] * s).T)
        d_angle = d_angle.reshape(B, T, A)
        grad = torch.cat([(x.reshape(B, T, 1) * d_angle).sum((0, 1)), d_angle.sum((0, 1))])
        return grad, (d_angle * weight.detach().reshape(1, 1, A)).sum(-1).reshape(x.shape)


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
    differentiates_backend: ClassVar[bool] = False

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

    def plan(self, theta: torch.Tensor, *, update: int, generator: torch.Generator, state: dict, **_) -> ThetaPlan:
        """``2K`` circuits at ``θ ± c_k Δ_j``; the fixed directions, if any, kept in ``state``."""
        if generator is None:
            raise ValueError("SPSA draws its directions from generator=torch.Generator(...): pass one")
        c = self.c_at(update)
        directions = self.directions(theta.numel(), generator, state.get("fixed_directions"))
        if self.fixed_directions:
            state["fixed_directions"] = directions
        return ThetaPlan(torch.cat([theta + c * directions, theta - c * directions]),
                         lambda s: directional_estimate(*s.chunk(2), directions, c))

    def circuits(self, *, n_params: int, steps: int, gates) -> int:
        """Circuits an update's gradient evaluates, the forward aside: ``2K``."""
        return 2 * self.num_directions


@dataclass(frozen=True)
class FDSA:
    """Central finite differences, one parameter at a time: ``2 P`` circuits (220 in the seed)."""

    h: float = 0.1
    name: ClassVar[str] = "fdsa"
    differentiates_backend: ClassVar[bool] = False

    def __post_init__(self):
        _positive("h", self.h)

    def plan(self, theta: torch.Tensor, **_) -> ThetaPlan:
        step = self.h * torch.eye(theta.numel(), dtype=theta.dtype)
        return ThetaPlan(torch.cat([theta + step, theta - step]), lambda s: central_difference(*s.chunk(2), self.h))

    def circuits(self, *, n_params: int, steps: int, gates) -> int:
        """Circuits an update's gradient evaluates, the forward aside: ``2 P``."""
        return 2 * n_params


@dataclass(frozen=True)
class ParameterShift:
    """Exact shift rules per gate and per time step, through the measure-and-reset.

    Measurement and reset do not depend on the angles, so each step's readout probabilities are
    trigonometric polynomials of each of its angles and the rules hold exactly (the seed dropped
    this method believing otherwise). Each angle of each step is shifted on its own: ``2`` circuits
    per rotation angle and ``4`` per controlled rotation, per step (``20 * 124 = 2480`` in the seed).
    """

    name: ClassVar[str] = "parameter_shift"
    differentiates_backend: ClassVar[bool] = False

    def plan(self, theta: torch.Tensor, *, steps: int, gates, state: dict, **_) -> ShiftPlan:
        """Every gate's rule at every step; the plan for ``steps`` steps is cached in ``state``."""
        cached = state.get("shift_plan")
        if cached is None or cached[0] != steps:
            rows = [(t, g.angle, s, c) for g in gates for s, c in zip(*shift_rule(g.name)) for t in range(steps)]
            step, angle, shift, coef = zip(*rows)
            cached = (steps, ShiftPlan(torch.tensor(step), torch.tensor(angle),
                                       torch.tensor(shift, dtype=torch.float64), torch.tensor(coef, dtype=torch.float64)))
            state["shift_plan"] = cached
        return cached[1]

    def circuits(self, *, n_params: int, steps: int, gates) -> int:
        """Circuits an update's gradient evaluates, the forward aside: each gate's rule at each step."""
        return steps * sum(len(shift_rule(g.name)[0]) for g in gates)


@dataclass(frozen=True)
class Exact:
    """The exact gradient from a differentiable backend: the kernel's adjoint method, or reverse-mode
    autograd through the PyTorch simulator (a backend declaring ``differentiable = True``)."""

    name: ClassVar[str] = "exact"
    differentiates_backend: ClassVar[bool] = True

    def circuits(self, *, n_params: int, steps: int, gates) -> int:
        """None beyond the forward: autograd differentiates the forward's own simulation."""
        return 0


class Estimator(Protocol):
    """What an estimator offers the quantum layer; every estimator here implements it.

    ``name``: how configs and pages call it. ``differentiates_backend``: True when the gradient is the
    backend's own (exact probabilities from a backend that declares ``differentiable = True``), so there
    is no plan of extra circuits; else ``plan(theta, update=, generator=, state=, steps=, gates=)`` says
    which circuits an update adds to the forward and returns the post-processing that turns their
    probabilities into the vector-Jacobian product (:class:`ThetaPlan`, :class:`ShiftPlan`).
    ``circuits(n_params=, steps=, gates=)``: the circuits an update adds, per window.
    """

    name: ClassVar[str]
    differentiates_backend: ClassVar[bool]

    def circuits(self, *, n_params: int, steps: int, gates) -> int: ...


#: Every estimator by name: the one list the config's choices and :func:`make_estimator` read.
ESTIMATOR_CLASSES = {cls.name: cls for cls in (SPSA, FDSA, ParameterShift, Exact)}
ESTIMATORS = tuple(ESTIMATOR_CLASSES)


def make_estimator(name: str, **settings) -> Estimator:
    """The estimator called ``name`` (one of :data:`ESTIMATORS`) with its ``settings``."""
    if name not in ESTIMATOR_CLASSES:
        raise ValueError(f"unknown estimator {name!r}: choose one of {', '.join(ESTIMATORS)}")
    try:
        return ESTIMATOR_CLASSES[name](**settings)
    except TypeError as err:
        raise ValueError(f"bad settings for estimator {name!r}: {err}") from err
