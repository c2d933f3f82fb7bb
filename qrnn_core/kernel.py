"""The default CPU engine: the QRNN step as small local operators, compiled with numba.

State convention: that of :mod:`qrnn_core.simulator` (the memory density matrix ``rho``, ``(D, D)``
per circuit, memory qubit ``j`` the ``j``-th most significant index bit) and outcome convention of
:mod:`qrnn_core.circuit`. The gates are read through :func:`qrnn_core.program.read_step_program`;
no gate is restated here.

Two stages per call:

1. **Preparation, in torch, vectorised over all circuits and steps** (:meth:`KernelSimulator._prepare`):
   each readout factor's Kraus operators ``E_f[s]`` (``K x K``, ``K = 2^k``, ``k <= 2`` memory
   qubits), built by :class:`qrnn_core.simulator._Plan` (``factor_operator``, ``fused_runs``), with
   each memory qubit's fused one-qubit unitary ``V(t) = U_pre(t) U_post(t-1)`` folded into the first
   factor that touches it, and the last factor's ``M[s] = E[s]^† E[s]``.
2. **The compiled step loop** (:func:`_tile`; the step is an op program from :func:`_programs`
   run by :func:`_run_ops`), on tiles of circuits with the circuit index
   innermost (planar real/imaginary arrays, so that the loops vectorise): the chain
   ``rho <- sum_s E_f[s] rho E_f[s]^†`` factor by factor gives the next state; the joint outcome
   probabilities come from a tree of unnormalised branch states, one per outcome prefix, each
   reduced by a partial trace to the qubits later factors touch (``D/2, D/4, ...``); the last
   factor needs only ``p(prefix, s) = tr(M[s] B_prefix)``. Factor 0's branches are the chain's
   first terms, so the two share them.

Without a gradient (FDSA, SPSA, validation) stage 1 is compiled as well (:func:`_prepare_tile`,
the same operators from the same program): torch's many tiny batched operations cost more than the
whole step loop there. Tiles of circuits run on Python threads (the compiled functions release the
GIL); one circuit runs alone. Tiles of at most ``_SMALL`` circuits (batch 1 to 8: SPSA, the exact
update, validation) run one circuit at a time with a matrix row's columns innermost
(:func:`_single`): a loop over a few circuits does not vectorise.

A memory qubit no factor touches never reaches a readout: it is left out (probabilities are exact).

The gradient is the adjoint method: the probabilities are linear in the state and each step a
fixed channel of its operators, so the cotangent ``Y_t`` (a ``D x D`` Hermitian operator) is swept
backwards (Heisenberg picture), ``Y_t = sum_s g[t, s] M_{t,s} + Phi_t^†(Y_{t+1})``, each step's
states stored on the way forward (small tiles, :func:`_single`) or recomputed from the stored
``rho_t`` (:func:`_tile`); the compiled code gives the cotangents of the prepared operators (the
adjoint ops of :func:`_programs`) and carries them through the compiled preparation to the angles
(:func:`_prepare_vjp_tile`; the torch preparation :meth:`KernelSimulator._prepare` is the reference
it is tested against, and autograd through it gives the same).
"""

from __future__ import annotations

import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from .circuit import build_step_block
from .program import StepProgram, read_step_program
from .simulator import _kron, _Plan, sample_frequencies
from .validation import check_angles, check_generator, check_shots

#: Qubits the kernel takes: even, 2 to 12 (a ``64 x 64`` memory density matrix at 12).
N_QUBITS_RANGE = (2, 12)


def _ensure_cache_dir() -> None:
    """Numba caches compiled code next to this file; where that folder (and the user-wide fallback
    numba tries next) cannot be written, as in a read-only install, point it at a temporary folder
    so that ``cache=True`` never fails and later processes still start fast."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent / "__pycache__"
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
    for folder in (here, user):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                return
        except OSError:
            continue
    import numba

    numba.config.CACHE_DIR = str(Path(tempfile.gettempdir()) / f"qrnn-numba-cache-{os.getuid()}")


_ensure_cache_dir()
import numba  # noqa: E402  (after the cache folder is settled)
from numba import njit  # noqa: E402

# -- the compiled pieces ----------------------------------------------------------------------
#
# Layout: every per-circuit quantity of a tile of ``nb`` circuits is a planar pair of C-contiguous
# real arrays ``(rows, nb)`` (real part, imaginary part), the circuit index innermost, so that each
# innermost loop below runs over the tile's circuits with per-circuit coefficients and LLVM turns
# it into SIMD code. A ``d x d`` matrix occupies ``d * d`` consecutive rows from an offset,
# row-major. The step's prepared operators (:meth:`KernelSimulator._prepare`) are rows
# ``Er, Ei (n_rows, nb)``: ``E_f[s][i, l]`` at ``eoff[f] + s K^2 + i K + l``, the last factor's
# ``M[s] = E[s]^† E[s]`` at ``m0 + s K^2 + i K + l``. One function per role, float64 only: complex64
# simulators round the results to float32 (one build instead of two halves the first-call compile
# time; float64 loads and the rounding at the end keep complex64 within its precision).

_JIT = dict(cache=True, nogil=True)  # nogil: tiles run on Python threads (no parallel build)


@njit(**_JIT)
def _local(Er, Ei, e, K, adj, left, offs, rest, nrest, d, Sr, Si, s0, Or, Oi, o0, acc, upper, mirror):
    """``O = A S`` (``left``) or ``O = S A`` with ``A = E`` or ``E^†`` (``adj``) local on the index
    bits ``offs`` of the ``d x d`` matrices ``S`` (rows from ``s0``) and ``O`` (from ``o0``);
    ``acc``: add to ``O`` instead. ``E`` is the ``K x K`` operator at rows ``e`` of ``Er, Ei``.
    ``upper`` (right multiplications whose result is Hermitian: the Kraus map's ``(E X) E^†``): only
    ``O``'s upper triangle (row <= column) is computed; ``mirror``: then its lower triangle is set
    from it (``O[j, i] = conj(O[i, j])``), for the ops that read it whole.
    ``K = 2, 4`` (one or two memory qubits: every factor here) take a loop whose body holds the whole
    ``K``-term sum, so each pass over the tile's circuits does ``K`` complex products, not one."""
    nb = Sr.shape[1]
    trans = left == adj  # which of E[i, l], E[l, i] multiplies S's l-th local index
    sgv = Er[0, :1].copy()  # the sign of the coefficients' imaginary part, of E's dtype (float32 stays
    sgv[0] = 1 - 2 * adj  # float32: a float64 scalar would promote the whole loop and halve its lanes)
    sg = sgv[0]
    s_ = np.empty(4, np.int64)
    e_ = np.empty(4, np.int64)
    for ir in range(nrest):
        r = rest[ir]
        for i in range(K):
            for c in range(d if left or not upper else r + offs[i] + 1):
                oi = o0 + (r + offs[i]) * d + c if left else o0 + c * d + r + offs[i]
                if K == 4 or K == 2:
                    for l in range(K):
                        s_[l] = s0 + (r + offs[l]) * d + c if left else s0 + c * d + r + offs[l]
                        e_[l] = e + l * K + i if trans else e + i * K + l
                    a0, a1, b0, b1 = s_[0], s_[1], e_[0], e_[1]
                    if K == 4:
                        a2, a3, b2, b3 = s_[2], s_[3], e_[2], e_[3]
                        for n in range(nb):
                            cr0, cr1, cr2, cr3 = Er[b0, n], Er[b1, n], Er[b2, n], Er[b3, n]
                            ci0, ci1, ci2, ci3 = Ei[b0, n] * sg, Ei[b1, n] * sg, Ei[b2, n] * sg, Ei[b3, n] * sg
                            x0, x1, x2, x3 = Sr[a0, n], Sr[a1, n], Sr[a2, n], Sr[a3, n]
                            y0, y1, y2, y3 = Si[a0, n], Si[a1, n], Si[a2, n], Si[a3, n]
                            vr = ((cr0 * x0 - ci0 * y0) + (cr1 * x1 - ci1 * y1)
                                  + (cr2 * x2 - ci2 * y2) + (cr3 * x3 - ci3 * y3))
                            vi = ((cr0 * y0 + ci0 * x0) + (cr1 * y1 + ci1 * x1)
                                  + (cr2 * y2 + ci2 * x2) + (cr3 * y3 + ci3 * x3))
                            Or[oi, n] = Or[oi, n] + vr if acc else vr
                            Oi[oi, n] = Oi[oi, n] + vi if acc else vi
                    else:
                        for n in range(nb):
                            cr0, cr1, ci0, ci1 = Er[b0, n], Er[b1, n], Ei[b0, n] * sg, Ei[b1, n] * sg
                            x0, x1, y0, y1 = Sr[a0, n], Sr[a1, n], Si[a0, n], Si[a1, n]
                            vr = (cr0 * x0 - ci0 * y0) + (cr1 * x1 - ci1 * y1)
                            vi = (cr0 * y0 + ci0 * x0) + (cr1 * y1 + ci1 * x1)
                            Or[oi, n] = Or[oi, n] + vr if acc else vr
                            Oi[oi, n] = Oi[oi, n] + vi if acc else vi
                    continue
                if not acc:
                    for n in range(nb):
                        Or[oi, n] = 0
                        Oi[oi, n] = 0
                for l in range(K):
                    si = s0 + (r + offs[l]) * d + c if left else s0 + c * d + r + offs[l]
                    row = e + l * K + i if trans else e + i * K + l
                    for n in range(nb):
                        ar, ai, xr, xi = Er[row, n], Ei[row, n] * sg, Sr[si, n], Si[si, n]
                        Or[oi, n] += ar * xr - ai * xi
                        Oi[oi, n] += ar * xi + ai * xr
    if mirror:
        for i in range(d):
            for j in range(i + 1, d):
                a, b = o0 + i * d + j, o0 + j * d + i
                for n in range(nb):
                    Or[b, n] = Or[a, n]
                    Oi[b, n] = -Oi[a, n]


@njit(**_JIT)
def _trace(Sr, Si, s0, d, base, nbase, toff, ntoff, Or, Oi, o0):
    """``O[i, j] = sum_x S[base[i] + toff[x], base[j] + toff[x]]``: the partial trace of the
    ``d x d`` matrix ``S`` to the ``nbase x nbase`` matrix ``O``."""
    nb = Sr.shape[1]
    for i in range(nbase):
        for j in range(nbase):
            oi = o0 + i * nbase + j
            for n in range(nb):
                Or[oi, n] = 0
                Oi[oi, n] = 0
            for x in range(ntoff):
                si = s0 + (base[i] + toff[x]) * d + base[j] + toff[x]
                for n in range(nb):
                    Or[oi, n] += Sr[si, n]
                    Oi[oi, n] += Si[si, n]


@njit(**_JIT)
def _untrace(Br, Bi, b0, base, nbase, toff, ntoff, d, Or, Oi, o0):
    """The adjoint of :func:`_trace`: ``O += B ⊗ 1`` on the traced bits."""
    nb = Br.shape[1]
    for i in range(nbase):
        for j in range(nbase):
            bi = b0 + i * nbase + j
            for x in range(ntoff):
                oi = o0 + (base[i] + toff[x]) * d + base[j] + toff[x]
                for n in range(nb):
                    Or[oi, n] += Br[bi, n]
                    Oi[oi, n] += Bi[bi, n]


@njit(**_JIT)
def _ebar(Yr, Yi, y0, Wr, Wi, w0, offs, rest, nrest, K, d, Gr, Gi, e):
    """``Ebar[i, l] += 2 sum_r (Y W)[r + offs[i], r + offs[l]]``, ``W = (E ⊗ 1) X`` (rows from ``w0``):
    the cotangent of ``E`` in ``tr(Y E X E^†)`` for Hermitian ``Y``, ``X`` (``bar = dL/dRe + i dL/dIm``)."""
    nb = Yr.shape[1]
    for i in range(K):
        for l in range(K):
            g = e + i * K + l
            for ir in range(nrest):
                r = rest[ir]
                for c in range(d):
                    yi_, wi_ = y0 + (r + offs[i]) * d + c, w0 + c * d + r + offs[l]
                    for n in range(nb):
                        yr, yi, wr, wi = Yr[yi_, n], Yi[yi_, n], Wr[wi_, n], Wi[wi_, n]
                        pr, pi = yr * wr - yi * wi, yr * wi + yi * wr
                        Gr[g, n] += pr + pr
                        Gi[g, n] += pi + pi


# The forward-only preparation (no gradient wanted: FDSA, SPSA, validation), compiled too: the
# same operators as :meth:`KernelSimulator._prepare` from the same program, built gate by gate in
# one pass (torch's many tiny batched operations cost more than the whole step loop, and stall when
# the cores are oversubscribed). Always float64; complex64 callers cast the result.


@njit(**_JIT)
def _rotate(op, axis, a, ctrl, tgt):
    """``exp(-i a sigma_axis / 2)`` on row bit ``tgt`` of ``op (2K, K)``, on rows with bit ``ctrl``
    set (``ctrl < 0``: all rows)."""
    c, s = math.cos(0.5 * a), math.sin(0.5 * a)
    if axis == 0:
        g00, g01, g10, g11 = complex(c, 0), complex(0, -s), complex(0, -s), complex(c, 0)
    elif axis == 1:
        g00, g01, g10, g11 = complex(c, 0), complex(-s, 0), complex(s, 0), complex(c, 0)
    else:
        g00, g01, g10, g11 = complex(c, -s), 0j, 0j, complex(c, s)
    t = 1 << tgt
    for row in range(op.shape[0]):
        if row & t or (ctrl >= 0 and not (row >> ctrl) & 1):
            continue
        r1 = row | t
        for col in range(op.shape[1]):
            x0, x1 = op[row, col], op[r1, col]
            op[row, col] = g00 * x0 + g01 * x1
            op[r1, col] = g10 * x0 + g11 * x1


@njit(**_JIT)
def _prepare_tile(angles, n0, nb, gates, n_gates, Ks, eoff, m0, P):
    """``P[n0:n0 + nb] (N, T, n_rows, 2)`` from ``angles (N, T, A)`` (float64): each factor's ``E[s]``
    (its ``gates[f]`` rows ``(ctrl, tgt, axis, angle, previous step?)`` run on ``|0>_readout ⊗ 1``),
    the last factor's ``M[s] = E[s]^† E[s]``."""
    T = angles.shape[1]
    Kmax = Ks.max()
    buf = np.zeros((2 * Kmax, Kmax), dtype=np.complex128)
    for n in range(n0, n0 + nb):
        for t in range(T):
            for f in range(Ks.shape[0]):
                K = Ks[f]
                op = buf[:2 * K, :K]
                op[:, :] = 0
                for m in range(K):
                    op[m, m] = 1
                for q in range(n_gates[f]):
                    ctrl, tgt, axis, ang, prev = gates[f, q]
                    if prev and t == 0:
                        continue
                    _rotate(op, axis, angles[n, t - prev, ang], ctrl, tgt)
                for q in range(2 * K * K):
                    z = op[q // K, q % K]  # row s K + i, column l
                    P[n, t, eoff[f] + q, 0] = z.real
                    P[n, t, eoff[f] + q, 1] = z.imag
            K = Ks[-1]
            for s in range(2):
                for i in range(K):
                    for j in range(K):
                        z = 0j
                        for l in range(K):
                            z += np.conj(buf[s * K + l, i]) * buf[s * K + l, j]
                        P[n, t, m0 + (s * K + i) * K + j, 0] = z.real
                        P[n, t, m0 + (s * K + i) * K + j, 1] = z.imag


@njit(**_JIT)
def _rotate_grad(op, bar, axis, ctrl, tgt):
    """``Re sum conj(bar) * (-i sigma_axis / 2) op`` over the rows :func:`_rotate` acts on: the
    derivative by its angle, ``op`` the operator after the rotation, ``bar`` its cotangent."""
    t = 1 << tgt
    acc = 0.0
    for row in range(op.shape[0]):
        if row & t or (ctrl >= 0 and not (row >> ctrl) & 1):
            continue
        r1 = row | t
        for col in range(op.shape[1]):
            x0, x1 = op[row, col], op[r1, col]
            if axis == 0:
                y0, y1 = -0.5j * x1, -0.5j * x0
            elif axis == 1:
                y0, y1 = -0.5 * x1, 0.5 * x0
            else:
                y0, y1 = -0.5j * x0, 0.5j * x1
            acc += (np.conj(bar[row, col]) * y0 + np.conj(bar[r1, col]) * y1).real
    return acc


@njit(**_JIT)
def _prepare_vjp_tile(angles, G, n0, nb, gates, n_gates, Ks, eoff, m0, grad):
    """The chain rule of :func:`_prepare_tile`: ``grad[n0:n0 + nb] (N, T, A)`` (zeros in) gets
    ``d <G, P> / d angles``, ``G (N, T, n_rows, 2)`` the cotangent of ``P`` (re, im: ``dL/dRe``,
    ``dL/dIm``). Per factor the operator is rebuilt, the last factor's ``Mbar`` joins ``Ebar`` as
    ``Ebar_s += E_s (Mbar_s + Mbar_s^†)`` (``M_s = E_s^† E_s``), and the gates are undone in reverse:
    ``d/da_q = Re <Ebar_q, (-i sigma / 2) E_q>`` on the gate's rows, then ``E``, ``Ebar`` both
    through ``G_q^† = G_q(-a)`` (exact: each operator, its cotangent and the angles' float64)."""
    T = angles.shape[1]
    Kmax = Ks.max()
    F = Ks.shape[0]
    buf = np.zeros((2 * Kmax, Kmax), dtype=np.complex128)
    bbuf = np.zeros((2 * Kmax, Kmax), dtype=np.complex128)
    h = np.zeros((Kmax, Kmax), dtype=np.complex128)
    for n in range(n0, n0 + nb):
        for t in range(T):
            for f in range(F):
                K = Ks[f]
                op, bar = buf[:2 * K, :K], bbuf[:2 * K, :K]
                op[:, :] = 0
                for m in range(K):
                    op[m, m] = 1
                for q in range(n_gates[f]):
                    ctrl, tgt, axis, ang, prev = gates[f, q]
                    if prev and t == 0:
                        continue
                    _rotate(op, axis, angles[n, t - prev, ang], ctrl, tgt)
                for q in range(2 * K * K):
                    bar[q // K, q % K] = complex(G[n, t, eoff[f] + q, 0], G[n, t, eoff[f] + q, 1])
                if f == F - 1:
                    for s in range(2):
                        for i in range(K):
                            for j in range(K):
                                a, b = m0 + (s * K + i) * K + j, m0 + (s * K + j) * K + i
                                h[i, j] = complex(G[n, t, a, 0] + G[n, t, b, 0], G[n, t, a, 1] - G[n, t, b, 1])
                        for r in range(K):
                            for j in range(K):
                                z = 0j
                                for i in range(K):
                                    z += op[s * K + r, i] * h[i, j]
                                bar[s * K + r, j] += z
                for q in range(n_gates[f] - 1, -1, -1):
                    ctrl, tgt, axis, ang, prev = gates[f, q]
                    if prev and t == 0:
                        continue
                    a = angles[n, t - prev, ang]
                    grad[n, t - prev, ang] += _rotate_grad(op, bar, axis, ctrl, tgt)
                    _rotate(op, axis, -a, ctrl, tgt)
                    _rotate(bar, axis, -a, ctrl, tgt)


# The step as a program of operations on one tile buffer ``S (rows, nb)`` (re, im), interpreted
# by :func:`_run_ops`: each primitive above then has one call site, so LLVM inlines each once
# (calling them from many places multiplied the compile time). Op rows, int64, ``_W`` wide:
_LOCAL, _TRACE, _UNTRACE, _EBAR, _COPY, _PROB, _PROB_ADJ, _ZERO = range(8)
_W = 10


@njit(**_JIT)
def _run_ops(ops, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst, gst, Gr, Gi):
    """Run ``ops (n_ops, _W)`` (built by :func:`_programs`) on the tile buffer ``S``; ``E (n_rows, nb)``
    the step's operators; ``pst (R, nb)`` probabilities out; ``gst (R, nb)`` their cotangents in,
    ``G (n_rows, nb)`` the operators' cotangents out (added to)."""
    nb = Sr.shape[1]
    for q in range(ops.shape[0]):
        op = ops[q]
        kind = op[0]
        if kind == _LOCAL:  # e, K, adj, left, table, d, src, dst, acc
            t = op[5]
            _local(Er, Ei, op[1], op[2], op[3] != 0, op[4] != 0, offs[t], rest[t], nrest[t], op[6],
                   Sr, Si, op[7], Sr, Si, op[8], (op[9] & 1) != 0, (op[9] & 2) != 0, (op[9] & 4) != 0)
        elif kind == _TRACE:  # table, d, src, dst
            t = op[1]
            _trace(Sr, Si, op[3], op[2], tbase[t], ntbase[t], ttoff[t], nttoff[t], Sr, Si, op[4])
        elif kind == _UNTRACE:  # table, d, src, dst (added to)
            t = op[1]
            _untrace(Sr, Si, op[3], tbase[t], ntbase[t], ttoff[t], nttoff[t], op[2], Sr, Si, op[4])
        elif kind == _EBAR:  # e, K, table, d, y, w
            t = op[3]
            _ebar(Sr, Si, op[5], Sr, Si, op[6], offs[t], rest[t], nrest[t], op[2], op[4], Gr, Gi, op[1])
        elif kind == _COPY:  # src, dst, length, add
            s0, d0 = op[1], op[2]
            for i in range(op[3]):
                for n in range(nb):
                    if op[4]:
                        Sr[d0 + i, n] += Sr[s0 + i, n]
                        Si[d0 + i, n] += Si[s0 + i, n]
                    else:
                        Sr[d0 + i, n] = Sr[s0 + i, n]
                        Si[d0 + i, n] = Si[s0 + i, n]
        elif kind == _ZERO:  # dst, length
            for i in range(op[2]):
                for n in range(nb):
                    Sr[op[1] + i, n] = 0
                    Si[op[1] + i, n] = 0
        elif kind == _PROB:  # m, K, src, outcome: p = Re tr(M B)
            m, K, b0, o = op[1], op[2], op[3], op[4]
            for n in range(nb):
                pst[o, n] = 0
            for i in range(K):
                for j in range(K):
                    mi, bj = m + i * K + j, b0 + j * K + i
                    for n in range(nb):
                        pst[o, n] += Er[mi, n] * Sr[bj, n] - Ei[mi, n] * Si[bj, n]
        else:  # _PROB_ADJ: m, K, src, dst, outcome: Bbar += g conj(M)^T, Mbar += g conj(B)^T
            m, K, b0, c0, o = op[1], op[2], op[3], op[4], op[5]
            for i in range(K):
                for j in range(K):
                    for n in range(nb):
                        g = gst[o, n]
                        Sr[c0 + i * K + j, n] += g * Er[m + j * K + i, n]
                        Si[c0 + i * K + j, n] -= g * Ei[m + j * K + i, n]
                        Gr[m + i * K + j, n] += g * Sr[b0 + j * K + i, n]
                        Gi[m + i * K + j, n] -= g * Si[b0 + j * K + i, n]


@njit(**_JIT)
def _run_fwd(ops, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst):
    """:func:`_run_ops` for forward programs only (local, trace, copy, probability ops): the float32
    build (:func:`_tile_fwd`) then compiles none of the adjoint's primitives (first-call compile time)."""
    nb = Sr.shape[1]
    for q in range(ops.shape[0]):
        op = ops[q]
        kind = op[0]
        if kind == _LOCAL:
            t = op[5]
            _local(Er, Ei, op[1], op[2], op[3] != 0, op[4] != 0, offs[t], rest[t], nrest[t], op[6],
                   Sr, Si, op[7], Sr, Si, op[8], (op[9] & 1) != 0, (op[9] & 2) != 0, (op[9] & 4) != 0)
        elif kind == _TRACE:
            t = op[1]
            _trace(Sr, Si, op[3], op[2], tbase[t], ntbase[t], ttoff[t], nttoff[t], Sr, Si, op[4])
        elif kind == _COPY:
            s0, d0 = op[1], op[2]
            for i in range(op[3]):
                for n in range(nb):
                    if op[4]:
                        Sr[d0 + i, n] += Sr[s0 + i, n]
                        Si[d0 + i, n] += Si[s0 + i, n]
                    else:
                        Sr[d0 + i, n] = Sr[s0 + i, n]
                        Si[d0 + i, n] = Si[s0 + i, n]
        elif kind == _PROB:
            m, K, b0, o = op[1], op[2], op[3], op[4]
            for n in range(nb):
                pst[o, n] = 0
            for i in range(K):
                for j in range(K):
                    mi, bj = m + i * K + j, b0 + j * K + i
                    for n in range(nb):
                        pst[o, n] += Er[mi, n] * Sr[bj, n] - Ei[mi, n] * Si[bj, n]


@njit(**_JIT)
def _tile_fwd(P, n0, nb, tb, fwd, rows, out):
    """The forward of :func:`_tile` alone (the float32 tiles: :meth:`KernelSimulator._tile_dtype`)."""
    offs, rest, nrest, tbase, ntbase, ttoff, nttoff, R = tb
    T, M, dt = P.shape[1], P.shape[2], P.dtype
    D2, nxt = rows[3], rows[1]
    Er, Ei = np.zeros((M, nb), dt), np.zeros((M, nb), dt)
    Sr, Si = np.zeros((rows[2], nb), dt), np.zeros((rows[2], nb), dt)
    pst = np.zeros((R, nb), dt)
    for n in range(nb):
        Sr[0, n] = 1
    for t in range(T):
        _gather(P, n0, t, Er, Ei)
        _run_fwd(fwd, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst)
        for n in range(nb):
            for o in range(R):
                out[n0 + n, t, o] = pst[o, n]
        Sr[:D2] = Sr[nxt:nxt + D2]
        Si[:D2] = Si[nxt:nxt + D2]


@njit(**_JIT)
def _gather(P, n0, t, Er, Ei):
    """The step's operators of the tile's circuits, ``P (N, T, n_rows, 2)`` -> ``Er, Ei (n_rows, nb)``."""
    for n in range(Er.shape[1]):
        for m in range(Er.shape[0]):
            Er[m, n] = P[n0 + n, t, m, 0]
            Ei[m, n] = P[n0 + n, t, m, 1]


@njit(**_JIT)
def _tile(P, g, n0, nb, tb, fwd, both, rows, out, G):
    """Circuits ``n0 .. n0 + nb`` of ``P (N, T, n_rows, 2)`` from ``|0><0|``. Forward
    (``g.shape[0] == 0``): the probabilities into ``out (N, T, R)``. Else the adjoint sweep (module
    docstring): ``G (N, T, n_rows, 2)`` the cotangent of ``P`` for ``sum(g * probs)``, ``g (N, T, R)``,
    the states ``rho_t`` stored per step on the way forward, each step recomputed on the way back
    (``both`` = the step's ops then its adjoint's). ``fwd`` the step's ops; ``rows`` the buffer's
    rows: ``[0, D^2)`` the state ``rho_t``, ``rows[1]`` where ``rho_{t+1}`` ends, ``rows[2]`` the
    adjoint's ``Y``."""
    offs, rest, nrest, tbase, ntbase, ttoff, nttoff, R = tb
    T, M, dt = P.shape[1], P.shape[2], P.dtype
    D2, nxt = rows[3], rows[1]
    adjoint = g.shape[0] > 0
    Er, Ei, Gr, Gi = np.zeros((M, nb), dt), np.zeros((M, nb), dt), np.zeros((M, nb), dt), np.zeros((M, nb), dt)
    # The forward alone needs the rows before the adjoint's ``Y`` (the chain, the tree, W, Z).
    nrows = rows[0] if adjoint else rows[2]
    Sr, Si = np.zeros((nrows, nb), dt), np.zeros((nrows, nb), dt)
    pst, gst = np.zeros((R, nb), dt), np.zeros((R, nb), dt)
    Hr = np.zeros((T * D2 if adjoint else 0, nb), dt)  # the stored rho_t
    Hi = np.zeros_like(Hr)
    for n in range(nb):
        Sr[0, n] = 1
    steps = 2 * T if adjoint else T
    for it in range(steps):
        back = it >= T
        t = 2 * T - 1 - it if back else it
        _gather(P, n0, t, Er, Ei)
        if adjoint and not back:
            Hr[t * D2:(t + 1) * D2] = Sr[:D2]
            Hi[t * D2:(t + 1) * D2] = Si[:D2]
        if back:
            Sr[:D2] = Hr[t * D2:(t + 1) * D2]
            Si[:D2] = Hi[t * D2:(t + 1) * D2]
            for n in range(nb):
                for o in range(R):
                    gst[o, n] = g[n0 + n, t, o]
            Gr[:] = 0
            Gi[:] = 0
        _run_ops(both if back else fwd, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst, gst,
                 Gr, Gi)
        if back:
            for n in range(nb):
                for m in range(M):
                    G[n0 + n, t, m, 0] = Gr[m, n]
                    G[n0 + n, t, m, 1] = Gi[m, n]
        else:
            if not adjoint:
                for n in range(nb):
                    for o in range(R):
                        out[n0 + n, t, o] = pst[o, n]
            Sr[:D2] = Sr[nxt:nxt + D2]
            Si[:D2] = Si[nxt:nxt + D2]


# -- one circuit at a time: small batches -----------------------------------------------------
#
# At a batch of a few circuits the tile's innermost loop (over circuits) is too short to vectorise.
# Here one circuit's buffer is a flat planar pair of 1-D arrays with the tile's row layout (a
# ``d x d`` matrix row-major from an offset) and every innermost loop runs over the ``d``
# contiguous columns of a matrix row. Only LEFT multiplications are contiguous that way; every right
# multiplication of the step is ``O = W B`` with ``W = B^† H`` and ``H`` Hermitian (the Kraus map
# ``E X E^†``, the adjoint's ``E^† Y E``), so ``O = B^† H B = B^† W^†``: a conjugate transpose
# (``d^2`` moves) and a left multiplication (:func:`_single_ops` rewrites the programs so).
# The adjoint's ``Ebar = 2 tr_rest(Y E X)`` uses ``Y E = (E^† Y)^†``, the transpose it computes
# anyway, with ``X`` Hermitian, so it too runs along rows (and needs no ``E X``).
_CONJT, _EBAR1 = 8, 9


@njit(**_JIT)
def _local1(Er, Ei, e, K, adj, offs, rest, nrest, d, Sr, Si, s0, o0, acc):
    """``O = A S``, ``A = E`` or ``E^†`` (``adj``), local on the index bits ``offs`` of the ``d x d``
    matrices ``S`` (rows from ``s0``) and ``O`` (from ``o0``) of one circuit's buffer ``S`` (1-D);
    ``acc``: add to ``O``. The ``K``-term sum (``K = 2, 4``: every factor) in one pass over a row."""
    sg = 1.0 - 2 * adj
    for ir in range(nrest):
        r = rest[ir]
        for i in range(K):
            oi = o0 + (r + offs[i]) * d
            if K == 4:
                b0, b1, b2, b3 = (e + i, e + K + i, e + 2 * K + i, e + 3 * K + i) if adj else \
                    (e + i * K, e + i * K + 1, e + i * K + 2, e + i * K + 3)
                cr0, cr1, cr2, cr3 = Er[b0], Er[b1], Er[b2], Er[b3]
                ci0, ci1, ci2, ci3 = Ei[b0] * sg, Ei[b1] * sg, Ei[b2] * sg, Ei[b3] * sg
                a0, a1 = s0 + (r + offs[0]) * d, s0 + (r + offs[1]) * d
                a2, a3 = s0 + (r + offs[2]) * d, s0 + (r + offs[3]) * d
                for c in range(d):
                    x0, x1, x2, x3 = Sr[a0 + c], Sr[a1 + c], Sr[a2 + c], Sr[a3 + c]
                    y0, y1, y2, y3 = Si[a0 + c], Si[a1 + c], Si[a2 + c], Si[a3 + c]
                    vr = ((cr0 * x0 - ci0 * y0) + (cr1 * x1 - ci1 * y1)
                          + (cr2 * x2 - ci2 * y2) + (cr3 * x3 - ci3 * y3))
                    vi = ((cr0 * y0 + ci0 * x0) + (cr1 * y1 + ci1 * x1)
                          + (cr2 * y2 + ci2 * x2) + (cr3 * y3 + ci3 * x3))
                    Sr[oi + c] = Sr[oi + c] + vr if acc else vr
                    Si[oi + c] = Si[oi + c] + vi if acc else vi
            elif K == 2:
                b0, b1 = (e + i, e + K + i) if adj else (e + i * K, e + i * K + 1)
                cr0, cr1, ci0, ci1 = Er[b0], Er[b1], Ei[b0] * sg, Ei[b1] * sg
                a0, a1 = s0 + (r + offs[0]) * d, s0 + (r + offs[1]) * d
                for c in range(d):
                    x0, x1, y0, y1 = Sr[a0 + c], Sr[a1 + c], Si[a0 + c], Si[a1 + c]
                    vr = (cr0 * x0 - ci0 * y0) + (cr1 * x1 - ci1 * y1)
                    vi = (cr0 * y0 + ci0 * x0) + (cr1 * y1 + ci1 * x1)
                    Sr[oi + c] = Sr[oi + c] + vr if acc else vr
                    Si[oi + c] = Si[oi + c] + vi if acc else vi
            else:  # K = 1: a factor on no memory qubit
                row = e + i * K
                cr, ci = Er[row], Ei[row] * sg
                a0 = s0 + r * d
                for c in range(d):
                    x0, y0 = Sr[a0 + c], Si[a0 + c]
                    Sr[oi + c] = (Sr[oi + c] if acc else 0.0) + cr * x0 - ci * y0
                    Si[oi + c] = (Si[oi + c] if acc else 0.0) + cr * y0 + ci * x0


@njit(**_JIT)
def _run_ops1(ops, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst, gst, Gr, Gi, ar, ai):
    """:func:`_run_ops` for one circuit: ``S (rows,)``, ``E, G (n_rows,)``, ``pst, gst (R,)``; ``ops``
    from :func:`_single_ops`; ``ar, ai (D,)`` scratch."""
    for q in range(ops.shape[0]):
        op = ops[q]
        kind = op[0]
        if kind == _LOCAL:  # e, K, adj, 1, table, d, src, dst, acc
            t = op[5]
            _local1(Er, Ei, op[1], op[2], op[3] != 0, offs[t], rest[t], nrest[t], op[6], Sr, Si, op[7], op[8],
                    op[9] != 0)
        elif kind == _CONJT:  # d, src, dst: O = S^†
            d, s0, o0 = op[1], op[2], op[3]
            for a in range(d):
                for b in range(d):
                    Sr[o0 + a * d + b] = Sr[s0 + b * d + a]
                    Si[o0 + a * d + b] = -Si[s0 + b * d + a]
        elif kind == _EBAR1:  # e, K, table, d, v, x: Ebar[i, l] += 2 sum_r,c V[r+o_i, c] conj(X[r+o_l, c])
            e, K, t, d, v0, x0 = op[1], op[2], op[3], op[4], op[5], op[6]
            offs_, rest_ = offs[t], rest[t]
            for i in range(K):
                for l in range(K):
                    for c in range(d):  # per-column partial sums: vectorises with no reassociation
                        ar[c] = 0.0
                        ai[c] = 0.0
                    for ir in range(nrest[t]):
                        a, b = v0 + (rest_[ir] + offs_[i]) * d, x0 + (rest_[ir] + offs_[l]) * d
                        for c in range(d):
                            vr, vi, xr, xi = Sr[a + c], Si[a + c], Sr[b + c], Si[b + c]
                            ar[c] += vr * xr + vi * xi
                            ai[c] += vi * xr - vr * xi
                    sr = 0.0
                    si = 0.0
                    for c in range(d):
                        sr += ar[c]
                        si += ai[c]
                    Gr[e + i * K + l] += sr + sr
                    Gi[e + i * K + l] += si + si
        elif kind == _TRACE:  # table, d, src, dst
            t, d, s0, o0 = op[1], op[2], op[3], op[4]
            nbs = ntbase[t]
            for i in range(nbs):
                for j in range(nbs):
                    zr = 0.0
                    zi = 0.0
                    for x in range(nttoff[t]):
                        si_ = s0 + (tbase[t, i] + ttoff[t, x]) * d + tbase[t, j] + ttoff[t, x]
                        zr += Sr[si_]
                        zi += Si[si_]
                    Sr[o0 + i * nbs + j] = zr
                    Si[o0 + i * nbs + j] = zi
        elif kind == _UNTRACE:  # table, d, src, dst (added to)
            t, d, b0, o0 = op[1], op[2], op[3], op[4]
            nbs = ntbase[t]
            for i in range(nbs):
                for j in range(nbs):
                    for x in range(nttoff[t]):
                        oi = o0 + (tbase[t, i] + ttoff[t, x]) * d + tbase[t, j] + ttoff[t, x]
                        Sr[oi] += Sr[b0 + i * nbs + j]
                        Si[oi] += Si[b0 + i * nbs + j]
        elif kind == _COPY:  # src, dst, length, add
            s0, d0 = op[1], op[2]
            if op[4]:
                for i in range(op[3]):
                    Sr[d0 + i] += Sr[s0 + i]
                    Si[d0 + i] += Si[s0 + i]
            else:
                for i in range(op[3]):
                    Sr[d0 + i] = Sr[s0 + i]
                    Si[d0 + i] = Si[s0 + i]
        elif kind == _ZERO:  # dst, length
            for i in range(op[2]):
                Sr[op[1] + i] = 0.0
                Si[op[1] + i] = 0.0
        elif kind == _PROB:  # m, K, src, outcome: p = Re tr(M B)
            m, K, b0, o = op[1], op[2], op[3], op[4]
            p = 0.0
            for i in range(K):
                for j in range(K):
                    p += Er[m + i * K + j] * Sr[b0 + j * K + i] - Ei[m + i * K + j] * Si[b0 + j * K + i]
            pst[o] = p
        elif kind == _PROB_ADJ:  # m, K, src, dst, outcome: Bbar += g conj(M)^T, Mbar += g conj(B)^T
            m, K, b0, c0, o = op[1], op[2], op[3], op[4], op[5]
            g = gst[o]
            for i in range(K):
                for j in range(K):
                    Sr[c0 + i * K + j] += g * Er[m + j * K + i]
                    Si[c0 + i * K + j] -= g * Ei[m + j * K + i]
                    Gr[m + i * K + j] += g * Sr[b0 + j * K + i]
                    Gi[m + i * K + j] -= g * Si[b0 + j * K + i]


@njit(**_JIT)
def _single(P, g, n0, nb, tb, fwd, adj, both, rows, out, G, keep):
    """Circuits ``n0 .. n0 + nb`` of ``P (N, T, n_rows, 2)``, one at a time: :func:`_tile`'s contract
    (forward if ``g.shape[0] == 0``, else the adjoint sweep into ``G``). ``fwd``, ``adj``, ``both``
    from :func:`_single_ops`; ``rows`` as in :func:`_tile`, ``rows[4]`` where the forward's states
    end, ``rows[5]`` the buffer's size. ``keep``: store all the forward's states (``X_f`` and the
    tree levels, ``rows[4]`` rows a step) so that the reverse sweep runs the adjoint ops only;
    else only ``rho_t`` (``D^2``) and the step is recomputed (``both``)."""
    offs, rest, nrest, tbase, ntbase, ttoff, nttoff, R = tb
    T, M = P.shape[1], P.shape[2]
    nxt, D2, fend, size = rows[1], rows[3], rows[4], rows[5]
    adjoint = g.shape[0] > 0
    H = fend if keep else D2
    Er, Ei, Gr, Gi = np.zeros(M), np.zeros(M), np.zeros(M), np.zeros(M)
    Sr, Si = np.zeros(size), np.zeros(size)
    pst, gst = np.zeros(R), np.zeros(R)
    ar, ai = np.zeros(D2), np.zeros(D2)
    Hr = np.zeros(T * H if adjoint else 0)
    Hi = np.zeros_like(Hr)
    for n in range(n0, n0 + nb):
        Sr[:] = 0
        Si[:] = 0
        Sr[0] = 1
        for t in range(T):
            for m in range(M):
                Er[m] = P[n, t, m, 0]
                Ei[m] = P[n, t, m, 1]
            if adjoint and not keep:
                Hr[t * H:(t + 1) * H] = Sr[:H]
                Hi[t * H:(t + 1) * H] = Si[:H]
            _run_ops1(fwd, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst, gst, Gr, Gi, ar, ai)
            if adjoint and keep:
                Hr[t * H:(t + 1) * H] = Sr[:H]
                Hi[t * H:(t + 1) * H] = Si[:H]
            if not adjoint:
                for o in range(R):
                    out[n, t, o] = pst[o]
            Sr[:D2] = Sr[nxt:nxt + D2]
            Si[:D2] = Si[nxt:nxt + D2]
        if not adjoint:
            continue
        Sr[:] = 0  # the cotangent Y starts at zero
        Si[:] = 0
        for t in range(T - 1, -1, -1):
            for m in range(M):
                Er[m] = P[n, t, m, 0]
                Ei[m] = P[n, t, m, 1]
                Gr[m] = 0
                Gi[m] = 0
            Sr[:H] = Hr[t * H:(t + 1) * H]
            Si[:H] = Hi[t * H:(t + 1) * H]
            for o in range(R):
                gst[o] = g[n, t, o]
            _run_ops1(adj if keep else both, Er, Ei, offs, rest, nrest, tbase, ntbase, ttoff, nttoff, Sr, Si, pst,
                      gst, Gr, Gi, ar, ai)
            for m in range(M):
                G[n, t, m, 0] = Gr[m]
                G[n, t, m, 1] = Gi[m]


# -- the tables ------------------------------------------------------------------------------


def _bits_index(positions, shifts_of, L: int):
    """Offsets of the local index (first position most significant) in an ``L``-bit index, and the
    indices of the other bits with the local ones zero (ascending)."""
    shifts = [shifts_of[p] for p in positions]
    k = len(shifts)
    offs = [sum(((m >> (k - 1 - i)) & 1) << shifts[i] for i in range(k)) for m in range(2**k)]
    mask = sum(1 << s for s in shifts)
    rest = [i for i in range(2**L) if not i & mask]
    return offs, rest


def _trace_tables(live_before, live_after):
    """Partial trace from ``live_before`` to ``live_after`` (memory positions, ascending)."""
    L = len(live_before)
    shift = {p: L - 1 - i for i, p in enumerate(live_before)}
    done = [p for p in live_before if p not in live_after]
    toff = [sum(((x >> (len(done) - 1 - i)) & 1) << shift[p] for i, p in enumerate(done))
            for x in range(2 ** len(done))]
    La = len(live_after)
    base = [sum(((i >> (La - 1 - j)) & 1) << shift[p] for j, p in enumerate(live_after)) for i in range(2**La)]
    return base, toff


def _pad(rows, fill=0) -> np.ndarray:
    width = max([len(r) for r in rows] + [1])
    return np.array([list(r) + [fill] * (width - len(r)) for r in rows], dtype=np.int64).reshape(len(rows), width)


def _programs(program: StepProgram) -> tuple:
    """The StepProgram as op programs for :func:`_run_ops`: ``(tb, fwd, both, rows, n_rows)``.

    ``tb``: the index tables (offsets and rests of the factors' local bits, chain ``0..F-1`` then
    tree ``F..2F-1``; the partial traces after each factor; ``R``); ``fwd``: one step
    (:func:`_tile`'s docstring); ``both``: the step then its adjoint; ``rows``: the tile buffer's
    layout; ``n_rows``: the prepared operators' rows. Memory positions no factor touches are left out
    of the state (they never reach a readout).
    """
    pos = {q: j for j, q in enumerate(program.memory)}
    factors = program.factors
    F = len(factors)
    mems = [[pos[q] for q in fac.memory] for fac in factors]
    last = {}
    for f, mem in enumerate(mems):
        for p in mem:
            last[p] = f
    live = sorted(last)
    lives = [[p for p in live if last[p] >= f] for f in range(F)] + [[]]  # tree level f's qubits
    shift = {p: len(live) - 1 - i for i, p in enumerate(live)}
    local = [_bits_index(mem, shift, len(live)) for mem in mems]
    local += [_bits_index(mem, {p: len(lives[f]) - 1 - i for i, p in enumerate(lives[f])}, len(lives[f]))
              for f, mem in enumerate(mems)]
    traces = [_trace_tables(lives[f], lives[f + 1]) for f in range(F)]
    Ks = [2 ** len(m) for m in mems]
    dims = [2 ** len(lv) for lv in lives]
    D = 2 ** len(live)
    D2 = D * D
    eoff = [int(x) for x in np.cumsum([0] + [2 * K * K for K in Ks])]
    m0 = eoff[-1]
    s_of = [sum(((beta >> f) & 1) << factors[f].bit for f in range(F)) for beta in range(2**F)]
    # The tile buffer: chain states X_0..X_F, tree levels T_0..T_{F-1}, work W, Z, W2, cotangents Y,
    # Y2 and the tree's Bbar levels.
    lvl = [int(x) for x in np.cumsum([0] + [(1 << f) * dims[f] ** 2 for f in range(F)])]
    X = lambda f: f * D2  # noqa: E731
    T0 = X(F + 1)
    Tl = lambda f, beta: T0 + lvl[f] + beta * dims[f] ** 2  # noqa: E731
    W, Z, W2, Y, Y2 = (T0 + lvl[F] + i * D2 for i in range(5))
    B0 = Y2 + D2
    Bl = lambda f, beta: B0 + lvl[f] + beta * dims[f] ** 2  # noqa: E731
    rows = [B0 + lvl[F], X(F), Y, D2, W, B0 + lvl[F] + D2]  # the single-circuit path's transpose after B

    def E(f, s):
        return eoff[f] + s * Ks[f] ** 2

    fwd = []
    for f in range(F):  # the chain, D x D; factor 0's terms are also the tree's level 1
        for s in range(2):
            fwd.append((_LOCAL, E(f, s), Ks[f], 0, 1, f, D, X(f), W, 0))
            if f == 0 and F > 1:
                fwd.append((_LOCAL, E(f, s), Ks[f], 1, 0, f, D, W, Z, 0))
                fwd.append((_COPY, Z, X(1), D2, s))
                fwd.append((_TRACE, 0, D, Z, Tl(1, s)))
            else:
                fwd.append((_LOCAL, E(f, s), Ks[f], 1, 0, f, D, W, X(f + 1), s))
    for f in range(1, F - 1):  # the tree's inner levels, reduced
        for beta in range(1 << f):
            for s in range(2):
                fwd.append((_LOCAL, E(f, s), Ks[f], 0, 1, F + f, dims[f], Tl(f, beta), W, 0))
                fwd.append((_LOCAL, E(f, s), Ks[f], 1, 0, F + f, dims[f], W, Z, 0))
                fwd.append((_TRACE, f, dims[f], Z, Tl(f + 1, beta + s * (1 << f))))
    if F == 1:
        fwd.append((_COPY, X(0), Tl(0, 0), D2, 0))
    # The forward's right multiplications give Hermitian results (``(E X) E^†``): upper triangle
    # only (flag 2 on ``acc``), the lower set from it (flag 4) once the result is complete (not
    # where the next right multiplication adds the other Kraus term to it).
    for q, op in enumerate(fwd):
        if op[0] == _LOCAL and not op[4]:
            nxt = fwd[q + 2] if q + 2 < len(fwd) else None
            more = nxt is not None and nxt[0] == _LOCAL and not nxt[4] and nxt[8] == op[8] and nxt[9] == 1
            fwd[q] = op[:9] + (op[9] | 2 | (0 if more else 4),)
    K, nbr = Ks[-1], 1 << (F - 1)
    for beta in range(nbr):  # the last factor: traces only
        for s in range(2):
            fwd.append((_PROB, m0 + s * K * K, K, Tl(F - 1, beta), s_of[beta + s * nbr]))
    adj = []
    for beta in range(nbr):
        adj.append((_ZERO, Bl(F - 1, beta), K * K))
        for s in range(2):
            adj.append((_PROB_ADJ, m0 + s * K * K, K, Tl(F - 1, beta), Bl(F - 1, beta), s_of[beta + s * nbr]))
    for f in range(F - 2, 0, -1):
        d, dn = dims[f], dims[f + 1]
        for beta in range(1 << f):
            for s in range(2):
                adj.append((_ZERO, Z, d * d))
                adj.append((_UNTRACE, f, d, Bl(f + 1, beta + s * (1 << f)), Z))
                adj.append((_LOCAL, E(f, s), Ks[f], 0, 1, F + f, d, Tl(f, beta), W, 0))
                adj.append((_EBAR, E(f, s), Ks[f], F + f, d, Z, W))
                adj.append((_LOCAL, E(f, s), Ks[f], 1, 1, F + f, d, Z, W2, 0))
                adj.append((_LOCAL, E(f, s), Ks[f], 0, 0, F + f, d, W2, Bl(f, beta), s))
    for f in range(F - 1, -1, -1):  # the chain backwards; the tree's level 1 joins at factor 0
        for s in range(2):
            src = Y
            if f == 0 and F > 1:
                adj.append((_COPY, Y, Z, D2, 0))
                adj.append((_UNTRACE, 0, D, Bl(1, s), Z))
                src = Z
            adj.append((_LOCAL, E(f, s), Ks[f], 0, 1, f, D, X(f), W, 0))
            adj.append((_EBAR, E(f, s), Ks[f], f, D, src, W))
            adj.append((_LOCAL, E(f, s), Ks[f], 1, 1, f, D, src, W2, 0))
            adj.append((_LOCAL, E(f, s), Ks[f], 0, 0, f, D, W2, Y2, s))
        adj.append((_COPY, Y2, Y, D2, 0))
    if F == 1:
        adj.append((_COPY, Bl(0, 0), Y, D2, 1))

    # The forward-only preparation's gate rows per factor (ctrl, tgt, axis, angle, previous step?),
    # readout bit on top of the operator's row index: a memory qubit's V(t) = U_pre(t) U_post(t-1)
    # where the factor touches it first, then the factor's own gates.
    first = {}
    for f, mem in enumerate(mems):
        for p in mem:
            first.setdefault(p, f)
    axis = {"x": 0, "y": 1, "z": 2}
    gate_rows = []
    for f, fac in enumerate(factors):
        k = len(fac.memory)
        bit = {fac.qubit: k} | {q: k - 1 - i for i, q in enumerate(fac.memory)}
        rows_f = []
        for q in fac.memory:
            if first[pos[q]] == f:
                rows_f += [(-1, bit[q], axis[g.axis], g.angle, 1) for g in program.memory_post[pos[q]]]
                rows_f += [(-1, bit[q], axis[g.axis], g.angle, 0) for g in program.memory_pre[pos[q]]]
        rows_f += [(bit[g.qubits[0]] if len(g.qubits) == 2 else -1, bit[g.qubits[-1]], axis[g.axis], g.angle, 0)
                   for g in fac.gates]
        gate_rows.append(rows_f)
    gates = np.zeros((F, max(len(r) for r in gate_rows), 5), dtype=np.int64)
    for f, rows_f in enumerate(gate_rows):
        gates[f, :len(rows_f)] = rows_f
    prep = (gates, np.asarray([len(r) for r in gate_rows], dtype=np.int64), np.asarray(Ks, dtype=np.int64),
            np.asarray(eoff[:-1], dtype=np.int64), m0)

    def table(ops):
        return np.array([list(op) + [0] * (_W - len(op)) for op in ops], dtype=np.int64)

    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    tb = (_pad([o for o, _ in local]), _pad([r for _, r in local]), i64([len(r) for _, r in local]),
          _pad([b for b, _ in traces]), i64([len(b) for b, _ in traces]),
          _pad([t for _, t in traces]), i64([len(t) for _, t in traces]), program.n_outcomes)
    sf, sa = _single_ops(fwd, rows[0]), _single_ops(adj, rows[0])
    single = (table(sf), table(sa), table(sf + sa))
    return tb, table(fwd), table(fwd + adj), i64(rows), m0 + 2 * Ks[-1] ** 2, D, prep, single


def _single_ops(ops: list[tuple], wt: int) -> list[tuple]:
    """A tile program (:func:`_programs`) for :func:`_run_ops1`: each right multiplication
    ``O = W B`` becomes ``O = B^† W^†`` (``W = B^† H``, ``H`` Hermitian: the op before it made ``W``),
    the transpose at rows ``wt``; the adjoint's group ``W = E X; Ebar(Y, W); W2 = E^† Y; O += W2 E``
    becomes ``W2 = E^† Y; Wt = W2^† (= Y E); Ebar1(Wt, X); O += E^† Wt`` (module comment above)."""
    out: list[tuple] = []
    q = 0
    while q < len(ops):
        op = ops[q]
        if op[0] == _LOCAL and op[4] and q + 3 < len(ops) and ops[q + 1][0] == _EBAR:
            _, e, K, _, _, t, d, x, w, _ = op
            eb, l2, r2 = ops[q + 1], ops[q + 2], ops[q + 3]
            assert eb[6] == w and l2[0] == _LOCAL and l2[3] == 1 and l2[4] == 1 and l2[7] == eb[5], (op, eb, l2)
            assert r2[0] == _LOCAL and r2[3] == 0 and r2[4] == 0 and r2[7] == l2[8] and l2[1] == r2[1] == e, r2
            out += [l2, (_CONJT, d, l2[8], wt), (_EBAR1, e, K, t, d, wt, x), (_LOCAL, e, K, 1, 1, t, d, wt, r2[8], r2[9])]
            q += 4
            continue
        if op[0] == _LOCAL and not op[4]:
            _, e, K, adj, _, t, d, src, dst, acc = op
            acc &= 1  # the tile path's upper-triangle flags: this path computes all of O
            prev = out[-1]
            assert prev[0] == _LOCAL and prev[4] and prev[1] == e and prev[3] == 1 - adj and prev[8] == src, (prev, op)
            out += [(_CONJT, d, src, wt), (_LOCAL, e, K, 1 - adj, 1, t, d, wt, dst, acc)]
        else:
            out.append(op)
        q += 1
    return out


# -- the simulator ---------------------------------------------------------------------------


#: A batch needing at most this many bytes is not checked against the available memory (any machine has it).
_ALWAYS_FITS = 64 * 2**20


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


#: Circuits a tile holds at most (measured: 64 beat 4..32 at n = 8; longer SIMD loops, fewer passes).
_TILE = 64
#: The same for the float32 forward (:meth:`KernelSimulator._tile_dtype`), on one thread: measured at
#: n = 8 (CPU time, 221 circuits), tiles of 32/56/112/221 cost 60/55/51/47 ms: each op's loops over
#: the state's rows cost as much as its SIMD loops over the tile's circuits at these sizes, so one
#: tile of up to 256 (5 MiB of state in float32) beats L2-sized ones.
_TILE_F32 = 256
_POOL: ThreadPoolExecutor | None = None
#: Tiles of at most this many circuits run one circuit at a time (:func:`_single`): measured at n = 8,
#: a circuit-step there costs less than in a tile of up to this many circuits.
_SMALL = 8
#: The adjoint of one circuit keeps all its forward states (no recomputation) up to this size.
_KEEP_BYTES = 64 * 2**20


def _threads() -> int:
    return max(1, min(numba.config.NUMBA_NUM_THREADS, torch.get_num_threads()))


def _tiles(N: int, tile: int = 0) -> list[tuple[int, int]]:
    """``(n0, nb)`` tiles of at most ``tile`` (``_TILE``) circuits, at least one per thread, sizes balanced."""
    count = max(-(-N // (tile or _TILE)), min(N, _threads()))
    count = -(-count // _threads()) * _threads() if count > _threads() else count
    size = -(-N // count)
    return [(n0, min(size, N - n0)) for n0 in range(0, N, size)]


def _run_tiles(fn, N: int, tile: int = 0) -> None:
    """``fn(n0, nb)`` over the tiles (:func:`_tiles`): one tile (batch 1) runs here, more on threads
    (``nogil``)."""
    global _POOL
    tiles = _tiles(N, tile)
    if len(tiles) == 1 or _threads() == 1:
        for n0, nb in tiles:
            fn(n0, nb)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(_threads(), thread_name_prefix="qrnn-kernel")
    for future in [_POOL.submit(fn, n0, nb) for n0, nb in tiles]:
        future.result()


class KernelSimulator:
    """Exact per-step readout probabilities of the QRNN circuit, compiled for the CPU (numba).

    The same interface and results as :class:`~qrnn_core.simulator.TorchSimulator` on the CPU
    (``probabilities``/``__call__``, ``n_angles``, ``n_outcomes``, dtypes), differentiable: a
    ``probabilities`` call on angles that require grad goes through the adjoint sweep
    (:meth:`vjp`) in autograd's backward.

    Parameters
    ----------
    n_qubits : even number of qubits, 2 to 12 (8 in the seed).
    dtype : ``torch.complex128`` (default) or ``torch.complex64``.
    """

    #: The exact estimator may differentiate this backend (see :class:`~qrnn_core.quantum_layer.QuantumLayer`).
    differentiable = True

    def __init__(self, n_qubits: int = 8, *, dtype=torch.complex128):
        lo, hi = N_QUBITS_RANGE
        if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or not lo <= n_qubits <= hi or n_qubits % 2:
            raise ValueError(f"n_qubits must be an even integer from {lo} to {hi} for the kernel, got {n_qubits!r}")
        if dtype not in (torch.complex128, torch.complex64):
            raise ValueError(f"dtype must be torch.complex128 or torch.complex64, got {dtype}")
        self.n_qubits = n_qubits
        self.dtype = dtype
        self.real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
        self.device = torch.device("cpu")
        self.block = build_step_block(n_qubits)
        self.program: StepProgram = read_step_program(self.block)
        self._plan = _Plan(self.program, dtype, self.device)
        (self._tb, self._fwd, self._both, self._rows, self._n_rows, self._D, self._prep,
         self._single) = _programs(self.program)
        pos = {q: j for j, q in enumerate(self.program.memory)}
        first: dict[int, int] = {}
        for f, fac in enumerate(self.program.factors):
            for q in fac.memory:
                first.setdefault(pos[q], f)
        # Per factor: the memory positions whose step-start unitary V it takes (those it touches first).
        self._fold = [[pos[q] if first[pos[q]] == f else None for q in fac.memory]
                      for f, fac in enumerate(self.program.factors)]

    @property
    def n_angles(self) -> int:
        return self.program.n_angles

    @property
    def n_outcomes(self) -> int:
        return self.program.n_outcomes

    def _prepare(self, angles: torch.Tensor) -> torch.Tensor:
        """The per-step operators the compiled step applies, for all circuits and steps at once.

        ``angles (N, T, n_angles)`` real -> ``(N, T, n_rows, 2)`` real (complex as re, im): per
        factor ``f`` its Kraus operators ``E_f[s] (K, K)`` on the memory qubits it touches (read from
        :meth:`qrnn_core.simulator._Plan.factor_operator`), each memory qubit's step-start unitary
        ``V(t)`` folded into the first factor that touches it, and the last factor's
        ``M[s] = E[s]^† E[s]``. ``V(0) = U_pre(0)`` and ``V(t) = U_pre(t) U_post(t - 1)``: ``U_post(t)``
        is a one-qubit unitary after the last gate on its qubit, so it changes no probability of
        step ``t`` and commutes with everything until step ``t + 1``'s first factor on that qubit.
        Plain differentiable torch: the adjoint's cotangents go through it with autograd.
        """
        plan = self._plan
        N, T = angles.shape[:2]
        rot = plan.rotations(angles)
        runs = plan.fused_runs(rot)  # (N, T, n_runs, 2, 2)
        pre, post = runs[:, :, plan.memory_pre], runs[:, :, plan.memory_post]
        V = torch.cat([pre[:, :1], pre[:, 1:] @ post[:, :-1]], dim=1)  # (N, T, h, 2, 2)
        eye = plan.eye2.expand(N, T, 2, 2)
        parts = []
        for fac, steps, fold in zip(self.program.factors, plan.factor_steps, self._fold):
            K = 2 ** len(fac.memory)
            E = plan.factor_operator(fac, steps, rot, runs).reshape(N, T, 2, K, K)
            if any(j is not None for j in fold):
                E = E @ _kron([eye if j is None else V[:, :, j] for j in fold], self.dtype, self.device)[:, :, None]
            parts.append(E.reshape(N, T, -1))
        parts.append((E.mH @ E).reshape(N, T, -1))
        return torch.view_as_real(torch.cat(parts, -1))

    def _prepare_fast(self, angles: torch.Tensor, dtype=np.float64) -> torch.Tensor:
        """:meth:`_prepare` without a gradient, compiled (:func:`_prepare_tile`): computed in float64,
        stored as ``dtype`` (float32 for the complex64 tiles of :meth:`_forward`, else float64: the
        adjoint and the one-circuit path run in float64 for both precisions)."""
        a = np.ascontiguousarray(angles.detach().to(torch.float64).numpy())
        P = np.empty(a.shape[:2] + (self._n_rows, 2), dtype=dtype)
        _run_tiles(lambda n0, nb: _prepare_tile(a, n0, nb, *self._prep, P), len(a))
        return torch.from_numpy(P)

    def _check(self, angles) -> torch.Tensor:
        angles = check_angles(angles, self.n_angles, self.device, self.real_dtype)
        N, T = math.prod(angles.shape[:-2]), angles.shape[-2]
        item = self.real_dtype.itemsize
        rows = 2 * self._n_rows  # the prepared operators, re and im, and their cotangents
        # The outputs, the angles, the operators (the torch preparation keeps a few copies) and the
        # adjoint's stored states (T of them a circuit).
        need = N * T * (self.n_outcomes + 2 * self.n_angles + 6 * rows + 2 * self._D**2) * item
        if need <= _ALWAYS_FITS:  # reading /proc/meminfo costs a tenth of a one-circuit call: not for small ones
            return angles
        have = _available_memory()
        if need > have:
            raise ValueError(f"angles: a batch of {N} circuits of {T} steps needs about {need / 2**20:,.0f} MiB, "
                             f"more than the {have / 2**20:,.0f} MiB available (allowed: at most "
                             f"{max(0, have // (need // max(N, 1)))} circuits of {T} steps)")
        return angles

    def probabilities(self, angles, *, shots: int | None = None, generator: torch.Generator | None = None):
        """Per-step readout probabilities: the contract of
        :meth:`qrnn_core.simulator.TorchSimulator.probabilities`.

        ``angles (..., T, n_angles)`` real -> ``(..., T, 2 ** (n // 2))`` float64 (float32 for
        complex64). Exact probabilities are differentiable; ``shots`` draw from ``generator`` with
        :func:`qrnn_core.simulator.sample_frequencies`, exactly as the PyTorch simulator does.
        """
        angles = self._check(angles)
        shots = check_shots(shots)
        if shots is not None:
            check_generator(generator, self.device)
        batch, T = angles.shape[:-2], angles.shape[-2]
        flat = angles.reshape(-1, T, self.n_angles)
        if angles.requires_grad and torch.is_grad_enabled():
            probs = _KernelFunction.apply(flat, self)[0]
        else:
            probs = self._forward(self._prepare_fast(flat, self._tile_dtype(len(flat))))
        probs = probs.reshape(batch + (T, self.n_outcomes))
        return probs if shots is None else sample_frequencies(probs, shots, generator)

    __call__ = probabilities

    def _tile_dtype(self, N: int):
        """The real dtype the forward of ``N`` circuits runs in: float32 for complex64 when every tile
        is a multi-circuit one (:func:`_tile`: twice the SIMD lanes and half the memory traffic of
        float64, and the float32 rounding of each step stays within complex64's tolerance), else
        float64 (one-circuit tiles, :func:`_single`, and complex128: one build of those)."""
        if self.dtype == torch.complex64 and min(nb for _, nb in _tiles(N, _TILE_F32)) > _SMALL:
            return np.float32
        return np.float64

    def _forward(self, P: torch.Tensor) -> torch.Tensor:
        """``P (N, T, n_rows, 2)`` from :meth:`_prepare` or :meth:`_prepare_fast` -> probabilities
        ``(N, T, R)``; float32 ``P`` runs in float32 (:meth:`_tile_dtype`), any other in float64."""
        dt = np.float32 if P.dtype == torch.float32 and self._tile_dtype(len(P)) == np.float32 else np.float64
        P = np.ascontiguousarray(P.detach().numpy(), dtype=dt)
        out = np.empty(P.shape[:2] + (self.n_outcomes,), dtype=P.dtype)
        none = np.zeros((0, 0, 0), dtype=P.dtype)
        self._sweep(P, none, out, none[..., None])
        return torch.from_numpy(out).to(self.real_dtype)

    def _sweep(self, P: np.ndarray, g: np.ndarray, out: np.ndarray, G: np.ndarray) -> None:
        """:func:`_tile` (forward into ``out`` or, ``g`` not empty, the adjoint into ``G``) over the
        tiles; tiles of at most ``_SMALL`` circuits go one circuit at a time (:func:`_single`), and
        the adjoint there keeps every forward state when they fit ``_KEEP_BYTES`` a circuit."""
        keep = P.shape[1] * int(self._rows[4]) * 16 <= _KEEP_BYTES

        def run(n0, nb):
            if nb <= _SMALL:
                _single(P, g, n0, nb, self._tb, *self._single, self._rows, out, G, keep)
            elif P.dtype == np.float32:
                _tile_fwd(P, n0, nb, self._tb, self._fwd, self._rows, out)
            else:
                _tile(P, g, n0, nb, self._tb, self._fwd, self._both, self._rows, out, G)
        _run_tiles(run, len(P), _TILE_F32 if P.dtype == np.float32 else _TILE)

    def vjp(self, angles, grad_probs) -> torch.Tensor:
        """``d <grad_probs, probs(angles)> / d angles`` by the adjoint method.

        ``angles (..., T, n_angles)``, ``grad_probs (..., T, 2 ** (n // 2))`` real -> the gradient,
        ``(..., T, n_angles)`` in the simulator's real dtype. The compiled sweep gives the cotangents
        of the prepared operators, :func:`_prepare_vjp_tile` their chain rule to the angles.
        """
        angles = self._check(angles)
        grad_probs = torch.as_tensor(grad_probs)
        shape = angles.shape[:-1] + (self.n_outcomes,)
        if tuple(grad_probs.shape) != tuple(shape):
            raise ValueError(f"grad_probs must have shape {tuple(shape)}, got {tuple(grad_probs.shape)}")
        T = angles.shape[-2]
        return self._vjp_flat(angles.reshape(-1, T, self.n_angles),
                              grad_probs.reshape(-1, T, self.n_outcomes)).reshape(angles.shape)

    def _vjp_flat(self, flat: torch.Tensor, g: torch.Tensor, P: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`vjp` of ``flat (N, T, n_angles)``, ``g (N, T, R)``; ``P`` the compiled preparation
        if at hand. All compiled, in float64: the adjoint sweep gives the operators' cotangents,
        :func:`_prepare_vjp_tile` carries them to the angles (torch's autograd through :meth:`_prepare`
        gives the same, but its many tiny operations cost ~1.3 ms a 20-step circuit on one thread and
        over ten times that spread over two busy cores)."""
        P = self._prepare_fast(flat) if P is None else P
        P = np.ascontiguousarray(P.detach().numpy(), dtype=np.float64)
        g = np.ascontiguousarray(g.detach().to(torch.float64).numpy())
        G = np.empty_like(P)
        self._sweep(P, g, np.zeros((0, 0, 0), dtype=P.dtype), G)
        a = np.ascontiguousarray(flat.detach().to(torch.float64).numpy())
        grad = np.zeros(a.shape)
        _run_tiles(lambda n0, nb: _prepare_vjp_tile(a, G, n0, nb, *self._prep, grad), len(a))
        return torch.from_numpy(grad).to(self.real_dtype)


class _KernelFunction(torch.autograd.Function):
    """``probs = kernel(angles)`` (compiled preparation and step); the backward is the compiled adjoint
    sweep on the saved operators, then the chain rule through the preparation, all compiled
    (:meth:`KernelSimulator._vjp_flat`)."""

    @staticmethod
    def forward(angles, sim):
        P = sim._prepare_fast(angles)
        return sim._forward(P), P

    @staticmethod
    def setup_context(ctx, inputs, output):
        angles, sim = inputs
        ctx.save_for_backward(angles, output[1])
        ctx.mark_non_differentiable(output[1])
        ctx.sim = sim

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs, _):
        angles, P = ctx.saved_tensors
        return ctx.sim._vjp_flat(angles, grad_probs, P), None
