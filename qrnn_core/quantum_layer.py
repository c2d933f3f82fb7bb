"""The quantum layer: ``x -> probs``, angles ``a_i(t) = w_i x_t + b_i``, with a chosen gradient.

As in the seed, the differentiated parameters are the input layer's weights ``w`` and biases ``b``
(``n_angles`` each, 110 in all for 8 qubits); the output is the per-step readout probabilities and
the backward returns the vector-Jacobian product for ``w`` and ``b``. Black-box estimators (SPSA,
FDSA, parameter-shift) run in a ``torch.autograd.Function`` whose backward sends all its perturbed
circuits to the backend in ONE batched call; ``exact`` lets autograd differentiate the PyTorch
simulator itself. Any backend with ``probabilities(angles, *, shots, generator)`` plugs in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .estimators import (
    FDSA,
    SPSA,
    Estimator,
    Exact,
    ParameterShift,
    central_difference,
    directional_estimate,
    make_estimator,
    shift_rule,
)
from .program import read_step_program
from .simulator import TorchSimulator
from .validation import check_shots


@dataclass
class CircuitRunner:
    """A backend with its shots and the generator they draw from; counts the circuits it runs."""

    backend: object
    shots: int | None = None
    generator: torch.Generator | None = None
    circuits: int = 0

    def __call__(self, angles: torch.Tensor) -> torch.Tensor:
        """``angles (..., T, n_angles)`` -> ``probs (..., T, R)`` on the angles' device; one backend call.

        The model's few parameters stay on the CPU; a CUDA simulator does the heavy work and only
        the probabilities come back.
        """
        self.circuits += angles[..., 0, 0].numel()
        probs = self.backend.probabilities(angles, shots=self.shots, generator=self.generator)
        return probs.to(angles.device)


@dataclass(frozen=True)
class BackwardCost:
    """What one backward cost: circuits run (each ``T`` steps long) and shots (0 when exact)."""

    estimator: str
    circuits: int
    shots: int


def angles_from(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x (..., T)``, ``weight``/``bias (..., n_angles)`` -> angles ``(..., T, n_angles)``.

    ``weight`` and ``bias`` may carry leading perturbation dims ``(E, n_angles)``; they then lead
    the result: ``(E, ..., T, n_angles)``.
    """
    lead = weight.shape[:-1]
    view = lead + (1,) * x.dim() + weight.shape[-1:]
    return x[..., None] * weight.reshape(view) + bias.reshape(view)


class QuantumLayer(nn.Module):
    """The seed's ``Linear(1, n_angles)`` feeding the QRNN circuit, trained by ``estimator``.

    Parameters
    ----------
    backend : a :class:`TorchSimulator` or :class:`~qrnn_core.aer_backend.AerBackend`.
    estimator : an estimator object or its name (``"spsa"``, ``"fdsa"``, ``"parameter_shift"``,
        ``"exact"``).
    shots : ``None`` for exact probabilities, else shots per circuit (seed: 1,024).
    generator : the ``torch.Generator`` SPSA draws its directions from (advanced every update).
    shot_generator : the generator shots are drawn from.
    init_generator : the generator of the seed's initialisation ``w ~ U(-π, π)``, ``b ~ U(-π/2, π/2)``.
    """

    def __init__(
        self,
        backend,
        estimator: Estimator | str = "spsa",
        *,
        shots: int | None = None,
        generator: torch.Generator | None = None,
        shot_generator: torch.Generator | None = None,
        init_generator: torch.Generator | None = None,
    ):
        super().__init__()
        if not callable(getattr(backend, "probabilities", None)):
            raise ValueError(f"backend must be a simulator with probabilities(angles, shots=, generator=) "
                             f"(a TorchSimulator or an AerBackend), got {backend!r}")
        check_shots(shots)
        self.estimator = make_estimator(estimator) if isinstance(estimator, str) else estimator
        if isinstance(self.estimator, Exact) and not (isinstance(backend, TorchSimulator) and shots is None):
            raise ValueError("the exact estimator needs exact probabilities from the PyTorch simulator "
                             "(a TorchSimulator backend with shots=None)")
        if isinstance(self.estimator, SPSA) and generator is None:
            raise ValueError("SPSA draws its directions from generator=torch.Generator(...): pass one")
        self.runner = CircuitRunner(backend, shots, shot_generator)
        self.generator = generator
        self.n_angles = backend.n_angles
        dtype = torch.float64
        self.weight = nn.Parameter(torch.empty(self.n_angles, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(self.n_angles, dtype=dtype))
        with torch.no_grad():
            self.weight.uniform_(-math.pi, math.pi, generator=init_generator)
            self.bias.uniform_(-math.pi / 2, math.pi / 2, generator=init_generator)
        self.updates = 0  # backward calls so far: SPSA's k
        self.costs: list[BackwardCost] = []
        self._fixed_directions: torch.Tensor | None = None
        self._shift_plan = None

    @property
    def backend(self):
        return self.runner.backend

    # The estimator's state travels with the module's state_dict (and so with every checkpoint).
    def get_extra_state(self) -> dict:
        return {"updates": self.updates, "fixed_directions": self._fixed_directions}

    def set_extra_state(self, state: dict) -> None:
        self.updates = int(state["updates"])
        self._fixed_directions = state["fixed_directions"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (..., T)`` real -> per-step readout probabilities ``(..., T, R)`` (float64).

        With gradients enabled, a black-box estimator draws its perturbations here and they run in
        the SAME backend call as the forward (``1 + 2K`` circuits for SPSA, ``1 + 2P`` for FDSA per
        sequence): the backward then only contracts them with ``grad_output``.
        """
        x = _check_input(x, self.weight.dtype)
        needs_grad = torch.is_grad_enabled() and (self.weight.requires_grad or self.bias.requires_grad)
        if isinstance(self.estimator, Exact):
            probs = self.runner(angles_from(x, self.weight, self.bias)).to(self.weight.dtype)
            if probs.requires_grad:  # one reverse-mode pass over the forward's own circuits
                circuits = x[..., 0].numel()
                probs.register_hook(lambda grad: self._record(circuits, 0) or grad)
            return probs
        plan = self._backward_plan(x) if needs_grad else None
        probs, _ = _QuantumFunction.apply(x, self.weight, self.bias, self, plan)
        return probs

    # -- the black-box estimators: what to evaluate with the forward, and how to combine it -----

    def _backward_plan(self, x: torch.Tensor) -> "_BackwardPlan":
        theta = torch.cat([self.weight, self.bias]).detach()
        est = self.estimator
        if isinstance(est, SPSA):
            c = est.c_at(self.updates)
            directions = est.directions(theta.numel(), self.generator, self._fixed_directions)
            if est.fixed_directions:
                self._fixed_directions = directions
            return _BackwardPlan("theta", torch.cat([theta + c * directions, theta - c * directions]),
                         lambda s: directional_estimate(*s.chunk(2), directions, c))
        if isinstance(est, FDSA):
            step = est.h * torch.eye(theta.numel(), dtype=theta.dtype)
            return _BackwardPlan("theta", torch.cat([theta + step, theta - step]),
                         lambda s: central_difference(*s.chunk(2), est.h))
        if isinstance(est, ParameterShift):
            return _BackwardPlan("shift", self._shifts(x.shape[-1]), None)
        raise TypeError(f"{type(est).__name__} has no black-box backward")

    def _record(self, circuits: int, shots: int) -> None:
        self.costs.append(BackwardCost(self.estimator.name, circuits, shots))
        self.updates += 1

    def _shifts(self, T: int):
        """Per shifted circuit: its step, angle, shift and coefficient (each ``(E,)``)."""
        if self._shift_plan is None or self._shift_plan[0] != T:
            rows = []
            for gate in read_step_program(self.backend.block).gates:
                for s, c in zip(*shift_rule(gate.name)):
                    rows += [(t, gate.angle, s, c) for t in range(T)]
            step, angle, shift, coef = zip(*rows)
            self._shift_plan = (
                T,
                torch.tensor(step),
                torch.tensor(angle),
                torch.tensor(shift, dtype=torch.float64),
                torch.tensor(coef, dtype=torch.float64),
            )
        return self._shift_plan[1:]


def _check_input(x, dtype: torch.dtype) -> torch.Tensor:
    """``x``: real numbers, ``(..., T)`` with ``T >= 1`` and at least one sequence."""
    if isinstance(x, str) or (isinstance(x, torch.Tensor) and (x.is_complex() or x.dtype == torch.bool)):
        raise ValueError(f"x must be a real tensor of shape (..., T), got {type(x).__name__}"
                         + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""))
    try:
        x = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"x must be a real tensor of shape (..., T): {err}") from None
    if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
    if x.dim() < 1 or x.shape[-1] == 0:
        raise ValueError(f"x must have at least one time step (shape (..., T), T >= 1), got {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"x must hold at least one sequence, got shape {tuple(x.shape)}")
    return x.to(dtype)


@dataclass
class _BackwardPlan:
    """The extra circuits of one backward and how they combine into the gradient.

    ``kind="theta"``: ``rows (E, P)`` are perturbed parameter vectors and ``combine(s)`` maps the
    ``(E,)`` values ``s_e = <grad_output, probs(θ_e)>`` to the gradient ``(P,)``.
    ``kind="shift"``: ``rows = (step, angle, shift, coef)``, one circuit per shifted angle of one step.
    """

    kind: str
    rows: object
    combine: object

    def angles(self, x, weight, bias) -> torch.Tensor:
        """The extra circuits' angles, ``(E, ..., T, n_angles)``."""
        if self.kind == "theta":
            A = weight.numel()
            return angles_from(x, self.rows[:, :A], self.rows[:, A:])
        step, angle, shift, _ = self.rows
        base = angles_from(x, weight, bias)
        shifted = base.expand((len(step),) + base.shape).clone()
        flat = shifted.reshape(len(step), -1, *base.shape[-2:])  # (E, B, T, A), a view
        flat[torch.arange(len(step)), :, step, angle] += shift[:, None]
        return shifted

    def vector_jacobian(self, x, extra, grad_output) -> torch.Tensor:
        """The gradient ``(P,)`` from the extra circuits' probabilities ``extra (E, ..., T, R)``."""
        E = extra.shape[0]
        if self.kind == "theta":
            return self.combine((extra * grad_output).reshape(E, -1).sum(1))
        step, angle, _, coef = self.rows
        T, A = x.shape[-1], int(angle.max()) + 1
        B = x[..., 0].numel()
        s = (extra.reshape(E, B, -1) * grad_output.reshape(1, B, -1)).sum(2)  # (E, B)
        # d<g, p>/d a[b, t, i] = sum of coef * s over the shifts of (t, i)
        d_angle = torch.zeros(B, T * A, dtype=s.dtype)
        d_angle.index_add_(1, step * A + angle, (coef[:, None] * s).T)
        d_angle = d_angle.reshape(B, T, A)
        return torch.cat([(x.reshape(B, T, 1) * d_angle).sum((0, 1)), d_angle.sum((0, 1))])


class _QuantumFunction(torch.autograd.Function):
    """``probs = circuit(w x + b)``; the backward is the layer's estimator, a black box to autograd.

    Returns ``(probs, extra)``: ``extra`` are the probabilities of the backward's perturbed
    circuits, run in the same backend call as the forward (empty without a plan).
    """

    @staticmethod
    def forward(x, weight, bias, layer, plan):
        angles = angles_from(x, weight, bias)
        if plan is None:
            return layer.runner(angles).to(weight.dtype), angles.new_empty(0)
        out = layer.runner(torch.cat([angles[None], plan.angles(x, weight, bias)])).to(weight.dtype)
        return out[0], out[1:]

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, layer, plan = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.save_for_backward(x, output[1])
        ctx.layer, ctx.plan, ctx.n_angles = layer, plan, weight.numel()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs, _grad_extra):
        x, extra = ctx.saved_tensors
        if ctx.plan is None:  # pragma: no cover - autograd only calls this when a plan was made
            raise RuntimeError("the quantum layer ran without gradients enabled")
        grad = ctx.plan.vector_jacobian(x, extra, grad_probs)
        circuits = extra.shape[0] * x[..., 0].numel()
        ctx.layer._record(circuits, circuits * (ctx.layer.runner.shots or 0))
        return None, grad[: ctx.n_angles], grad[ctx.n_angles:], None, None
