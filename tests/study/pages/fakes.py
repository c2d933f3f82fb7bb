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
    return ArmResults(name, list(range(1929, 1929 + seeds)), done, {p: {"exact": v.copy(), "shots": v.copy()}
                      for p in ("sequence", "windows")}, t, np.zeros((seeds, epochs + 1, 4)),
                      np.full((seeds, epochs), 1.0), cfg, circuits, cfg["shots"] or 0, [{}] * seeds)


def fake_baselines(seeds=(1929, 1930, 1931), shots=True, **rmse):
    """A ``baselines.json`` of :func:`qrnn_core.baselines.run_baselines`' shape: each baseline's RMSE (mean of
    y and z; y a tenth below, z a tenth above) the same under both protocols, ``rmse`` overriding the defaults
    by id; the ESN and QESN over ``seeds`` (one or several), seed k's RMSE 0.001 k above the first's; the
    QESN scored with shots too unless ``shots`` is False (its exact readout on shots 1.5 times worse)."""
    rmse = {"mean": 0.18, "linear": 0.14, "ngrc": 0.02, "esn": 0.005, "qesn": 0.1} | rmse

    def scores(v):
        return {"rmse_y": 0.9 * v, "rmse_z": 1.1 * v, "rmse_mean": v}

    def protocols(v, modes=("exact",)):
        factor = {"exact": 1.0, "shots": 1.1, "shots_exact_readout": 1.5}
        return {p: {m: scores(v * factor[m]) for m in modes} for p in ("sequence", "windows")}

    def seeded(v, modes=("exact",)):
        per_seed = [{"seed": s, **protocols(v + 0.001 * k, modes)} for k, s in enumerate(seeds)]
        mean = protocols(v + 0.001 * (len(seeds) - 1) / 2, modes)
        sd = float(np.std([0.001 * k for k in range(len(seeds))], ddof=1)) if len(seeds) > 1 else 0.0
        std = {p: {m: {k: sd for k in scores(0)} for m in modes} for p in mean}
        return {**mean, "std": std, "per_seed": per_seed}

    hp = {"sequence": {"k": 8, "s": 6, "alpha": 0.01, "heldout_rmse_mean": 0.016},
          "windows": {"k": 8, "s": 1, "alpha": 1e-10, "heldout_rmse_mean": 0.023}}
    esn = {p: {"sr": 1.2, "lr": 0.5, "input_scaling": 1.0, "alpha": 1e-10, "heldout_rmse_mean": 0.006} for p in hp}
    modes = ("exact", "shots", "shots_exact_readout") if shots else ("exact",)
    selected = [{p: {m: {"washout": 50, "alpha": 1e-6, "heldout_rmse_mean": 0.1} for m in modes[:2]} for p in hp}
                for _ in seeds]
    return {"mean": {**protocols(rmse["mean"]), "settings": {}},
            "linear": {**protocols(rmse["linear"]), "settings": {"slope_y": 0.71, "intercept_y": 0.13,
                                                                  "slope_z": -0.05, "intercept_z": 0.51}},
            "ngrc": {**protocols(rmse["ngrc"]), "settings": hp},
            "esn": {**seeded(rmse["esn"]), "settings": {"selection_seed": 0, **esn}},
            "qesn": {**seeded(rmse["qesn"], modes), "settings": {"selected": selected}}}
