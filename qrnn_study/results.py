"""Reading a profile's results, and checking that today's code still computes them.

A training instance's folder (``results/<profile>/<arm>@<seed>/``, written by
:func:`qrnn_core.train.train`) holds ``config.json``, ``metrics.json``, ``trajectory.npz`` and its last
checkpoint. :func:`load_arm` gathers every seed of an arm into arrays; :func:`reproduces` re-computes a
prefix of one instance (its first updates and its first validation, same seed) and compares it with
what the folder holds: the proof that shipped results come from this code, and the test of whether a
change of the code has made them stale.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from qrnn_core.data import DataConfig, LorenzTask, make_task
from qrnn_core.evaluation import MODES, PROTOCOLS, validate, validation_inputs
from qrnn_core.train import TrainConfig, build_model, make_optimizer, training_windows, update, validation_generator

from .cli import config_from_parameters
from .model import ARM_LABELS, SWEEPS
from .study_file import sweep_arm

OUTPUTS = ("rmse_y", "rmse_z", "rmse_mean")


@dataclass
class ArmResults:
    """Every finished (or partly finished) seed of one arm.

    ``val[protocol][mode]``: ``(S, E, 3)`` validation RMSE (y, z, mean) per seed and epoch, NaN where
    an epoch is not done; ``train_rmse``: ``(S, E, U)`` per update (NaN where missing); ``params``:
    ``(S, E + 1, 144)``; ``epoch_seconds (S, E)``; ``epochs_done (S,)``; ``config`` of the first seed (seed aside, all
    alike: :func:`load_arm` refuses seeds whose configs differ).
    """

    arm: str
    seeds: list[int]
    epochs_done: np.ndarray
    val: dict
    train_rmse: np.ndarray
    params: np.ndarray
    epoch_seconds: np.ndarray
    config: dict
    circuits_per_update: int
    shots_per_circuit: int
    provenance: list[dict]

    @property
    def complete(self) -> np.ndarray:
        return self.epochs_done == self.config["epochs"]

    def subset(self, keep) -> "ArmResults":
        """The same arm restricted to the seeds where ``keep`` (a boolean ``(S,)``) holds."""
        i = np.flatnonzero(keep)
        return dataclasses.replace(
            self, seeds=[self.seeds[k] for k in i], epochs_done=self.epochs_done[i],
            val={p: {m: v[i] for m, v in modes.items()} for p, modes in self.val.items()},
            train_rmse=self.train_rmse[i], params=self.params[i], epoch_seconds=self.epoch_seconds[i],
            provenance=[self.provenance[k] for k in i])

    @property
    def mode(self) -> str:
        """The validation it is scored with: the probabilities it trained with, ``"shots"`` or ``"exact"``."""
        return "shots" if self.config.get("shots") else "exact"


def read_results(results: Path | str, run: str, file: str) -> dict | None:
    """A page run's JSON under ``results`` (e.g. ``baselines``, ``baselines.json``); None until it is written."""
    path = Path(results) / run / file
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as err:  # a garbled results file: named, never a bare JSONDecodeError
        where = f"{err.msg}, line {err.lineno} column {err.colno}" if isinstance(err, json.JSONDecodeError) else err
        raise ValueError(f"{path}: not JSON ({where}): re-run {run}") from None


def instance_dirs(results: Path, arm: str) -> dict[int, Path]:
    found = {}
    for d in sorted(Path(results).glob(f"{arm}@*")):
        if (d / "metrics.json").exists() and d.name.split("@")[1].isdigit():
            found[int(d.name.split("@")[1])] = d
    return dict(sorted(found.items()))


def load_arm(results: Path | str, arm: str, seeds: list[int] | None = None) -> ArmResults | None:
    """The arm's instances under ``results`` (only ``seeds`` if given); None when none has finished an epoch."""
    dirs = instance_dirs(Path(results), arm)
    if seeds is not None:
        dirs = {s: d for s, d in dirs.items() if s in seeds}
    if not dirs:
        return None
    metrics = {s: json.loads((d / "metrics.json").read_text()) for s, d in dirs.items()}
    config = next(iter(metrics.values()))["config"]
    for s, m in metrics.items():  # seeds of one arm must differ in their seed only, or they are not one arm
        if differ := sorted(k for k in set(config) | set(m["config"]) if k != "seed" and config.get(k) != m["config"].get(k)):
            raise ValueError(f"{arm}: seed {s}'s config differs from seed {next(iter(metrics))}'s in "
                             f"{', '.join(differ)} ({dirs[s]}): results of another config; re-run or remove it")
    E = config["epochs"]
    trajectories = {}
    for s, d in dirs.items():
        with np.load(d / "trajectory.npz") as z:
            trajectories[s] = {"train_rmse": z["train_rmse"], "params": z["params"]}
    U = max(t["train_rmse"].shape[1] for t in trajectories.values())
    S = len(dirs)
    val = {p: {m: np.full((S, E, 3), np.nan) for m in MODES} for p in PROTOCOLS}
    train_rmse = np.full((S, E, U), np.nan)
    P = next(iter(trajectories.values()))["params"].shape[1]
    params = np.full((S, E + 1, P), np.nan)
    done = np.zeros(S, dtype=int)
    seconds = np.full((S, E), np.nan)
    for i, s in enumerate(dirs):
        for e, v in enumerate(metrics[s]["val"][:E]):
            for p in PROTOCOLS:
                for m in MODES:
                    if m in v[p]:
                        val[p][m][i, e] = [v[p][m][k] for k in OUTPUTS]
        t = trajectories[s]
        train_rmse[i, : len(t["train_rmse"]), : t["train_rmse"].shape[1]] = t["train_rmse"]
        params[i, : len(t["params"])] = t["params"]
        done[i] = len(metrics[s]["val"])
        seconds[i, : len(metrics[s]["epoch_seconds"][:E])] = metrics[s]["epoch_seconds"][:E]
    cfg = TrainConfig.from_dict(config)
    return ArmResults(arm, list(dirs), done, val, train_rmse, params, seconds, config, cfg.circuits_per_update(),
                      cfg.shots or 0, [metrics[s]["provenance"] for s in dirs])


def load_sweep(results: Path | str, family: str, parameter: str = "lr", values=None) -> dict[float, ArmResults]:
    """The points of a swept run (its arms ``{family}-{parameter}<value>``, see
    :func:`qrnn_study.study_file.sweep_arm`) by the value its config records, ascending.

    ``values``: the points the study lists (e.g. ``Study.sweep_values(family)``); folders of other values
    (an older study file's) are left out. None: every point found under ``results``."""
    if values is None:
        arms = {d.name.split("@")[0] for d in Path(results).glob(f"{family}-{parameter}*@*")}
    else:
        arms = {sweep_arm(family, parameter, v) for v in values}
    found = {res.config[parameter]: res for a in arms if (res := load_arm(results, a)) is not None}
    return dict(sorted(found.items()))


def load_arms(results: Path | str, arms=ARM_LABELS) -> dict[str, ArmResults]:
    """``{id: ArmResults}`` of each arm of ``arms`` (ids; default: the full-protocol arms of
    :data:`qrnn_study.model.ARM_LABELS`, in their order) that has finished an epoch under ``results``."""
    return {a: r for a in arms if (r := load_arm(results, a)) is not None}


def load_sweeps(results: Path | str, study) -> dict[str, dict[float, ArmResults]]:
    """The learning-rate sweeps by estimator (:data:`qrnn_study.model.SWEEPS`: ``spsa``, ``fdsa``,
    ``exact``), each ``{lr: ArmResults}`` over the rates ``study`` (a :class:`~qrnn_study.study_file.Study`) lists."""
    return {m: load_sweep(results, family, values=study.sweep_values(family)) for m, family in SWEEPS.items()}


@dataclass(frozen=True)
class ComputeRow:
    """One study-file run's training compute: measured where its seeds have run, projected elsewhere."""

    family: str
    instances: int
    finished: int
    epochs_done: int
    epochs_total: int
    seconds_per_update: float  # at its median epoch so far (NaN: nothing of this kind has run)
    fastest_per_update: float  # at its fastest epoch so far
    measured: bool  # False: borrowed from the measured run with the nearest circuits per update
    seconds_done: float
    seconds_left: float  # projected at the median epoch
    seconds_left_fastest: float  # projected at the fastest epoch: what a machine running nothing else might do


def compute_table(runs, results: Path | str) -> list[ComputeRow]:
    """Training compute of ``runs`` (a study's :class:`~qrnn_study.study_file.Run` list) by study-file run.

    Seconds are the training workers' own (``epoch_seconds`` + ``val_seconds`` + ``save_seconds`` of
    each finished epoch, one torch thread a worker, on whatever machine and load ran them). What is
    left is projected twice: at the run's median epoch so far (what the machine has been doing) and at
    its fastest (what it does with nothing else running beside the workers). A run none of whose
    epochs has finished borrows the rates of the measured run with the nearest circuits per update, on the
    same device noise among equals (an FDSA-sized SPSA update costs what an FDSA update costs; a noisy
    run's first estimate is a noiseless rate until one of its kind has run an epoch). A run
    whose config is invalid is left out: it fails where it runs, with its own message.
    """
    groups: dict[str, list] = {}
    for r in runs:
        if r.trains and _valid(r.parameters):
            groups.setdefault(r.family or r.arm, []).append(r)
    stats = {}
    for family, members in groups.items():
        seconds, rates = 0.0, []
        done_epochs = total_epochs = finished = updates_done = updates_total = 0
        for r in members:
            path = Path(results) / r.name / "metrics.json"
            epochs, per = config_from_parameters(r.parameters).epochs, updates_per_epoch(r.parameters)
            total_epochs += epochs
            updates_total += epochs * per
            if not path.exists():
                continue
            m = json.loads(path.read_text())
            n = len(m["val"])
            done_epochs += n
            finished += n >= epochs
            updates_done += n * per
            saves = (m.get("save_seconds") or [])[:n]  # recorded since a later version: missing ones count 0
            per_epoch = [sum(x) for x in zip(m["epoch_seconds"][:n], m["val_seconds"][:n], saves + [0.0] * (n - len(saves)))]
            seconds += sum(per_epoch)
            rates += [t / per for t in per_epoch]
        stats[family] = dict(members=members, finished=finished, done=done_epochs, total=total_epochs,
                             seconds=seconds, rates=rates, left=updates_total - updates_done,
                             circuits=circuits_per_update(members[0].parameters),
                             noise=members[0].parameters.get("noise_device"))
    measured = {f: (float(np.median(st["rates"])), min(st["rates"])) for f, st in stats.items() if st["rates"]}
    rows = []
    for family, st in stats.items():
        if family in measured:
            median, fastest = measured[family]
        elif measured:
            # the nearest circuits per update (an update's cost is mostly its circuit count: a noisy FDSA update
            # is nothing like a noisy SPSA one); among equals, one on the same device noise, then the fastest
            median, fastest = measured[min(measured, key=lambda f: (abs(math.log(stats[f]["circuits"] / st["circuits"])),
                                                                    stats[f]["noise"] != st["noise"], measured[f][1]))]
        else:
            median = fastest = math.nan
        rows.append(ComputeRow(family, len(st["members"]), st["finished"], st["done"], st["total"], median, fastest,
                               family in measured, st["seconds"], st["left"] * median, st["left"] * fastest))
    return rows


def compute_snapshot(rows: list[ComputeRow], results: Path | str, engine: str) -> dict:
    """What a profile's training runs cost, kept when their results are replaced (e.g. by a re-run on a new
    engine), so that the book can set the old cost beside the new: per study-file run its instances,
    finished ones and recorded seconds (:func:`compute_table`), the ``engine`` they trained on and the
    commits and machines their ``metrics.json`` record."""
    commits, machines = Counter(), Counter()
    for path in Path(results).glob("*@*/metrics.json"):
        prov = json.loads(path.read_text()).get("provenance", {})
        commits[prov.get("git_commit", "unknown")] += 1
        machine = prov.get("machine", {})
        machines[f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"] += 1
    return {"engine": engine, "commits": dict(commits), "machines": dict(machines),
            "families": [{"family": r.family, "instances": r.instances, "finished": r.finished,
                          "seconds": round(r.seconds_done, 1)} for r in rows]}


def _valid(parameters: dict) -> bool:
    """The run's config passes its checks and its data has the windows it asks for."""
    try:
        config_from_parameters(parameters).check()
        updates_per_epoch(parameters)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def _task(data: DataConfig) -> LorenzTask:
    """One task per data config: every run of a profile shares a handful."""
    return make_task(data)


def updates_per_epoch(parameters: dict) -> int:
    """Updates an epoch of a run: the windows it trains on (:func:`qrnn_core.train.training_windows`) per batch."""
    return _updates_per_epoch(config_from_parameters(parameters))


@functools.lru_cache(maxsize=None)
def _updates_per_epoch(config) -> int:  # a plan asks for every run of a profile, which share a few configs
    return math.ceil(len(training_windows(config, _task(config.data))[0]) / config.batch_size)


def circuits_per_update(parameters: dict) -> int:
    """Circuits one update of a run evaluates (the forward included)."""
    return config_from_parameters(parameters).circuits_per_update()


def training_circuits(parameters: dict) -> int:
    """Circuits a whole training run evaluates: its cost, up to the seconds a circuit takes."""
    return config_from_parameters(parameters).epochs * updates_per_epoch(parameters) * circuits_per_update(parameters)


@dataclass
class Reproduction:
    """The outcome of :func:`reproduces`: ``exact`` when every number is bitwise equal."""

    run: str
    exact: bool
    max_relative_difference: float
    updates_checked: int

    @property
    def current(self) -> bool:
        """Today's code computes what the folder holds (up to the last bits of floating point)."""
        return self.max_relative_difference <= 1e-6

    def __str__(self) -> str:
        what = (f"today's code re-computed the first {self.updates_checked} updates and the first validation of "
                f"{self.run} from its seed")
        if self.exact:
            return f"{what}: bit for bit what its files hold, so these results come from this code"
        if self.current:
            return f"{what}: equal to rounding (largest relative difference {self.max_relative_difference:.2e})"
        return (f"{what}: STALE, the code now computes other numbers (largest relative difference "
                f"{self.max_relative_difference:.2e})")


def reproduces(folder: Path | str, updates: int = 3) -> Reproduction:
    """Re-compute the first ``updates`` updates and the first validation of the run in ``folder``.

    Runs with one torch thread, as the study's workers do (a matmul's last bits may depend on the
    thread count).
    """
    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    config = TrainConfig.from_dict(metrics["config"])
    with np.load(folder / "trajectory.npz") as z:
        shipped_rmse, shipped_params = z["train_rmse"], z["params"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        task = make_task(config.data)
        x, y = training_windows(config, task)
        model, gens = build_model(config)
        optimizer, schedule = make_optimizer(config, model, math.ceil(len(x) / config.batch_size))
        start = np.concatenate([p.detach().reshape(-1).double().numpy() for p in model.parameters()])
        order = torch.randperm(len(x), generator=gens["shuffle"]).split(config.batch_size)
        got = [update(model, optimizer, schedule, x[idx], y[idx], config.warmup) for idx in order[:updates]]
        # the first validation, from the parameters the run recorded after epoch 1
        with torch.no_grad():
            offset = 0
            for p in model.parameters():
                p.copy_(torch.from_numpy(shipped_params[1, offset: offset + p.numel()]).reshape(p.shape))
                offset += p.numel()
        val = validate(model, validation_inputs(task, config.warmup, config.val_steps), config.val_shots,
                       validation_generator(config, 1))["scores"]
    finally:
        torch.set_num_threads(threads)
    ours = np.concatenate([start, np.float32(got), _flat(val)])
    theirs = np.concatenate([shipped_params[0], shipped_rmse[0, :updates], _flat(metrics["val"][0])])
    diff = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12)
    return Reproduction(folder.name, bool(np.array_equal(ours, theirs)), float(diff.max()), len(got))


def _flat(v: dict) -> np.ndarray:
    return np.array([v[p][m][k] for p in PROTOCOLS for m in MODES if m in v[p] for k in OUTPUTS])
