"""Training with the seed's protocol: one flat loop, a frozen config saved beside every result.

``train(config, out_dir)`` writes into ``out_dir``:

* ``checkpoint_epoch{k}.pt`` after every epoch (model, Adam, every generator, the estimator's
  state), so an interrupted run resumes to exactly the result of an uninterrupted one;
* ``metrics.json``: the frozen config, library versions, machine and git commit, train RMSE per
  update, validation RMSE (y, z, mean) and seconds per epoch.

Deterministic for a given seed on the CPU. A NaN loss stops the run with an error and leaves the
last good checkpoint in place.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from .data import DataConfig, LorenzTask, make_task
from .estimators import ESTIMATORS, make_estimator
from .model import QRNN
from .provenance import provenance
from .quantum_layer import QuantumLayer

BACKENDS = ("torch", "aer")
#: What metrics.json records per epoch (per update for train_rmse).
_SERIES = ("train_rmse", "val", "epoch_seconds", "val_seconds", "circuits")
#: The seed's learning rates; other estimators default to FDSA's.
SEED_LR = {"spsa": 0.007, "fdsa": 0.001}


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run (the seed's protocol by default)."""

    method: str = "spsa"  # spsa | fdsa | parameter_shift | exact
    backend: str = "torch"  # torch (exact PyTorch simulator) | aer (Qiskit Aer)
    shots: int | None = None  # None: exact probabilities; the seed used 1,024
    epochs: int = 10
    lr: float | None = None  # None: 0.007 for SPSA, 0.001 otherwise (the seed's)
    batch_size: int = 1
    warmup: int = 5  # steps of each window left out of the loss
    seed: int = 1929
    n_qubits: int = 8
    device: str = "cpu"  # torch device, or "CPU"/"GPU" for Aer
    precision: str = "complex128"  # or complex64 (PyTorch simulator)
    spsa_c: float = 0.1
    spsa_directions: int = 2
    spsa_gamma: float = 0.0
    spsa_fixed_directions: bool = False  # the seed's quirk
    fdsa_h: float = 0.1
    train_sequences: int | None = None  # use only the first k (shuffled each epoch); None: all
    val_steps: int | None = None  # validate on the first k steps only; None: all 2,969
    val_shots: int | None = None  # None: the training shots
    data: DataConfig = field(default_factory=DataConfig)

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else SEED_LR.get(self.method, 0.001)

    def estimator_settings(self) -> dict:
        if self.method == "spsa":
            return {"c": self.spsa_c, "num_directions": self.spsa_directions,
                    "gamma": self.spsa_gamma, "fixed_directions": self.spsa_fixed_directions}
        if self.method == "fdsa":
            return {"h": self.fdsa_h}
        return {}

    def check(self) -> None:
        """Raise a ValueError naming the first bad field, before any compute."""
        if self.method not in ESTIMATORS:
            raise ValueError(f"method: unknown {self.method!r}, choose one of {', '.join(ESTIMATORS)}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: unknown {self.backend!r}, choose one of {', '.join(BACKENDS)}")
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("warmup", 0), ("n_qubits", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and self.learning_rate > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        for name in ("shots", "val_shots", "train_sequences", "val_steps"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if self.data.window <= self.warmup:
            raise ValueError(
                f"data.window ({self.data.window}) must be longer than warmup ({self.warmup}): "
                "no step would be left for the loss"
            )
        if self.precision not in ("complex128", "complex64"):
            raise ValueError(f"precision must be 'complex128' or 'complex64', got {self.precision!r}")
        if self.method == "exact" and (self.backend != "torch" or self.shots is not None):
            raise ValueError("method 'exact' needs backend 'torch' with shots None")
        self.data.check()
        make_estimator(self.method, **self.estimator_settings())  # checks c, h, directions

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        data = dict(d.pop("data", {}))
        if "initial" in data:
            data["initial"] = tuple(data["initial"])
        return cls(**d, data=DataConfig(**data))


def build_model(config: TrainConfig) -> tuple[QRNN, dict[str, torch.Generator]]:
    """The model and its generators, all seeded from ``config.seed``."""
    from .aer_backend import AerBackend
    from .simulator import TorchSimulator

    gens = {name: torch.Generator().manual_seed(config.seed + k)
            for k, name in enumerate(("init", "shuffle", "directions", "shots"))}
    if config.backend == "torch":
        dtype = torch.complex128 if config.precision == "complex128" else torch.complex64
        backend = TorchSimulator(config.n_qubits, dtype=dtype, device=config.device)
        if backend.device.type == "cuda":
            gens["shots"] = torch.Generator(backend.device).manual_seed(config.seed + 3)
    else:
        backend = AerBackend(config.n_qubits, device=config.device if config.device != "cpu" else "CPU")
    quantum = QuantumLayer(
        backend,
        make_estimator(config.method, **config.estimator_settings()),
        shots=config.shots,
        generator=gens["directions"],
        shot_generator=gens["shots"],
        init_generator=gens["init"],
    )
    return QRNN(quantum, init_generator=gens["init"]), gens


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean square error per output column: ``(..., 2)`` -> ``(2,)``."""
    return (pred - target).pow(2).reshape(-1, pred.shape[-1]).mean(0).sqrt()


@torch.no_grad()
def evaluate(model: QRNN, x: torch.Tensor, y: torch.Tensor, shots: int | None) -> dict:
    """Run the validation span as ONE sequence; RMSE of y, z and their mean, and predictions."""
    runner = model.quantum.runner
    saved, runner.shots = runner.shots, shots
    try:
        pred = model(x[None])[0]
    finally:
        runner.shots = saved
    e = rmse(pred, y)
    return {"rmse_y": e[0].item(), "rmse_z": e[1].item(), "rmse_mean": e.mean().item(), "pred": pred}


def _checkpoints(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob("checkpoint_epoch*.pt"), key=lambda p: int(p.stem.split("epoch")[1]))


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def train(config: TrainConfig, out_dir: str | Path, *, progress: bool = True, task: LorenzTask | None = None) -> dict:
    """Train (or resume) the run described by ``config`` in ``out_dir``; returns its metrics."""
    config.check()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "config.json"
    if config_path.exists():
        # Resuming may extend the number of epochs; every other setting must match.
        saved = json.loads(config_path.read_text())
        current = json.loads(json.dumps(config.to_dict()))
        differ = sorted(k for k in set(saved) | set(current) if k != "epochs" and saved.get(k) != current.get(k))
        if differ:
            raise ValueError(f"{out_dir} holds a run with another config (differs in {', '.join(differ)}): "
                             "choose a new out_dir (nothing was overwritten)")
    _atomic_write(config_path, lambda p: p.write_text(json.dumps(config.to_dict(), indent=2)))

    task = task or make_task(config.data)
    train_x, train_y = task.train_x, task.train_y
    if config.train_sequences is not None:
        train_x, train_y = train_x[: config.train_sequences], train_y[: config.train_sequences]
    val_x, val_y = task.val_x, task.val_y
    if config.val_steps is not None:
        val_x, val_y = val_x[: config.val_steps], val_y[: config.val_steps]
    val_shots = config.val_shots if config.val_shots is not None else config.shots

    model, gens = build_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    metrics = {"config": config.to_dict(), "provenance": provenance(), **{k: [] for k in _SERIES}}
    start = 0
    if checkpoints := _checkpoints(out_dir):
        state = torch.load(checkpoints[-1], weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        for name, g in gens.items():
            g.set_state(state["generators"][name])
        model.quantum.updates = state["updates"]
        model.quantum._fixed_directions = state["fixed_directions"]
        metrics.update({k: state["metrics"][k] for k in _SERIES})
        start = state["epoch"]

    w = config.warmup
    for epoch in range(start, config.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gens["shuffle"])
        batches = order.split(config.batch_size)
        losses: list[float] = []
        circuits_before = model.quantum.runner.circuits
        t0 = time.perf_counter()
        bar = tqdm(batches, desc=f"{config.method} epoch {epoch + 1}/{config.epochs}", disable=not progress,
                   leave=False, mininterval=0.5)
        for k, idx in enumerate(bar):
            pred = model(train_x[idx])
            loss = torch.nn.functional.mse_loss(pred[:, w:], train_y[idx][:, w:])
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"loss is {loss.item()} at epoch {epoch + 1}, update {k + 1}: stopped; the last good "
                    f"checkpoint ({_checkpoints(out_dir)[-1].name if _checkpoints(out_dir) else 'none'}) is kept"
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item() ** 0.5)
            if k % 20 == 0:
                bar.set_postfix(rmse=f"{losses[-1]:.4f}")
        epoch_seconds = time.perf_counter() - t0
        model.eval()
        t0 = time.perf_counter()
        val = evaluate(model, val_x, val_y, val_shots)
        val_seconds = time.perf_counter() - t0
        metrics["train_rmse"].append(losses)
        metrics["val"].append({"epoch": epoch + 1, **{k: v for k, v in val.items() if k != "pred"}})
        metrics["epoch_seconds"].append(epoch_seconds)
        metrics["val_seconds"].append(val_seconds)
        metrics["circuits"].append(model.quantum.runner.circuits - circuits_before)
        if progress:
            tqdm.write(f"epoch {epoch + 1}: train RMSE {sum(losses) / len(losses):.4f}, validation RMSE "
                       f"y {val['rmse_y']:.4f} z {val['rmse_z']:.4f} mean {val['rmse_mean']:.4f} "
                       f"({epoch_seconds:.1f} s)")
        state = {
            "epoch": epoch + 1,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generators": {name: g.get_state() for name, g in gens.items()},
            "updates": model.quantum.updates,
            "fixed_directions": model.quantum._fixed_directions,
            "metrics": metrics,
            "val_pred": val["pred"],
        }
        _atomic_write(out_dir / f"checkpoint_epoch{epoch + 1}.pt", lambda p: torch.save(state, p))
        _atomic_write(out_dir / "metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=1)))
    return metrics


def config_replace(config: TrainConfig, **changes) -> TrainConfig:
    """``dataclasses.replace`` that also accepts ``data_<field>`` for the data settings."""
    data = {k[5:]: v for k, v in changes.items() if k.startswith("data_")}
    rest = {k: v for k, v in changes.items() if not k.startswith("data_")}
    if data:
        rest["data"] = dataclasses.replace(config.data, **data)
    return dataclasses.replace(config, **rest)
