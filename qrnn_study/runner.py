"""``python -m qrnn_study run``: the study's notebooks run as tasks on a Dask cluster.

The study file (``study.yml``, checked against :data:`SCHEMA`) lists runs: a notebook (jupytext percent
``.py``), parameters per profile, what each depends on, and optionally ``seeds`` (one instance per seed,
``NAME@SEED``) and ``sweep`` (one arm per value of one parameter, ``NAME-lr0.001@SEED``). Every instance gets ``profile``, ``results_dir`` and ``run_name`` and keeps its result
files in ``results/<profile>/<run_name>``; executed notebooks go to ``book/generated/<profile>/``.

A run is skipped when its result is current (:func:`out_of_date`): it records the inputs it was made
from (:mod:`qrnn_study.keys`: notebook, parameters, the modules that compute it, locked versions, data,
dependencies) and they are today's, and, for a training instance, its folder verifies
(:func:`qrnn_core.runfiles.verify_run`). Training resumes from its checkpoints when its inputs are
unchanged, and starts afresh when they changed. ``run --dry-run`` prints what would run, why, and
its cost at the recorded rates, computing nothing (:func:`dry_run`).

Execution (:func:`run_study`) submits every run whose dependencies are done to a Dask cluster: by
default a ``LocalCluster`` of processes with one thread each, as many workers as cores; or an
existing cluster by address; in :func:`submission_order` (pages first, then the training instances seed
by seed, so that a study stopped early leaves paired seeds). Every run computes on one thread, except
runs marked ``exclusive`` (timing): they run alone, with every core of their worker's machine. A lost worker's run is rescheduled by Dask and resumes from its checkpoints. A failing notebook (a dead kernel included) is
reported by name and cell; the other runs go on; the command exits non-zero.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import yaml

from qrnn_core.runfiles import atomic_write

from .keys import Inputs, inputs_of

ROOT = Path(__file__).resolve().parent.parent
TRAIN_NOTEBOOK = "train.py"

_NAME = r"^[a-z0-9][a-z0-9_-]*$"
SCHEMA = {
    "type": "object",
    "required": ["output", "results", "profiles", "runs"],
    "properties": {
        "output": {"type": "string"},
        "results": {"type": "string"},
        "profiles": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {
                "type": "object",
                "required": ["description", "seeds"],
                "properties": {
                    "description": {"type": "string"},
                    "seeds": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1,
                              "uniqueItems": True},
                },
                "additionalProperties": False,
            },
        },
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "notebook"],
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "notebook": {"type": "string"},
                    "title": {"type": "string"},
                    "exclusive": {"type": "boolean"},
                    "depends": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                    # seeds per profile: how many of the profile's seeds (0: none of this run in that profile)
                    "seeds": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                    "sweep": {  # {parameter: {profile: [values]}}: one arm per value
                        "type": "object", "minProperties": 1, "maxProperties": 1,
                        "additionalProperties": {"type": "object", "additionalProperties": {
                            "type": "array", "items": {"type": "number"}, "minItems": 1, "uniqueItems": True}},
                    },
                    "parameters": {"type": "object", "additionalProperties": {"type": "object"}},
                },
                "dependentRequired": {"sweep": ["seeds"]},
                "additionalProperties": False,
            },
        },
    },
    "patternProperties": {"^x-": {}},  # YAML anchors of shared settings
    "additionalProperties": False,
}


class StudyFileError(ValueError):
    """The study file is invalid: one line naming the file, the key and the run."""


@dataclass(frozen=True)
class Run:
    """One notebook execution: a run of the study file, or one seed's instance of it (``NAME@SEED``)."""

    name: str
    notebook: Path
    parameters: dict
    depends: tuple[str, ...] = ()
    exclusive: bool = False
    title: str | None = None  # replaces the notebook's first heading in the book
    arm: str | None = None  # the arm this is a seed of: the study file's run, or one point of its sweep
    seed: int | None = None
    family: str | None = None  # the study file's run it comes from (the arm itself unless swept)
    point: dict | None = None  # a swept run's value, e.g. {"lr": 0.001}

    @property
    def trains(self) -> bool:
        return self.notebook.name == TRAIN_NOTEBOOK


@dataclass
class Study:
    output: Path
    results: Path
    profile: str
    runs: list[Run] = field(default_factory=list)
    description: str = ""
    path: Path | None = None
    seeds: list[int] = field(default_factory=list)  # the profile's seeds, in the study file's order

    def arm_runs(self, arm: str) -> list[Run]:
        return [r for r in self.runs if r.arm == arm]

    def sweep_values(self, family: str, parameter: str = "lr") -> list:
        """The values a swept run takes in this profile, ascending (empty: none, or not a swept run)."""
        return sorted({r.point[parameter] for r in self.runs if r.family == family and r.point})


def _fail(path: Path, where: str, message: str, line: int | None = None):
    raise StudyFileError(f"{path.name}: {where}: {message}" + (f" (line {line})" if line else ""))


def _where(spec: dict, location) -> str:
    """``runs[3] ('fdsa-shots').parameters`` from a jsonschema error path."""
    parts, node = [], spec
    for key in location:
        if isinstance(key, int):
            name = node[key].get("name") if isinstance(node[key], dict) else None
            parts[-1] += f"[{key}]" + (f" ({name!r})" if name else "")
        else:
            parts.append(str(key))
        node = node[key] if isinstance(node, (dict, list)) else node
    return ".".join(parts) or "(top level)"


def read_study_file(path: Path | str) -> dict:
    """The study file, parsed and checked: schema, names, notebooks, profiles, dependencies."""
    import jsonschema

    from . import study_values

    path = Path(path)
    try:
        spec, root = study_values.parse(path.read_text())
    except study_values.YamlSyntaxError as err:
        raise StudyFileError(f"{path.name}: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise StudyFileError(f"{path.name}: cannot be read: {str(err).splitlines()[0]}") from None

    def fail(location, message: str):
        _fail(path, _where(spec, location), message, study_values.line_of(root, location))

    if found := study_values.duplicate_key(root):
        fail(*found)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        message = e.message
        if e.validator == "additionalProperties":
            extra = [k for k in e.instance if k not in e.schema.get("properties", {})
                     and not any(re.match(p, k) for p in e.schema.get("patternProperties", {}))]
            message = f"unknown key {extra[0]!r}" if extra else message
            typed = [*e.absolute_path, extra[0]] if extra else list(e.absolute_path)  # the line of the key itself
        _fail(path, _where(spec, e.absolute_path), message,
              study_values.line_of(root, typed if e.validator == "additionalProperties" else e.absolute_path))
    profiles = set(spec["profiles"])
    seen: set[str] = set()
    for k, r in enumerate(spec["runs"]):
        if r["name"] in seen:
            fail(["runs", k, "name"], f"duplicate run name {r['name']!r}")
        seen.add(r["name"])
        if not (path.parent / r["notebook"]).is_file():
            fail(["runs", k, "notebook"], f"no notebook {r['notebook']!r}")
        for block in r.get("parameters", {}):
            if block != "common" and block not in profiles:
                fail(["runs", k, "parameters", block], f"unknown profile {block!r} (profiles: "
                     f"{', '.join(sorted(profiles))}, or common)")
        for block in r.get("seeds", {}):
            if block not in profiles:
                fail(["runs", k, "seeds", block], f"unknown profile {block!r}")
        for param, values in r.get("sweep", {}).items():
            for block in values:
                if block not in profiles:
                    fail(["runs", k, "sweep", param, block], f"unknown profile {block!r}")
            for value in {v for vs in values.values() for v in vs}:
                if (arm := sweep_arm(r["name"], param, value)) in seen or arm in {x["name"] for x in spec["runs"]}:
                    fail(["runs", k, "sweep"], f"the swept arm {arm!r} is also a run's name")
        for d in r.get("depends", []):
            if d not in {x["name"] for x in spec["runs"]}:
                fail(["runs", k, "depends"], f"unknown run {d!r}")
    try:
        tuple(TopologicalSorter({r["name"]: r.get("depends", []) for r in spec["runs"]}).static_order())
    except CycleError as err:
        _fail(path, "runs", f"dependency cycle {' -> '.join(err.args[1])}")
    # The values: generated names unique, the results folder outside the source, every training config valid.
    checks = [lambda: study_values.sweep_name_clash(spec, sweep_arm),
              lambda: study_values.results_problem(spec, path.parent)]
    checks += [lambda k=k: study_values.training_problem(spec, k) for k, r in enumerate(spec["runs"])
               if Path(r["notebook"]).name == TRAIN_NOTEBOOK]
    for check in checks:
        if found := check():
            fail(*found)
    return spec


def sweep_arm(run: str, parameter: str, value) -> str:
    """The arm of one point of a swept run: ``sweep-fdsa`` at ``lr`` 0.001 is ``sweep-fdsa-lr0.001``."""
    return f"{run}-{parameter}{value:g}"


def load_study(path: Path | str = ROOT / "study.yml", profile: str = "quick") -> Study:
    """The runs of ``profile`` in dependency order, parameters layered (``common``, then the profile's),
    seeded runs expanded into one instance per seed (the first k of the profile's seeds)."""
    path = Path(path)
    spec = read_study_file(path)
    if profile not in spec["profiles"]:
        raise StudyFileError(f"{path.name}: profiles: unknown profile {profile!r} (defined: "
                             f"{', '.join(spec['profiles'])})")
    prof = spec["profiles"][profile]
    base = path.parent
    output, results = base / spec["output"] / profile, base / spec["results"] / profile
    by_name = {r["name"]: r for r in spec["runs"]}
    order = TopologicalSorter({r["name"]: r.get("depends", []) for r in spec["runs"]}).static_order()
    runs: list[Run] = []
    expanded: dict[str, list[str]] = {}
    for name in order:
        r = by_name[name]
        params = dict((r.get("parameters") or {}).get("common", {}))
        params.update((r.get("parameters") or {}).get(profile, {}))
        params.update(profile=profile, results_dir=_relative(results, ROOT))
        depends = tuple(n for d in r.get("depends", ()) for n in expanded[d])
        common = dict(notebook=base / r["notebook"], exclusive=bool(r.get("exclusive", False)),
                      title=r.get("title"), depends=depends)
        if "seeds" in r:
            count = r["seeds"].get(profile, len(prof["seeds"]))
            if count > len(prof["seeds"]):
                raise StudyFileError(f"{path.name}: runs ({name!r}).seeds.{profile}: {count} seeds asked, "
                                     f"the profile lists {len(prof['seeds'])}")
            # A swept run is one arm per value (none in a profile that lists no values), each seeded.
            points = [{}]
            for param, values in r.get("sweep", {}).items():
                points = [{param: v} for v in values.get(profile, [])]
            expanded[name] = []
            for point in points:
                arm = sweep_arm(name, *next(iter(point.items()))) if point else name
                for seed in prof["seeds"][:count]:
                    instance = f"{arm}@{seed}"
                    expanded[name].append(instance)
                    runs.append(Run(instance, parameters={**params, **point, "seed": seed, "run_name": instance},
                                    arm=arm, seed=seed, family=name, point=point or None, **common))
        else:
            expanded[name] = [name]
            runs.append(Run(name, parameters={**params, "run_name": name}, **common))
    return Study(output, results, profile, runs, prof.get("description", "").strip(), path, list(prof["seeds"]))


def write_toc(study: Study, book: Path = ROOT / "book") -> Path:
    """The book's table of contents for ``study.profile``: ``_toc.yml`` with its pages' folder
    ``generated/paper/`` replaced by this profile's (written into that folder)."""
    text = (book / "_toc.yml").read_text()
    out = study.output / "_toc.yml"  # pages in <book>/generated/<profile>/, as the toc's entries say
    study.output.mkdir(parents=True, exist_ok=True)
    out.write_text(text.replace("generated/paper/", f"generated/{study.profile}/"))
    return out


def _relative(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


# -- notebooks --------------------------------------------------------------------------------------


def read_notebook(path: Path):
    """A jupytext percent-format ``.py`` notebook as an nbformat node (converted in memory)."""
    import jupytext

    return jupytext.read(path)


def notebook_parameters(path: Path) -> dict:
    """The names and defaults declared in the notebook's ``parameters`` cell."""
    cell = next(c for c in read_notebook(path).cells if "parameters" in c.metadata.get("tags", []))
    names = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = ast.literal_eval(node.value)
    return names


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


def training_done(study: Study, run: Run) -> bool:
    """A training instance's results verify for the config its parameters describe
    (:func:`qrnn_core.runfiles.verify_run`, the check ``train`` decides "nothing to do" on). Read only:
    a folder that does not verify is run again, and ``train`` repairs it from its checkpoint or resumes."""
    from qrnn_core.runfiles import verify_run

    from .cli import config_from_parameters

    try:
        config = config_from_parameters(run.parameters)
    except (TypeError, ValueError):
        return False
    return verify_run(study.results / run.name, config, warn=lambda line: None).done


def profile_note(profile: str) -> str:
    """A MyST note saying what the profile is (its description in the study file): how far its numbers go."""
    return f"```{{note}}\n**Profile `{profile}`.** {load_study(profile=profile).description}\n```"


def partial_warning(profile: str, where: str = "") -> str | None:
    """A MyST warning when the profile's training runs are not all finished (None when they are).

    ``where``: what this page shows of the coverage and the remaining compute, in a few words."""
    from .analysis import MIN_SEEDS

    study = load_study(profile=profile)
    instances = [r for r in study.runs if r.trains]
    finished = sum(training_done(study, r) for r in instances)
    if finished == len(instances):
        return None
    return (f"```{{warning}}\nThis build is **partial**: {finished} of the profile's {len(instances)} training runs "
            f"have finished{f' ({where})' if where else ''}. Numbers use the seeds and epochs finished so far; a "
            f"verdict needs {MIN_SEEDS} finished seeds of each arm it rests on and says *not tested* until they "
            "exist.\n```")


# -- execution ------------------------------------------------------------------------------------------


class RunFailed(RuntimeError):
    pass


#: Dask's nannies set this for their workers (``distributed.nanny.pre-spawn-environ``) to return freed
#: memory to the system early. It also turns off glibc's adaptive mmap threshold, so that every large
#: temporary tensor of the simulator is a fresh mmap: measured here, 2.3x slower simulation at batch
#: 221 (the timing page and every FDSA run). Neither the study's workers nor its kernels keep it.
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"


def _kernel_manager(log: Path):
    """Jupyter's kernel manager for one run: IPC sockets instead of TCP, the kernel's own output to ``log``.

    A study's kernels live on the machine that starts them: over IPC nothing listens on a port, and no
    kernel warns at its start that TCP carries its traffic unencrypted. What a kernel itself prints (its
    log, and the interrupt that Jupyter sends every kernel it shuts down) goes to the run's kernel log
    beside its executed notebook, not between the study's progress lines; a failing cell is reported
    from the notebook as before. Each kernel's sockets get a folder of their own: Jupyter's default
    names (``kernel-ipc-N`` in the working folder) collide between workers.
    """
    import tempfile

    from jupyter_client import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            self._folder = tempfile.mkdtemp(prefix="qrnn-kernel-")
            super().__init__(transport="ipc", ip=os.path.join(self._folder, "kernel"), **kwargs)

        async def _async_pre_start_kernel(self, **kw):
            self._log = open(log, "ab")  # noqa: SIM115 - closed with the kernel's resources
            kw.update(stdout=self._log, stderr=self._log)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart)
            if not restart:
                shutil.rmtree(self._folder, ignore_errors=True)
                if getattr(self, "_log", None):
                    self._log.close()

    return RunKernelManager


def execute(run: Run, output: str, results: str, inputs: Inputs, threads: int | None = 1) -> float:
    """Execute one run's notebook into ``output/NAME.ipynb`` (in a Dask worker); returns seconds.

    ``threads``: the threads its kernel computes on; None: every core of the worker's machine (a run that
    runs alone).

    Pages and analyses start from an empty results folder when their key changed; a training
    instance keeps its folder (its checkpoints decide what is done). Raises :class:`RunFailed`.
    """
    import papermill

    output, results = Path(output), Path(results)
    output.mkdir(parents=True, exist_ok=True)
    # The kernel inherits these: one run per worker thread, torch's threads pinned to match.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads or os.cpu_count() or 1)
    os.environ.pop(MALLOC_TRIM, None)  # set by the nannies of a cluster started elsewhere
    started = output / f"{run.name}.started"
    if not run.trains and (not started.exists() or started.read_text() != inputs.key):
        shutil.rmtree(results / run.name, ignore_errors=True)
    started.write_text(inputs.key)
    if run.trains:  # a training resumes only what today's inputs made; it records them before it starts
        record = results / run.name / "inputs.json"
        before = Inputs.read(record)
        if before is None or before.key != inputs.key:
            shutil.rmtree(results / run.name, ignore_errors=True)
        record.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(record, lambda tmp: tmp.write_text(inputs.to_json()))
    partial = output / f"{run.name}.running.ipynb"
    kernel_log = output / f"{run.name}.kernel.log"
    kernel_log.unlink(missing_ok=True)  # this execution's output only
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            read_notebook(run.notebook), str(partial), parameters=run.parameters, kernel_name="python3",
            progress_bar=False, cwd=str(ROOT), language="python",
            kernel_manager_class=_kernel_manager(kernel_log),
        )
    except Exception as err:  # noqa: BLE001 - a failing cell, a dead kernel, a timeout: reported the same way
        failed = output / f"{run.name}.failed.ipynb"
        if partial.exists():
            os.replace(partial, failed)
        also = f" (the kernel's own output: {kernel_log})" if kernel_log.exists() and kernel_log.stat().st_size else ""
        raise RunFailed(_failure_line(run, err, failed) + also) from None
    _finish_for_book(partial, run.title, run.parameters)
    os.replace(partial, output / f"{run.name}.ipynb")
    seconds = time.perf_counter() - t0
    if not run.trains:
        atomic_write(output / f"{run.name}.inputs.json", lambda tmp: tmp.write_text(inputs.to_json(seconds)))
    return seconds


def _failure_line(run: Run, err: Exception, kept: Path) -> str:
    where = run.notebook.relative_to(ROOT) if run.notebook.is_relative_to(ROOT) else run.notebook
    cell = getattr(err, "exec_count", None)
    source = (getattr(err, "source", "") or "").strip().splitlines()
    what = f"{getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', str(err)).strip()[:300]}"
    in_cell = f" in cell {cell} ({source[0][:60]!r}...)" if cell else ""
    return f"{run.name} ({where}) failed{in_cell}: {what}; the executed notebook is kept as {kept}"


def _finish_for_book(path: Path, title: str | None, parameters: dict | None = None) -> None:
    """Leave the parameters cells out of the page (its banner states the profile), give the page the
    run's title (one notebook serves several runs), and fill ``{{name}}`` in its markdown cells with
    the run's string parameters (figure labels unique per page, e.g. ``fig-{{arm}}-val``)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for name, value in (parameters or {}).items():
                if isinstance(value, str):
                    cell.source = cell.source.replace("{{" + name + "}}", value)
        tags = cell.metadata.get("tags", [])
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]  # the page states its provenance instead
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            if md:
                out["data"]["text/markdown"] = relative_downloads(md, path.parent)
    heading = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")), None)
    if title and heading is not None:
        _, newline, rest = heading.source.partition("\n")
        heading.source = f"# {title}{newline}{rest}"
    nbformat.write(nb, path)


_DOWNLOAD = re.compile(r"(\{download\}`[^`<]*<)(/[^>]+)(>`)")


def relative_downloads(markdown: str, page_dir: Path) -> str:
    """``{download}`` roles of a page's output with absolute paths, made relative to the page's folder
    (the book can then move as a whole, and a fresh clone finds the shipped files)."""
    return _DOWNLOAD.sub(lambda m: m.group(1) + os.path.relpath(m.group(2), page_dir) + m.group(3), markdown)


class StudyLocked(RuntimeError):
    pass


@contextlib.contextmanager
def study_lock(study: Study):
    """One ``run`` of the study per profile and tree: a second one is refused, never run beside."""
    study.results.mkdir(parents=True, exist_ok=True)
    with open(study.results / ".study.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyLocked(f"another `run` of the study is running profile {study.profile!r} in this tree "
                              f"({study.results / '.study.lock'} is held): wait for it to finish") from None
        yield


def out_of_date(study: Study, run: Run, inputs: Inputs) -> str | None:
    """Why ``run`` is to be run again, in a few words; None when its result is current.

    A training instance is current when its folder verifies for its config
    (:func:`qrnn_core.runfiles.verify_run`: every epoch asked, every file agreeing) and the inputs it
    records are today's; a page when its executed notebook exists and records today's inputs.
    """
    recorded = Inputs.read(inputs_record(study, run))
    if run.trains:
        from qrnn_core.runfiles import verify_run

        from .cli import config_from_parameters

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
        return "inputs changed: " + ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
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


def estimated_seconds(study: Study, steps: Plan) -> dict[str, float]:
    """Seconds each run of ``steps.todo`` would take at the recorded rates (NaN: nothing to go by).

    A training instance: its family's median seconds per update so far (:func:`compute_table`, borrowed
    from the nearest measured family where it has none) times the updates it has left (all of them when
    its inputs changed: it starts afresh). A page: what its last execution recorded.
    """
    from .results import compute_table, updates_per_epoch
    from .cli import config_from_parameters

    rate = {row.family: row.seconds_per_update for row in compute_table(study.runs, study.results)}
    out = {}
    for r in steps.todo:
        if r.trains:
            epochs = config_from_parameters(r.parameters).epochs
            done = 0 if not steps.why[r.name].endswith("epochs done") else int(steps.why[r.name].split()[0])
            out[r.name] = rate.get(r.family or r.arm, math.nan) * updates_per_epoch(r.parameters) * (epochs - done)
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
    from .results import training_circuits

    def cost(r: Run) -> int:
        try:
            return training_circuits(r.parameters)
        except ValueError:  # a bad config: its own run reports it, where it fails; here it goes last
            return 0

    ranks = {s: i for i, s in enumerate(sorted({r.seed for r in runs if r.seed is not None}))}
    first = {r.name: k for k, r in enumerate(runs)}
    return sorted(runs, key=lambda r: (0, 0, 0, first[r.name]) if not r.trains else
                  (1, ranks.get(r.seed, -1), -cost(r), first[r.name]))


class SchedulerUnreachable(RuntimeError):
    """The Dask cluster named by ``--scheduler`` or ``--scheduler-file`` cannot be reached in time."""


#: Seconds ``run`` waits for a scheduler file to appear and for its scheduler to answer (``--connect-timeout``).
CONNECT_TIMEOUT = 10.0


def scheduler_address(scheduler_file: str, timeout: float) -> str:
    """The address a Dask scheduler file names, waiting up to ``timeout`` seconds for it to appear
    (a scheduler starting beside us writes it); one line when it does not, or is not one."""
    path, deadline = Path(scheduler_file), time.monotonic() + timeout
    while not path.is_file():
        if time.monotonic() >= deadline:
            raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: no such file after {timeout:g} s (start "
                                       f"the scheduler with `dask scheduler --scheduler-file {scheduler_file}`)")
        time.sleep(0.1)
    try:
        address = json.loads(path.read_text())["address"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: not a Dask scheduler file "
                                   f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
    if not isinstance(address, str):
        raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: its address {address!r} is not a string")
    return address


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A Dask client of the scheduler at ``address``, or one line saying why not within ``timeout`` seconds."""
    from dask.distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme == "tcp":  # probe first: a failed Client leaves noise on stderr when it is collected
            import socket

            socket.create_connection(parse_host_port(location), timeout=timeout).close()
        return Client(address, timeout=timeout)
    except Exception as err:  # noqa: BLE001 - a bad address, a refusal, a timeout, a non-Dask peer: one line each
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
                                   f"({type(err).__name__}: {detail[:200]})") from None


def _client(jobs: int | None, scheduler: str | None, scheduler_file: str | None, timeout: float = CONNECT_TIMEOUT):
    from dask.distributed import Client, LocalCluster

    if scheduler and scheduler_file:
        raise ValueError("--scheduler and --scheduler-file name one cluster twice: give one of them")
    if scheduler or scheduler_file:
        return connect(scheduler or scheduler_address(scheduler_file, timeout), timeout), None
    import dask

    with dask.config.set({f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM}": None}):  # see MALLOC_TRIM
        cluster = LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    return Client(cluster), cluster


#: Seconds between looks at the running trainings' metrics (a line whenever one finishes an epoch).
PROGRESS_POLL = 30.0


def epochs_done(study: Study, run: Run) -> int:
    """Epochs a training instance has finished so far (its ``metrics.json``; 0 before the first)."""
    try:
        return len(json.loads((study.results / run.name / "metrics.json").read_text())["val"])
    except (OSError, ValueError, KeyError):  # not started, or being rewritten this instant
        return 0


def training_left(study: Study) -> str:
    """What training is left, in worker-hours, projected as the front page's compute table does."""
    from .results import compute_table

    rows = compute_table(study.runs, study.results)
    epochs = sum(r.epochs_total - r.epochs_done for r in rows)
    todo = [r for r in rows if r.epochs_total > r.epochs_done]
    median, fastest = (sum(getattr(r, k) for r in todo) / 3600 for k in ("seconds_left", "seconds_left_fastest"))
    hours = "not yet projected (no epoch has run)" if math.isnan(median) else \
        f"about {median:.1f} worker-hours at each run's median epoch so far ({fastest:.1f} at its fastest)"
    return f"training left: {epochs} epoch(s), {hours}"


def say(line: str) -> None:
    """The runner's log line, flushed at once (the log of a long background run is read as it grows)."""
    print(line, flush=True)


def run_study(study: Study, *, only: str | None = None, jobs: int | None = None, scheduler: str | None = None,
              scheduler_file: str | None = None, progress: bool = True, rerun: bool = False, train: bool = True,
              log=say, connect_timeout: float = CONNECT_TIMEOUT) -> int:
    """Run every out-of-date run of the study on Dask, dependencies first; returns the failures."""
    with study_lock(study):
        write_toc(study)
        keys, todo = plan(study, only, rerun, train)
        skipped = len(study.runs) - len(todo)
        if skipped:
            log(f"study ({study.profile}): {skipped} run(s) up to date: skipped")
        if not todo:
            return 0
        client, cluster = _client(jobs, scheduler, scheduler_file, connect_timeout)
        try:
            return _drive(study, client, keys, todo, progress, log)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _drive(study, client, keys, todo, progress, log) -> int:
    from dask.distributed import wait

    waiting = {r.name: r for r in todo}
    running: dict[str, object] = {}
    done: set[str] = {r.name for r in study.runs} - set(waiting)
    failed: list[str] = []
    failed_names: set[str] = set()
    exclusive_running: set[str] = set()
    by_name = {r.name: r for r in study.runs}
    epochs_seen: dict[str, int] = {}
    t0 = time.perf_counter()

    def stamp() -> str:
        return f"[study {study.profile} {time.perf_counter() - t0:6.0f} s]"

    def status() -> str:
        names = ", ".join(sorted(running)[:4]) + (", ..." if len(running) > 4 else "")
        return (f"{stamp()} done {len(done)}, running {len(running)} ({names}), waiting {len(waiting)}, "
                f"failed {len(failed_names)}")

    def report_epochs() -> None:
        """A line for each running training that has finished an epoch since the last look."""
        from .cli import config_from_parameters
        for name in sorted(running):
            run = by_name[name]
            if not run.trains:
                continue
            n = epochs_done(study, run)
            if n > epochs_seen.setdefault(name, n):
                log(f"{stamp()} {name}: epoch {n} of {config_from_parameters(run.parameters).epochs} finished")
            epochs_seen[name] = n

    def submit_ready() -> None:
        if any(exclusive_running):
            return
        for r in list(waiting.values()):
            if any(d in failed_names for d in r.depends):
                waiting.pop(r.name)
                failed_names.add(r.name)
                failed.append(f"{r.name}: not run, a run it depends on failed")
                continue
            if any(d not in done for d in r.depends):
                continue
            if r.exclusive and running:
                continue  # waits until the cluster is idle
            if len(running) >= max(1, sum(client.nthreads().values())):
                return  # one run per worker thread: "running" means running
            waiting.pop(r.name)
            # One thread a run, so that runs side by side do not contend; a run alone has the machine.
            threads = None if r.exclusive else 1
            fut = client.submit(execute, r, str(study.output), str(study.results), keys[r.name], threads,
                                key=f"{r.name}-{keys[r.name].key[:8]}-{time.time_ns()}", pure=False)
            running[r.name] = fut
            if r.exclusive:
                exclusive_running.add(r.name)
                return  # nothing else starts beside it

    trains = any(r.trains for r in todo)
    submit_ready()
    if progress:
        log(status())
        if trains:
            log(f"{stamp()} {training_left(study)}")
    while running:
        try:  # wake when a run finishes, or every PROGRESS_POLL seconds to report finished epochs
            wait(list(running.values()), timeout=PROGRESS_POLL, return_when="FIRST_COMPLETED")
        except TimeoutError:
            if progress:
                report_epochs()
            continue
        for name in [n for n, f in running.items() if f.done()]:
            fut = running.pop(name)
            exclusive_running.discard(name)
            epochs_seen.pop(name, None)
            try:
                seconds = fut.result()
            except RunFailed as err:
                failed_names.add(name)
                failed.append(str(err))
                log(f"FAILED {err}")
            except Exception as err:  # noqa: BLE001 - the worker itself failed for good
                failed_names.add(name)
                failed.append(f"{name}: {type(err).__name__}: {err}")
                log(f"FAILED {name}: {type(err).__name__}: {err}")
            else:
                done.add(name)
                if progress:
                    log(f"{name}: done in {seconds:.1f} s")
                    if by_name[name].trains:
                        log(f"{stamp()} {training_left(study)}")
        submit_ready()
        if progress:
            log(status())
    for r in waiting.values():  # only left when their dependencies failed
        failed.append(f"{r.name}: not run, a run it depends on failed")
    for f in failed:
        log(f"FAILED: {f}")
    return len(failed)
