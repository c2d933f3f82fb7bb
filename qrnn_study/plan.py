"""What a ``run`` of the study would do, computing nothing: the inputs of every run (:mod:`.keys`), which
runs are out of date and why (:func:`out_of_date`), the order they start in (:func:`submission_order`),
their cost at the recorded rates (:func:`estimated_seconds`) and the dry run that prints it all
(:func:`dry_run`, ``run --dry-run``).

A run is current when the inputs its result records are today's and, for a training instance, its
folder verifies (:func:`qrnn_core.runfiles.verify_run`); a run whose dependency is re-run is re-run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from qrnn_core.runfiles import verify_run

from .cli import config_from_parameters
from .keys import SCIENCE_CORE, Inputs, code_beside_parameters, digest, inputs_of, notebook_cells_at, notebook_code
from .notebook import notebook_parameters, read_notebook
from .results import compute_table, training_circuits, updates_per_epoch
from .study_file import Run, Study, StudyFileError


#: Said of a training instance whose inputs differ in science core source only (:mod:`.rekey`).
REKEY_HINT = "science source only: `run --rekey` checks whether today's code computes the same"


def source_only(changed: list[str]) -> bool:
    """True when every changed input (:meth:`~qrnn_study.keys.Inputs.changed`) is a science core module."""
    return bool(changed) and all(c.lstrip("+-").startswith(f"module {SCIENCE_CORE}") for c in changed)


def rekeyable(study: Study, run: Run, changed: list[str], recorded: Inputs) -> bool:
    """True when a training instance's inputs differ from today's (``changed``, against ``recorded``) in
    science core source only, or also in its notebook's ``parameters`` cell alone: that cell is generated
    from ``TrainConfig`` (:func:`qrnn_study.cli.parameter_cell`), so a field added there is an edit of the
    science core's source too. The notebook it was made from is read from git at the commit its
    provenance names, and must hash to what it recorded."""
    rest = [c for c in changed if c != "notebook"]
    if rest and not source_only(rest):
        return False
    if "notebook" not in changed:
        return bool(rest)
    metrics = _read_json(study.results / run.name / "metrics.json")
    commit = (metrics.get("provenance") or {}).get("git_commit") if isinstance(metrics, dict) else None
    then = notebook_cells_at(commit, run.notebook) if isinstance(commit, str) else None
    return (then is not None and digest(notebook_code(then)) == recorded.items.get("notebook")
            and code_beside_parameters(then) == code_beside_parameters(read_notebook(run.notebook).cells))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def check_parameters(run: Run) -> None:
    """Refuse parameters the notebook does not declare, before anything runs."""
    declared = notebook_parameters(run.notebook)
    unknown = sorted(set(run.parameters) - set(declared))
    if unknown:
        raise StudyFileError(f"{run.name}: {run.notebook.name} has no parameter {', '.join(map(repr, unknown))}")


# -- what a run's results depend on -------------------------------------------------------------------


def run_inputs(run: Run, depends: dict[str, Inputs], results: Path) -> Inputs:
    """What determines ``run``'s result (:mod:`qrnn_study.keys`): its notebook, parameters, the modules
    that compute it, the locked versions, the data, and its dependencies (their keys, and a training
    dependency's recorded metrics)."""
    recorded = {}
    for name in run.depends:
        metrics = results / name / "metrics.json"
        if name in depends and metrics.exists():
            recorded[name] = metrics.read_bytes()
    return inputs_of(run.notebook, read_notebook(run.notebook).cells, run.parameters, code_only=run.trains,
                     depends={d: depends[d].key for d in run.depends}, results=recorded)


def inputs_record(study: Study, run: Run) -> Path:
    """Where a run's result records its inputs: its results folder (a training instance: the record
    travels with its checkpoints) or beside its executed notebook (a page)."""
    return study.results / run.name / "inputs.json" if run.trains else study.output / f"{run.name}.inputs.json"



def out_of_date(study: Study, run: Run, inputs: Inputs) -> str | None:
    """Why ``run`` is to be run again, in a few words; None when its result is current.

    A training instance is current when its folder verifies for its config
    (:func:`qrnn_core.runfiles.verify_run`: every epoch asked, every file agreeing) and the inputs it
    records are today's; a page when its executed notebook exists and records today's inputs.
    """
    recorded = Inputs.read(inputs_record(study, run))
    if run.trains:
        config = config_from_parameters(run.parameters)
        verdict = verify_run(study.results / run.name, config, warn=lambda line: None)
        if verdict.recorded is None and verdict.epochs == 0:
            return "no result"
    elif not (study.output / f"{run.name}.ipynb").exists():
        return "no result"
    if recorded is None:
        return "no record of the inputs it was made from"
    if recorded.key != inputs.key:
        changed = inputs.changed(recorded)
        said = "inputs changed: " + ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
        return f"{said} ({REKEY_HINT})" if run.trains and rekeyable(study, run, changed, recorded) else said
    if run.trains and not verdict.done:
        if verdict.differs:
            return f"its files record another config (differs in {', '.join(verdict.differs)})"
        if verdict.disagree:
            return "its files disagree: " + "; ".join(f"{name} {how}" for name, how in verdict.disagree.items())
        return f"{verdict.epochs} of {config.epochs} epochs done"
    return None


@dataclass(frozen=True)
class Plan:
    """What a ``run`` of the study would do: ``inputs`` of every run (dependency order), ``todo`` the runs
    to execute (:func:`submission_order`), ``why`` the reason for each of them."""

    inputs: dict[str, Inputs]
    todo: list[Run]
    why: dict[str, str]

    def __iter__(self):  # keys, todo = plan(...)
        return iter((self.inputs, self.todo))


def plan(study: Study, only: str | None = None, rerun: bool = False, train: bool = True) -> Plan:
    """The inputs of every run, and the runs to execute, each with why.

    ``only``: that run (or every instance of that seeded run) and whatever it depends on that is
    not up to date, so nothing is ever built from inputs older than the ones on disk.
    ``train=False``: no training instance runs; pages are built from the seeds finished so far.
    """
    for r in study.runs:
        check_parameters(r)
    names = {r.name for r in study.runs}
    arms = {r.arm for r in study.runs if r.arm} | {r.family for r in study.runs if r.family}
    if only is not None and only not in names and only not in arms:
        raise StudyFileError(f"--only: no run named {only!r} (runs: {', '.join(sorted(names - {r.name for r in study.runs if r.arm} | arms))})")
    inputs: dict[str, Inputs] = {}
    for r in study.runs:  # dependency order
        inputs[r.name] = run_inputs(r, inputs, study.results)

    by_name = {r.name: r for r in study.runs}
    wanted: set[str] = set()
    if only is None:
        wanted = set(names)
    else:
        stack = [n for n in names if only in (n, by_name[n].arm, by_name[n].family)]
        while stack:
            n = stack.pop()
            if n not in wanted:
                wanted.add(n)
                stack += list(by_name[n].depends)
    why: dict[str, str] = {}
    for r in study.runs:  # a run is out of date when it is, or when a dependency is re-run
        if r.name not in wanted or (r.trains and not train):
            continue
        reason = "asked to re-run (--rerun)" if rerun else out_of_date(study, r, inputs[r.name])
        stale_deps = [d for d in r.depends if d in why]
        if reason is None and stale_deps:
            reason = f"it depends on {stale_deps[0]}" + (f" and {len(stale_deps) - 1} more" if len(stale_deps) > 1 else "") + ", to be run"
        if reason is not None:
            why[r.name] = reason
    return Plan(inputs, submission_order([r for r in study.runs if r.name in why]), why)


def epochs_left(steps: Plan, run: Run) -> int:
    """Epochs a training instance of ``steps.todo`` has still to run: all of them unless it only lacks some
    (its reason then reads "k of E epochs done")."""
    epochs = config_from_parameters(run.parameters).epochs
    why = steps.why.get(run.name, "")
    return epochs - int(why.split()[0]) if why.endswith("epochs done") else epochs


def estimated_seconds(study: Study, steps: Plan, epochs_of=None) -> dict[str, float]:
    """Seconds each run of ``steps.todo`` would take at the recorded rates (NaN: nothing to go by).

    A training instance: its family's median seconds per update so far (:func:`compute_table`, borrowed
    from the nearest measured family where it has none) times the updates it has left (all of them when
    its inputs changed: it starts afresh; ``epochs_of(run)``, if given, says how many). A page: what its last
    execution recorded.
    """
    epochs_of = epochs_of or (lambda r: epochs_left(steps, r))
    rate = {row.family: row.seconds_per_update for row in compute_table(study.runs, study.results)}
    out = {}
    for r in steps.todo:
        if r.trains:
            try:
                updates = updates_per_epoch(r.parameters)
            except ValueError:  # a config only its own run can refuse (e.g. more windows than the data): it
                out[r.name] = math.nan  # fails there, by name; a cost estimate never stops the study
                continue
            out[r.name] = rate.get(r.family or r.arm, math.nan) * updates * epochs_of(r)
        else:
            out[r.name] = Inputs.seconds(inputs_record(study, r)) or math.nan
    return out


def dry_run(study: Study, only: str | None = None, rerun: bool = False, train: bool = True) -> str:
    """What ``run`` would do, computing nothing: each out-of-date run, why, its estimated cost; the total."""
    steps = plan(study, only, rerun, train)
    if not steps.todo:
        return f"study ({study.profile}): all {len(study.runs)} runs up to date: nothing to run"
    cost = estimated_seconds(study, steps)
    width = max(len(r.name) for r in steps.todo)
    lines = [f"study ({study.profile}): {len(steps.todo)} of {len(study.runs)} runs out of date (dry run: nothing computed)"]
    for r in steps.todo:
        c = cost[r.name]
        lines.append(f"  {r.name:<{width}}  {'?' if math.isnan(c) else f'{c / 60:.1f} min':>9}  {steps.why[r.name]}")
    known = [c for c in cost.values() if not math.isnan(c)]
    unknown = len(cost) - len(known)
    train_s = sum(c for r in steps.todo if r.trains and not math.isnan(c := cost[r.name]))
    lines.append(f"total: {sum(known) / 3600:.2f} worker-hours at the recorded rates ({train_s / 3600:.2f} of them "
                 f"training)" + (f"; {unknown} run(s) with nothing recorded to estimate from (?)" if unknown else ""))
    return "\n".join(lines)


def submission_order(runs: list[Run]) -> list[Run]:
    """The order in which the runner starts the runs that are ready (dependencies still decide which are).

    Pages and analyses first: they are cheap, and the book fills in early. Then the training instances
    seed by seed, every arm's first seed before any arm's second, so that whenever a long study stops,
    the seeds it has finished are paired across arms. Within a seed, the costliest run first (circuits
    per run), so that the long runs do not all start last.
    """
    def cost(r: Run) -> int:
        try:
            return training_circuits(r.parameters)
        except ValueError:  # a bad config: its own run reports it, where it fails; here it goes last
            return 0

    ranks = {s: i for i, s in enumerate(sorted({r.seed for r in runs if r.seed is not None}))}
    first = {r.name: k for k, r in enumerate(runs)}
    return sorted(runs, key=lambda r: (0, 0, 0, first[r.name]) if not r.trains else
                  (1, ranks.get(r.seed, -1), -cost(r), first[r.name]))
