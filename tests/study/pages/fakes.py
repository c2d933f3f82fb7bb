"""Constructed :class:`~qrnn_study.results.ArmResults` of the shapes the profiles produce: one seed or
several, seeds that have not finished (NaN epochs), any number of epochs and updates."""

import numpy as np

from qrnn_study.results import ArmResults

CONFIG = {"method": "spsa", "shots": 1024, "val_shots": 1024, "epochs": 3, "train_sequences": 60, "lr": 0.001,
          "data": {"source": "original"}, "batch_size": 1, "warmup": 5, "val_steps": None, "n_qubits": 8,
          "precision": "complex64", "spsa_directions": 2, "lr_schedule": "constant"}


def fake_arm(name="arm", val=0.1, train=0.2, seeds=3, epochs=3, updates=4, done=None, circuits=5, **config):
    """An arm of ``seeds`` seeds (1929, ...) whose validation RMSE (mean of y and z) is ``val`` and train
    RMSE ``train`` at every epoch (scalars, or ``(S,)`` per seed); ``done``: epochs each seed has
    finished (default: all), NaN after them."""
    cfg = {**CONFIG, "epochs": epochs, **config}
    per_seed = lambda x: np.broadcast_to(np.asarray(x, float), (seeds,))  # noqa: E731
    done = np.full(seeds, epochs) if done is None else np.asarray(done)
    v = np.broadcast_to(per_seed(val)[:, None, None], (seeds, epochs, 3)).copy()
    t = np.broadcast_to(per_seed(train)[:, None, None], (seeds, epochs, updates)).copy()
    for i, e in enumerate(done):
        v[i, e:], t[i, e:] = np.nan, np.nan
    return ArmResults(name, list(range(1929, 1929 + seeds)), done, {p: {"exact": v, "shots": v.copy()}
                      for p in ("sequence", "windows")}, t, np.zeros((seeds, epochs + 1, 4)),
                      np.full((seeds, epochs), 1.0), cfg, circuits, cfg["shots"] or 0, [{}] * seeds)
