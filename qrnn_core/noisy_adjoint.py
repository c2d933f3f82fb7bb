"""The exact gradient of the noisy engine by the adjoint method, compiled (numba).

The forward (:mod:`qrnn_core.noisy_forward`) is linear in the memory's Pauli vector ``c_t`` step by
step, and the probabilities are linear in it: for a loss ``L = sum_t <g_t, p_t>`` the cotangent of
``c_t`` is swept backwards, ``cbar_t = tree_t^T(g_t) + chain_t^T(cbar_{t+1})`` (the Heisenberg
picture: transposed PTMs, as stage B is built). Each step, with the states ``c_t`` stored on the way
forward, the step's operators are recomputed with every stage op's input on a tape
(:func:`qrnn_core.noisy_forward._instruments`), the tree and the chain are recomputed from ``c_t``
and run backwards into the cotangents of the instruments ``R_f[s]`` and channels ``R_f``, and those
go back through the contraction ``R = u W``, each stage's ops in reverse (a rotation's angle gets
``coef * dL/dphi``), and the memory channels, into the angles of the step and of the previous one.
Exact in float64; checked against the differentiable formulation (:mod:`qrnn_core.noisy_torch`) and
central differences.
"""

from __future__ import annotations

import math

import numpy as np

from .noisy_forward import (_JIT, _angle, _channel, _instruments, _layout, _one, _probabilities, _sparse, _workspace,
                            _zero_state)
from .noisy_program import FIX2, MEM, RZ
from numba import njit  # after .noisy_forward: numba's cache folder is settled by then


@njit(**_JIT)
def _part_bwd(ints, floats, nops, mats1, where2, vals2, nnz2, mem, th, thp, first, Xbar, n1, ncol, tape,
              grad_t, grad_p, membar):
    """The reverse of :func:`qrnn_core.noisy_forward._part`: ``Xbar (16, ncol)``, the cotangent of the
    part's output, becomes its input's; each rotation's angle cotangent is added to ``grad_t`` (this
    step's angles) or ``grad_p`` (the previous step's), each memory channel's to ``membar (h, 4, 4)``.
    ``tape``: the inputs the forward recorded."""
    v = np.empty(16)
    for q in range(nops - 1, -1, -1):
        kind, slot, idx, flag = ints[q, 0], ints[q, 1], ints[q, 2], ints[q, 3]
        if flag and first and kind != MEM:
            continue
        X = tape[q]
        stride, other, ostride = _layout(slot, n1)
        if kind == FIX2:
            _sparse(where2[idx], vals2[idx], nnz2[idx], Xbar, ncol, v, 1)
        elif kind == RZ:
            phi = _angle(floats[q], idx, flag, th, thp)
            c, s = math.cos(phi), math.sin(phi)
            dphi = 0.0
            for o in range(other):
                r1, r2 = o * ostride + stride, o * ostride + 2 * stride
                for col in range(ncol):
                    x, y, b1, b2 = X[r1, col], X[r2, col], Xbar[r1, col], Xbar[r2, col]
                    dphi += b1 * (-s * x - c * y) + b2 * (c * x - s * y)
                    Xbar[r1, col] = c * b1 + s * b2
                    Xbar[r2, col] = c * b2 - s * b1
            if idx >= 0:
                if flag:
                    grad_p[idx] += floats[q, 0] * dphi
                else:
                    grad_t[idx] += floats[q, 0] * dphi
        else:
            if kind == MEM:  # Mbar[k, l] = sum Xbar[row k] X[row l]; mem[1] is mem[0] transposed
                for k in range(4):
                    for l in range(4):
                        acc = 0.0
                        for o in range(other):
                            for col in range(ncol):
                                acc += Xbar[o * ostride + k * stride, col] * X[o * ostride + l * stride, col]
                        if flag:
                            membar[idx, l, k] += acc
                        else:
                            membar[idx, k, l] += acc
            _one((mats1[idx] if kind != MEM else mem[flag, idx]).T, slot, Xbar, n1, ncol)


@njit(**_JIT)
def _stage_bwd(ints, floats, n_ops, mats1, where2, vals2, nnz2, mem, th, thp, first, Xbar, n1, ncol, c0, c1,
               tape, grad_t, grad_p, membar):
    """The reverse of :func:`qrnn_core.noisy_forward._stage` from ``Xbar (16, ncol)``, the cotangent of
    the stage's output (consumed); ``tape`` the forward's."""
    tables = (mats1, where2, vals2, nnz2, mem, th, thp, first)
    Gbar, P0bar, P1bar = np.zeros((16, 4)), np.zeros((16, 4)), np.zeros((16, 4))
    for slot in range(1, -1, -1):  # the tails, last first: X <- G X on the slot
        n = n_ops[3 + slot]
        if n == 0:
            continue
        G = tape[3 + slot, n]
        X = tape[5, 0] if slot == 1 else tape[2, n_ops[2]]
        stride, other, ostride = _layout(slot, n1)
        Gbar[:, :] = 0
        for k in range(4):
            for l in range(4):
                for o in range(other):
                    for col in range(ncol):
                        Gbar[4 * k, l] += Xbar[o * ostride + k * stride, col] * X[o * ostride + l * stride, col]
        _one(G[::4].T, slot, Xbar, n1, ncol)
        _part_bwd(ints[3 + slot], floats[3 + slot], n, *tables, Gbar, 1, 4, tape[3 + slot], grad_t, grad_p, membar)
    _part_bwd(ints[2], floats[2], n_ops[2], *tables, Xbar, n1, ncol, tape[2], grad_t, grad_p, membar)
    P0, P1 = tape[0, n_ops[0]], tape[1, n_ops[1]]
    for d0 in range(4):  # X[(d0, d1), (i, j)] = P0[d0, i] P1[d1, j]
        for d1 in range(4):
            for i in range(c0):
                for j in range(c1):
                    xb = Xbar[4 * d0 + d1, i * c1 + j]
                    P0bar[4 * d0, i] += xb * P1[4 * d1, j]
                    P1bar[4 * d1, j] += xb * P0[4 * d0, i]
    _part_bwd(ints[0], floats[0], n_ops[0], *tables, P0bar, 1, c0, tape[0], grad_t, grad_p, membar)
    _part_bwd(ints[1], floats[1], n_ops[1], *tables, P1bar, 1, c1, tape[1], grad_t, grad_p, membar)


@njit(**_JIT)
def _instruments_bwd(ints, floats, n_ops, mats1, where2, vals2, nnz2, nb, th, thp, first, mem, U, W, Rbar,
                     tapes, grad_t, grad_p):
    """The reverse of :func:`qrnn_core.noisy_forward._instruments` (recorded) from ``Rbar (F, 3, 16, 16)``
    (the rows the forward computes) into the angles' cotangents ``grad_t``, ``grad_p``."""
    h, F = mem.shape[1], nb.shape[0]
    tables = (mats1, where2, vals2, nnz2, mem, th, thp, first)
    membar = np.zeros((h, 4, 4))
    Ubar, Wbar = np.zeros((16, 4)), np.zeros((16, 12))
    for f in range(F):
        m = nb[f]
        Ubar[:, :] = 0
        Wbar[:, :] = 0
        for s in range(3):  # R[f, s][(a', b'), (a, b)] = sum_r U[(a', r), a] W[(r, b), (s, b')]
            for a2 in range(4 if s == 2 else 1):
                for b2 in range(m):
                    for a in range(4):
                        for b in range(m):
                            rb = Rbar[f, s, a2 * m + b2, a * m + b]
                            for r in range(4):
                                Ubar[4 * a2 + r, a] += rb * W[f, 4 * r + b, s * m + b2]
                                Wbar[4 * r + b, s * m + b2] += rb * U[f, 4 * a2 + r, a]
        for r in range(4):  # W's columns 2m.. are the two outcomes' sum
            for b in range(m):
                for b2 in range(m):
                    Wbar[4 * r + b, b2] += Wbar[4 * r + b, 2 * m + b2]
                    Wbar[4 * r + b, m + b2] += Wbar[4 * r + b, 2 * m + b2]
        _stage_bwd(ints[h + 2 * f], floats[h + 2 * f], n_ops[h + 2 * f], *tables, Ubar, 4, 4, 4, 1,
                   tapes[h + 2 * f], grad_t, grad_p, membar)
        _stage_bwd(ints[h + 2 * f + 1], floats[h + 2 * f + 1], n_ops[h + 2 * f + 1], *tables, Wbar, m, 2 * m, 2, m,
                   tapes[h + 2 * f + 1], grad_t, grad_p, membar)
    P0bar = np.zeros((16, 4))
    for j in range(h):  # the memory channels: mem[j] = its ops on the identity
        P0bar[:, :] = 0
        for i in range(4):
            for k in range(4):
                P0bar[4 * i, k] = membar[j, i, k]
        _part_bwd(ints[j, 0], floats[j, 0], n_ops[j, 0], *tables, P0bar, 1, 4, tapes[j, 0], grad_t, grad_p, membar)


@njit(**_JIT)
def _tree_bwd(R, nb, levels, g, Rbar, cbar):
    """The reverse of :func:`qrnn_core.noisy_forward._probabilities` (its ``levels`` as it left them):
    ``g (2**F,)`` the probabilities' cotangent -> ``Rbar`` (added) and ``cbar (4**h,)`` (added)."""
    F = nb.shape[0]
    sizes, offs = np.zeros(F, np.int64), np.zeros(F, np.int64)
    size, at = cbar.shape[0], 0
    for f in range(F):
        sizes[f], offs[f] = size, at
        at += 2**f * size
        size = nb[f] * size // (4 * nb[f])
    bar = np.zeros(2 * cbar.shape[0])  # the levels' cotangents, laid out as the levels
    f = F - 1
    nbr, size, at = 2**f, sizes[f], offs[f]
    for br in range(nbr):
        for s in range(2):
            gs = g[br + s * nbr]
            for k in range(4 * nb[f]):
                bar[at + br * size + k] += gs * R[f, s, 0, k]
                Rbar[f, s, 0, k] += gs * levels[at + br * size + k]
    for f in range(F - 2, -1, -1):
        nbr, size, at, K2 = 2**f, sizes[f], offs[f], 4 * nb[f]
        L, nxt, out = sizes[f] // K2, offs[f + 1], sizes[f + 1]
        for br in range(nbr):
            for s in range(2):
                dst = nxt + (br + s * nbr) * out
                for b2 in range(nb[f]):
                    for lo in range(L):
                        yb = bar[dst + b2 * L + lo]
                        for k in range(K2):
                            bar[at + br * size + k * L + lo] += R[f, s, b2, k] * yb
                            Rbar[f, s, b2, k] += yb * levels[at + br * size + k * L + lo]
    cbar += bar[:cbar.shape[0]]


@njit(**_JIT)
def _circuits_vjp(angles, g, n0, count, ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, grad):
    """``grad[n0:n0 + count] (N, T, A)`` (zeros in) gets ``d sum(g * probs) / d angles`` for
    ``g (N, T, 2**F)``, by the adjoint sweep (module docstring)."""
    T = angles.shape[1]
    F = h = nb.shape[0]
    D2 = 4**h
    mem, U, W, R, tapes = _workspace(h, F, ints.shape[2] + 1)
    Rbar = np.zeros_like(R)
    states = np.zeros((T, D2))
    c, cbar, levels, x, p = np.zeros(D2), np.zeros(D2), np.zeros(2 * D2), np.zeros(16), np.zeros(2**F)
    chain = np.zeros((F, D2))  # the chain's input to each factor
    zero_grad = np.zeros(angles.shape[2])
    for n in range(n0, n0 + count):
        c[:] = _zero_state(h)
        for t in range(T - 1):
            states[t] = c
            _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, angles[n, t],
                         angles[n, t - 1 if t else 0], t == 0, mem, U, W, R, tapes, False)
            for f in range(F):
                _channel(R, f, 4 * nb[f], c, x, False, c, R)
        states[T - 1] = c
        cbar[:] = 0  # the cotangent of c_{t+1}
        for t in range(T - 1, -1, -1):
            _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, angles[n, t],
                         angles[n, t - 1 if t else 0], t == 0, mem, U, W, R, tapes, True)
            Rbar[:] = 0
            if t < T - 1:  # the chain, recomputed with its intermediates, then backwards
                c[:] = states[t]
                for f in range(F):
                    chain[f] = c
                    _channel(R, f, 4 * nb[f], c, x, False, c, R)
                for f in range(F - 1, -1, -1):
                    _channel(R, f, 4 * nb[f], cbar, x, True, chain[f], Rbar)
            _probabilities(R, nb, states[t], levels, p)
            _tree_bwd(R, nb, levels, g[n, t], Rbar, cbar)
            _instruments_bwd(ints, floats, n_ops, mats1, where2, vals2, nnz2, nb, angles[n, t],
                             angles[n, t - 1 if t else 0], t == 0, mem, U, W, Rbar, tapes, grad[n, t],
                             grad[n, t - 1] if t else zero_grad)
