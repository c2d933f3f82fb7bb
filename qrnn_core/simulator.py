"""Exact simulation of the QRNN circuit in PyTorch.

State convention: the memory register's reduced density matrix ``rho``, shape ``(N, D, D)`` with
``D = 2 ** (n // 2)``, memory qubit ``j`` (qubit ``2j``) the ``j``-th most significant index bit.
The readout register restarts in ``|0...0>`` every step, so the memory is the whole state between
steps; ``D`` columns always suffice.

One step (see :mod:`qrnn_core.program`) is ``U_post · E_s · U_pre`` on the memory, ``E_s`` the
product of the readout qubits' Kraus factors. The factors are split into two groups, A (applied
first) and B, with dense operators ``KA_a`` and ``KB_b`` (``U_pre`` folded into A, ``U_post``
into B), so that

    rho_a = KA_a rho KA_a^†,   p(a, b) = tr(KB_b^† KB_b rho_a),   rho' = sum_b KB_b (sum_a rho_a) KB_b^†.

That is four ``D x D``-sized batched matmuls a step instead of one ``D^2 x D`` Kraus map. The
per-step operators are built with few, large operations over many steps at once (all of them for
small batches; a cache-sized chunk of steps for large ones) before the sequential loop over time.
"""

from __future__ import annotations

import math
import string

import torch

from .circuit import build_step_block, check_n_qubits
from .program import ReadoutFactor, StepProgram, read_step_program
from .validation import check_angles, check_generator, check_shots, resolve_device

_PAULI = {
    "x": ((0, 1), (1, 0)),
    "y": ((0, -1j), (1j, 0)),
    "z": ((1, 0), (0, -1)),
}


# Bytes of dense step operators built at once (see _Plan.run): about what stays in a core's cache.
_CHUNK_BYTES = 4 * 2**20
# Sequences simulated together at most; larger batches are split into tiles of this size.
_TILE = 256


class TorchSimulator:
    """Exact per-step readout probabilities of the QRNN circuit, differentiable with autograd.

    Parameters
    ----------
    n_qubits : even number of qubits (8 in the seed).
    dtype : ``torch.complex128`` (default) or ``torch.complex64``.
    device : ``"cpu"``, ``"cuda"`` or a ``torch.device``.
    """

    #: The exact estimator may differentiate this backend (autograd through it).
    differentiable = True

    def __init__(self, n_qubits: int = 8, *, dtype=torch.complex128, device="cpu"):
        self.n_qubits = check_n_qubits(n_qubits)
        if dtype not in (torch.complex128, torch.complex64):
            raise ValueError(f"dtype must be torch.complex128 or torch.complex64, got {dtype}")
        self.dtype = dtype
        self.real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
        self.device = resolve_device(device)
        self.block = build_step_block(self.n_qubits)
        self.program: StepProgram = read_step_program(self.block)
        self._plan = _Plan(self.program, dtype, self.device)

    @property
    def n_angles(self) -> int:
        return self.program.n_angles

    @property
    def n_outcomes(self) -> int:
        return self.program.n_outcomes

    def probabilities(
        self,
        angles: torch.Tensor,
        *,
        shots: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Per-step readout probabilities.

        Parameters
        ----------
        angles : real tensor ``(..., T, n_angles)``, any leading batch dims; step ``t`` of each
            sequence uses ``angles[..., t, :]`` in the order of :func:`build_step_block`.
        shots : ``None`` for exact probabilities; else each step's outcome counts are drawn
            (multinomial, ``shots`` draws) and ``counts / shots`` is returned. Each step's counts
            have the exact marginal law of a ``shots``-shot run; steps are drawn independently.
        generator : the ``torch.Generator`` (on this simulator's device) that ``shots`` draw from.

        Returns
        -------
        ``(..., T, 2 ** (n // 2))`` tensor of ``float64`` (``float32`` for complex64), outcome
        ``s = sum_k b_k 2**k`` for readout qubit ``k`` reading ``b_k``.
        """
        angles = check_angles(angles, self.n_angles, self.device, self.real_dtype)
        shots = check_shots(shots)
        probs = self._plan.run(angles)
        if shots is None:
            return probs
        check_generator(generator, self.device)
        return sample_frequencies(probs, shots, generator)

    __call__ = probabilities


def sample_frequencies(probs: torch.Tensor, shots: int, generator: torch.Generator) -> torch.Tensor:
    """``counts / shots`` with counts ~ Multinomial(shots, probs) independently per row.

    ``probs`` : ``(..., R)`` rows of probabilities; returns the same shape and dtype, detached
    (sampled frequencies have no gradient: estimators perturb the angles instead). Drawn as
    conditional binomials, ``count_k ~ Binomial(shots - count_0 - ... - count_{k-1},
    p_k / (p_k + ... + p_{R-1}))``: ``R - 1`` draws a row instead of ``shots`` categorical ones.
    """
    flat = probs.detach().reshape(-1, probs.shape[-1]).clamp_min(0)
    flat = flat / flat.sum(1, keepdim=True)
    counts = torch.empty_like(flat)
    remaining = torch.full_like(flat[:, 0], float(shots))
    mass_left = torch.ones_like(remaining)  # p_k + ... + p_{R-1}
    for k in range(flat.shape[1] - 1):
        p = (flat[:, k] / mass_left.clamp_min(torch.finfo(flat.dtype).tiny)).clamp(0, 1)
        counts[:, k] = torch.binomial(remaining, p, generator=generator)
        remaining = remaining - counts[:, k]
        mass_left = mass_left - flat[:, k]
    counts[:, -1] = remaining
    return (counts / shots).reshape(probs.shape)


class _Plan:
    """The StepProgram turned into tensor operations (constants built once per simulator)."""

    def __init__(self, program: StepProgram, dtype, device):
        self.program = program
        self.dtype, self.device = dtype, device
        self.h = len(program.memory)
        self.D = 2**self.h
        # -i σ of each angle's rotation axis (one extra zero row: angle n_angles is the identity),
        # so that exp(-i θ σ / 2) = cos(θ/2) 1 + sin(θ/2) (-i σ).
        axis = {g.angle: g.axis for g in program.gates}
        paulis = [_PAULI[axis[i]] if i in axis else ((0, 0), (0, 0)) for i in range(program.n_angles)]
        generators = -1j * torch.tensor(paulis + [((0, 0), (0, 0))], dtype=dtype, device=device)
        self.pauli_real, self.pauli_imag = generators.real.contiguous(), generators.imag.contiguous()
        self.eye2 = torch.eye(2, dtype=dtype, device=device)
        self.eye2_real = self.eye2.real.contiguous()
        # Fuse runs of single-qubit gates: rows of angle indices, padded with the identity angle.
        self.runs: list[tuple[int, ...]] = []
        self.memory_pre = [self._add_run(gs) for gs in program.memory_pre]
        self.memory_post = [self._add_run(gs) for gs in program.memory_post]
        self.factor_steps = [self._factor_steps(f) for f in program.factors]
        width = max((len(r) for r in self.runs), default=1)
        pad = program.n_angles
        self.run_index = torch.tensor(
            [list(r) + [pad] * (width - len(r)) for r in self.runs] or [[pad]], device=device
        )
        half = (len(program.factors) + 1) // 2
        self.group_a, self.group_b = program.factors[:half], program.factors[half:]
        bits = [f.bit for f in self.group_b][::-1] + [f.bit for f in self.group_a][::-1]
        # Partial trace of a memory density matrix over the qubits group B does not touch.
        QB = {program.memory.index(q) for f in self.group_b for q in f.memory}
        names = _Letters()
        ket = [names() for _ in range(self.h)]
        bra = [names() if j in QB else ket[j] for j in range(self.h)]
        kept = "".join(ket[j] for j in sorted(QB)) + "".join(bra[j] for j in sorted(QB))
        self.trace_b = f"...{''.join(ket)}{''.join(bra)}->...{kept}"
        # p is computed with axes (b bits, newest first; a bits, newest first): reorder to s's bits.
        self.outcome_perm = [bits.index(k) for k in reversed(range(len(bits)))]

    def _add_run(self, gates) -> int:
        self.runs.append(tuple(g.angle for g in gates))
        return len(self.runs) - 1

    def _factor_steps(self, factor: ReadoutFactor):
        """A factor's gates as ("run", row) and ("pair", gate) steps, runs of one-qubit gates fused."""
        steps, run = [], []
        for g in factor.gates:
            if len(g.qubits) == 1:
                run.append(g)
                continue
            if run or not steps:
                steps.append(("run", self._add_run(run)))
                run = []
            steps.append(("pair", g))
        steps.append(("run", self._add_run(run)))
        return steps

    # -- building the per-step operators, all steps and sequences at once ----------------------

    def rotations(self, angles: torch.Tensor) -> torch.Tensor:
        """``exp(-i θ σ / 2)`` for every angle: ``(..., n_angles + 1, 2, 2)``, last = identity."""
        half = torch.nn.functional.pad(angles, (0, 1)) / 2
        # cos and sin of real halves (complex cos/sin are several times slower), then one cast.
        c, s = torch.cos(half)[..., None, None], torch.sin(half)[..., None, None]
        return torch.complex(c * self.eye2_real + s * self.pauli_real, s * self.pauli_imag)

    def fused_runs(self, rot: torch.Tensor) -> torch.Tensor:
        """Each run's product ``G_k ··· G_1``: ``(..., n_runs, 2, 2)``."""
        mats = rot[..., self.run_index, :, :]  # (..., n_runs, width, 2, 2)
        out = mats[..., 0, :, :]
        for k in range(1, mats.shape[-3]):
            out = mats[..., k, :, :] @ out
        return out

    def factor_operator(self, factor, steps, rot, runs) -> torch.Tensor:
        """Readout factor's Kraus operators ``E[..., s, out..., in...]`` on its memory qubits."""
        k = len(factor.memory)
        axis_of = {q: 1 + i for i, q in enumerate(factor.memory)}  # readout is axis 0
        first = runs[..., steps[0][1], :, 0]  # the readout's state after its first run
        op = first.reshape(first.shape + (1,) * (2 * k))
        if k:
            eye = torch.eye(2**k, dtype=self.dtype, device=self.device).reshape((2,) * 2 * k)
            op = op * eye
        nd = 1 + 2 * k
        for kind, item in steps[1:]:
            if kind == "run":
                op = _apply(runs[..., item, :, :], op, [0], nd)
            else:  # controlled rotation: |0><0| ⊗ 1 + |1><1| ⊗ R on (control, target)
                control, target = item.qubits
                rot_t = rot[..., item.angle, :, :]
                gate = torch.zeros(rot_t.shape[:-2] + (2, 2, 2, 2), dtype=self.dtype, device=self.device)
                gate[..., 0, :, 0, :] = self.eye2
                gate[..., 1, :, 1, :] = rot_t
                axes = [axis_of.get(control, 0), axis_of.get(target, 0)]
                op = _apply(gate, op, axes, nd)
        return op

    def chain(self, group, factor_ops):
        """The group's factors multiplied on the memory qubits they touch.

        Returns ``(L, Q)``: ``Q`` the touched memory positions (ascending) and ``L`` of shape
        ``(..., S, 2**|Q| out, 2**|Q| in)``, the outcome index ``S`` with the newest bit first.
        """
        Q = sorted({self.program.memory.index(q) for f in group for q in f.memory})
        names = _Letters()
        start = {j: names() for j in Q}
        cur = dict(start)
        operands, specs, bits = [], [], []
        for factor, op in zip(group, factor_ops):
            qs = [self.program.memory.index(q) for q in factor.memory]
            new = {j: names() for j in qs}
            bits.insert(0, names())
            operands.append(op)
            specs.append(bits[0] + "".join(new[j] for j in qs) + "".join(cur[j] for j in qs))
            cur.update(new)
        untouched = [j for j in Q if cur[j] == start[j]]  # only if a factor touches no memory
        if not operands or untouched:
            for j in untouched or Q:
                cur[j] = names()
                operands.append(self.eye2)
                specs.append(cur[j] + start[j])
        out = "".join(bits) + "".join(cur[j] for j in Q) + "".join(start[j] for j in Q)
        if not operands:  # an empty group: the identity, one outcome
            return torch.ones((1, 1, 1), dtype=self.dtype, device=self.device), Q
        L = torch.einsum(",".join("..." + sp for sp in specs) + "->..." + out, *operands)
        size = 2 ** len(Q)
        return L.reshape(L.shape[: L.dim() - 2 * len(Q) - len(bits)] + (-1, size, size)), Q

    def dense(self, L, Q, unitaries, side: str) -> torch.Tensor:
        """``L ⊗ 1`` with the memory unitaries folded in, as dense ``D x D`` matrices.

        ``L`` is ``(..., S, 2**|Q|, 2**|Q|)`` from :meth:`chain`. ``side="pre"``:
        ``(L ⊗ 1)(⊗_j U_j)`` laid out ``(..., S, D, D)``; ``side="post"``: ``(⊗_j U_j)(L ⊗ 1)``
        laid out ``(..., D, S, D)`` (outcome between rows and columns).
        """
        h, q = self.h, len(Q)
        UQ = _kron([unitaries[..., j, :, :] for j in Q], self.dtype, self.device).unsqueeze(-3)
        L = L @ UQ if side == "pre" else UQ @ L
        others = [j for j in range(h) if j not in Q]
        rest = _kron([unitaries[..., j, :, :] for j in others], self.dtype, self.device)
        names = _Letters()
        o, i, s = [names() for _ in range(h)], [names() for _ in range(h)], names()
        lhs = s + "".join(o[j] for j in Q) + "".join(i[j] for j in Q)
        rhs = "".join(o[j] for j in others) + "".join(i[j] for j in others)
        out = s + "".join(o) + "".join(i) if side == "pre" else "".join(o) + s + "".join(i)
        K = torch.einsum(
            f"...{lhs},...{rhs}->...{out}",
            L.reshape(L.shape[:-2] + (2,) * (2 * q)),
            rest.reshape(rest.shape[:-2] + (2,) * (2 * len(others))),
        )
        S = L.shape[-3]
        shape = (S, self.D, self.D) if side == "pre" else (self.D, S, self.D)
        return K.reshape(K.shape[: K.dim() - 2 * h - 1] + shape)

    # -- the evaluation -------------------------------------------------------------------------

    def run(self, angles: torch.Tensor) -> torch.Tensor:
        """``(..., T, n_angles)`` real -> ``(..., T, R)`` probabilities (the simulator's contract)."""
        batch, T = angles.shape[:-2], angles.shape[-2]
        flat = angles.reshape(-1, T, angles.shape[-1])
        # Very large batches go through in tiles: the per-step working set then stays in cache.
        if len(flat) > _TILE:
            return torch.cat([self._run_tile(tile) for tile in flat.split(_TILE)]).reshape(batch + (T, -1))
        return self._run_tile(flat).reshape(batch + (T, -1))

    def _run_tile(self, angles: torch.Tensor) -> torch.Tensor:
        batch, T = angles.shape[:-2], angles.shape[-2]
        N, D = math.prod(batch), self.D
        # Time-major so that each step's operators are one contiguous block.
        rot = self.rotations(angles.reshape(N, T, -1).transpose(0, 1))  # (T, N, A+1, 2, 2)
        runs = self.fused_runs(rot)
        ops = [self.factor_operator(f, st, rot, runs) for f, st in zip(self.program.factors, self.factor_steps)]
        half = len(self.group_a)
        LA, QA = self.chain(self.group_a, ops[:half])
        LB, QB = self.chain(self.group_b, ops[half:])
        pre, post = runs[..., self.memory_pre, :, :], runs[..., self.memory_post, :, :]
        SA, SB = LA.shape[-3], LB.shape[-3]
        # The dense operators are built a chunk of steps at a time, sized to stay in cache for
        # large batches while small batches build all steps in one go (fewer, larger operations).
        chunk = max(1, _CHUNK_BYTES // (N * (SA + SB) * D * D * rot.element_size()))

        rho = torch.zeros(N, D, D, dtype=self.dtype, device=self.device)
        rho[:, 0, 0] = 1
        sigma = []  # per step: the rho_a reduced to group B's qubits, (N, SA, 2**|QB|, 2**|QB|)
        for t0 in range(0, T, chunk):
            steps = slice(t0, t0 + chunk)
            KA = self.dense(LA[steps], QA, pre[steps], "pre")  # (chunk, N, SA, D, D)
            KB = self.dense(LB[steps], QB, post[steps], "post")  # (chunk, N, D, SB, D)
            KAd = KA.mH.contiguous()  # KA_a^†
            KBd = KB.reshape(-1, N, D, SB * D).mH.contiguous()  # rows (b, k): KB_b^† stacked
            for ka, kad, kb, kbd in zip(KA, KAd, KB, KBd):
                # rho_a = KA_a rho KA_a^†
                x = (ka.reshape(N, SA * D, D) @ rho).reshape(N * SA, D, D)
                rho_a = (x @ kad.reshape(N * SA, D, D)).reshape(N, SA, D, D)
                sigma.append(torch.einsum(self.trace_b, rho_a.reshape((N, SA) + (2,) * (2 * self.h))))
                # rho' = sum_b KB_b rho_bar KB_b^†: with KB's rows (i, b), KB rho_bar is (i, (b, k))
                w = (kb.reshape(N, D * SB, D) @ rho_a.sum(1)).reshape(N, D, SB * D)
                rho = w @ kbd
        # p(a, b) = tr(KB_b^† KB_b rho_a) = tr(LB_b^† LB_b sigma_a)
        q = 2 ** len(QB)
        sigma = torch.stack(sigma).reshape(T, N, SA, q, q)
        p = torch.einsum("...bjk,...akj->...ba", LB.mH @ LB, sigma).real
        p = p.reshape((T, N) + (2,) * len(self.outcome_perm)).permute(
            1, 0, *[2 + i for i in self.outcome_perm]
        )
        return p.reshape(batch + (T, -1))


class _Letters:
    """Fresh einsum index letters."""

    def __init__(self):
        self._it = iter(string.ascii_letters)

    def __call__(self) -> str:
        return next(self._it)


def _kron(mats, dtype, device) -> torch.Tensor:
    """Kronecker product of ``(..., 2, 2)`` matrices, first = most significant: ``(..., 2^k, 2^k)``."""
    out = torch.ones((1, 1), dtype=dtype, device=device)
    for m in mats:
        out = (out[..., :, None, :, None] * m[..., None, :, None, :]).reshape(
            m.shape[:-2] + (out.shape[-2] * 2, out.shape[-1] * 2)
        )
    return out


def _apply(gate: torch.Tensor, op: torch.Tensor, axes: list[int], nd: int) -> torch.Tensor:
    """Contract ``gate[..., out(axes), in(axes)]`` into ``op``'s leading ``nd`` axes ``axes``."""
    k = len(axes)
    letters = string.ascii_letters
    op_idx = list(letters[:nd])
    new = list(letters[nd : nd + k])
    gate_idx = "".join(new) + "".join(op_idx[a] for a in axes)
    out_idx = list(op_idx)
    for a, n in zip(axes, new):
        out_idx[a] = n
    return torch.einsum(f"...{gate_idx},...{''.join(op_idx)}->...{''.join(out_idx)}", gate, op)
