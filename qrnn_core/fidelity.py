"""End-to-end fidelity: the original study's own trained models, evaluated by this study's simulator.

The original's checkpoints (``data/original/*.pth``) are loaded into this study's :class:`QRNN`
and run on the original's series with the deck's validation protocol (the last 30 % as ONE
2,969-step sequence). The original logged its validation RMSEs with 1,024 shots on Qiskit Aer, so a
logged value is compared with the distribution of 1,024-shot RMSEs: the circuit runs once with
exact probabilities ``(T, 16)``, and ``shot_seeds`` independent 1,024-shot validations sample their
frequencies from those probabilities (what a 1,024-shot run of the same circuits draws, step by
step), then go through the readout. Agreement: the logged value lies inside the central 99 % of
that distribution. It can only hold if circuit, angle order, outcome bit order and readout layout
are all the original's.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .data import DataConfig, make_task
from .evaluation import rmse
from .model import QRNN
from .simulator import sample_frequencies
from .train import TrainConfig, build_model

#: Where the original's checkpoints and logs are (see its README.md).
ORIGINAL_DIR = Path(__file__).resolve().parent.parent / "data" / "original"
#: Checkpoint name -> (optimiser, epoch, log file, row of that log holding this epoch).
#: The FDSA log holds epochs 2..10, so its epoch 4 is row 2.
CHECKPOINTS = {
    "spsa_epoch1": ("SPSA", 1, "spsa_val_rmse.npy", 0),
    "spsa_epoch2": ("SPSA", 2, "spsa_val_rmse.npy", 1),
    "spsa_epoch3": ("SPSA", 3, "spsa_val_rmse.npy", 2),
    "spsa_epoch4": ("SPSA", 4, "spsa_val_rmse.npy", 3),
    "fdsa_epoch4": ("FDSA", 4, "fdsa_val_rmse.npy", 2),
}
#: Columns of the logs (and outputs of a row): RMSE of y, of z, and their mean.
OUTPUTS = ("y", "z", "mean")
#: Shots per circuit of the original's validation.
SHOTS = 1024
#: Central band a logged value must fall in (percent), and its percentiles.
BAND = 99.0
PERCENTILES = (50 - BAND / 2, 50 + BAND / 2)
#: Seed of the generator of the 1,024-shot draws (one stream per checkpoint, offset by its index).
SHOT_SEED = 1929


def load_original(name: str) -> dict[str, torch.Tensor]:
    """The state dict of checkpoint ``name`` (a key of :data:`CHECKPOINTS`), float32 tensors:
    ``input_layer.weight (55, 1)``, ``input_layer.bias (55,)``, ``output_layer.weight (2, 16)``,
    ``output_layer.bias (2,)``. ``weights_only``: nothing in the file can run code."""
    if name not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {name!r}; one of {', '.join(CHECKPOINTS)}")
    return torch.load(ORIGINAL_DIR / f"{name}.pth", weights_only=True)


def logged_rmse(name: str) -> np.ndarray:
    """The original's logged validation RMSE of checkpoint ``name``: ``(3,)`` = (y, z, mean)."""
    _, _, log, row = CHECKPOINTS[name]
    return np.load(ORIGINAL_DIR / log)[row]


def model_from_original(state: dict, precision: str = "complex128") -> QRNN:
    """This study's 8-qubit QRNN (exact PyTorch simulator) holding the original's parameters.

    ``input_layer.weight[:, 0]`` and ``input_layer.bias`` (55,) become ``quantum.weight`` and
    ``quantum.bias`` (angle ``i`` of step ``t`` is ``weight[i] * x_t + bias[i]``, same gate order);
    ``output_layer`` (2, 16) + (2,) becomes ``readout`` (same outcome order). Stored as float64.
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


@torch.no_grad()
def evaluate(model: QRNN, shot_seeds: int, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``exact (3,)`` RMSE (y, z, mean) with exact probabilities, and ``shots (shot_seeds, 3)`` with
    ``shot_seeds`` independent 1,024-shot validations sampled from them."""
    x, y = validation_sequence()
    probs = model.quantum(x)  # (T, 16): one exact run of the whole sequence
    exact = rmse(model.readout(probs), y)
    freqs = sample_frequencies(probs.expand(shot_seeds, *probs.shape), SHOTS, generator)
    per_draw = (model.readout(freqs) - y).pow(2).mean(1).sqrt()  # (shot_seeds, 2)
    with_mean = lambda e: torch.cat([e, e.mean(-1, keepdim=True)], -1).numpy()  # noqa: E731
    return with_mean(exact), with_mean(per_draw)


def fidelity_table(shot_seeds: int = 200, names: tuple[str, ...] = tuple(CHECKPOINTS)) -> list[dict]:
    """One row per checkpoint and output (y, z, mean): the logged RMSE, this study's exact RMSE, the
    mean, standard deviation and central-99 % band of ``shot_seeds`` 1,024-shot RMSEs, the
    z-score ``(logged - mean) / std`` and ``agrees`` (the logged value inside the band)."""
    rows = []
    for k, name in enumerate(names):
        optimiser, epoch, _, _ = CHECKPOINTS[name]
        model = model_from_original(load_original(name))
        generator = torch.Generator().manual_seed(SHOT_SEED + k)
        exact, shots = evaluate(model, shot_seeds, generator)
        logged = logged_rmse(name)
        lo, hi = np.percentile(shots, PERCENTILES, axis=0)
        mean, std = shots.mean(0), shots.std(0, ddof=1)
        for j, output in enumerate(OUTPUTS):
            rows.append({
                "checkpoint": name, "optimiser": optimiser, "epoch": epoch, "output": output,
                "logged": float(logged[j]), "exact": float(exact[j]),
                "shots_mean": float(mean[j]), "shots_std": float(std[j]),
                "shots_p0.5": float(lo[j]), "shots_p99.5": float(hi[j]),
                "z": float((logged[j] - mean[j]) / std[j]),
                "agrees": bool(lo[j] <= logged[j] <= hi[j]),
                "shots": shots[:, j].tolist(),
            })
    return rows
