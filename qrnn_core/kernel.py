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
2. **The compiled step loop** (:func:`_step`), on tiles of circuits with the circuit index
   innermost (planar real/imaginary arrays, so that the loops vectorise): the chain
   ``rho <- sum_s E_f[s] rho E_f[s]^†`` factor by factor gives the next state; the joint outcome
   probabilities come from a tree of unnormalised branch states, one per outcome prefix, each
   reduced by a partial trace to the qubits later factors touch (``D/2, D/4, ...``); the last
   factor needs only ``p(prefix, s) = tr(M[s] B_prefix)``. Factor 0's branches are the chain's
   first terms, so the two share them.

A memory qubit no factor touches never reaches a readout: it is left out (probabilities are exact).

The gradient is the adjoint method: the probabilities are linear in the state and each step a
fixed channel of its operators, so the cotangent ``Y_t`` (a ``D x D`` Hermitian operator) is swept
backwards (Heisenberg picture), ``Y_t = sum_s g[t, s] M_{t,s} + Phi_t^†(Y_{t+1})``, each step's
states recomputed from the stored ``rho_t``; the compiled code gives the cotangents of the
prepared operators (:func:`_step_adjoint`) and torch's autograd carries them through stage 1 to the
angles.
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
# ``M[s] = E[s]^† E[s]`` at ``m0 + s K^2 + i K + l``. One function per role, both precisions
# through the same functions (float64 and float32 signatures).

_JIT = dict(cache=True, nogil=True)  # nogil: tiles run on Python threads (no parallel build)


@njit(**_JIT)
def _local(Er, Ei, e, K, adj, left, offs, rest, nrest, d, Sr, Si, s0, Or, Oi, o0, acc):
    """``O = A S`` (``left``) or ``O = S A`` with ``A = E`` or ``E^†`` (``adj``) local on the index
    bits ``offs`` of the ``d x d`` matrices ``S`` (rows from ``s0``) and ``O`` (from ``o0``);
    ``acc``: add to ``O`` instead. ``E`` is the ``K x K`` operator at rows ``e`` of ``Er, Ei``."""
    nb = Sr.shape[1]
    trans = left == adj  # which of E[i, l], E[l, i] multiplies S's l-th local index
    for ir in range(nrest):
        r = rest[ir]
        for i in range(K):
            for c in range(d):
                oi = o0 + (r + offs[i]) * d + c if left else o0 + c * d + r + offs[i]
                if not acc:
                    for n in range(nb):
                        Or[oi, n] = 0
                        Oi[oi, n] = 0
                for l in range(K):
                    si = s0 + (r + offs[l]) * d + c if left else s0 + c * d + r + offs[l]
                    row = e + l * K + i if trans else e + i * K + l
                    if adj:  # conjugated coefficient
                        for n in range(nb):
                            ar, ai, xr, xi = Er[row, n], Ei[row, n], Sr[si, n], Si[si, n]
                            Or[oi, n] += ar * xr + ai * xi
                            Oi[oi, n] += ar * xi - ai * xr
                    else:
                        for n in range(nb):
                            ar, ai, xr, xi = Er[row, n], Ei[row, n], Sr[si, n], Si[si, n]
                            Or[oi, n] += ar * xr - ai * xi
                            Oi[oi, n] += ar * xi + ai * xr


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
def _ebar(Yr, Yi, y0, Wr, Wi, offs, rest, nrest, K, d, Gr, Gi, e):
    """``Ebar[i, l] += 2 sum_r (Y W)[r + offs[i], r + offs[l]]``, ``W = (E ⊗ 1) X`` (rows from 0):
    the cotangent of ``E`` in ``tr(Y E X E^†)`` for Hermitian ``Y``, ``X`` (``bar = dL/dRe + i dL/dIm``)."""
    nb = Yr.shape[1]
    for i in range(K):
        for l in range(K):
            g = e + i * K + l
            for ir in range(nrest):
                r = rest[ir]
                for c in range(d):
                    yi_, wi_ = y0 + (r + offs[i]) * d + c, c * d + r + offs[l]
                    for n in range(nb):
                        yr, yi, wr, wi = Yr[yi_, n], Yi[yi_, n], Wr[wi_, n], Wi[wi_, n]
                        pr, pi = yr * wr - yi * wi, yr * wi + yi * wr
                        Gr[g, n] += pr + pr
                        Gi[g, n] += pi + pi


@njit(**_JIT)
def _step(Er, Ei, tb, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst):
    """One step of a tile. ``X`` rows ``[f D^2, (f+1) D^2)``: the chain state before factor ``f``
    (``f = 0``: ``rho_t`` in, ``f = F``: ``rho_{t+1}`` out, without the next step's memory
    unitaries); ``T`` the branch tree, level ``f`` (from row ``lvl[f]``) holding the ``2^f``
    branches (outcomes of factors ``< f``, factor ``g``'s bit at bit ``g``) reduced to the qubits
    factors ``>= f`` touch; ``W``, ``Z`` work ``(D^2, nb)``; ``pst (R, nb)`` the probabilities out."""
    (F, D, R, K_of, eoff, m0, coffs, crest, ncrest, boffs, brest, nbrest,
     tbase, ntbase, ttoff, nttoff, dims, lvl, s_of) = tb
    nb = Xr.shape[1]
    D2 = D * D
    for f in range(F):  # the chain: rho_{f+1} = sum_s E_f[s] rho_f E_f[s]^†, all D x D
        K = K_of[f]
        x0, x1 = f * D2, (f + 1) * D2
        for s in range(2):
            e = eoff[f] + s * K * K
            _local(Er, Ei, e, K, False, True, coffs[f], crest[f], ncrest[f], D, Xr, Xi, x0, Wr, Wi, 0, False)
            if f == 0 and F > 1:  # factor 0's branches are the chain's terms: traced, and summed
                _local(Er, Ei, e, K, True, False, coffs[f], crest[f], ncrest[f], D, Wr, Wi, 0, Zr, Zi, 0, False)
                for q in range(D2):
                    for n in range(nb):
                        Xr[x1 + q, n] = Zr[q, n] + Xr[x1 + q, n] if s else Zr[q, n]
                        Xi[x1 + q, n] = Zi[q, n] + Xi[x1 + q, n] if s else Zi[q, n]
                d1 = dims[1]
                _trace(Zr, Zi, 0, D, tbase[0], ntbase[0], ttoff[0], nttoff[0], Tr, Ti, lvl[1] + s * d1 * d1)
            else:
                _local(Er, Ei, e, K, True, False, coffs[f], crest[f], ncrest[f], D, Wr, Wi, 0, Xr, Xi, x1, s > 0)
    for f in range(1, F - 1):  # the inner levels of the tree, on reduced states
        K, d, dn, nbr = K_of[f], dims[f], dims[f + 1], 1 << f
        for beta in range(nbr):
            for s in range(2):
                e = eoff[f] + s * K * K
                _local(Er, Ei, e, K, False, True, boffs[f], brest[f], nbrest[f], d, Tr, Ti, lvl[f] + beta * d * d,
                       Wr, Wi, 0, False)
                _local(Er, Ei, e, K, True, False, boffs[f], brest[f], nbrest[f], d, Wr, Wi, 0, Zr, Zi, 0, False)
                _trace(Zr, Zi, 0, d, tbase[f], ntbase[f], ttoff[f], nttoff[f], Tr, Ti, lvl[f + 1] + (beta + s * nbr) * dn * dn)
    if F == 1:
        for q in range(D2):
            for n in range(nb):
                Tr[q, n], Ti[q, n] = Xr[q, n], Xi[q, n]
    # The last factor needs only traces: p(beta, s) = tr(M_s B_beta), M_s = E[s]^† E[s].
    f = F - 1
    K, nbr = K_of[f], 1 << f
    for beta in range(nbr):
        b0 = lvl[f] + beta * K * K
        for s in range(2):
            m = m0 + s * K * K
            o = s_of[beta + s * nbr]
            for n in range(nb):
                pst[o, n] = 0
            for i in range(K):
                for j in range(K):
                    mi, bj = m + i * K + j, b0 + j * K + i
                    for n in range(nb):
                        pst[o, n] += Er[mi, n] * Tr[bj, n] - Ei[mi, n] * Ti[bj, n]


@njit(**_JIT)
def _step_adjoint(Er, Ei, tb, gst, Xr, Xi, Tr, Ti, Br, Bi, Yr, Yi, Y2r, Y2i, Zr, Zi, Wr, Wi, W2r, W2i, Gr, Gi):
    """The adjoint of :func:`_step` (Heisenberg picture): ``Y (D^2, nb)`` the cotangent of
    ``rho_{t+1}`` in, that of ``rho_t`` out (``Y_t = sum_s g[t, s] M_{t,s} + Phi_t^†(Y_{t+1})``);
    ``gst (R, nb)`` the probabilities' cotangent; ``G (n_rows, nb)`` the prepared operators'
    cotangents out; ``X``, ``T`` the states :func:`_step` left; ``B`` the tree's cotangents."""
    (F, D, R, K_of, eoff, m0, coffs, crest, ncrest, boffs, brest, nbrest,
     tbase, ntbase, ttoff, nttoff, dims, lvl, s_of) = tb
    nb = Xr.shape[1]
    D2 = D * D
    for q in range(Gr.shape[0]):
        for n in range(nb):
            Gr[q, n] = 0
            Gi[q, n] = 0
    f = F - 1  # the top: Bbar_beta = sum_s g conj(M_s)^T, Mbar_s = sum_beta g conj(B_beta)^T
    K, nbr = K_of[f], 1 << f
    for beta in range(nbr):
        b0 = lvl[f] + beta * K * K
        for q in range(K * K):
            for n in range(nb):
                Br[b0 + q, n] = 0
                Bi[b0 + q, n] = 0
        for s in range(2):
            m = m0 + s * K * K
            o = s_of[beta + s * nbr]
            for i in range(K):
                for j in range(K):
                    for n in range(nb):
                        g = gst[o, n]
                        Br[b0 + i * K + j, n] += g * Er[m + j * K + i, n]
                        Bi[b0 + i * K + j, n] -= g * Ei[m + j * K + i, n]
                        Gr[m + i * K + j, n] += g * Tr[b0 + j * K + i, n]
                        Gi[m + i * K + j, n] -= g * Ti[b0 + j * K + i, n]
    for f in range(F - 2, 0, -1):  # the tree's inner levels, backwards
        K, d, dn, nbr = K_of[f], dims[f], dims[f + 1], 1 << f
        for beta in range(nbr):
            for s in range(2):
                e = eoff[f] + s * K * K
                for q in range(d * d):
                    for n in range(nb):
                        Zr[q, n] = 0
                        Zi[q, n] = 0
                _untrace(Br, Bi, lvl[f + 1] + (beta + s * nbr) * dn * dn, tbase[f], ntbase[f], ttoff[f], nttoff[f], d,
                         Zr, Zi, 0)
                _local(Er, Ei, e, K, False, True, boffs[f], brest[f], nbrest[f], d, Tr, Ti, lvl[f] + beta * d * d,
                       Wr, Wi, 0, False)
                _ebar(Zr, Zi, 0, Wr, Wi, boffs[f], brest[f], nbrest[f], K, d, Gr, Gi, e)
                _local(Er, Ei, e, K, True, True, boffs[f], brest[f], nbrest[f], d, Zr, Zi, 0, W2r, W2i, 0, False)
                _local(Er, Ei, e, K, False, False, boffs[f], brest[f], nbrest[f], d, W2r, W2i, 0, Br, Bi,
                       lvl[f] + beta * d * d, s > 0)
    for f in range(F - 1, -1, -1):  # the chain, backwards; at f = 0 the tree's level-1 cotangents join
        K = K_of[f]
        for s in range(2):
            e = eoff[f] + s * K * K
            if f == 0 and F > 1:
                for q in range(D2):
                    for n in range(nb):
                        Zr[q, n], Zi[q, n] = Yr[q, n], Yi[q, n]
                d1 = dims[1]
                _untrace(Br, Bi, lvl[1] + s * d1 * d1, tbase[0], ntbase[0], ttoff[0], nttoff[0], D, Zr, Zi, 0)
                Sr, Si = Zr, Zi
            else:
                Sr, Si = Yr, Yi
            _local(Er, Ei, e, K, False, True, coffs[f], crest[f], ncrest[f], D, Xr, Xi, f * D2, Wr, Wi, 0, False)
            _ebar(Sr, Si, 0, Wr, Wi, coffs[f], crest[f], ncrest[f], K, D, Gr, Gi, e)
            _local(Er, Ei, e, K, True, True, coffs[f], crest[f], ncrest[f], D, Sr, Si, 0, W2r, W2i, 0, False)
            _local(Er, Ei, e, K, False, False, coffs[f], crest[f], ncrest[f], D, W2r, W2i, 0, Y2r, Y2i, 0, s > 0)
        for q in range(D2):
            for n in range(nb):
                Yr[q, n], Yi[q, n] = Y2r[q, n], Y2i[q, n]
    if F == 1:
        for q in range(D2):
            for n in range(nb):
                Yr[q, n] += Br[q, n]
                Yi[q, n] += Bi[q, n]


@njit(**_JIT)
def _buffers(tb, nb, P):
    """A tile's work buffers, once per tile (nothing is allocated in the time loop)."""
    F, D, R, lvl = tb[0], tb[1], tb[2], tb[17]
    M, X, L, D2, dt = P.shape[2], (F + 1) * D * D, lvl[F], D * D, P.dtype
    return (np.zeros((M, nb), dt), np.zeros((M, nb), dt), np.zeros((X, nb), dt), np.zeros((X, nb), dt),
            np.zeros((L, nb), dt), np.zeros((L, nb), dt), np.zeros((D2, nb), dt), np.zeros((D2, nb), dt),
            np.zeros((D2, nb), dt), np.zeros((D2, nb), dt), np.zeros((R, nb), dt))


@njit(**_JIT)
def _gather(P, n0, t, Er, Ei):
    """The step's operators of the tile's circuits, ``P (N, T, n_rows, 2)`` -> ``Er, Ei (n_rows, nb)``."""
    for n in range(Er.shape[1]):
        for m in range(Er.shape[0]):
            Er[m, n] = P[n0 + n, t, m, 0]
            Ei[m, n] = P[n0 + n, t, m, 1]


@njit(**_JIT)
def _forward_tile(P, n0, nb, tb, out):
    """Circuits ``n0 .. n0 + nb`` of ``P (N, T, n_rows, 2)`` from ``|0><0|``: ``out (N, T, R)``."""
    T, D2 = P.shape[1], tb[1] * tb[1]
    Er, Ei, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst = _buffers(tb, nb, P)
    F = tb[0]
    for n in range(nb):
        Xr[0, n] = 1
    for t in range(T):
        _gather(P, n0, t, Er, Ei)
        _step(Er, Ei, tb, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst)
        for n in range(nb):
            for o in range(pst.shape[0]):
                out[n0 + n, t, o] = pst[o, n]
        Xr[:D2] = Xr[F * D2:]
        Xi[:D2] = Xi[F * D2:]


@njit(**_JIT)
def _vjp_tile(P, g, n0, nb, tb, G):
    """``G (N, T, n_rows, 2)``: the cotangent of ``P`` for ``sum(g * probs)``, ``g (N, T, R)``, the
    adjoint sweep (module docstring) over circuits ``n0 .. n0 + nb``; forward states stored per step."""
    T, n_rows, D2, F = P.shape[1], P.shape[2], tb[1] * tb[1], tb[0]
    Er, Ei, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst = _buffers(tb, nb, P)
    Br, Bi, Yr, Yi, Y2r, Y2i, W2r, W2i = Tr.copy(), Ti.copy(), Wr.copy(), Wi.copy(), Wr.copy(), Wi.copy(), Wr.copy(), Wi.copy()
    Gr, Gi, gst = Er.copy(), Ei.copy(), pst.copy()
    Sr, Si = np.zeros((T * D2, nb), dtype=Xr.dtype), np.zeros((T * D2, nb), dtype=Xr.dtype)
    for n in range(nb):
        Xr[0, n] = 1
    for t in range(T):
        Sr[t * D2:(t + 1) * D2] = Xr[:D2]
        Si[t * D2:(t + 1) * D2] = Xi[:D2]
        _gather(P, n0, t, Er, Ei)
        _step(Er, Ei, tb, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst)
        Xr[:D2] = Xr[F * D2:]
        Xi[:D2] = Xi[F * D2:]
    for t in range(T - 1, -1, -1):
        Xr[:D2] = Sr[t * D2:(t + 1) * D2]
        Xi[:D2] = Si[t * D2:(t + 1) * D2]
        _gather(P, n0, t, Er, Ei)
        _step(Er, Ei, tb, Xr, Xi, Tr, Ti, Wr, Wi, Zr, Zi, pst)  # recompute the step's states
        for n in range(nb):
            for o in range(gst.shape[0]):
                gst[o, n] = g[n0 + n, t, o]
        _step_adjoint(Er, Ei, tb, gst, Xr, Xi, Tr, Ti, Br, Bi, Yr, Yi, Y2r, Y2i, Zr, Zi, Wr, Wi, W2r, W2i, Gr, Gi)
        for n in range(nb):
            for m in range(n_rows):
                G[n0 + n, t, m, 0] = Gr[m, n]
                G[n0 + n, t, m, 1] = Gi[m, n]


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


def _tables(program: StepProgram) -> tuple:
    """The StepProgram as the tables :func:`_step` interprets (see its unpacking); memory positions
    no factor touches are left out of the state (they never reach a readout)."""
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
    chain = [_bits_index(mem, shift, len(live)) for mem in mems]
    tree = [_bits_index(mem, {p: len(lives[f]) - 1 - i for i, p in enumerate(lives[f])}, len(lives[f]))
            for f, mem in enumerate(mems)]
    traces = [_trace_tables(lives[f], lives[f + 1]) for f in range(F)]
    k_of = [len(m) for m in mems]
    K_of = [2**k for k in k_of]
    dims = [2 ** len(lv) for lv in lives]
    lvl = np.cumsum([0] + [(1 << f) * dims[f] ** 2 for f in range(F)])
    eoff = np.cumsum([0] + [2 * 4**k for k in k_of])
    s_of = [sum(((beta >> f) & 1) << factors[f].bit for f in range(F)) for beta in range(2**F)]
    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return (F, 2 ** len(live), program.n_outcomes, i64(K_of), i64(eoff[:-1]), int(eoff[-1]),
            _pad([o for o, _ in chain]), _pad([r for _, r in chain]), i64([len(r) for _, r in chain]),
            _pad([o for o, _ in tree]), _pad([r for _, r in tree]), i64([len(r) for _, r in tree]),
            _pad([b for b, _ in traces]), i64([len(b) for b, _ in traces]),
            _pad([t for _, t in traces]), i64([len(t) for _, t in traces]), i64(dims), i64(lvl), i64(s_of))


# -- the simulator ---------------------------------------------------------------------------


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


#: Circuits a tile holds at most: its working set (a few ``(D^2, nb)`` planes) then stays in L2.
_TILE = 16
_POOL: ThreadPoolExecutor | None = None


def _threads() -> int:
    return max(1, min(numba.config.NUMBA_NUM_THREADS, torch.get_num_threads()))


def _tiles(N: int) -> list[tuple[int, int]]:
    """``(n0, nb)`` tiles of at most ``_TILE`` circuits, at least one per thread, sizes balanced."""
    count = max(-(-N // _TILE), min(N, _threads()))
    count = -(-count // _threads()) * _threads() if count > _threads() else count
    size = -(-N // count)
    return [(n0, min(size, N - n0)) for n0 in range(0, N, size)]


def _run_tiles(fn, N: int) -> None:
    """``fn(n0, nb)`` over the tiles: one tile (batch 1) runs here, more on threads (``nogil``)."""
    global _POOL
    tiles = _tiles(N)
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
        self._tables = _tables(self.program)
        self._D = self._tables[1]
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

    def _check(self, angles) -> torch.Tensor:
        angles = check_angles(angles, self.n_angles, self.device, self.real_dtype)
        N, T = math.prod(angles.shape[:-2]), angles.shape[-2]
        item = self.real_dtype.itemsize
        rows = 2 * self._tables[5]  # the prepared operators, re and im, and their cotangents
        # The outputs, the angles, the operators (the torch preparation keeps a few copies) and the
        # adjoint's stored states (T of them a circuit).
        need = N * T * (self.n_outcomes + 2 * self.n_angles + 6 * rows + 2 * self._D**2) * item
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
            probs = _KernelFunction.apply(self._prepare(flat), self)
        else:
            with torch.no_grad():
                probs = self._forward(self._prepare(flat))
        probs = probs.reshape(batch + (T, self.n_outcomes))
        return probs if shots is None else sample_frequencies(probs, shots, generator)

    __call__ = probabilities

    def _forward(self, P: torch.Tensor) -> torch.Tensor:
        """``P (N, T, n_rows, 2)`` from :meth:`_prepare` -> probabilities ``(N, T, R)``."""
        P = np.ascontiguousarray(P.detach().numpy())
        out = np.empty(P.shape[:2] + (self.n_outcomes,), dtype=P.dtype)
        _run_tiles(lambda n0, nb: _forward_tile(P, n0, nb, self._tables, out), len(P))
        return torch.from_numpy(out)

    def _vjp_prepared(self, P: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The cotangent of ``P`` (:meth:`_prepare`) for ``sum(g * probs)``, ``g (N, T, R)``."""
        P = np.ascontiguousarray(P.detach().numpy())
        g = np.ascontiguousarray(g.detach().to(self.real_dtype).numpy())
        G = np.empty_like(P)
        _run_tiles(lambda n0, nb: _vjp_tile(P, g, n0, nb, self._tables, G), len(P))
        return torch.from_numpy(G)

    def vjp(self, angles, grad_probs) -> torch.Tensor:
        """``d <grad_probs, probs(angles)> / d angles`` by the adjoint method.

        ``angles (..., T, n_angles)``, ``grad_probs (..., T, 2 ** (n // 2))`` real -> the gradient,
        ``(..., T, n_angles)`` in the simulator's real dtype. The compiled sweep gives the cotangents
        of the prepared operators; torch's autograd carries them through :meth:`_prepare`.
        """
        angles = self._check(angles)
        grad_probs = torch.as_tensor(grad_probs)
        shape = angles.shape[:-1] + (self.n_outcomes,)
        if tuple(grad_probs.shape) != tuple(shape):
            raise ValueError(f"grad_probs must have shape {tuple(shape)}, got {tuple(grad_probs.shape)}")
        T = angles.shape[-2]
        with torch.enable_grad():
            flat = angles.detach().reshape(-1, T, self.n_angles).requires_grad_()
            P = self._prepare(flat)
            G = self._vjp_prepared(P, grad_probs.reshape(-1, T, self.n_outcomes))
            (grad,) = torch.autograd.grad(P, flat, G)
        return grad.reshape(angles.shape)


class _KernelFunction(torch.autograd.Function):
    """``probs = kernel(P)``, ``P`` the prepared operators; the backward is the compiled adjoint
    sweep (:meth:`KernelSimulator._vjp_prepared`), autograd then carries it through the preparation."""

    @staticmethod
    def forward(P, sim):
        return sim._forward(P)

    @staticmethod
    def setup_context(ctx, inputs, output):
        P, sim = inputs
        ctx.save_for_backward(P)
        ctx.sim = sim

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs):
        (P,) = ctx.saved_tensors
        return ctx.sim._vjp_prepared(P, grad_probs), None
