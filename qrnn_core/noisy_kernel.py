"""The study's fast engine with a device's noise: the QRNN step as local Pauli transfer matrices, numba.

:class:`NoisyKernelSimulator` is a backend like :class:`~qrnn_core.kernel.KernelSimulator` (same
``probabilities(angles, *, shots, generator)``, shapes, dtypes and shot draws) that runs the device
circuit of a :class:`~qrnn_core.device.DeviceNoise`: the transpiled step with its gate errors,
thermal relaxation during gates, readout assignment error, reset error and the memory's idle
relaxation during each step's measurement and reset, at the model's noise scale.

The step is compiled once into tables (:func:`qrnn_core.noisy_program.compile_step`, whose docstring
states the representation: real Pauli vectors of the memory, instruments as 16 x 16 real matrices
per readout qubit and outcome). Per circuit and step the compiled code (:func:`_circuits`)

1. composes each memory qubit's one-qubit channel (4 x 4) and each factor's stage A (``u``, 16 x 4)
   and stage B (``W``, 16 x 8) from the step's angles, op by op (:func:`_stage`), and contracts them
   into the factor's instruments ``R_f[s]`` (16 x 16, 4 x 4 for the last factor);
2. reads the joint outcome probabilities off a tree of branch states, one per outcome prefix, each
   reduced by a partial trace to the digits later factors touch (in Pauli coordinates a partial
   trace keeps the entries with an ``I`` digit: the tree costs less than the chain);
3. carries the memory to the next step through ``R_f = R_f[0] + R_f[1]`` factor by factor.

No operator larger than two qubits of the memory (16 x 16) is formed. Circuits run in tiles on
threads (``nogil``), as the noiseless kernel's. Everything runs in float64; complex64 simulators
round the probabilities to float32 (the PTMs are real: the precision is the real dtype's).

The gradient: a ``probabilities`` call on angles that require grad runs the differentiable
formulation of the same tables (:mod:`qrnn_core.noisy_torch`, reverse-mode autograd), not an
adjoint sweep; :meth:`NoisyKernelSimulator.vjp` is its vector-Jacobian product.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .circuit import build_step_block
from .device import DEFAULT_BACKEND, DeviceNoise, device_noise
from .kernel import N_QUBITS_RANGE, _run_tiles
from .noisy_program import FIX1, FIX2, MEM, RZ, NoisyStep, compile_step
from .program import read_step_program
from .simulator import sample_frequencies
from .validation import check_angles, check_generator, check_shots
from numba import njit  # after .kernel: it settles numba's cache folder first

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def _one(M, slot, X, n1, ncol):
    """``M (4, 4)`` on the digit ``slot`` of ``X (16, ncol)`` (rows ``d0 * 4 + d1``, ``n1`` values
    of ``d1`` in use: 1 for a one-slot system)."""
    stride, other, ostride = (4, n1, 1) if slot == 0 else (1, 4, 4)
    for o in range(other):
        b = o * ostride
        for col in range(ncol):
            x0, x1, x2, x3 = X[b, col], X[b + stride, col], X[b + 2 * stride, col], X[b + 3 * stride, col]
            for k in range(4):
                X[b + k * stride, col] = M[k, 0] * x0 + M[k, 1] * x1 + M[k, 2] * x2 + M[k, 3] * x3


@njit(**_JIT)
def _part(ints, floats, nops, mats1, where2, vals2, nnz2, mem, th, thp, first, X, n1, ncol):
    """Run a part's ops (:data:`qrnn_core.noisy_program.PARTS`) on ``X (16, ncol)`` (:func:`_one`'s
    layout). ``th``/``thp`` this and the previous step's angles; ``first``: step 0 (ops of the
    previous step are skipped); ``mem (2, h, 4, 4)`` the memory channels and their transposes."""
    v = np.empty(16)
    for q in range(nops):
        kind, slot, idx, flag = ints[q, 0], ints[q, 1], ints[q, 2], ints[q, 3]
        if flag and first and kind != MEM:
            continue
        if kind == FIX2:  # sparse: a two-qubit Clifford and its noise keep ~30 of 256 entries
            for col in range(ncol):
                for i in range(16):
                    v[i] = X[i, col]
                    X[i, col] = 0
                for e in range(nnz2[idx]):
                    X[where2[idx, e, 0], col] += vals2[idx, e] * v[where2[idx, e, 1]]
        elif kind == RZ:
            phi = floats[q, 1]
            if idx >= 0:
                phi += floats[q, 0] * (thp[idx] if flag else th[idx])
            c, s = math.cos(phi), math.sin(phi)
            stride, other, ostride = (4, n1, 1) if slot == 0 else (1, 4, 4)
            for o in range(other):
                r1, r2 = o * ostride + stride, o * ostride + 2 * stride
                for col in range(ncol):
                    x, y = X[r1, col], X[r2, col]
                    X[r1, col] = c * x - s * y
                    X[r2, col] = s * x + c * y
        else:
            _one(mats1[idx] if kind == FIX1 else mem[flag, idx], slot, X, n1, ncol)


@njit(**_JIT)
def _stage(ints, floats, n_ops, mats1, where2, vals2, nnz2, mem, th, thp, first, X, n1, ncol, P0, c0, P1, c1, G):
    """A factor's stage into ``X (16, ncol)``, ``ncol = c0 * c1``: the heads on ``P0 (16, c0)`` and
    ``P1 (16, c1)`` (one-slot layout, their initial values in), ``X`` their product, the body, then
    each tail composed into ``G (16, 4)`` and applied on its slot (``ints[part]`` per part)."""
    _part(ints[0], floats[0], n_ops[0], mats1, where2, vals2, nnz2, mem, th, thp, first, P0, 1, c0)
    _part(ints[1], floats[1], n_ops[1], mats1, where2, vals2, nnz2, mem, th, thp, first, P1, 1, c1)
    for d0 in range(4):
        for d1 in range(4):
            for i in range(c0):
                for j in range(c1):
                    X[4 * d0 + d1, i * c1 + j] = P0[4 * d0, i] * P1[4 * d1, j]
    _part(ints[2], floats[2], n_ops[2], mats1, where2, vals2, nnz2, mem, th, thp, first, X, n1, ncol)
    for slot in range(2):
        if n_ops[3 + slot]:
            G[:, :] = 0
            for d in range(4):
                G[4 * d, d] = 1
            _part(ints[3 + slot], floats[3 + slot], n_ops[3 + slot], mats1, where2, vals2, nnz2, mem, th, thp,
                  first, G, 1, 4)
            _one(G[::4], slot, X, n1, ncol)


@njit(**_JIT)
def _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, th, thp, first, mem, U, W, R):
    """The step's memory channels into ``mem (2, h, 4, 4)`` (and transposed) and each factor's
    instruments into ``R (F, 3, 16, 16)``: ``R[f, s]`` per outcome bit, only its rows ``a' = I`` (all
    the tree reads), ``R[f, 2]`` their sum, the channel, whole (module docstring). ``U (16, 4)``,
    ``W (16, 12)``: work space."""
    h, F = mem.shape[1], nb.shape[0]
    P0, P1, G = np.zeros((16, 4)), np.zeros((16, 4)), np.zeros((16, 4))
    tables = (mats1, where2, vals2, nnz2, mem, th, thp, first)
    for j in range(h):
        P0[:, :] = 0
        for d in range(4):
            P0[4 * d, d] = 1
        _part(ints[j, 0], floats[j, 0], n_ops[j, 0], *tables, P0, 1, 4)
        for i in range(4):
            for k in range(4):
                mem[0, j, i, k] = mem[1, j, k, i] = P0[4 * i, k]
    for f in range(F):
        m = nb[f]
        P0[:, :] = 0  # stage A: a's identity ⊗ r's state after its reset
        P1[:, :] = 0
        for d in range(4):
            P0[4 * d, d] = 1
            P1[4 * d, 0] = init[f, 0 if first else 1, d]
        _stage(ints[h + 2 * f], floats[h + 2 * f], n_ops[h + 2 * f], *tables, U, 4, 4, P0, 4, P1, 1, G)
        P0[:, :] = 0  # stage B, backwards: r's effects ⊗ b's identity
        P1[:, :] = 0
        for d in range(4):
            for s in range(2):
                P0[4 * d, s] = effect[f, s, d]
            if d < m:
                P1[4 * d, d] = 1
        _stage(ints[h + 2 * f + 1], floats[h + 2 * f + 1], n_ops[h + 2 * f + 1], *tables, W, m, 2 * m,
               P0, 2, P1, m, G)
        for r in range(4):  # the channel's W: both outcomes
            for b in range(m):
                for b2 in range(m):
                    W[4 * r + b, 2 * m + b2] = W[4 * r + b, b2] + W[4 * r + b, m + b2]
        for s in range(3):
            for a2 in range(4 if s == 2 else 1):  # per outcome only the rows a' = I: all the tree reads
                for b2 in range(m):
                    for a in range(4):
                        for b in range(m):
                            acc = 0.0
                            for r in range(4):
                                acc += U[4 * a2 + r, a] * W[4 * r + b, s * m + b2]
                            R[f, s, a2 * m + b2, a * m + b] = acc


@njit(**_JIT)
def _probabilities(R, nb, c, T0, T1, p):
    """The step's joint outcome probabilities ``p (2**F,)`` from the memory ``c (4**h,)`` through a
    tree of branch states (``T0``, ``T1``: buffers of ``4**h``); outcome ``sum_f s_f 2**f``."""
    F = nb.shape[0]
    size, nbr = c.shape[0], 1
    T0[:size] = c
    for f in range(F):
        K2 = 4 * nb[f]
        if f == F - 1:  # size == K2: the trace of the last instrument's output, its row I
            for br in range(nbr):
                for s in range(2):
                    acc = 0.0
                    for k in range(K2):
                        acc += R[f, s, 0, k] * T0[br * size + k]
                    p[br + s * nbr] = acc
            return
        L = size // K2
        out = nb[f] * L  # the branch after factor f: digit f traced out (its I rows)
        for br in range(nbr):
            for s in range(2):
                dst = (br + s * nbr) * out
                for b2 in range(nb[f]):
                    for lo in range(L):
                        acc = 0.0
                        for k in range(K2):
                            acc += R[f, s, b2, k] * T0[br * size + k * L + lo]
                        T1[dst + b2 * L + lo] = acc
        size, nbr = out, 2 * nbr
        T0[:size * nbr] = T1[:size * nbr]


@njit(**_JIT)
def _advance(R, nb, c, x):
    """``c (4**h,)`` through every factor's channel ``R[f, 2]`` on its digits (``f``, ``f + 1``)."""
    n = c.shape[0]
    block = n
    for f in range(nb.shape[0]):
        K2 = 4 * nb[f]
        L = block // K2
        for hi in range(n // block):
            for lo in range(L):
                base = hi * block + lo
                for k in range(K2):
                    x[k] = c[base + k * L]
                for i in range(K2):
                    acc = 0.0
                    for k in range(K2):
                        acc += R[f, 2, i, k] * x[k]
                    c[base + i * L] = acc
        block //= 4


@njit(**_JIT)
def _circuits(angles, n0, count, ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, out):
    """Circuits ``n0 .. n0 + count`` of ``angles (N, T, A)`` from ``|0...0>``: the per-step
    probabilities into ``out (N, T, 2**F)`` (float64)."""
    T = angles.shape[1]
    F = nb.shape[0]
    h = F
    D2 = 4**h
    mem = np.zeros((2, h, 4, 4))
    U, W = np.zeros((16, 4)), np.zeros((16, 12))
    R = np.zeros((F, 3, 16, 16))
    c, T0, T1, x = np.zeros(D2), np.zeros(D2), np.zeros(D2), np.zeros(16)
    p = np.zeros(2**F)
    zero = np.ones(D2)  # |0...0>: c_P = 1 where every digit of P is I or Z, else 0
    for i in range(D2):
        for j in range(h):
            if (i >> (2 * j)) & 3 in (1, 2):
                zero[i] = 0
    for n in range(n0, n0 + count):
        c[:] = zero
        for t in range(T):
            _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, angles[n, t],
                         angles[n, t - 1 if t else 0], t == 0, mem, U, W, R)
            _probabilities(R, nb, c, T0, T1, p)
            out[n, t, :] = p
            if t < T - 1:
                _advance(R, nb, c, x)


class NoisyKernelSimulator:
    """Exact per-step readout probabilities of the QRNN circuit on a device (a :class:`DeviceNoise`).

    The backend interface of :class:`~qrnn_core.kernel.KernelSimulator`: ``probabilities(angles, *,
    shots, generator)`` / ``__call__``, ``n_angles``, ``n_outcomes``, ``block``, ``dtype``,
    ``real_dtype``, ``device``; ``differentiable`` (angles that require grad run the differentiable
    formulation, :mod:`qrnn_core.noisy_torch`). ``noise.scale = 0`` gives the noiseless kernel's
    probabilities to rounding.

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
            from .noisy_torch import probabilities as differentiable

            probs = differentiable(self.step, flat)
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
        """``d <grad_probs, probs(angles)> / d angles`` (reverse-mode autograd through
        :mod:`qrnn_core.noisy_torch`): ``angles (..., T, n_angles)``, ``grad_probs (..., T, R)`` ->
        ``(..., T, n_angles)`` in the simulator's real dtype."""
        angles = check_angles(angles, self.n_angles, self.device, torch.float64)
        grad_probs = torch.as_tensor(grad_probs, dtype=torch.float64)
        if tuple(grad_probs.shape) != tuple(angles.shape[:-1]) + (self.n_outcomes,):
            raise ValueError(f"grad_probs must have shape {tuple(angles.shape[:-1]) + (self.n_outcomes,)}, "
                             f"got {tuple(grad_probs.shape)}")
        a = angles.detach().clone().requires_grad_()
        with torch.enable_grad():
            (self.probabilities(a).double() * grad_probs).sum().backward()
        return a.grad.to(self.real_dtype)


def engine_probabilities(noise: DeviceNoise, angles) -> np.ndarray:
    """``angles (T, n_angles)`` -> per-step distributions ``(T, 2**(n//2))`` float64 of ``noise`` on this
    engine: the signature of :func:`qrnn_core.device.reference_probabilities` (for
    :func:`qrnn_core.device.noise_source_table`)."""
    return NoisyKernelSimulator(noise)(torch.as_tensor(np.asarray(angles, dtype=np.float64))).numpy()
