"""The noisy engine's forward, compiled (numba): the loops :class:`~qrnn_core.noisy_kernel.NoisyKernelSimulator` runs.

The tables are :class:`~qrnn_core.noisy_program.NoisyStep`'s (its docstring states the
representation). Per circuit and step (:func:`_circuits`):

1. :func:`_instruments` composes each memory qubit's one-qubit channel (4 x 4) and each factor's
   stage A (``u``, 16 x 4) and stage B (``W``, 16 x 2m) from the step's angles, part by part
   (:func:`_stage`, :func:`_part`: the heads on the product's two 4 x c factors, the body on the
   16 x c product, each tail composed into one 4 x 4), and contracts them into the factor's
   instruments ``R_f[s]`` (16 x 16; 4 x 4 for the last factor);
2. :func:`_probabilities` reads the joint outcome probabilities off a tree of branch states, one per
   outcome prefix, each reduced by a partial trace to the digits later factors touch (in Pauli
   coordinates a partial trace keeps the entries with an ``I`` digit: the tree costs less than the
   chain);
3. :func:`_channel` carries the memory to the next step through ``R_f = R_f[0] + R_f[1]`` factor by
   factor.

No operator larger than two qubits of the memory (16 x 16) is formed. All float64. The adjoint
(:mod:`qrnn_core.noisy_adjoint`) reruns :func:`_instruments` with ``record`` on: every stage op's input
goes on a tape.
"""

from __future__ import annotations

import math

import numpy as np

from .kernel import _JIT  # the kernel's options (cache, nogil); importing it settles numba's cache folder
from .noisy_program import FIX1, FIX2, MEM, RZ
from numba import njit


@njit(**_JIT)
def _layout(slot, n1):
    """``(stride, other, ostride)``: a slot's digit steps rows by ``stride``; the ``other`` values of
    the other digit (``n1`` for slot 1's) step them by ``ostride`` (rows ``d0 * 4 + d1``)."""
    return (4, n1, 1) if slot == 0 else (1, 4, 4)


@njit(**_JIT)
def _angle(floats, idx, flag, th, thp):
    """A rotation op's angle ``coef * θ + const`` (``floats`` its row; ``θ`` of the previous step when ``flag``)."""
    if idx < 0:
        return floats[1]
    return floats[1] + floats[0] * (thp[idx] if flag else th[idx])


@njit(**_JIT)
def _sparse(where, vals, nnz, X, ncol, v, transpose):
    """``X (16, ncol) <- M X`` (``M^T X`` when ``transpose``) for the sparse 16 x 16 ``M``: entries
    ``vals[e]`` at ``where[e] = (row, column)`` (a two-qubit Clifford and its noise keep ~30 of 256)."""
    for col in range(ncol):
        for i in range(16):
            v[i] = X[i, col]
            X[i, col] = 0
        for e in range(nnz):
            X[where[e, transpose], col] += vals[e] * v[where[e, 1 - transpose]]


@njit(**_JIT)
def _one(M, slot, X, n1, ncol):
    """``M (4, 4)`` on the digit ``slot`` of ``X (16, ncol)`` (rows ``d0 * 4 + d1``, ``n1`` values
    of ``d1`` in use: 1 for a one-slot system)."""
    stride, other, ostride = _layout(slot, n1)
    for o in range(other):
        b = o * ostride
        for col in range(ncol):
            x0, x1, x2, x3 = X[b, col], X[b + stride, col], X[b + 2 * stride, col], X[b + 3 * stride, col]
            for k in range(4):
                X[b + k * stride, col] = M[k, 0] * x0 + M[k, 1] * x1 + M[k, 2] * x2 + M[k, 3] * x3


@njit(**_JIT)
def _part(ints, floats, nops, mats1, where2, vals2, nnz2, mem, th, thp, first, X, n1, ncol, tape, record):
    """Run a part's ops (:data:`qrnn_core.noisy_program.PARTS`) on ``X (16, ncol)`` (:func:`_one`'s
    layout). ``th``/``thp`` this and the previous step's angles; ``first``: step 0 (ops of the
    previous step are skipped); ``mem (2, h, 4, 4)`` the memory channels and their transposes.
    ``record``: ``tape[q] (16, 12)`` gets op ``q``'s input, ``tape[nops]`` the output (the adjoint)."""
    v = np.empty(16)
    for q in range(nops + 1):
        if record:
            tape[q, :, :ncol] = X[:, :ncol]
        if q == nops:
            break
        kind, slot, idx, flag = ints[q, 0], ints[q, 1], ints[q, 2], ints[q, 3]
        if flag and first and kind != MEM:
            continue
        if kind == FIX2:
            _sparse(where2[idx], vals2[idx], nnz2[idx], X, ncol, v, 0)
        elif kind == RZ:
            phi = _angle(floats[q], idx, flag, th, thp)
            c, s = math.cos(phi), math.sin(phi)
            stride, other, ostride = _layout(slot, n1)
            for o in range(other):
                r1, r2 = o * ostride + stride, o * ostride + 2 * stride
                for col in range(ncol):
                    x, y = X[r1, col], X[r2, col]
                    X[r1, col] = c * x - s * y
                    X[r2, col] = s * x + c * y
        else:
            _one(mats1[idx] if kind == FIX1 else mem[flag, idx], slot, X, n1, ncol)


@njit(**_JIT)
def _stage(ints, floats, n_ops, mats1, where2, vals2, nnz2, mem, th, thp, first, X, n1, ncol, P0, c0, P1, c1, G,
           tape, record):
    """A factor's stage into ``X (16, ncol)``, ``ncol = c0 * c1``: the heads on ``P0 (16, c0)`` and
    ``P1 (16, c1)`` (one-slot layout, their initial values in), ``X`` their product, the body, then
    each tail composed into ``G (16, 4)`` and applied on its slot (``ints[part]`` per part).
    ``record``: each part's ops on ``tape[part]`` (:func:`_part`), ``X`` between the tails on ``tape[5, 0]``."""
    tables = (mats1, where2, vals2, nnz2, mem, th, thp, first)
    _part(ints[0], floats[0], n_ops[0], *tables, P0, 1, c0, tape[0], record)
    _part(ints[1], floats[1], n_ops[1], *tables, P1, 1, c1, tape[1], record)
    for d0 in range(4):
        for d1 in range(4):
            for i in range(c0):
                for j in range(c1):
                    X[4 * d0 + d1, i * c1 + j] = P0[4 * d0, i] * P1[4 * d1, j]
    _part(ints[2], floats[2], n_ops[2], *tables, X, n1, ncol, tape[2], record)
    for slot in range(2):
        if record and slot == 1:
            tape[5, 0, :, :ncol] = X[:, :ncol]
        if n_ops[3 + slot]:
            _identity(G)
            _part(ints[3 + slot], floats[3 + slot], n_ops[3 + slot], *tables, G, 1, 4, tape[3 + slot], record)
            _one(G[::4], slot, X, n1, ncol)


@njit(**_JIT)
def _identity(P):
    """``P (16, 4)`` := the 4 x 4 identity in the one-slot layout (rows ``4 d``)."""
    P[:, :] = 0
    for d in range(4):
        P[4 * d, d] = 1


@njit(**_JIT)
def _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, th, thp, first, mem, U, W, R,
                 tapes, record):
    """The step's memory channels into ``mem (2, h, 4, 4)`` (and transposed), each factor's stages
    ``U (F, 16, 4)`` (A) and ``W (F, 16, 12)`` (B, then both outcomes' sum in columns ``2m..3m``) and
    instruments into ``R (F, 3, 16, 16)``: ``R[f, s]`` per outcome bit, only its rows ``a' = I`` (all
    the tree reads), ``R[f, 2]`` their sum, the channel, whole (module docstring). ``record``: every
    stage's ops on ``tapes[stage] (6, ops + 1, 16, 12)`` (:func:`_stage`)."""
    h, F = mem.shape[1], nb.shape[0]
    P0, P1, G = np.zeros((16, 4)), np.zeros((16, 4)), np.zeros((16, 4))
    tables = (mats1, where2, vals2, nnz2, mem, th, thp, first)
    for j in range(h):
        _identity(P0)
        _part(ints[j, 0], floats[j, 0], n_ops[j, 0], *tables, P0, 1, 4, tapes[j, 0], record)
        for i in range(4):
            for k in range(4):
                mem[0, j, i, k] = mem[1, j, k, i] = P0[4 * i, k]
    for f in range(F):
        m = nb[f]
        _identity(P0)  # stage A: a's identity ⊗ r's state after its reset
        P1[:, :] = 0
        for d in range(4):
            P1[4 * d, 0] = init[f, 0 if first else 1, d]
        _stage(ints[h + 2 * f], floats[h + 2 * f], n_ops[h + 2 * f], *tables, U[f], 4, 4, P0, 4, P1, 1, G,
               tapes[h + 2 * f], record)
        P0[:, :] = 0  # stage B, backwards: r's effects ⊗ b's identity
        P1[:, :] = 0
        for d in range(4):
            for s in range(2):
                P0[4 * d, s] = effect[f, s, d]
            if d < m:
                P1[4 * d, d] = 1
        _stage(ints[h + 2 * f + 1], floats[h + 2 * f + 1], n_ops[h + 2 * f + 1], *tables, W[f], m, 2 * m,
               P0, 2, P1, m, G, tapes[h + 2 * f + 1], record)
        for r in range(4):  # the channel's W: both outcomes
            for b in range(m):
                for b2 in range(m):
                    W[f, 4 * r + b, 2 * m + b2] = W[f, 4 * r + b, b2] + W[f, 4 * r + b, m + b2]
        for s in range(3):
            for a2 in range(4 if s == 2 else 1):  # per outcome only the rows a' = I: all the tree reads
                for b2 in range(m):
                    for a in range(4):
                        for b in range(m):
                            acc = 0.0
                            for r in range(4):
                                acc += U[f, 4 * a2 + r, a] * W[f, 4 * r + b, s * m + b2]
                            R[f, s, a2 * m + b2, a * m + b] = acc


@njit(**_JIT)
def _probabilities(R, nb, c, levels, p):
    """The step's joint outcome probabilities ``p (2**F,)`` from the memory ``c (4**h,)`` through a
    tree of branch states, level ``f`` (the branches before factor ``f``, ``2**f`` of ``4**(h - f)``)
    stored one after the other in ``levels (2 * 4**h,)``; outcome ``sum_f s_f 2**f``."""
    F = nb.shape[0]
    size, nbr, at = c.shape[0], 1, 0
    levels[:size] = c
    for f in range(F):
        K2 = 4 * nb[f]
        if f == F - 1:  # size == K2: the trace of the last instrument's output, its row I
            for br in range(nbr):
                for s in range(2):
                    acc = 0.0
                    for k in range(K2):
                        acc += R[f, s, 0, k] * levels[at + br * size + k]
                    p[br + s * nbr] = acc
            return
        L = size // K2
        out = nb[f] * L  # the branch after factor f: digit f traced out (its I rows)
        nxt = at + nbr * size
        for br in range(nbr):
            for s in range(2):
                dst = nxt + (br + s * nbr) * out
                for b2 in range(nb[f]):
                    for lo in range(L):
                        acc = 0.0
                        for k in range(K2):
                            acc += R[f, s, b2, k] * levels[at + br * size + k * L + lo]
                        levels[dst + b2 * L + lo] = acc
        size, nbr, at = out, 2 * nbr, nxt


@njit(**_JIT)
def _channel(R, f, K2, c, x, adjoint, c_in, Rbar):
    """``c (4**h,)`` through factor ``f``'s channel ``R[f, 2] (K2, K2)`` on its digits ``f`` (``f + 1``).
    ``adjoint``: ``c`` is the cotangent of the output and becomes the input's (``R^T``), and
    ``Rbar[f, 2]`` gets the channel's for the input ``c_in`` (else ``c_in``, ``Rbar`` are unused)."""
    n = c.shape[0]
    block = n // 4**f
    L = block // K2
    for hi in range(n // block):
        for lo in range(L):
            base = hi * block + lo
            for k in range(K2):
                x[k] = c[base + k * L]
            for i in range(K2):
                acc = 0.0
                if adjoint:
                    ci = c_in[base + i * L]
                    for k in range(K2):
                        acc += R[f, 2, k, i] * x[k]
                        Rbar[f, 2, k, i] += x[k] * ci
                else:
                    for k in range(K2):
                        acc += R[f, 2, i, k] * x[k]
                c[base + i * L] = acc


@njit(**_JIT)
def _zero_state(h):
    """``|0...0>`` as a Pauli vector ``(4**h,)``: 1 where every digit is I or Z, else 0."""
    zero = np.ones(4**h)
    for i in range(4**h):
        for j in range(h):
            if (i >> (2 * j)) & 3 in (1, 2):
                zero[i] = 0
    return zero


@njit(**_JIT)
def _workspace(h, F, ops):
    """The per-circuit buffers: ``mem``, ``U``, ``W``, ``R``, ``tapes`` (``ops`` wide; 1: none)."""
    return (np.zeros((2, h, 4, 4)), np.zeros((F, 16, 4)), np.zeros((F, 16, 12)), np.zeros((F, 3, 16, 16)),
            np.zeros((h + 2 * F, 6, ops, 16, 12)))


@njit(**_JIT)
def _circuits(angles, n0, count, ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, out):
    """Circuits ``n0 .. n0 + count`` of ``angles (N, T, A)`` from ``|0...0>``: the per-step
    probabilities into ``out (N, T, 2**F)`` (float64)."""
    T = angles.shape[1]
    F = h = nb.shape[0]
    mem, U, W, R, tapes = _workspace(h, F, 1)
    c, levels, x = np.zeros(4**h), np.zeros(2 * 4**h), np.zeros(16)
    for n in range(n0, n0 + count):
        c[:] = _zero_state(h)
        for t in range(T):
            _instruments(ints, floats, n_ops, mats1, where2, vals2, nnz2, init, effect, nb, angles[n, t],
                         angles[n, t - 1 if t else 0], t == 0, mem, U, W, R, tapes, False)
            _probabilities(R, nb, c, levels, out[n, t])
            if t < T - 1:
                for f in range(F):
                    _channel(R, f, 4 * nb[f], c, x, False, c, R)
