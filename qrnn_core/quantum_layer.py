"""The quantum layer: ``x -> probs``, angles ``a_i(t) = w_i x_t + b_i``, with a chosen gradient.

As in the seed, the differentiated parameters are the input layer's weights ``w`` and biases ``b``
(``n_angles`` each, 110 in all for 8 qubits); the output is the per-step readout probabilities and
the backward returns the vector-Jacobian product for ``w`` and ``b``. Black-box estimators (SPSA,
FDSA, parameter-shift) run in a ``torch.autograd.Function`` whose backward sends all its perturbed
circuits to the backend in ONE batched call; ``exact`` lets autograd differentiate the simulator
itself (a backend that declares ``differentiable = True``: the kernel's adjoint method, or autograd
through the PyTorch simulator). Any backend with ``probabilities(angles, *, shots, generator)`` plugs in.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .estimators import Estimator, angles_from, make_estimator
from .program import read_step_program
from .validation import check_shots


@dataclass
class CircuitRunner:
    """A backend with its shots and the generator they draw from; counts the circuits it runs."""

    backend: object
    shots: int | None = None
    generator: torch.Generator | None = None
    circuits: int = 0

    @contextlib.contextmanager
    def exact(self):
        """Exact probabilities inside the block (validation scores them, then samples its own shots)."""
        saved, self.shots = self.shots, None
        try:
            yield self
        finally:
            self.shots = saved

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


class QuantumLayer(nn.Module):
    """The seed's ``Linear(1, n_angles)`` feeding the QRNN circuit, trained by ``estimator``.

    Parameters
    ----------
    backend : a :class:`~qrnn_core.kernel.KernelSimulator`, :class:`~qrnn_core.simulator.TorchSimulator`
        or :class:`~qrnn_core.aer_backend.AerBackend`.
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
                             f"(a KernelSimulator, TorchSimulator or AerBackend), got {backend!r}")
        check_shots(shots)
        self.estimator = make_estimator(estimator) if isinstance(estimator, str) else estimator
        if self.estimator.differentiates_backend and not (getattr(backend, "differentiable", False) and shots is None):
            raise ValueError(f"the {self.estimator.name} estimator needs exact probabilities from a differentiable backend "
                             "(a KernelSimulator or TorchSimulator with shots=None)")
        if getattr(self.estimator, "name", None) == "spsa" and generator is None:
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
        self.estimator_state: dict = {}  # what the estimator keeps between updates (see estimators)

    @property
    def backend(self):
        return self.runner.backend

    @functools.cached_property
    def gates(self):
        """The step's gates (their names and angle indices), for the estimators that need them."""
        return read_step_program(self.backend.block).gates

    # The estimator's state travels with the module's state_dict (and so with every checkpoint).
    def get_extra_state(self) -> dict:
        kept = {k: v for k, v in self.estimator_state.items() if isinstance(v, torch.Tensor)}
        return {"updates": self.updates, "estimator": kept}

    def set_extra_state(self, state: dict) -> None:
        self.updates = int(state["updates"])
        kept = state.get("estimator", {})
        if state.get("fixed_directions") is not None:  # checkpoints written before the estimator state
            kept = {"fixed_directions": state["fixed_directions"]}
        self.estimator_state = dict(kept)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (..., T)`` real -> per-step readout probabilities ``(..., T, R)`` (float64).

        With gradients enabled, a black-box estimator draws its perturbations here and they run in
        the SAME backend call as the forward (``1 + 2K`` circuits for SPSA, ``1 + 2P`` for FDSA per
        sequence): the backward then only contracts them with ``grad_output``.
        """
        x = _check_input(x, self.weight.dtype)
        needs_grad = torch.is_grad_enabled() and (self.weight.requires_grad or self.bias.requires_grad)
        if self.estimator.differentiates_backend:
            probs = self.runner(angles_from(x, self.weight, self.bias)).to(self.weight.dtype)
            if probs.requires_grad:  # one reverse-mode pass over the forward's own circuits
                circuits = x[..., 0].numel()
                probs.register_hook(lambda grad: self._record(circuits, 0) or grad)
            return probs
        plan = None
        if needs_grad or x.requires_grad:
            plan = self.estimator.plan(
                torch.cat([self.weight, self.bias]).detach(), update=self.updates, generator=self.generator,
                state=self.estimator_state, steps=x.shape[-1], gates=self.gates,
            )
            if x.requires_grad and not plan.input_gradient:
                raise ValueError(f"{self.estimator.name} estimates no gradient for the layer's input x: detach x, "
                                 "or use parameter_shift or exact for a trainable encoder before this layer")
        probs, _ = _QuantumFunction.apply(x, self.weight, self.bias, self, plan)
        return probs

    def _record(self, circuits: int, shots: int) -> None:
        self.costs.append(BackwardCost(self.estimator.name, circuits, shots))
        self.updates += 1


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
        ctx.save_for_backward(x.detach(), output[1])
        ctx.layer, ctx.plan, ctx.n_angles = layer, plan, weight.numel()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs, _grad_extra):
        x, extra = ctx.saved_tensors
        if ctx.plan is None:  # pragma: no cover - autograd only calls this when a plan was made
            raise RuntimeError("the quantum layer ran without gradients enabled")
        grad, grad_x = ctx.plan.vjp(x, ctx.layer.weight, extra, grad_probs)
        circuits = extra.shape[0] * x[..., 0].numel()
        ctx.layer._record(circuits, circuits * (ctx.layer.runner.shots or 0))
        return grad_x if ctx.needs_input_grad[0] else None, grad[: ctx.n_angles], grad[ctx.n_angles:], None, None
