"""The default CPU engine: the QRNN step applied as local factors, compiled with numba.

State convention: that of :mod:`qrnn_core.simulator` (the memory density matrix ``rho``, ``(D, D)``
per circuit, ``D = 2 ** (n // 2)``) and outcome convention of :mod:`qrnn_core.circuit`. The step is
read through :func:`qrnn_core.program.read_step_program` and turned into small integer tables
(:class:`_Tables`) that the compiled code interprets; no gate is restated here.

One step of one circuit, for each readout factor ``f`` in the program's order:

* its Kraus operators ``E_f[b]`` (``b`` the readout bit) on the ``k <= 2`` memory qubits it touches
  are built by running its gates on a ``(2 K, K)`` operator, ``K = 2 ** k``, the readout's 2-dim
  index carried only here (a memory qubit's ``pre`` rotations are folded into the first factor
  that touches it, its ``post`` rotations into the last: they commute with the others);
* the memory state goes through the Kraus sum ``rho <- sum_b E_f[b] rho E_f[b]^†`` (measure and
  reset), done block by block on the ``K x K`` blocks of ``rho``, never a dense ``D x D`` operator;
* the joint outcome probabilities come from a branch per outcome prefix, each branch reduced by a
  partial trace to the memory qubits later factors still touch (small after the first factors).

A memory qubit no factor touches never reaches a readout: it is left out (probabilities are exact).

The gradient (:meth:`KernelSimulator.vjp`) is the adjoint method: the per-step probabilities are
``tr(M_s rho_t)``, linear in the state, and each step a fixed channel of its angles, so the
cotangent ``Y_t`` (a ``D x D`` Hermitian operator) is swept backwards through the adjoint channels,
``Y_t = sum_s g[t, s] M_{t,s} + Phi_t^†(Y_{t+1})``, with each step's states recomputed from the
stored ``rho_t``. The Kraus operators' cotangents ``2 Tr_rest[Y E X]`` are carried back through
the factor's gates to its angles.
"""

from __future__ import annotations

import math
import os
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from .circuit import build_step_block
from .program import StepProgram, read_step_program
from .simulator import sample_frequencies
from .validation import check_angles, check_generator, check_shots

#: Qubits the kernel takes: even, 2 to 12 (a ``64 x 64`` memory density matrix at 12).
N_QUBITS_RANGE = (2, 12)
_AXIS = {"x": 0, "y": 1, "z": 2}


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
from numba import njit, prange  # noqa: E402  (after the cache folder is settled)

# -- the compiled pieces ----------------------------------------------------------------------


@njit(cache=True)
def _rot(axis, a, out):
    """``out (2, 2) = exp(-i a sigma_axis / 2)``."""
    c, s = np.cos(0.5 * a), np.sin(0.5 * a)
    if axis == 0:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = c, -1j * s, -1j * s, c
    elif axis == 1:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = c, -s, s, c
    else:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = c - 1j * s, 0, 0, c + 1j * s


@njit(cache=True)
def _drot(axis, a, out):
    """``out (2, 2) = d/da exp(-i a sigma_axis / 2)``."""
    c, s = 0.5 * np.cos(0.5 * a), 0.5 * np.sin(0.5 * a)
    if axis == 0:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = -s, -1j * c, -1j * c, -s
    elif axis == 1:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = -s, -c, c, -s
    else:
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = -s - 1j * c, 0, 0, -s + 1j * c


@njit(cache=True)
def _apply_gate(op, G, ctrl, tgt, zero_others):
    """``G (2, 2)`` on row bit ``tgt`` of ``op (R, C)``, on rows with bit ``ctrl`` set (``ctrl < 0``:
    all rows). ``zero_others``: rows the gate does not touch are set to 0 (a derivative's rows)."""
    t = 1 << tgt
    for row in range(op.shape[0]):
        if row & t:
            continue
        r1 = row | t
        if ctrl >= 0 and not (row >> ctrl) & 1:
            if zero_others:
                op[row, :] = 0
                op[r1, :] = 0
            continue
        for col in range(op.shape[1]):
            x0, x1 = op[row, col], op[r1, col]
            op[row, col] = G[0, 0] * x0 + G[0, 1] * x1
            op[r1, col] = G[1, 0] * x0 + G[1, 1] * x1


@njit(cache=True)
def _build_factor(a, gates, n_gates, k, ops, R):
    """Run a factor's gates from ``|0>_readout ⊗ 1``: ``ops[g] (2K, K)`` after ``g`` gates."""
    K = 1 << k
    op = ops[0]
    op[:, :] = 0
    for m in range(K):
        op[m, m] = 1
    for g in range(n_gates):
        ops[g + 1, :, :] = ops[g]
        _rot(gates[g, 2], a[gates[g, 3]], R)
        _apply_gate(ops[g + 1], R, gates[g, 0], gates[g, 1], False)


@njit(cache=True)
def _factor_grad(a, gates, n_gates, ops, op_bar, grad, R, dR, tmp):
    """Carry ``op_bar`` (cotangent of the final ``(2K, K)`` operator, overwritten) back through the
    factor's gates, adding ``dL/d angle`` into ``grad`` (convention ``bar = dL/dRe + i dL/dIm``)."""
    for g in range(n_gates - 1, -1, -1):
        ctrl, tgt, axis, ang = gates[g, 0], gates[g, 1], gates[g, 2], gates[g, 3]
        _drot(axis, a[ang], dR)
        tmp[:, :] = ops[g]
        _apply_gate(tmp, dR, ctrl, tgt, True)
        acc = 0.0
        for i in range(tmp.shape[0]):
            for j in range(tmp.shape[1]):
                z = np.conj(op_bar[i, j]) * tmp[i, j]
                acc += z.real
        grad[ang] += acc
        _rot(axis, a[ang], R)
        R[0, 1], R[1, 0] = R[1, 0], R[0, 1]  # R^† = conj(R)^T
        for i in range(2):
            for j in range(2):
                R[i, j] = np.conj(R[i, j])
        _apply_gate(op_bar, R, ctrl, tgt, False)


@njit(cache=True)
def _sandwich(Es, X, offs, rest, out, blk, tmp, acc):
    """``out = sum_b Es[b] X Es[b]^†``, ``Es (B, K, K)`` local on the index bits ``offs`` of
    ``X (d, d)`` (Hermitian), block by ``K x K`` block; only blocks on and above the diagonal are
    computed, the others are their conjugate transposes."""
    nb, K = Es.shape[0], Es.shape[1]
    n = rest.shape[0]
    zero = Es[0, 0, 0] * 0  # of the working dtype (a 0j literal would promote complex64)
    for ia in range(n):
        ra = rest[ia]
        for ic in range(ia, n):
            rc = rest[ic]
            for i in range(K):
                for j in range(K):
                    blk[i, j] = X[ra + offs[i], rc + offs[j]]
                    acc[i, j] = 0
            for b in range(nb):
                for i in range(K):
                    for j in range(K):
                        s = zero
                        for l in range(K):
                            s += Es[b, i, l] * blk[l, j]
                        tmp[i, j] = s
                for i in range(K):
                    for j in range(K):
                        s = zero
                        for l in range(K):
                            s += tmp[i, l] * np.conj(Es[b, j, l])
                        acc[i, j] += s
            for i in range(K):
                for j in range(K):
                    out[ra + offs[i], rc + offs[j]] = acc[i, j]
                    if ic > ia:
                        out[rc + offs[j], ra + offs[i]] = np.conj(acc[i, j])


@njit(cache=True)
def _sandwich_grad(Es, X, Y, offs, rest, Ebar, blk, tmp, acc):
    """``Ebar[b] += 2 Tr_rest[Y (Es[b] ⊗ 1) X]``: the cotangent of ``Es[b]`` in ``tr(Y Es X Es^†)``."""
    nb, K = Es.shape[0], Es.shape[1]
    n = rest.shape[0]
    zero = Es[0, 0, 0] * 0  # of the working dtype (a 0j literal would promote complex64)
    for ia in range(n):
        ra = rest[ia]
        for ic in range(n):
            rc = rest[ic]
            for i in range(K):
                for j in range(K):
                    blk[i, j] = X[rc + offs[i], ra + offs[j]]  # X_ca
                    acc[i, j] = Y[ra + offs[i], rc + offs[j]]  # Y_ac
            for b in range(nb):
                for i in range(K):
                    for j in range(K):
                        s = zero
                        for l in range(K):
                            s += Es[b, i, l] * blk[l, j]
                        tmp[i, j] = s
                for i in range(K):
                    for j in range(K):
                        s = zero
                        for l in range(K):
                            s += acc[i, l] * tmp[l, j]
                        Ebar[b, i, j] += 2 * s


@njit(cache=True)
def _trace(Z, base, toff, out):
    """``out[i, j] = sum_x Z[base[i] + toff[x], base[j] + toff[x]]`` (a partial trace)."""
    for i in range(base.shape[0]):
        for j in range(base.shape[0]):
            s = Z[0, 0] * 0
            for x in range(toff.shape[0]):
                s += Z[base[i] + toff[x], base[j] + toff[x]]
            out[i, j] = s


@njit(cache=True)
def _untrace(Yn, base, toff, out):
    """The adjoint of :func:`_trace`: ``out = Yn ⊗ 1`` on the traced bits (zero elsewhere)."""
    out[:, :] = 0
    for i in range(base.shape[0]):
        for j in range(base.shape[0]):
            for x in range(toff.shape[0]):
                out[base[i] + toff[x], base[j] + toff[x]] = Yn[i, j]


@njit(cache=True)
def _step(a, rho, tb, Xs, ops, Es, br, probs, w):
    """One step of one circuit: ``Xs[0] = rho`` in, ``Xs[F] = rho'`` out; ``Xs[f]`` the state
    before factor ``f``, ``ops`` the factors' gate-by-gate operators, ``Es`` their Kraus operators,
    ``br`` the branches; ``probs (R,)`` the step's outcome probabilities."""
    (k_of, gates, n_gates, offs, rest, n_rest, boffs, brest, n_brest, tbase, ttoff, n_tbase,
     n_ttoff, bdim, bstart, s_of, eoff) = tb
    F = k_of.shape[0]
    R2, blk, tmp, acc = w
    Xs[0, :, :] = rho
    for f in range(F):
        k = k_of[f]
        K = 1 << k
        _build_factor(a, gates[f], n_gates[f], k, ops[f], R2)
        E = Es[eoff[f]:eoff[f] + 2 * K * K].reshape((2, K, K))
        final = ops[f, n_gates[f]]
        for b in range(2):
            for i in range(K):
                for j in range(K):
                    E[b, i, j] = final[b * K + i, j]
        _sandwich(E, Xs[f], offs[f, :K], rest[f, :n_rest[f]], Xs[f + 1], blk, tmp, acc)
    # The branches: level 0 is rho reduced to the touched qubits; level f + 1 has 2^(f+1).
    d0 = bdim[0]
    B0 = br[bstart[0]:bstart[0] + d0 * d0].reshape((d0, d0))
    _trace(rho, tbase[0, :n_tbase[0]], ttoff[0, :n_ttoff[0]], B0)
    for f in range(F):
        k = k_of[f]
        K = 1 << k
        E = Es[eoff[f]:eoff[f] + 2 * K * K].reshape((2, K, K))
        d, dn = bdim[f], bdim[f + 1]
        nb = 1 << f
        src = br[bstart[f]:bstart[f] + nb * d * d].reshape((nb, d, d))
        dst = br[bstart[f + 1]:bstart[f + 1] + 2 * nb * dn * dn].reshape((2 * nb, dn, dn))
        Z = np.empty((d, d), dtype=rho.dtype)
        for beta in range(nb):
            for b in range(2):
                _sandwich(E[b:b + 1], src[beta], boffs[f, :K], brest[f, :n_brest[f]], Z, blk, tmp, acc)
                _trace(Z, tbase[f + 1, :n_tbase[f + 1]], ttoff[f + 1, :n_ttoff[f + 1]], dst[beta + b * nb])
    nf = 1 << F
    last = br[bstart[F]:bstart[F] + nf]
    for beta in range(nf):
        probs[s_of[beta]] = last[beta].real


def _work(dtype, kmax):
    K = 1 << kmax
    return (np.empty((2, 2), dtype), np.empty((K, K), dtype), np.empty((K, K), dtype), np.empty((K, K), dtype))


@njit(cache=True)
def _alloc(tb, D, dtype_like):
    k_of, gates = tb[0], tb[1]
    F = k_of.shape[0]
    K = 1 << k_of.max()
    Xs = np.empty((F + 1, D, D), dtype=dtype_like.dtype)
    ops = np.empty((F, gates.shape[1] + 1, 2 * K, K), dtype=dtype_like.dtype)
    Es = np.empty(tb[16][-1], dtype=dtype_like.dtype)
    br = np.empty(tb[14][-1], dtype=dtype_like.dtype)
    w = (np.empty((2, 2), dtype=dtype_like.dtype), np.empty((K, K), dtype=dtype_like.dtype),
         np.empty((K, K), dtype=dtype_like.dtype), np.empty((K, K), dtype=dtype_like.dtype))
    return Xs, ops, Es, br, w


def _forward_py(angles, tb, D, dtype_like, probs):
    """``angles (N, T, A)`` real -> ``probs (N, T, R)``: every circuit from ``|0><0|``."""
    N, T = angles.shape[0], angles.shape[1]
    for n in prange(N):
        Xs, ops, Es, br, w = _alloc(tb, D, dtype_like)
        rho = np.zeros((D, D), dtype=dtype_like.dtype)
        rho[0, 0] = 1
        F = Xs.shape[0] - 1
        for t in range(T):
            _step(angles[n, t], rho, tb, Xs, ops, Es, br, probs[n, t], w)
            rho[:, :] = Xs[F]


def _vjp_py(angles, g, tb, D, dtype_like, grad):
    """``grad (N, T, A) = d sum(g * probs) / d angles``, the adjoint sweep (module docstring)."""
    (k_of, gates, n_gates, offs, rest, n_rest, boffs, brest, n_brest, tbase, ttoff, n_tbase,
     n_ttoff, bdim, bstart, s_of, eoff) = tb
    N, T = angles.shape[0], angles.shape[1]
    F = k_of.shape[0]
    for n in prange(N):
        Xs, ops, Es, br, w = _alloc(tb, D, dtype_like)
        R2, blk, tmp, acc = w
        dR = np.empty((2, 2), dtype=dtype_like.dtype)
        K = 1 << k_of.max()
        tmpop = np.empty((2 * K, K), dtype=dtype_like.dtype)
        probs = np.empty(g.shape[2], dtype=angles.dtype)
        states = np.empty((T, D, D), dtype=dtype_like.dtype)  # rho_t, stored forward
        rho = np.zeros((D, D), dtype=dtype_like.dtype)
        rho[0, 0] = 1
        for t in range(T):
            states[t] = rho
            _step(angles[n, t], rho, tb, Xs, ops, Es, br, probs, w)
            rho[:, :] = Xs[F]
        Y = np.zeros((D, D), dtype=dtype_like.dtype)  # cotangent of rho_{t+1}
        Y2 = np.empty((D, D), dtype=dtype_like.dtype)
        Ebar = np.empty_like(Es)
        Ed = np.empty_like(Es)
        for t in range(T - 1, -1, -1):
            _step(angles[n, t], states[t], tb, Xs, ops, Es, br, probs, w)  # recompute the step
            Ebar[:] = 0
            for f in range(F):  # E^† of every factor, for the adjoint channels
                K_ = 1 << k_of[f]
                E = Es[eoff[f]:eoff[f] + 2 * K_ * K_].reshape((2, K_, K_))
                Edf = Ed[eoff[f]:eoff[f] + 2 * K_ * K_].reshape((2, K_, K_))
                for b in range(2):
                    for i in range(K_):
                        for j in range(K_):
                            Edf[b, i, j] = np.conj(E[b, j, i])
            # The state's path: Y through the adjoint channels, factor by factor.
            for f in range(F - 1, -1, -1):
                K_ = 1 << k_of[f]
                sl = slice(eoff[f], eoff[f] + 2 * K_ * K_)
                E, Edf, Eb = Es[sl].reshape((2, K_, K_)), Ed[sl].reshape((2, K_, K_)), Ebar[sl].reshape((2, K_, K_))
                o, r = offs[f, :K_], rest[f, :n_rest[f]]
                _sandwich_grad(E, Xs[f], Y, o, r, Eb, blk, tmp, acc)
                _sandwich(Edf, Y, o, r, Y2, blk, tmp, acc)
                Y[:, :] = Y2
            # The probabilities' path: g[t, s] back through the branch tree.
            nf = 1 << F
            cot = np.empty(nf, dtype=dtype_like.dtype)
            for beta in range(nf):
                cot[beta] = g[n, t, s_of[beta]]
            cot_prev = cot.reshape((nf, 1, 1))
            for f in range(F - 1, -1, -1):
                K_ = 1 << k_of[f]
                sl = slice(eoff[f], eoff[f] + 2 * K_ * K_)
                E, Edf, Eb = Es[sl].reshape((2, K_, K_)), Ed[sl].reshape((2, K_, K_)), Ebar[sl].reshape((2, K_, K_))
                d = bdim[f]
                nb = 1 << f
                src = br[bstart[f]:bstart[f] + nb * d * d].reshape((nb, d, d))
                o, r = boffs[f, :K_], brest[f, :n_brest[f]]
                tbs, tof = tbase[f + 1, :n_tbase[f + 1]], ttoff[f + 1, :n_ttoff[f + 1]]
                cot_src = np.zeros((nb, d, d), dtype=dtype_like.dtype)
                Yf = np.empty((d, d), dtype=dtype_like.dtype)
                Z = np.empty((d, d), dtype=dtype_like.dtype)
                for beta in range(nb):
                    for b in range(2):
                        _untrace(cot_prev[beta + b * nb], tbs, tof, Yf)
                        _sandwich_grad(E[b:b + 1], src[beta], Yf, o, r, Eb[b:b + 1], blk, tmp, acc)
                        _sandwich(Edf[b:b + 1], Yf, o, r, Z, blk, tmp, acc)
                        cot_src[beta] += Z
                cot_prev = cot_src
            _untrace(cot_prev[0], tbase[0, :n_tbase[0]], ttoff[0, :n_ttoff[0]], Y2)
            Y += Y2  # Y_t = sum_s g[t, s] M_{t, s} + Phi_t^†(Y_{t+1})
            # Each factor's Kraus cotangent back through its gates to the step's angles.
            for f in range(F):
                K_ = 1 << k_of[f]
                Eb = Ebar[eoff[f]:eoff[f] + 2 * K_ * K_].reshape((2, K_, K_))
                op_bar = np.empty((2 * K_, K_), dtype=dtype_like.dtype)
                for b in range(2):
                    for i in range(K_):
                        for j in range(K_):
                            op_bar[b * K_ + i, j] = Eb[b, i, j]
                _factor_grad(angles[n, t], gates[f], n_gates[f], ops[f, :, :2 * K_, :K_], op_bar,
                             grad[n, t], R2, dR, tmpop[:2 * K_, :K_])


# One circuit alone runs serially: waking the thread pool costs more than it saves (a batch-1
# forward took 11 ms in the pool against 2 ms alone on a busy 2-core machine).
def _named(fn, name):
    """A copy of ``fn`` under another name, so that its serial build has its own cache file."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = name
    return copy


_forward = njit(cache=True, parallel=True)(_forward_py)
_forward_serial = njit(cache=True)(_named(_forward_py, "_forward_serial"))
_vjp = njit(cache=True, parallel=True)(_vjp_py)
_vjp_serial = njit(cache=True)(_named(_vjp_py, "_vjp_serial"))


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
    """The StepProgram as the integer tables :func:`_step` interprets (see its unpacking)."""
    h = len(program.memory)
    pos = {q: j for j, q in enumerate(program.memory)}
    factors = program.factors
    first, last = {}, {}
    for f, fac in enumerate(factors):
        for q in fac.memory:
            first.setdefault(pos[q], f)
            last[pos[q]] = f
    k_of, gate_rows, offs, rest, boffs, brest = [], [], [], [], [], []
    full_shift = {j: h - 1 - j for j in range(h)}
    live = sorted(first)  # touched positions; the others never reach a readout
    lives = [live]
    for f, fac in enumerate(factors):
        mem = [pos[q] for q in fac.memory]
        k = len(mem)
        slot_bit = {fac.qubit: k}  # row index of the factor's operator: readout bit on top
        slot_bit.update({q: k - 1 - i for i, q in enumerate(fac.memory)})
        rows = []
        for j in mem:  # pre rotations of the memory qubits this factor touches first
            if first[j] == f:
                rows += [(-1, slot_bit[program.memory[j]], _AXIS[g.axis], g.angle) for g in program.memory_pre[j]]
        for g in fac.gates:
            ctrl = slot_bit[g.qubits[0]] if len(g.qubits) == 2 else -1
            rows.append((ctrl, slot_bit[g.qubits[-1]], _AXIS[g.axis], g.angle))
        for j in mem:  # post rotations of those it touches last
            if last[j] == f:
                rows += [(-1, slot_bit[program.memory[j]], _AXIS[g.axis], g.angle) for g in program.memory_post[j]]
        k_of.append(k)
        gate_rows.append(rows)
        o, r = _bits_index(mem, full_shift, h)
        offs.append(o)
        rest.append(r)
        before = lives[-1]
        o, r = _bits_index(mem, {p: len(before) - 1 - i for i, p in enumerate(before)}, len(before))
        boffs.append(o)
        brest.append(r)
        lives.append([p for p in before if last[p] > f])
    # traces: level 0 from all h positions to the touched ones; level f + 1 after factor f.
    traces = [_trace_tables(list(range(h)), lives[0])]
    traces += [_trace_tables(lives[f], lives[f + 1]) for f in range(len(factors))]
    bdim = [2 ** len(live) for live in lives]
    sizes = [(1 << f) * d * d for f, d in enumerate(bdim)]
    bstart = np.cumsum([0] + sizes)
    eoff = np.cumsum([0] + [2 * 4**k for k in k_of])
    F = len(factors)
    s_of = [sum(((beta >> f) & 1) << factors[f].bit for f in range(F)) for beta in range(2**F)]
    gates = np.zeros((F, max(len(r) for r in gate_rows), 4), dtype=np.int64)
    for f, rows in enumerate(gate_rows):
        gates[f, : len(rows)] = rows
    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return (i64(k_of), gates, i64([len(r) for r in gate_rows]), _pad(offs), _pad(rest), i64([len(r) for r in rest]),
            _pad(boffs), _pad(brest), i64([len(r) for r in brest]), _pad([b for b, _ in traces]),
            _pad([t for _, t in traces]), i64([len(b) for b, _ in traces]), i64([len(t) for _, t in traces]),
            i64(bdim), i64(bstart), i64(s_of), i64(eoff))


# -- the simulator ---------------------------------------------------------------------------


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


class KernelSimulator:
    """Exact per-step readout probabilities of the QRNN circuit, compiled for the CPU (numba).

    The same interface and results as :class:`~qrnn_core.simulator.TorchSimulator` on the CPU
    (``probabilities``/``__call__``, ``n_angles``, ``n_outcomes``, dtypes), differentiable: a
    ``probabilities`` call on angles that require grad goes through :meth:`vjp` (the adjoint
    method) in autograd's backward.

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
        self._tables = _tables(self.program)
        self._D = 2 ** len(self.program.memory)
        self._zero = np.zeros(1, dtype=np.complex128 if dtype == torch.complex128 else np.complex64)

    @property
    def n_angles(self) -> int:
        return self.program.n_angles

    @property
    def n_outcomes(self) -> int:
        return self.program.n_outcomes

    def _check(self, angles) -> torch.Tensor:
        angles = check_angles(angles, self.n_angles, self.device, self.real_dtype)
        N, T = math.prod(angles.shape[:-2]), angles.shape[-2]
        item = self.real_dtype.itemsize
        # The outputs, the angles and the gradient, plus each thread's working set (T stored states).
        need = N * T * (self.n_outcomes + 2 * self.n_angles) * item + 4 * T * self._D**2 * 2 * item
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
        if angles.requires_grad and torch.is_grad_enabled():
            probs = _KernelFunction.apply(angles, self)
        else:
            probs = self._run(angles)
        return probs if shots is None else sample_frequencies(probs, shots, generator)

    __call__ = probabilities

    def _run(self, angles: torch.Tensor) -> torch.Tensor:
        batch, T = angles.shape[:-2], angles.shape[-2]
        flat = np.ascontiguousarray(angles.detach().reshape(-1, T, self.n_angles).numpy())
        out = np.zeros((flat.shape[0], T, self.n_outcomes), dtype=flat.dtype)
        (_forward if len(flat) > 1 else _forward_serial)(flat, self._tables, self._D, self._zero, out)
        return torch.from_numpy(out).reshape(batch + (T, self.n_outcomes))

    def vjp(self, angles, grad_probs) -> torch.Tensor:
        """``d <grad_probs, probs(angles)> / d angles`` by the adjoint method.

        ``angles (..., T, n_angles)``, ``grad_probs (..., T, 2 ** (n // 2))`` real -> the gradient,
        ``(..., T, n_angles)`` in the simulator's real dtype.
        """
        angles = self._check(angles)
        grad_probs = torch.as_tensor(grad_probs)
        shape = angles.shape[:-1] + (self.n_outcomes,)
        if tuple(grad_probs.shape) != tuple(shape):
            raise ValueError(f"grad_probs must have shape {tuple(shape)}, got {tuple(grad_probs.shape)}")
        T = angles.shape[-2]
        flat = np.ascontiguousarray(angles.detach().reshape(-1, T, self.n_angles).numpy())
        g = np.ascontiguousarray(grad_probs.detach().to(self.real_dtype).reshape(-1, T, self.n_outcomes).numpy())
        grad = np.zeros_like(flat)
        (_vjp if len(flat) > 1 else _vjp_serial)(flat, g, self._tables, self._D, self._zero, grad)
        return torch.from_numpy(grad).reshape(angles.shape)


class _KernelFunction(torch.autograd.Function):
    """``probs = kernel(angles)``; the backward is :meth:`KernelSimulator.vjp` (adjoint method)."""

    @staticmethod
    def forward(angles, sim):
        return sim._run(angles)

    @staticmethod
    def setup_context(ctx, inputs, output):
        angles, sim = inputs
        ctx.save_for_backward(angles)
        ctx.sim = sim

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_probs):
        (angles,) = ctx.saved_tensors
        return ctx.sim.vjp(angles, grad_probs), None
