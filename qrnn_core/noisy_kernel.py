"""The study's fast engine with a device's noise: :class:`NoisyKernelSimulator`.

A backend like :class:`~qrnn_core.kernel.KernelSimulator` (same ``probabilities(angles, *, shots,
generator)``, shapes, dtypes and shot draws, differentiable) that runs the device circuit of a
:class:`~qrnn_core.device.DeviceNoise`: the transpiled step with its gate errors, thermal relaxation
during gates, readout assignment error, reset error and the memory's idle relaxation during each
step's measurement and reset, at the model's noise scale.

The step is compiled once into tables of local Pauli transfer matrices
(:func:`qrnn_core.noisy_program.compile_step`, whose docstring states the representation); the
compiled loops are :mod:`qrnn_core.noisy_forward` (probabilities) and :mod:`qrnn_core.noisy_adjoint`
(the exact gradient by the adjoint method). Circuits run in tiles on threads (``nogil``), as the
noiseless kernel's. Everything runs in float64; complex64 simulators round the probabilities to
float32 (the PTMs are real: the precision is the real dtype's).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from .circuit import build_step_block
from .device import DEFAULT_BACKEND, DeviceNoise, device_noise
from .kernel import N_QUBITS_RANGE, _run_tiles
from .noisy_adjoint import _circuits_vjp
from .noisy_forward import _circuits
from .noisy_program import NoisyStep, compile_step
from .program import read_step_program
from .simulator import sample_frequencies
from .validation import check_angles, check_generator, check_shots


class NoisyKernelSimulator:
    """Exact per-step readout probabilities of the QRNN circuit on a device (a :class:`DeviceNoise`).

    The backend interface of :class:`~qrnn_core.kernel.KernelSimulator`: ``probabilities(angles, *,
    shots, generator)`` / ``__call__``, ``n_angles``, ``n_outcomes``, ``block``, ``dtype``,
    ``real_dtype``, ``device``; ``differentiable``: a call on angles that require grad goes through
    the adjoint sweep (:meth:`vjp`) in autograd's backward. ``noise.scale = 0`` gives the noiseless
    kernel's probabilities to rounding.

    Parameters
    ----------
    noise : the device noise (:func:`qrnn_core.device.device_noise`), 2 to 12 qubits.
    dtype : ``torch.complex128`` (default) or ``torch.complex64`` (float32 probabilities).
    """

    differentiable = True

    def __init__(self, noise: DeviceNoise, *, dtype=torch.complex128):
        if not isinstance(noise, DeviceNoise):
            raise ValueError(f"noise must be a DeviceNoise (qrnn_core.device.device_noise), got {noise!r}")
        lo, hi = N_QUBITS_RANGE
        if not lo <= noise.n_qubits <= hi:
            raise ValueError(f"n_qubits must be an even integer from {lo} to {hi} for the kernel, got {noise.n_qubits}")
        if dtype not in (torch.complex128, torch.complex64):
            raise ValueError(f"dtype must be torch.complex128 or torch.complex64, got {dtype}")
        self.noise = noise
        self.n_qubits = noise.n_qubits
        self.dtype = dtype
        self.real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
        self.device = torch.device("cpu")
        self.block = build_step_block(self.n_qubits)
        self.program = read_step_program(self.block)
        self.n_angles, self.n_outcomes = self.program.n_angles, self.program.n_outcomes
        self.step: NoisyStep = compile_step(noise)

    @classmethod
    def on(cls, backend: str = DEFAULT_BACKEND, n_qubits: int = 8, *, layout=None, scale: float = 1.0,
           dtype=torch.complex128) -> "NoisyKernelSimulator":
        """The engine for ``backend`` (a fake backend's name), ``layout`` and noise ``scale``: bad input
        is refused by :func:`qrnn_core.device.device_noise` before any compute."""
        return cls(device_noise(backend, n_qubits, layout=layout, scale=scale), dtype=dtype)

    def __repr__(self) -> str:
        n = self.noise
        return (f"NoisyKernelSimulator({n.backend}, {n.n_qubits} qubits on {list(n.layout)}, scale {n.scale:g}, "
                f"{', '.join(n.sources) or 'no noise source'}, {self.dtype})")

    def probabilities(self, angles, *, shots: int | None = None, generator: torch.Generator | None = None):
        """Per-step readout probabilities: the contract of :meth:`KernelSimulator.probabilities`.

        ``angles (..., T, n_angles)`` real -> ``(..., T, 2 ** (n // 2))`` float64 (float32 for
        complex64), readout error included. Angles that require grad give differentiable
        probabilities; ``shots`` draw from ``generator`` (:func:`qrnn_core.simulator.sample_frequencies`).
        """
        angles = check_angles(angles, self.n_angles, self.device, torch.float64)
        if check_shots(shots) is not None:
            check_generator(generator, self.device)
        flat = angles.reshape((-1,) + angles.shape[-2:])
        if angles.requires_grad and torch.is_grad_enabled():
            probs = _NoisyFunction.apply(flat, self)
        else:
            probs = torch.from_numpy(self._forward(flat.detach().numpy()))
        probs = probs.to(self.real_dtype).reshape(angles.shape[:-1] + (self.n_outcomes,))
        return probs if shots is None else sample_frequencies(probs, shots, generator)

    __call__ = probabilities

    def _forward(self, angles: np.ndarray) -> np.ndarray:
        """``angles (N, T, A)`` float64 -> probabilities ``(N, T, R)`` float64, tiles on threads."""
        a = np.ascontiguousarray(angles, dtype=np.float64)
        out = np.empty(a.shape[:2] + (self.n_outcomes,))
        tables = self.step.tables()
        _run_tiles(lambda n0, count: _circuits(a, n0, count, *tables, out), len(a))
        return out

    def vjp(self, angles, grad_probs) -> torch.Tensor:
        """``d <grad_probs, probs(angles)> / d angles`` by the adjoint method (:mod:`qrnn_core.noisy_adjoint`).

        ``angles (..., T, n_angles)``, ``grad_probs (..., T, 2 ** (n // 2))`` real -> the gradient
        ``(..., T, n_angles)`` in the simulator's real dtype (computed in float64).
        """
        angles = check_angles(angles, self.n_angles, self.device, torch.float64)
        grad_probs = torch.as_tensor(grad_probs)
        shape = angles.shape[:-1] + (self.n_outcomes,)
        if tuple(grad_probs.shape) != tuple(shape):
            raise ValueError(f"grad_probs must have shape {tuple(shape)}, got {tuple(grad_probs.shape)}")
        flat = angles.reshape((-1,) + angles.shape[-2:])
        return self._vjp(flat, grad_probs.reshape(flat.shape[:2] + (-1,))).reshape(angles.shape).to(self.real_dtype)

    def _vjp(self, flat: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """``flat (N, T, A)``, ``g (N, T, R)`` -> ``(N, T, A)`` float64, tiles on threads."""
        a = np.ascontiguousarray(flat.detach().numpy(), dtype=np.float64)
        g = np.ascontiguousarray(g.detach().to(torch.float64).numpy())
        grad = np.zeros(a.shape)
        tables = self.step.tables()
        _run_tiles(lambda n0, count: _circuits_vjp(a, g, n0, count, *tables, grad), len(a))
        return torch.from_numpy(grad)


class _NoisyFunction(torch.autograd.Function):
    """``probs = engine(angles)`` (float64); the backward is the compiled adjoint sweep."""

    @staticmethod
    def forward(angles, sim):
        return torch.from_numpy(sim._forward(angles.detach().numpy()))

    @staticmethod
    def setup_context(ctx, inputs, output):
        angles, sim = inputs
        ctx.save_for_backward(angles)
        ctx.sim = sim

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs):
        (angles,) = ctx.saved_tensors
        return ctx.sim._vjp(angles, grad_probs).to(angles.dtype), None


def engine_probabilities(noise: DeviceNoise, angles) -> np.ndarray:
    """``angles (T, n_angles)`` -> per-step distributions ``(T, 2**(n//2))`` float64 of ``noise`` on this
    engine: the signature of :func:`qrnn_core.device.reference_probabilities` (for
    :func:`qrnn_core.device.noise_source_table`)."""
    return NoisyKernelSimulator(noise)(torch.as_tensor(np.asarray(angles, dtype=np.float64))).numpy()
