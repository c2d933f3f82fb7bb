"""A run folder's files, and whether they verify: one answer for training and for the study.

A run folder (:func:`qrnn_core.train.train`) holds ``checkpoint_epoch{k}.pt``, ``config.json``,
``metrics.json`` and ``trajectory.npz``. The newest intact checkpoint is the authority: it carries the
config, the metrics and the trajectory of every epoch it holds, and it is written first at the end of an
epoch, so that a crash between two writes leaves the other files *behind* the checkpoint, never ahead of
it, and they can be rebuilt from it. :func:`verify_run` says whether a folder is a finished result of a
config; it is what ``train`` decides "nothing to do" on and what the study decides "done" on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

#: What metrics.json records per epoch (``save_seconds`` is one shorter in the checkpoint: its own save).
SERIES = ("val", "epoch_seconds", "val_seconds", "save_seconds", "circuits", "shots")
#: How a derived file that is not there disagrees.
MISSING = "missing"
#: The files derived from the checkpoint, in the order an epoch writes them after it.
DERIVED = ("trajectory.npz", "metrics.json", "config.json")


def checkpoints(out_dir: Path) -> list[Path]:
    """The folder's checkpoint files, oldest epoch first."""
    return sorted(out_dir.glob("checkpoint_epoch*.pt"), key=epoch_of_name)


def epoch_of_name(path: Path) -> int:
    """The epoch a checkpoint's name says (-1 for a name that says none, e.g. ``checkpoint_epochX.pt``)."""
    digits = path.stem.split("epoch")[1]
    return int(digits) if digits.isdigit() else -1


def atomic_write(path: Path, write) -> None:
    """``write(tmp)`` then rename over ``path``: a reader sees the old file or the new, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_npz(path: Path, arrays: dict) -> None:
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def as_recorded(config) -> dict:
    """A config as its files record it (JSON types: tuples become lists)."""
    return json.loads(json.dumps(config.to_dict()))


def differing_fields(saved: dict, current: dict) -> list[str]:
    """Config fields that differ, ``epochs`` aside (a resumed run may be extended)."""
    keys = set(saved) | set(current)
    return sorted(k for k in keys if k != "epochs" and saved.get(k) != current.get(k))


def _inconsistency(path: Path, state) -> str | None:
    """Why a loaded checkpoint cannot be trusted (None: it agrees with itself and with its name)."""
    if not isinstance(state, dict) or not {"epoch", "config", "metrics", "params", "train_rmse"} <= set(state):
        return "is not a checkpoint of this code"
    if state["epoch"] != epoch_of_name(path):
        return f"holds epoch {state['epoch']!r}, its name says {epoch_of_name(path)}"
    if len(state["metrics"].get("val", [])) != state["epoch"] or state["metrics"].get("config") != state["config"]:
        return "contradicts itself (its metrics disagree with its epoch or config)"
    return None


def load_latest(out_dir: Path, warn, skipped: list[Path] | None = None) -> dict | None:
    """The newest intact checkpoint (``weights_only``: nothing in it can run code), or None.

    A corrupt, truncated or self-contradicting newest file falls back to the one before, with a warning
    naming both (and is appended to ``skipped``).
    """
    found = checkpoints(out_dir)
    for k in range(len(found) - 1, -1, -1):
        fallback = found[k - 1].name if k else "a fresh start"
        try:
            state = torch.load(found[k], weights_only=True)
            why = _inconsistency(found[k], state)
        except Exception as err:  # noqa: BLE001 - any unreadable file is skipped the same way
            why = f"is unreadable ({type(err).__name__})"
        if why is None:
            return state
        warn(f"warning: {found[k]} {why}; resuming from {fallback}")
        if skipped is not None:
            skipped.append(found[k])
    return None


def rebuilt(state: dict) -> dict:
    """The derived files' contents as the checkpoint ``state`` holds them: {file name: writer}."""
    trajectory = rebuilt_arrays(state)
    return {
        "trajectory.npz": lambda p: save_npz(p, trajectory),
        "metrics.json": lambda p: p.write_text(json.dumps(state["metrics"], indent=1)),
        "config.json": lambda p: p.write_text(json.dumps(state["config"], indent=2)),
    }


@dataclass(frozen=True)
class Verdict:
    """What a run folder holds, checked against the config asked of it.

    ``epochs``: epochs of the newest intact checkpoint (0: none); ``recorded``: the config the folder's
    run was made with (the checkpoint's; without one, config.json's or metrics.json's; None: an empty
    folder); ``differs``: fields where it differs from the asked config, epochs aside; ``disagree``:
    {file: how} for each derived file that disagrees with the checkpoint.
    """

    folder: Path
    asked: dict
    epochs: int
    recorded: dict | None
    differs: tuple[str, ...]
    disagree: dict[str, str]
    state: dict | None = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        """The checkpoint holds at least the asked epochs of the asked config (epochs aside)."""
        return self.state is not None and not self.differs and self.epochs >= self.asked["epochs"]

    @property
    def done(self) -> bool:
        """A finished result of exactly the asked config, every file agreeing: nothing to recompute or repair."""
        return (self.complete and not self.disagree and self.epochs == self.asked["epochs"]
                and self.recorded == self.asked)

    def lines(self) -> list[str]:
        """One line per disagreeing file: which file, how, and what repairs it."""
        source = f"checkpoint_epoch{self.epochs}.pt"
        return [f"{self.folder / name}: {how}; rebuilt from {source}"
                + ("" if how == MISSING else f" (the file it replaced is kept as {name}.rejected)")
                for name, how in self.disagree.items()]


def verify_run(out_dir: str | Path, config, *, repair: bool = False, warn=print) -> Verdict:
    """Check that ``out_dir``'s files agree with each other and with ``config``; optionally repair them.

    The newest intact checkpoint decides: config.json, metrics.json and trajectory.npz must record its
    config, its epochs and its numbers. ``repair``: each file that disagrees is rebuilt from the
    checkpoint (the old one kept as ``<name>.rejected``, as is an unusable checkpoint), with ``warn``
    saying which and how; the
    returned verdict describes the folder as it was found. Without a checkpoint nothing can be verified
    or repaired: the run is to be done (again).
    """
    out_dir = Path(out_dir)
    asked = as_recorded(config)
    skipped: list[Path] = []
    state = load_latest(out_dir, warn, skipped) if out_dir.is_dir() else None
    disagree = _disagreements(out_dir, state) if state is not None else {}
    recorded = state["config"] if state is not None else _recorded_without_checkpoint(out_dir)
    verdict = Verdict(out_dir, asked, state["epoch"] if state is not None else 0, recorded,
                      tuple(differing_fields(recorded, asked)) if recorded is not None else (), disagree, state)
    if repair:
        for path in skipped:  # set aside, so that it is neither read again nor mistaken for the newest
            os.replace(path, path.with_name(path.name + ".rejected"))
    if repair and disagree:
        writers = rebuilt(state)
        for name, line in zip(disagree, verdict.lines()):
            if (out_dir / name).exists():
                os.replace(out_dir / name, out_dir / f"{name}.rejected")
            atomic_write(out_dir / name, writers[name])
            warn(f"warning: {line}")
    return verdict


def _recorded_without_checkpoint(out_dir: Path) -> dict | None:
    """The config a folder without an intact checkpoint says it holds (config.json, else metrics.json)."""
    for name in ("config.json", "metrics.json"):
        data = _read_json(out_dir / name)
        if isinstance(data, dict):
            found = data.get("config", data) if name == "metrics.json" else data
            if isinstance(found, dict):
                return found
    return None


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _disagreements(out_dir: Path, state: dict) -> dict[str, str]:
    """{file: how it disagrees with the checkpoint ``state``} for each derived file."""
    found = {"config.json": _config_disagrees(out_dir / "config.json", state),
             "metrics.json": _metrics_disagree(out_dir / "metrics.json", state),
             "trajectory.npz": _trajectory_disagrees(out_dir / "trajectory.npz", state)}
    return {name: found[name] for name in DERIVED if found[name]}


def _config_disagrees(path: Path, state: dict) -> str | None:
    if not path.exists():
        return MISSING
    data = _read_json(path)
    if not isinstance(data, dict):
        return "unreadable (not a JSON object)"
    return _config_difference(data, state)


def _config_difference(data: dict, state: dict) -> str | None:
    """How a recorded config differs from the checkpoint's (None: equal)."""
    if data == state["config"]:
        return None
    differ = [k for k in sorted(set(data) | set(state["config"])) if data.get(k) != state["config"].get(k)]
    return (f"records another config than its checkpoint (differs in {', '.join(differ)}: "
            + "; ".join(f"{k} {data.get(k)!r} here, {state['config'].get(k)!r} there" for k in differ[:2]) + ")")


def _metrics_disagree(path: Path, state: dict) -> str | None:
    if not path.exists():
        return MISSING
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("val"), list):
        return "unreadable (not the JSON of a run's metrics)"
    if (how := _config_difference(data.get("config") or {}, state)) is not None:
        return how
    if len(data["val"]) != state["epoch"]:
        return f"holds {len(data['val'])} epoch(s), its checkpoint {state['epoch']}"
    theirs = state["metrics"]
    # compared as JSON text: a NaN score equals itself there
    differ = [k for k in SERIES if k != "save_seconds" and json.dumps(data.get(k)) != json.dumps(theirs.get(k))]
    if differ:
        return f"its numbers differ from its checkpoint's ({', '.join(differ)})"
    return None


def _trajectory_disagrees(path: Path, state: dict) -> str | None:
    if not path.exists():
        return MISSING
    try:
        with np.load(path) as z:
            params, train_rmse = z["params"], z["train_rmse"]
    except Exception as err:  # noqa: BLE001 - truncated, not an npz, a key missing: all unreadable
        return f"unreadable ({type(err).__name__})"
    want = rebuilt_arrays(state)
    if params.shape != want["params"].shape or train_rmse.shape != want["train_rmse"].shape:
        return (f"holds {len(train_rmse)} epoch(s) of {params.shape[-1] if params.ndim else '?'} parameters, "
                f"its checkpoint {state['epoch']} of {want['params'].shape[-1]}")
    if not all(np.array_equal(a, want[k], equal_nan=True) for k, a in (("params", params), ("train_rmse", train_rmse))):
        return "its numbers differ from its checkpoint's"
    return None


def rebuilt_arrays(state: dict) -> dict[str, np.ndarray]:
    """trajectory.npz's arrays as the checkpoint holds them."""
    return {"train_rmse": state["train_rmse"].numpy().astype(np.float32), "params": state["params"].numpy()}
