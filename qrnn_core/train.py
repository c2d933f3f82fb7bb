"""Training with the seed's protocol: one flat loop, a frozen config saved beside every result.

``train(config, out_dir)`` keeps in ``out_dir``:

* ``config.json``: the frozen config, written once the whole config is valid (and, once the run has a
  checkpoint, after each checkpoint: the checkpoint is written first and decides, see
  :func:`qrnn_core.runfiles.verify_run`);
* ``checkpoint_epoch{k}.pt`` (the last two epochs): model, Adam, learning-rate schedule, every
  generator and the config it was made with, so an interrupted run resumes to exactly the result
  of an uninterrupted one, and a run with another config is refused (more epochs are allowed, except
  with Spall's gains at the default A, which depends on the epochs);
* ``metrics.json``: config, versions, machine and git commit; per epoch the validation RMSEs
  (both protocols, exact and with shots; :mod:`qrnn_core.evaluation`), seconds and circuits;
* ``trajectory.npz``: ``train_rmse (epochs, updates)`` float32 per update, and
  ``params (epochs + 1, 144)`` float64, every parameter at the start and after each epoch.

Deterministic for a given seed on the CPU. The generators are seeded from ``config.seed`` alone
(``init`` seed, ``shuffle`` seed + 1, ``directions`` seed + 2, ``shots`` seed + 3), so arms that share
a seed start from the same parameters and see the windows in the same order. A non-finite loss or
parameter stops the run with an error naming the epoch and update, keeping the last good checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .circuit import build_step_block, check_n_qubits, n_angles
from .data import DataConfig, LorenzTask, make_task, spread_indices
from .estimators import ESTIMATORS, make_estimator
from .evaluation import validate, validation_inputs
from .model import QRNN
from .options import option
from .program import read_step_program
from .provenance import provenance
from .quantum_layer import QuantumLayer
from .reference import LEARNING_RATE
from .runfiles import SERIES as _SERIES
from .runfiles import as_recorded, epoch_of_name, verify_run
from .runfiles import atomic_write as _atomic_write
from .runfiles import checkpoints as _checkpoints
from .runfiles import save_npz as _save_npz
from .validation import resolve_device

#: Spall's (1998) exponents of the gain sequences a_k and c_k.
SPALL_ALPHA, SPALL_GAMMA = 0.602, 0.101
#: How ``train_sequences`` picks its windows (:func:`training_windows`). A config recorded before the
#: setting existed trained on the first k: :meth:`TrainConfig.from_dict` reads it as ``first``.
TRAIN_WINDOWS = ("spread", "first")
#: Backends the exact estimator can differentiate (they declare ``differentiable = True``).
DIFFERENTIABLE_BACKENDS = ("kernel", "torch")
#: Seeds a torch.Generator takes (manual_seed wraps larger values silently: refused instead).
SEED_RANGE = (0, 2**63 - 1 - 10**6)


class TrainingDiverged(RuntimeError):
    """The loss or a parameter became NaN or infinite; the last good checkpoint is kept."""


def _available_memory() -> int:
    """Bytes of memory available (MemAvailable), or a large number where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run (the seed's protocol by default), each setting declared once."""

    method: str = option("spsa", "Gradient estimator of the 110 input-layer parameters.", ESTIMATORS)
    backend: str = option("kernel", "Circuit backend: the compiled CPU kernel (the default), the exact PyTorch simulator "
                          "(the reference, and the CUDA path) or Qiskit Aer (the independent check).",
                          ("kernel", "torch", "aer"))
    shots: int | None = option(None, "Shots per training circuit; none for exact probabilities (the deck: 1024).",
                               minimum=1)
    epochs: int = option(10, "Passes over the training windows.", minimum=1)
    lr: float | None = option(None, f"Adam's learning rate; none for the deck's ({LEARNING_RATE['spsa']:g} SPSA, "
                                f"{LEARNING_RATE['fdsa']:g} otherwise).")
    lr_schedule: str = option("constant", "Learning rate over updates: constant (the deck), or spall: the gain of Spall (1998), "
                              "lr times ((1+A)/(k+1+A)) to the power 0.602.", ("constant", "spall"))
    spall_a: float | None = option(None, "Spall's stability constant A; none for 10 % of the run's updates.",
                                   minimum=0)
    batch_size: int = option(1, "Windows per update (the deck: 1).", minimum=1)
    warmup: int = option(5, "Steps at the start of each window left out of the loss.", minimum=0)
    seed: int = option(1929, "Seed of every generator of the run (arms with one seed are paired).",
                       minimum=SEED_RANGE[0])
    n_qubits: int = option(8, "Qubits of the circuit (even; half memory, half readout).", minimum=2)
    device: str = option("cpu", "Torch device (cpu, cuda, cuda:N), or CPU/GPU for Aer.")
    precision: str = option("complex128", "Simulator precision.", ("complex128", "complex64"))
    noise_device: str | None = option(None, "Simulate a device's noise on the kernel: a qiskit-ibm-runtime fake backend by "
                                      "name (e.g. FakeMarrakesh); none: noiseless.")
    noise_scale: float = option(1.0, "Scale s of the device noise: every error rate times s (0: noiseless).", minimum=0)
    noise_layout: tuple[int, ...] | None = option(None, "The device's physical qubits for logical qubits 0..n-1, each "
                                                  "coupled to the next, comma-separated; none: the first such line.")
    spsa_c: float = option(0.1, "SPSA perturbation c (the deck: 0.1).")
    spsa_directions: int = option(2, "SPSA directions averaged per update (the deck: 2).", minimum=1)
    spsa_gamma: float = option(0.0, "SPSA perturbation decay: c_k is c / (k+1) to the power gamma (0: the deck, 0.101: Spall).",
                               minimum=0)
    spsa_fixed_directions: bool = option(False, "Reuse the directions of the first update forever (the quirk of the original).")
    fdsa_h: float = option(0.1, "FDSA step h (the deck: 0.1).")
    train_sequences: int | None = option(None, "Train on k of the training windows only (shuffled each epoch), chosen by "
                                         "train_windows; none: all.", minimum=1)
    train_windows: str = option("spread", "Which k windows train_sequences keeps: spread, k evenly spaced over the whole "
                                "training span; first, the first k (the rows at its start).", TRAIN_WINDOWS)
    val_steps: int | None = option(None, "Validate on the first k steps of the span only; none: all 2,969.",
                                   minimum=1)
    val_shots: int | None = option(1024, "Shots of the shot-noise validation scores; none: exact only.", minimum=1)
    data: DataConfig = field(default_factory=DataConfig)

    def __post_init__(self):
        # A layout as the CLI (floats) or JSON (a list) gives it: a tuple, whole numbers as ints.
        layout = self.noise_layout
        if isinstance(layout, (list, tuple)) and all(isinstance(q, (int, float)) and not isinstance(q, bool)
                                                     and math.isfinite(q) and float(q).is_integer() for q in layout):
            object.__setattr__(self, "noise_layout", tuple(int(q) for q in layout))

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else LEARNING_RATE.get(self.method, LEARNING_RATE["fdsa"])

    def estimator_settings(self) -> dict:
        if self.method == "spsa":
            return {"c": self.spsa_c, "num_directions": self.spsa_directions,
                    "gamma": self.spsa_gamma, "fixed_directions": self.spsa_fixed_directions}
        if self.method == "fdsa":
            return {"h": self.fdsa_h}
        return {}

    def check(self) -> None:
        """Raise a ValueError naming the first bad field, before any compute."""
        for f in dataclasses.fields(self):
            if f.name == "data":
                continue
            value, meta = getattr(self, f.name), f.metadata
            kind = str(f.type)
            if value is None and "None" in kind:
                continue
            if meta.get("choices") and value not in meta["choices"]:
                raise ValueError(f"{f.name}: {value!r} is not one of {', '.join(map(str, meta['choices']))}")
            if kind.startswith("bool") and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be true or false, got {value!r}")
            if kind.startswith("int") and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{f.name} must be an integer, got {value!r}")
            if kind.startswith("float") and (isinstance(value, bool) or not isinstance(value, (int, float))
                                             or not math.isfinite(value)):
                raise ValueError(f"{f.name} must be a finite number, got {value!r}")
            if meta.get("minimum") is not None and value < meta["minimum"]:
                raise ValueError(f"{f.name} must be >= {meta['minimum']}, got {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.seed > SEED_RANGE[1]:
            raise ValueError(f"seed must be in [{SEED_RANGE[0]}, {SEED_RANGE[1]}], got {self.seed}")
        for name in ("shots", "val_shots"):
            if (value := getattr(self, name)) is not None and value > 2**53:
                raise ValueError(f"{name}: {value} is more than a count can hold exactly (2**53)")
        if self.data.window <= self.warmup:
            raise ValueError(
                f"data.window ({self.data.window}) must be longer than warmup ({self.warmup}): "
                "no step would be left for the loss"
            )
        for name in ("spsa_c", "fdsa_h"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)!r}")
        if self.method == "exact" and (self.backend not in DIFFERENTIABLE_BACKENDS or self.shots is not None):
            raise ValueError(f"method 'exact' needs backend {' or '.join(map(repr, DIFFERENTIABLE_BACKENDS))} "
                             "with shots None")
        check_n_qubits(self.n_qubits)
        self._check_device()
        self._check_noise()
        self._check_memory()
        self.data.check()
        make_estimator(self.method, **self.estimator_settings())  # checks c, h, directions

    def _check_device(self) -> None:
        if self.backend == "kernel":
            if self.device != "cpu":
                raise ValueError(f"device: backend 'kernel' runs on the cpu only, got {self.device!r} "
                                 "(use backend 'torch' for cuda)")
            from .kernel import N_QUBITS_RANGE

            if not N_QUBITS_RANGE[0] <= self.n_qubits <= N_QUBITS_RANGE[1]:
                raise ValueError(f"n_qubits: backend 'kernel' takes {N_QUBITS_RANGE[0]} to {N_QUBITS_RANGE[1]} "
                                 f"qubits, got {self.n_qubits} (use backend 'torch' beyond)")
            return
        if self.backend == "torch":
            try:
                resolve_device(self.device)  # cuda without a GPU, tpu, ...: refused here
            except ValueError as err:
                raise ValueError(f"device: {err}") from None
            return
        from .aer_backend import aer_devices

        device = "CPU" if self.device == "cpu" else self.device
        if device not in ("CPU", "GPU"):
            raise ValueError(f"device: {self.device!r} is not an Aer device; use CPU or GPU")
        if device not in aer_devices():
            raise ValueError(f"device: Aer {device} is not available here (this qiskit-aer offers "
                             f"{', '.join(aer_devices())}); GPU needs qiskit-aer-gpu and an NVIDIA GPU")

    def _check_noise(self) -> None:
        """The device noise: a known fake backend, on the kernel, a layout that fits it (refused in one
        line naming the value); scale or layout without a device are refused, not ignored."""
        if self.noise_device is None:
            for name, unset in (("noise_scale", 1.0), ("noise_layout", None)):
                if getattr(self, name) != unset:
                    raise ValueError(f"{name}: {getattr(self, name)!r} has no effect without noise_device "
                                     "(a fake backend's name, e.g. FakeMarrakesh)")
            return
        if self.backend != "kernel":
            raise ValueError(f"noise_device: the device noise runs on backend 'kernel', got backend {self.backend!r}")
        from .device import check_layout, fake_backend

        try:
            backend = fake_backend(self.noise_device)
        except ValueError as err:
            raise ValueError(f"noise_device: {err}") from None
        layout = self.noise_layout
        if layout is not None and (isinstance(layout, (str, bytes)) or not all(
                isinstance(q, (int, float)) and not isinstance(q, bool) and float(q).is_integer() for q in layout)):
            raise ValueError(f"noise_layout: {layout!r} is not a list of physical qubits (integers)")
        try:
            check_layout(backend, self.n_qubits, layout)
        except ValueError as err:
            raise ValueError(f"noise_layout: {err}") from None

    def circuits_per_update(self) -> int:
        """Circuits one update evaluates per window (forward included), as the estimator plans them."""
        estimator = make_estimator(self.method, **self.estimator_settings())
        return 1 + estimator.circuits(n_params=2 * n_angles(self.n_qubits), steps=self.data.window,
                                      gates=step_gates(self.n_qubits))

    def _check_memory(self) -> None:
        """Refuse a size whose simulation cannot fit in memory (a rough upper estimate)."""
        D = 2 ** (self.n_qubits // 2)  # memory register
        S = 2 ** math.ceil(self.n_qubits / 4)  # outcomes of one readout group
        bytes_per = 16 if self.precision == "complex128" else 8
        circuits = self.circuits_per_update() * self.batch_size
        if self.backend == "kernel":
            # no dense operators: per circuit and step its angles and probabilities; per thread the
            # stored states of one circuit (the adjoint sweep)
            need = circuits * self.data.window * (n_angles(self.n_qubits) + D) * bytes_per // 2 \
                + (os.cpu_count() or 1) * self.data.window * D * D * bytes_per
        else:
            # per circuit and step: the density matrix and the two groups' dense operators
            need = circuits * min(self.data.window, 64) * (1 + 2 * S) * D * D * bytes_per
        have = _available_memory()
        if need > have:
            raise ValueError(f"n_qubits: {self.n_qubits} qubits need about {need / 2**30:.1f} GiB per update "
                             f"here, more than the {have / 2**30:.1f} GiB available")

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.noise_device is None:  # a noiseless run records as it did before device noise existed
            for name in NOISE_FIELDS:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        # Recorded before train_windows existed: such a run trained on the first k windows, so it is read as
        # that, never as the spread subsample the same train_sequences means now.
        d.setdefault("train_windows", "first")
        data = dict(d.pop("data", {}))
        if "initial" in data:
            data["initial"] = tuple(data["initial"])
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        return cls(**d, data=DataConfig(**data))


#: The device-noise fields: recorded only where a device is named (:meth:`TrainConfig.to_dict`).
NOISE_FIELDS = ("noise_device", "noise_scale", "noise_layout")


@functools.lru_cache(maxsize=None)
def step_gates(n_qubits: int) -> tuple:
    """The gates of one step of the circuit (:func:`qrnn_core.program.read_step_program`)."""
    return read_step_program(build_step_block(n_qubits)).gates


def generators(seed: int) -> dict[str, torch.Generator]:
    """A run's four generators, seeded ``seed``, ``seed + 1``, ...: initial values, window order,
    SPSA directions, shots. Paired seeds rest on this: every arm of a seed draws the same initial values
    and the same window order."""
    return {name: torch.Generator().manual_seed(seed + k)
            for k, name in enumerate(("init", "shuffle", "directions", "shots"))}


def make_model(backend, estimator, gens: dict[str, torch.Generator], shots: int | None = None) -> QRNN:
    """The QRNN over ``backend`` with ``estimator``, its initial values drawn from ``gens["init"]`` (the
    quantum layer's, then the readout's)."""
    quantum = QuantumLayer(backend, estimator, shots=shots, generator=gens["directions"],
                           shot_generator=gens["shots"], init_generator=gens["init"])
    return QRNN(quantum, init_generator=gens["init"])


def build_model(config: TrainConfig) -> tuple[QRNN, dict[str, torch.Generator]]:
    """The model and its generators, all seeded from ``config.seed``."""
    from .aer_backend import AerBackend
    from .simulator import TorchSimulator

    gens = generators(config.seed)
    if config.backend == "kernel" and config.noise_device is not None:
        from .device import device_noise
        from .noisy_kernel import NoisyKernelSimulator

        dtype = torch.complex128 if config.precision == "complex128" else torch.complex64
        layout = None if config.noise_layout is None else tuple(int(q) for q in config.noise_layout)
        noise = device_noise(config.noise_device, config.n_qubits, layout=layout, scale=config.noise_scale)
        backend = NoisyKernelSimulator(noise, dtype=dtype)
    elif config.backend == "kernel":
        from .kernel import KernelSimulator

        dtype = torch.complex128 if config.precision == "complex128" else torch.complex64
        backend = KernelSimulator(config.n_qubits, dtype=dtype)
    elif config.backend == "torch":
        dtype = torch.complex128 if config.precision == "complex128" else torch.complex64
        backend = TorchSimulator(config.n_qubits, dtype=dtype, device=config.device)
        if backend.device.type == "cuda":
            gens["shots"] = torch.Generator(backend.device).manual_seed(config.seed + 3)
    else:
        backend = AerBackend(config.n_qubits, device=config.device if config.device != "cpu" else "CPU")
    return make_model(backend, make_estimator(config.method, **config.estimator_settings()), gens, config.shots), gens


def last_epoch(out_dir: str | Path) -> int:
    """The newest epoch with a checkpoint in ``out_dir`` (0 when none)."""
    found = _checkpoints(Path(out_dir)) if Path(out_dir).is_dir() else []
    return max(0, epoch_of_name(found[-1])) if found else 0


def spall_factor(config: TrainConfig, updates_per_epoch: int):
    """The multiplier of ``lr`` at update ``k``: 1, or Spall's ``((1 + A) / (k + 1 + A))^0.602``."""
    if config.lr_schedule == "constant":
        return lambda k: 1.0
    A = config.spall_a if config.spall_a is not None else 0.1 * config.epochs * updates_per_epoch
    return lambda k: ((1 + A) / (k + 1 + A)) ** SPALL_ALPHA


def validation_generator(config: TrainConfig, epoch: int) -> torch.Generator:
    """The shot-noise validation's own generator for ``epoch`` (never the training's)."""
    return torch.Generator().manual_seed((config.seed * 1_000_003 + epoch) % 2**63)


def _parameter_vector(model: QRNN) -> np.ndarray:
    """All 144 parameters, ``(w, b, readout weight, readout bias)`` flattened, float64."""
    return torch.cat([p.detach().reshape(-1).double().cpu() for p in model.parameters()]).numpy()


def train(config: TrainConfig, out_dir: str | Path, *, progress: bool = True, task: LorenzTask | None = None,
          log=print, lock_wait: float = 0) -> dict:
    """Train (or resume) the run described by ``config`` in ``out_dir``; returns its metrics.

    ``metrics["val"][e]["sequence"]["shots"]["rmse_mean"]``: the deck's validation protocol with
    1,024 shots after epoch ``e + 1``; ``metrics["train_rmse"]`` is ``(epochs, updates)``.
    ``lock_wait``: seconds to wait for another training of the same folder to end (0: refuse at once).
    """
    config.check()
    task = task or make_task(config.data)
    training_windows(config, task)  # sizes the data lacks are refused here, before anything is written
    validation_inputs(task, config.warmup, config.val_steps)
    out_dir = Path(out_dir)
    current = as_recorded(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir, lock_wait):
        # One verification decides, as the study's "done" does; files behind the checkpoint are rebuilt.
        verdict = verify_run(out_dir, config, repair=True, warn=log)
        state, saved = verdict.state, verdict.recorded
        if verdict.differs:
            raise ValueError(f"{out_dir} holds a run with another config (differs in {', '.join(verdict.differs)}): "
                             "choose another --out (nothing was changed)")
        if (saved is not None and saved["epochs"] != config.epochs and config.lr_schedule == "spall"
                and config.spall_a is None):
            # A defaults to a tenth of the run's updates: more epochs would change the gains already applied.
            raise ValueError(f"{out_dir} holds a run of {saved['epochs']} epochs with Spall's gains, whose A depends "
                             f"on the epochs: it cannot be extended to {config.epochs} (a run started with an "
                             "explicit spall_a can be; nothing was changed)")
        if verdict.complete:
            log(f"{out_dir}: {state['epoch']} epoch(s) already done (asked for {config.epochs}): nothing to do")
            return {**state["metrics"], "train_rmse": state["train_rmse"].double().tolist()}
        if state is None:  # a fresh start: the folder says what it holds before its first checkpoint
            _atomic_write(out_dir / "config.json", lambda p: p.write_text(json.dumps(current, indent=2)))
        return _train(config, out_dir, current, state, progress, task, log)


class RunLocked(RuntimeError):
    """Another training holds the run folder."""


@contextlib.contextmanager
def _exclusive(out_dir: Path, wait: float = 0):
    """One training per folder: a second one waits up to ``wait`` seconds, then is refused; never both."""
    with open(out_dir / ".lock", "w") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLocked(f"{out_dir} is in use by another training (its .lock is held)") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _train(config, out_dir, current, state, progress, task, log) -> dict:

    train_x, train_y = training_windows(config, task)
    val_inputs = validation_inputs(task, config.warmup, config.val_steps)
    updates_per_epoch = math.ceil(len(train_x) / config.batch_size)

    model, gens = build_model(config)
    optimizer, schedule = make_optimizer(config, model, updates_per_epoch)
    metrics = {"config": current, "provenance": provenance(), **{k: [] for k in _SERIES}}
    train_rmse: list[list[float]] = []
    params = [_parameter_vector(model)]
    start = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        for name, g in gens.items():
            g.set_state(state["generators"][name])
        metrics.update({k: state["metrics"].get(k, []) for k in _SERIES})
        train_rmse = [list(map(float, row)) for row in state["train_rmse"].tolist()]
        params = list(state["params"].numpy())
        start = state["epoch"]
        log(f"{out_dir}: resuming from epoch {start}")

    w = config.warmup
    for epoch in range(start, config.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gens["shuffle"])
        batches = order.split(config.batch_size)
        losses: list[float] = []
        circuits_before = model.quantum.runner.circuits
        shots_before = sum(c.shots for c in model.quantum.costs)
        t0 = time.perf_counter()
        bar = tqdm(batches, desc=f"{config.method} epoch {epoch + 1}/{config.epochs}", disable=not progress,
                   leave=False, mininterval=0.5)
        for k, idx in enumerate(bar):
            try:
                losses.append(update(model, optimizer, schedule, train_x[idx], train_y[idx], w))
            except TrainingDiverged as err:
                raise TrainingDiverged(_diverged(str(err), epoch, k, out_dir)) from None
            if k % 20 == 0:
                bar.set_postfix(rmse=f"{losses[-1]:.4f}")
        epoch_seconds = time.perf_counter() - t0
        model.eval()
        t0 = time.perf_counter()
        val = validate(model, val_inputs, config.val_shots, validation_generator(config, epoch + 1))
        val_seconds = time.perf_counter() - t0
        train_rmse.append(losses)
        params.append(_parameter_vector(model))
        metrics["val"].append({"epoch": epoch + 1, **val["scores"]})
        metrics["epoch_seconds"].append(epoch_seconds)
        metrics["val_seconds"].append(val_seconds)
        metrics["circuits"].append(model.quantum.runner.circuits - circuits_before)
        metrics["shots"].append(sum(c.shots for c in model.quantum.costs) - shots_before)
        if progress:
            seq = val["scores"]["sequence"]["exact"]
            tqdm.write(f"epoch {epoch + 1}: train RMSE {sum(losses) / len(losses):.4f}, validation RMSE "
                       f"(one sequence, exact) y {seq['rmse_y']:.4f} z {seq['rmse_z']:.4f} "
                       f"mean {seq['rmse_mean']:.4f} ({epoch_seconds:.1f} s)")
        trajectory = {"train_rmse": np.asarray(train_rmse, dtype=np.float32), "params": np.stack(params)}
        state = {
            "epoch": epoch + 1,
            "config": current,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "generators": {name: g.get_state() for name, g in gens.items()},
            "metrics": metrics,
            "train_rmse": torch.tensor(train_rmse, dtype=torch.float64),
            "params": torch.from_numpy(trajectory["params"]),
        }
        t0 = time.perf_counter()
        _atomic_write(out_dir / f"checkpoint_epoch{epoch + 1}.pt", lambda p: torch.save(state, p))
        _atomic_write(out_dir / "trajectory.npz", lambda p: _save_npz(p, trajectory))
        metrics["save_seconds"].append(time.perf_counter() - t0)  # (the checkpoint holds the epochs before)
        _atomic_write(out_dir / "metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=1)))
        # Last: an extended run's config.json changes only once a checkpoint of the new config exists.
        _atomic_write(out_dir / "config.json", lambda p: p.write_text(json.dumps(current, indent=2)))
        # Two checkpoints while running (one to resume, one to fall back on); one when finished.
        for old in _checkpoints(out_dir)[: -1 if epoch + 1 == config.epochs else -2]:
            old.unlink()
    return {**metrics, "train_rmse": train_rmse}


def training_windows(config: TrainConfig, task: LorenzTask) -> tuple[torch.Tensor, torch.Tensor]:
    """The windows a run trains on: ``x (S, W)``, ``y (S, W, 2)`` float64, in the task's (time) order.

    All of ``task.train_x`` by default; with ``train_sequences = k``, k of them: spread evenly over the
    whole list (:func:`qrnn_core.data.spread_indices`, ``train_windows = "spread"``) or the first k
    (``"first"``, how runs recorded before ``train_windows`` existed trained).
    """
    x, y = task.train_x, task.train_y
    if config.train_sequences is not None:
        if config.train_sequences > len(x):
            raise ValueError(f"train_sequences: {config.train_sequences} windows asked, the training span has {len(x)}")
        if config.train_windows == "spread":
            keep = torch.from_numpy(spread_indices(len(x), config.train_sequences))
        else:
            keep = torch.arange(config.train_sequences)
        x, y = x[keep], y[keep]
    return x, y


def update(model: QRNN, optimizer, schedule, x: torch.Tensor, y: torch.Tensor, warmup: int) -> float:
    """One update on windows ``x (B, T)``, targets ``y (B, T, 2)``: returns the RMSE of the loss.

    Raises :class:`TrainingDiverged` on a non-finite loss or parameter.
    """
    pred = model(x)
    loss = torch.nn.functional.mse_loss(pred[:, warmup:], y[:, warmup:])
    if not torch.isfinite(loss):
        raise TrainingDiverged(f"the loss is {loss.item()}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise TrainingDiverged("a parameter is no longer finite (is lr too large?)")
    return loss.item() ** 0.5


def make_optimizer(config: TrainConfig, model: QRNN, updates_per_epoch: int):
    """Adam at the run's learning rate, and its schedule (constant, or Spall's gain)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, spall_factor(config, updates_per_epoch))


def _diverged(what: str, epoch: int, update: int, out_dir: Path) -> str:
    kept = _checkpoints(out_dir)
    return (f"{what} at epoch {epoch + 1}, update {update + 1}: stopped; the last good checkpoint "
            f"({kept[-1].name if kept else 'none'}) is kept")


def config_replace(config: TrainConfig, **changes) -> TrainConfig:
    """``dataclasses.replace`` that also accepts ``data_<field>`` for the data settings."""
    data = {k[5:]: v for k, v in changes.items() if k.startswith("data_")}
    rest = {k: v for k, v in changes.items() if not k.startswith("data_")}
    if data:
        rest["data"] = dataclasses.replace(config.data, **data)
    return dataclasses.replace(config, **rest)
