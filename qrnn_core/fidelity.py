"""End-to-end fidelity: the original study's own trained models, evaluated by this study's simulator.

The original's checkpoints (``data/original/*.pth``) are loaded into this study's :class:`QRNN` and
run on the original's series with the deck's validation protocol (the last 30 % as ONE 2,969-step
sequence), with exact probabilities, and compared with the RMSEs the original logged with finite
shots on Qiskit Aer. A logged value can only agree if circuit, angle order, outcome bit order and
readout layout are all the original's.

Shot noise, two ways (both from the same exact run):

* ``independent``: each step's counts drawn on their own, ``Multinomial(shots, p_t)`` (what this
  study's :func:`~qrnn_core.evaluation.validate` does), sampled ``shot_seeds`` times;
* ``trajectories``: what Aer does with ONE circuit of all 2,969 steps: each shot is one trajectory
  whose outcomes at different steps are correlated through the memory qubits. Each step's counts
  have the same law as above (so the same expected RMSE), but the RMSE spreads wider. Its spread is
  computed exactly to first order: the RMSE's fluctuation is ``(1/n) sum_shots G_s / (T RMSE)`` with
  ``G = sum_t a_t[o_t]`` additive along a trajectory, whose per-shot covariance
  :func:`trajectory_covariance` propagates through the circuit's Kraus operators.

A logged value agrees when it lies in the central 99 % of the trajectory model's (normal)
distribution, ``|z| <= 2.576``; all of them together agree at 99 % when each lies in the central
99.9 % (``|z| <= 3.29``, Bonferroni over the 10 y and z values; :func:`largest_deviation` is the
largest of those 10).

:func:`logged_matches` traces a figure the deck states to the logged values it can be rounded from.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import torch

from .data import DataConfig, make_task
from .model import QRNN
from .program import StepProgram
from .quantum_layer import angles_from
from .simulator import sample_frequencies
from .train import TrainConfig, build_model

#: Where the original's checkpoints and logs are (see its README.md).
ORIGINAL_DIR = Path(__file__).resolve().parent.parent / "data" / "original"


class Checkpoint(NamedTuple):
    optimiser: str
    epoch: int
    log: str  #: the log file holding its validation RMSEs (y, z, mean) per epoch
    row: int  #: its row in that log
    shots: int  #: shots of the original's validation of it


#: The original's checkpoints. The FDSA log holds epochs 2..10 (epoch 4 is row 2). Shots: the
#: original names a checkpoint ``lorenz_{qubits}_{method}_SIMPLE_{blocks}_{SHOTS}_{epoch}_QRNN_..``
#: and validates with the same SHOTS: 1,024 for the SPSA run, 1,536 for the FDSA server run.
CHECKPOINTS = {
    "spsa_epoch1": Checkpoint("SPSA", 1, "spsa_val_rmse.npy", 0, 1024),
    "spsa_epoch2": Checkpoint("SPSA", 2, "spsa_val_rmse.npy", 1, 1024),
    "spsa_epoch3": Checkpoint("SPSA", 3, "spsa_val_rmse.npy", 2, 1024),
    "spsa_epoch4": Checkpoint("SPSA", 4, "spsa_val_rmse.npy", 3, 1024),
    "fdsa_epoch4": Checkpoint("FDSA", 4, "fdsa_val_rmse.npy", 2, 1536),
}
#: The original's validation logs (``data/original/``): the run each comes from, and the epoch of its
#: first row (the FDSA server run saved none for epoch 1).
LOGS = {
    "spsa_val_rmse.npy": ("the SPSA run whose checkpoints are evaluated here", 1),
    "spsa_last_val_rmse.npy": ("the 10-epoch SPSA run that the deck plots", 1),
    "fdsa_val_rmse.npy": ("the FDSA server run", 2),
}
#: Columns of the logs and outputs of a row: RMSE of y, of z, and their mean.
OUTPUTS = ("y", "z", "mean")
#: The central band a logged value must lie in, and its half-width in standard deviations.
BAND = 0.99
Z_BAND = NormalDist().inv_cdf(0.5 + BAND / 2)  # 2.576
#: The same band for all the logged values at once (Bonferroni): the y and z of the 5 checkpoints
#: are 10 comparisons (the mean adds none), so each must lie in the central 99.9 %.
FAMILY = 2 * len(CHECKPOINTS)
Z_FAMILY = NormalDist().inv_cdf(1 - (1 - BAND) / (2 * FAMILY))  # 3.29
#: Seed of the independent-step draws (checkpoint k draws from SHOT_SEED + k).
SHOT_SEED = 1929
_C = torch.complex128
_PAULI = {"x": ((0, 1), (1, 0)), "y": ((0, -1j), (1j, 0)), "z": ((1, 0), (0, -1))}


def load_original(name: str) -> dict[str, torch.Tensor]:
    """The state dict of checkpoint ``name`` (a key of :data:`CHECKPOINTS`), float32:
    ``input_layer.weight (55, 1)``, ``input_layer.bias (55,)``, ``output_layer.weight (2, 16)``,
    ``output_layer.bias (2,)``. ``weights_only``: nothing in the file can run code."""
    if name not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {name!r}; one of {', '.join(CHECKPOINTS)}")
    return torch.load(ORIGINAL_DIR / f"{name}.pth", weights_only=True)


def logged_rmse(name: str) -> np.ndarray:
    """The original's logged validation RMSE of checkpoint ``name``: ``(3,)`` = (y, z, mean)."""
    c = CHECKPOINTS[name]
    return np.load(ORIGINAL_DIR / c.log)[c.row]


def logged_matches(figure: float, decimals: int = 4) -> list[tuple[str, int, str, float]]:
    """Every value in the original's validation logs (:data:`LOGS`) that rounds to ``figure``, a number
    stated to ``decimals`` places: ``(log file, epoch, output, logged value)``."""
    half = 0.5 * 10**-decimals * (1 + 1e-9)  # the last factor: a value exactly on the edge still rounds
    found = []
    for log, (_, first) in LOGS.items():
        for k, row in enumerate(np.load(ORIGINAL_DIR / log)):
            found += [(log, first + k, output, float(v)) for output, v in zip(OUTPUTS, row)
                      if abs(v - figure) <= half]
    return found


def model_from_original(state: dict, precision: str = "complex128") -> QRNN:
    """This study's 8-qubit QRNN (exact PyTorch simulator) holding the original's parameters, float64.

    ``input_layer.weight[:, 0]``, ``input_layer.bias`` (55,) -> ``quantum.weight``, ``quantum.bias``
    (angle ``i`` of step ``t`` is ``weight[i] * x_t + bias[i]``, same gate order);
    ``output_layer`` (2, 16), (2,) -> ``readout`` (same outcome order).
    """
    model, _ = build_model(TrainConfig(method="exact", precision=precision))
    with torch.no_grad():
        model.quantum.weight.copy_(state["input_layer.weight"][:, 0])
        model.quantum.bias.copy_(state["input_layer.bias"])
        model.readout.weight.copy_(state["output_layer.weight"])
        model.readout.bias.copy_(state["output_layer.bias"])
    return model.eval()


@lru_cache(maxsize=1)
def validation_sequence() -> tuple[torch.Tensor, torch.Tensor]:
    """The deck's validation sequence on the original series: ``x (T,)``, targets ``(T, 2)``, T = 2,969."""
    task = make_task(DataConfig(source="original"))
    return task.val_x, task.val_y


# -- the circuit as Kraus operators (trajectories) ---------------------------------------------


def _rotation(axis: str, theta: torch.Tensor) -> torch.Tensor:
    """``exp(-i theta sigma / 2)``: ``(T,)`` -> ``(T, 2, 2)``."""
    h = theta[:, None, None] / 2
    return torch.cos(h) * torch.eye(2, dtype=_C) - 1j * torch.sin(h) * torch.tensor(_PAULI[axis], dtype=_C)


def _mix(U: torch.Tensor, v: torch.Tensor, dim: int) -> torch.Tensor:
    """``U (T, 2, 2)`` applied along axis ``dim`` (size 2) of ``v (T, ...)``."""
    axes = "abcdefgh"[: v.dim()]
    before, after = axes[1:dim], axes[dim + 1 :]
    return torch.einsum(f"tij,t{before}j{after}->t{before}i{after}", U, v)


def kraus_operators(program: StepProgram, angles: torch.Tensor) -> torch.Tensor:
    """Per step and outcome, the memory's Kraus operator: ``angles (T, n_angles)`` -> ``(T, R, D, D)``.

    ``K[t, s]`` maps the memory before step ``t`` to the (unnormalised) memory after it when the
    readout register reads ``s = sum_k b_k 2**k`` (readout qubit ``k`` reads ``b_k``, the
    simulator's convention); memory index ``sum_j b_j 2**j`` over memory qubit ``j``. Built from
    the step's own gate list (:class:`StepProgram`), runs of one-qubit gates multiplied first.
    """
    n, T = program.n_qubits, len(angles)
    mem, ro = program.memory, program.readout
    D, R = 2 ** len(mem), 2 ** len(ro)
    index = torch.arange(2**n)
    m_of = sum(((index >> q) & 1) << j for j, q in enumerate(mem))
    s_of = sum(((index >> q) & 1) << k for k, q in enumerate(ro))
    psi = torch.zeros(T, D, 2**n, dtype=_C)  # column m: |m> on the memory, |0> on the readout
    psi[:, m_of[s_of == 0], index[s_of == 0]] = 1
    pending: dict[int, torch.Tensor] = {}

    def flush(q: int) -> None:
        nonlocal psi
        if q in pending:
            psi = _mix(pending.pop(q), psi.view(T, -1, 2, 2**q), 2).reshape(T, D, 2**n)

    for g in program.gates:
        U = _rotation(g.axis, angles[:, g.angle])
        if len(g.qubits) == 1:
            q = g.qubits[0]
            pending[q] = U @ pending[q] if q in pending else U
            continue
        control, target = g.qubits
        flush(control), flush(target)
        hi, lo = max(g.qubits), min(g.qubits)
        v = psi.view(T, -1, 2, 2 ** (hi - lo - 1), 2, 2**lo)  # bit hi on axis 2, bit lo on axis 4
        sub = v.select(2 if control == hi else 4, 1)  # the control reads 1
        sub.copy_(_mix(U, sub, 3 if control == hi else 2))
    for q in list(pending):
        flush(q)
    K = torch.zeros(T, R, D, D, dtype=_C)
    K[:, s_of, m_of, :] = psi.transpose(1, 2)
    return K


def trajectory_covariance(program: StepProgram, angles: torch.Tensor, a: torch.Tensor,
                          chunk: int = 256) -> torch.Tensor:
    """Per-shot covariance ``(m, m)`` of ``G = sum_t a[t, o_t]`` along ONE shot's trajectory.

    ``angles (T, n_angles)``, ``a (T, R, m)`` real. Exact: ``M0`` (the memory's state) and
    ``M1_i = E[(G_i so far, centred) ; state]`` are propagated through the Kraus operators;
    ``E[G_i G_j]`` gains ``sum_o p_t(o) a_i a_j + a_i tr(K_o M1_j K_o^†) + a_j tr(K_o M1_i K_o^†)``
    per step (``a`` centred per step). Steps are built ``chunk`` at a time.
    """
    m = a.shape[-1]
    D = 2 ** len(program.memory)
    M = torch.zeros(1 + m, D, D, dtype=_C)
    M[0, 0, 0] = 1
    cov = torch.zeros(m, m, dtype=torch.float64)
    for angle_chunk, a_chunk in zip(angles.split(chunk), a.split(chunk)):
        for K, at in zip(kraus_operators(program, angle_chunk), a_chunk):
            Y = K[:, None] @ M[None] @ K.mH[:, None]  # (R, 1 + m, D, D)
            tr = torch.diagonal(Y, dim1=-2, dim2=-1).sum(-1).real  # (R, 1 + m); tr[:, 0] = p_t
            p = tr[:, 0]
            at = at - p @ at  # centred: E[a_t[o_t]] = 0
            cross = at.T @ tr[:, 1:]  # (m, m): sum_o a_i(o) tr(K_o M1_j K_o^†)
            cov += at.T @ (p[:, None] * at) + cross + cross.T
            M = torch.cat([Y[:, :1].sum(0), Y[:, 1:].sum(0) + torch.einsum("oi,oxy->ixy", at.to(_C), Y[:, 0])])
    return cov


# -- the table -------------------------------------------------------------------------------


def _with_mean(e: torch.Tensor) -> np.ndarray:
    """``(..., 2)`` RMSE of (y, z) -> ``(..., 3)`` with their mean appended."""
    return torch.cat([e, e.mean(-1, keepdim=True)], -1).numpy()


@torch.no_grad()
def shot_noise(model: QRNN, shots: int, shot_seeds: int, generator: torch.Generator) -> dict[str, np.ndarray]:
    """The validation RMSEs of ``model``, each ``(3,)`` = (y, z, mean) unless noted.

    ``exact``: exact probabilities; ``expected``: ``sqrt(exact**2 + shot-noise variance)`` with
    ``shots`` shots (either way of drawing them); ``std_independent``, ``std_trajectories``: the
    first-order spread with independent steps and with Aer's trajectories; ``draws
    (shot_seeds, 3)``: ``shot_seeds`` validations with independent steps drawn from ``generator``.
    """
    x, y = validation_sequence()
    probs = model.quantum(x)  # (T, R): one exact run of the whole sequence
    W, b = model.readout.weight, model.readout.bias  # (2, R), (2,)
    e = probs @ W.T + b - y  # (T, 2)
    T = len(x)
    exact = e.pow(2).mean(0).sqrt()
    noise = (probs @ W.T.pow(2) - (probs @ W.T).pow(2)).mean(0) / shots  # E[(W (f_t - p_t))^2], mean over t
    expected = (exact.pow(2) + noise).sqrt()
    a = e[:, None, :] * W.T[None]  # (T, R, 2): the RMSE^2's linear term is (2/T) sum_t a_t[o_t] / shots
    centred = a - torch.einsum("to,toi->ti", probs, a)[:, None]
    cov_independent = torch.einsum("to,toi,toj->ij", probs, centred, centred)
    angles = angles_from(x, model.quantum.weight, model.quantum.bias).detach()
    cov_trajectories = trajectory_covariance(model.quantum.backend.program, angles, a)
    J = torch.cat([torch.diag(1 / (T * expected)), torch.full((1, 2), 0.5) / (T * expected)])  # (3, 2)

    def std(cov: torch.Tensor) -> np.ndarray:
        return (J @ cov @ J.T / shots).diagonal().sqrt().numpy()

    freqs = sample_frequencies(probs.expand(shot_seeds, *probs.shape), shots, generator)
    draws = (freqs @ W.T + b - y).pow(2).mean(1).sqrt()  # (shot_seeds, 2)
    return {"exact": _with_mean(exact), "expected": _with_mean(expected), "draws": _with_mean(draws),
            "std_independent": std(cov_independent), "std_trajectories": std(cov_trajectories)}


def largest_deviation(rows: list[dict]) -> dict:
    """The row of :func:`fidelity_table` with the largest ``|z|`` among the :data:`FAMILY` comparisons
    (the y and z values; a mean follows from them and is no comparison of its own)."""
    return max((r for r in rows if r["output"] != "mean"), key=lambda r: abs(r["z"]))


def fidelity_table(shot_seeds: int = 200, names: tuple[str, ...] = tuple(CHECKPOINTS)) -> list[dict]:
    """One row per checkpoint and output (y, z, mean).

    ``logged``, ``exact``, ``expected`` (with the original's ``shots``); independent steps, from
    ``shot_seeds`` draws: ``shots_mean``, ``shots_std``, ``shots_p0.5``, ``shots_p99.5``,
    ``z_independent``, ``draws`` (the list); Aer's trajectories: ``std_trajectories``,
    ``z = (logged - expected) / std_trajectories``, ``agrees`` (``|z| <= 2.576``, the central 99 %),
    ``agrees_family`` (``|z| <= 3.29``: 99 % for all :data:`FAMILY` comparisons together);
    ``std_independent`` (the same first-order formula with independent steps, to check it against
    ``shots_std``).
    """
    rows = []
    for k, name in enumerate(names):
        c = CHECKPOINTS[name]
        model = model_from_original(load_original(name))
        r = shot_noise(model, c.shots, shot_seeds, torch.Generator().manual_seed(SHOT_SEED + k))
        logged, draws = logged_rmse(name), r["draws"]
        lo, hi = np.percentile(draws, [50 - 50 * BAND, 50 + 50 * BAND], axis=0)
        mean, sd = draws.mean(0), draws.std(0, ddof=1)
        for j, output in enumerate(OUTPUTS):
            z = (logged[j] - r["expected"][j]) / r["std_trajectories"][j]
            rows.append({
                "checkpoint": name, "optimiser": c.optimiser, "epoch": c.epoch, "shots": c.shots,
                "output": output, "logged": float(logged[j]), "exact": float(r["exact"][j]),
                "expected": float(r["expected"][j]),
                "shots_mean": float(mean[j]), "shots_std": float(sd[j]),
                "shots_p0.5": float(lo[j]), "shots_p99.5": float(hi[j]),
                "z_independent": float((logged[j] - mean[j]) / sd[j]),
                "std_independent": float(r["std_independent"][j]),
                "std_trajectories": float(r["std_trajectories"][j]),
                "z": float(z), "agrees": bool(abs(z) <= Z_BAND), "agrees_family": bool(abs(z) <= Z_FAMILY),
                "draws": draws[:, j].tolist(),
            })
    return rows
