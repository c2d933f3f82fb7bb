"""The two validation protocols, each scored with exact probabilities and with finite shots.

* ``sequence`` (the deck's): the validation span run as ONE continuous sequence of 2,969 steps; the
  RMSE is over every step.
* ``windows`` (matching training): every ``stride``-th 20-step window inside the validation span, each
  started from a fresh memory, the RMSE over steps ``warmup..19`` of each window, as in training.

Each protocol's circuits run once with exact probabilities; its shot-noise score samples
``shots``-shot frequencies from those probabilities (exactly what a ``shots``-shot run of the same
circuits draws, step by step) with a generator of its own, so validation never consumes the
training's random numbers: a run's trajectory does not depend on how it is validated.
"""

from __future__ import annotations

import torch

from .data import LorenzTask
from .simulator import sample_frequencies

PROTOCOLS = ("sequence", "windows")
MODES = ("exact", "shots")


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean square error per output column: ``(..., 2)`` -> ``(2,)``."""
    return (pred - target).pow(2).reshape(-1, pred.shape[-1]).mean(0).sqrt()


def scores(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    e = rmse(pred, target)
    return {"rmse_y": e[0].item(), "rmse_z": e[1].item(), "rmse_mean": e.mean().item()}


def validation_inputs(task: LorenzTask, warmup: int, val_steps: int | None = None):
    """Per protocol ``(x, y, first_scored_step)``: ``x (B, T)``, ``y (B, T, 2)``."""
    seq_x, seq_y = task.val_x, task.val_y
    win_x, win_y = task.val_windows_x, task.val_windows_y
    if val_steps is not None:  # a prefix of the span (tests and quick runs)
        if val_steps > len(seq_x):
            raise ValueError(f"val_steps: {val_steps} steps asked, the validation span has {len(seq_x)}")
        seq_x, seq_y = seq_x[:val_steps], seq_y[:val_steps]
        keep = max(1, val_steps // task.train_x.shape[1])
        win_x, win_y = win_x[:keep], win_y[:keep]
    return {"sequence": (seq_x[None], seq_y[None], 0), "windows": (win_x, win_y, warmup)}


@torch.no_grad()
def validate(model, inputs: dict, shots: int | None, generator: torch.Generator | None) -> dict:
    """``{protocol: {"exact": scores, "shots": scores}}`` and the exact sequence predictions.

    ``model`` is a :class:`~qrnn_core.model.QRNN`; ``inputs`` from :func:`validation_inputs`;
    ``shots=None`` scores exact probabilities only.
    """
    out, pred_sequence = {}, None
    with model.quantum.runner.exact():  # exact probabilities; shots are sampled below
        for protocol, (x, y, first) in inputs.items():
            probs = model.quantum(x)
            pred = model.readout(probs)
            out[protocol] = {"exact": scores(pred[:, first:], y[:, first:])}
            if shots is not None:
                freqs = sample_frequencies(probs, shots, generator).to(probs.dtype)
                out[protocol]["shots"] = scores(model.readout(freqs)[:, first:], y[:, first:])
            if protocol == "sequence":
                pred_sequence = pred[0]
    return {"scores": out, "pred": pred_sequence}
