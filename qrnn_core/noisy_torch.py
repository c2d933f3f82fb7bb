"""The noisy engine's tables as differentiable torch operations: an independent check of the compiled engine.

The same tables (:class:`~qrnn_core.noisy_program.NoisyStep`) and the same representation as the
compiled engine (:mod:`qrnn_core.noisy_forward`): real Pauli vectors of the memory, each factor's
instruments ``R_f[s]`` contracted from its stages ``u`` and ``W``, a tree of branch states for the
joint outcome probabilities, the chain for the memory. Here every stage op runs batched over all
circuits and steps at once (the operators do not depend on the state), and only the memory's walk
through the steps is a loop. Its forward checks the compiled loops and reverse-mode autograd through
it checks the compiled adjoint (:mod:`qrnn_core.noisy_adjoint`), by another route (the tests compare
them); it is about a hundred times slower than the adjoint, so the engine does not use it.
"""

from __future__ import annotations

import torch

from .noisy_program import FIX1, FIX2, MEM, RZ, NoisyStep


class _Run:
    """One batch of ``angles (N, T, A)``: the step's stage ops as torch operations."""

    def __init__(self, step: NoisyStep, angles: torch.Tensor):
        self.step = step
        self.th = angles
        self.thp = torch.cat([angles[:, :1], angles[:, :-1]], 1)  # the previous step's angles
        T = angles.shape[1]
        self.first = (torch.arange(T) == 0).to(angles.device)  # ops of the previous step skip step 0
        self.mats1 = torch.as_tensor(step.mats1, dtype=angles.dtype, device=angles.device)
        self.mats2 = torch.as_tensor(step.mats2, dtype=angles.dtype, device=angles.device)
        self.mem: list[torch.Tensor] = []

    def part(self, stage: int, part: int, X: torch.Tensor) -> torch.Tensor:
        """Part ``part`` of stage ``stage`` on ``X (N, T, 4, n1, ncol)`` (slot-0 digit, slot-1 digit, column)."""
        step = self.step
        for q in range(step.n_ops[stage, part]):
            kind, slot, idx, flag = (int(v) for v in step.ints[stage, part, q])
            skip = self.first[None, :, None, None, None] if flag and kind != MEM else None
            if kind == FIX2:
                N, T, _, _, ncol = X.shape
                new = (self.mats2[idx] @ X.reshape(N, T, 16, ncol)).reshape(X.shape)
            elif kind == RZ:
                coef, const = (float(v) for v in step.floats[stage, part, q])
                phi = const + (coef * (self.thp if flag else self.th)[..., idx] if idx >= 0 else 0 * self.th[..., 0])
                c, s = torch.cos(phi)[..., None, None], torch.sin(phi)[..., None, None]
                d = X.unbind(2 + slot)
                new = torch.stack([d[0], c * d[1] - s * d[2], s * d[1] + c * d[2], d[3]], 2 + slot)
            else:
                M = self.mats1[idx] if kind == FIX1 else (self.mem[idx].mT if flag else self.mem[idx])
                M = M[None, None] if M.dim() == 2 else M
                new = (torch.einsum("ntij,ntjbc->ntibc", M.expand(X.shape[:2] + (4, 4)), X) if slot == 0
                       else torch.einsum("ntij,ntajc->ntaic", M.expand(X.shape[:2] + (4, 4)), X))
            X = new if skip is None else torch.where(skip, X, new)
        return X

    def stage(self, stage: int, P0: torch.Tensor, P1: torch.Tensor) -> torch.Tensor:
        """A factor's stage: heads on ``P0 (N, T, 4, 1, c0)``, ``P1 (N, T, 4, 1, c1)``, their
        product ``(N, T, 4, 4, c0 * c1)``, the body, the tails (composed first)."""
        P0, P1 = self.part(stage, 0, P0), self.part(stage, 1, P1)
        N, T = P0.shape[:2]
        X = torch.einsum("ntaxi,ntbyj->ntabij", P0, P1).reshape(N, T, 4, 4, -1)
        X = self.part(stage, 2, X)
        for slot in range(2):
            if self.step.n_ops[stage, 3 + slot]:
                G = self.part(stage, 3 + slot, self.eye(N, T))[:, :, :, 0]
                X = (torch.einsum("ntij,ntjbc->ntibc", G, X) if slot == 0 else torch.einsum("ntij,ntajc->ntaic", G, X))
        return X

    def eye(self, N: int, T: int) -> torch.Tensor:
        return torch.eye(4, dtype=self.th.dtype, device=self.th.device).expand(N, T, 4, 4)[:, :, :, None]

    def instruments(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per factor ``R_f[s]`` stacked ``(N, T, 2, 4m, 4m)`` and the channel ``(N, T, 4m, 4m)``."""
        step = self.step
        N, T = self.th.shape[:2]
        h = step.h
        self.mem = [self.part(j, 0, self.eye(N, T))[:, :, :, 0] for j in range(h)]
        init = torch.as_tensor(step.init, dtype=self.th.dtype, device=self.th.device)
        effect = torch.as_tensor(step.effect, dtype=self.th.dtype, device=self.th.device)
        outcomes, channels = [], []
        for f, m in enumerate(int(v) for v in step.nb):
            v = torch.where(self.first[:, None], init[f, 0], init[f, 1])  # (T, 4)
            U = self.stage(h + 2 * f, self.eye(N, T), v[None, :, :, None, None].expand(N, T, 4, 1, 1))
            e = effect[f].T[None, None, :, None, :].expand(N, T, 4, 1, 2)
            b = torch.eye(4, dtype=self.th.dtype, device=self.th.device)[:, :m]  # b's identity (I alone: no b)
            W = self.stage(h + 2 * f + 1, e, b[None, None, :, None, :].expand(N, T, 4, 1, m))
            W = W[:, :, :, :m].reshape(N, T, 4, m, 2, m)  # (r, b, s, b')
            R = torch.einsum("ntxra,ntrbsc->ntsxcab", U, W).reshape(N, T, 2, 4 * m, 4 * m)
            outcomes.append(R)
            channels.append(R.sum(2))
        return outcomes, channels


def _zero_state(h: int, dtype, device) -> torch.Tensor:
    """``|0...0>`` as a Pauli vector ``(4**h,)``: 1 where every digit is I or Z."""
    one = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype, device=device)
    out = torch.ones(1, dtype=dtype, device=device)
    for _ in range(h):
        out = torch.kron(out, one)
    return out


def probabilities(step: NoisyStep, angles: torch.Tensor) -> torch.Tensor:
    """Per-step readout probabilities ``(N, T, 2**F)`` float64 of ``angles (N, T, A)``, differentiable."""
    angles = angles.to(torch.float64)
    N, T = angles.shape[:2]
    outcomes, channels = _Run(step, angles).instruments()
    F = len(outcomes)
    c = _zero_state(step.h, angles.dtype, angles.device).expand(N, -1)
    out = []
    for t in range(T):
        x = c[:, None]  # branches (N, nbr, size)
        for f in range(F):
            R = outcomes[f][:, t]
            K2 = R.shape[-1]
            if f == F - 1:
                out.append(torch.einsum("nsk,nrk->nsr", R[:, :, 0], x).reshape(N, -1))
                break
            m = K2 // 4
            L = x.shape[-1] // K2
            y = torch.einsum("nsbk,nrkl->nsrbl", R[:, :, :m], x.reshape(N, x.shape[1], K2, L))
            x = y.reshape(N, 2 * x.shape[1], m * L)
        if t < T - 1:
            for f in range(F):
                K2 = channels[f].shape[-1]
                lead = 4**f
                c = torch.einsum("nik,nhkl->nhil", channels[f][:, t], c.reshape(N, lead, K2, -1)).reshape(N, -1)
    return torch.stack(out, 1)
