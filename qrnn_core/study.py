"""``python -m qrnn_core study``: run the study's notebooks with papermill, resumably.

The study file (``study.yml``) lists runs: a notebook (jupytext percent ``.py``), parameters per
profile, and what each depends on. Every notebook also gets ``profile``, ``results_dir`` and
``run_name`` and keeps its result files in ``results_dir/run_name``. A run is skipped when its notebook, its parameters, the
``qrnn_core`` code and its dependencies are unchanged since it last succeeded, so an interrupted
batch resumes where it stopped. A failure names the notebook and the failing cell, leaves every
other run's output in place (the failed notebook is kept beside as ``NAME.failed.ipynb``) and
makes the batch exit non-zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Run:
    """One notebook execution: a run of the study file, or one seed's instance of it (``NAME@SEED``)."""

    name: str
    notebook: Path
    parameters: dict
    depends: tuple[str, ...] = ()
    exclusive: bool = False
    title: str | None = None  # replaces the notebook's first heading in the book
    arm: str | None = None  # the run of the study file this is an instance of (seeded runs)
    seed: int | None = None


@dataclass
class Study:
    output: Path
    results: Path
    profile: str
    runs: list[Run] = field(default_factory=list)
    description: str = ""


def load_study(path: Path | str = ROOT / "study.yml", profile: str = "quick") -> Study:
    """The runs of ``profile`` with their layered parameters (``common`` then the profile's), seeded
    runs expanded into one instance per seed; ``results``/``output`` are per profile."""
    path = Path(path)
    spec = yaml.safe_load(path.read_text())
    if profile not in spec["profiles"]:
        raise ValueError(f"unknown profile {profile!r}: {path.name} defines {', '.join(spec['profiles'])}")
    prof = spec["profiles"][profile]
    base = path.parent
    output, results = base / spec["output"] / profile, base / spec["results"] / profile
    runs = []
    expanded: dict[str, list[str]] = {}
    for r in spec["runs"]:
        params = dict((r.get("parameters") or {}).get("common", {}))
        params.update((r.get("parameters") or {}).get(profile, {}))
        params.update(profile=profile, results_dir=_relative(results, base))
        common = dict(notebook=base / r["notebook"], exclusive=bool(r.get("exclusive", False)), title=r.get("title"))
        if "seeds" in r:
            count = r["seeds"][profile]
            names = []
            for seed in prof["seeds"][:count]:
                name = f"{r['name']}@{seed}"
                names.append(name)
                runs.append(Run(name, parameters={**params, "seed": seed, "run_name": name},
                                depends=tuple(r.get("depends", ())), arm=r["name"], seed=seed, **common))
            expanded[r["name"]] = names
        else:
            runs.append(Run(r["name"], parameters={**params, "run_name": r["name"]},
                            depends=tuple(r.get("depends", ())), **common))
    # A dependency on a seeded run means all of its instances.
    runs = [dataclasses.replace(r, depends=tuple(n for d in r.depends for n in expanded.get(d, [d])))
            for r in runs]
    names = {r.name for r in runs}
    for r in runs:
        if missing := set(r.depends) - names:
            raise ValueError(f"run {r.name!r} depends on unknown runs {sorted(missing)}")
    return Study(output, results, profile, runs, prof.get("description", ""))


def _relative(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def read_notebook(path: Path):
    """A jupytext percent-format ``.py`` notebook as an nbformat node (converted in memory)."""
    import jupytext

    return jupytext.read(path)


def notebook_parameters(path: Path) -> dict:
    """The names and defaults declared in the notebook's ``parameters`` cell."""
    import papermill

    return papermill.inspect_notebook(_as_ipynb(path))


def _as_ipynb(path: Path) -> str:
    # papermill.inspect_notebook wants a path to an .ipynb: write the converted notebook once.
    import nbformat

    target = Path(tempfile.gettempdir()) / f"qrnn-inspect-{path.stem}-{os.getpid()}.ipynb"
    nbformat.write(read_notebook(path), target)
    return str(target)


def code_digest() -> str:
    """Hash of every ``qrnn_core`` source file: results depend on the library's code too."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE.rglob("*.py")):
        h.update(f.relative_to(PACKAGE).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def run_key(run: Run, code: str, dep_keys: list[str]) -> str:
    h = hashlib.sha256()
    h.update(run.notebook.read_bytes())
    h.update(json.dumps(run.parameters, sort_keys=True).encode())
    h.update(code.encode())
    for k in dep_keys:
        h.update(k.encode())
    return h.hexdigest()


def _stamp_path(study: Study, run: Run) -> Path:
    return study.output / f"{run.name}.key"


class RunFailed(RuntimeError):
    pass


def check_parameters(run: Run) -> None:
    """Refuse parameters the notebook does not declare, before anything runs."""
    declared = notebook_parameters(run.notebook)
    unknown = sorted(set(run.parameters) - set(declared))
    if unknown:
        raise ValueError(f"{run.name}: {run.notebook.name} has no parameter {', '.join(map(repr, unknown))} "
                         f"(it declares: {', '.join(sorted(declared))})")


def execute(run: Run, study: Study, key: str) -> float:
    """Execute one run into ``study.output/NAME.ipynb``; returns seconds. Raises RunFailed."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    study.output.mkdir(parents=True, exist_ok=True)
    target = study.output / f"{run.name}.ipynb"
    # A run interrupted under the same key keeps its results (training resumes from its
    # checkpoints); a run whose notebook, parameters or code changed starts from an empty folder.
    started = study.output / f"{run.name}.started"
    if not started.exists() or started.read_text() != key:
        shutil.rmtree(study.results / run.name, ignore_errors=True)
        started.write_text(key)
    partial = study.output / f"{run.name}.running.ipynb"
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            read_notebook(run.notebook), str(partial), parameters=run.parameters, kernel_name="python3",
            progress_bar=False, cwd=str(ROOT), language="python",
        )
    except PapermillExecutionError as err:
        os.replace(partial, study.output / f"{run.name}.failed.ipynb")
        first = (err.source or "").strip().splitlines()
        raise RunFailed(
            f"{run.name} ({run.notebook.relative_to(ROOT) if run.notebook.is_relative_to(ROOT) else run.notebook}) "
            f"failed in cell {err.exec_count} ({first[0][:60] if first else ''!r}...): {err.ename}: {err.evalue}\n"
            f"  the executed notebook is kept as {study.output / (run.name + '.failed.ipynb')}"
        ) from None
    _finish_for_book(partial, run.title)
    os.replace(partial, target)
    return time.perf_counter() - t0


def _finish_for_book(path: Path, title: str | None) -> None:
    """Collapse papermill's injected-parameters cell like the notebooks' own code, and give the
    page the run's title (one notebook serves several runs)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            cell.metadata["tags"] = tags + ["hide-input"]
    heading = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")), None)
    if title and heading is not None:
        _, newline, rest = heading.source.partition("\n")
        heading.source = f"# {title}{newline}{rest}"
    nbformat.write(nb, path)


def run_study(study: Study, *, only: str | None = None, jobs: int = 1, progress: bool = True) -> int:
    """Run (or skip) every run of the study, dependencies first; returns the number of failures."""
    from tqdm import tqdm

    runs = {r.name: r for r in study.runs}
    if only is not None and only not in runs:
        raise ValueError(f"--only: no run named {only!r} (runs: {', '.join(runs)})")
    for r in study.runs:
        check_parameters(r)
    code = code_digest()
    keys: dict[str, str] = {}
    for r in study.runs:  # the study file lists dependencies first
        keys[r.name] = run_key(r, code, [keys[d] for d in r.depends])

    def up_to_date(r: Run) -> bool:
        stamp = _stamp_path(study, r)
        return (study.output / f"{r.name}.ipynb").exists() and stamp.exists() and stamp.read_text() == keys[r.name]

    todo = [r for r in study.runs if (only is None or r.name == only) and not up_to_date(r)]
    skipped = (1 if only else len(study.runs)) - len(todo)
    failures: list[str] = []
    done: set[str] = {r.name for r in study.runs if up_to_date(r)}
    failed: set[str] = set()
    bar = tqdm(total=len(todo), desc=f"study ({study.profile})", disable=not progress, unit="run")
    if skipped:
        bar.write(f"{skipped} run(s) unchanged since they last succeeded: skipped")
    pending = list(todo)
    running: dict = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        while pending or running:
            for r in list(pending):
                blocked = [d for d in r.depends if d not in done and (only is None or d in {p.name for p in todo})]
                if any(d in failed for d in r.depends):
                    pending.remove(r)
                    failed.add(r.name)
                    failures.append(f"{r.name}: not run, a run it depends on failed")
                    bar.update(1)
                    continue
                exclusive_busy = any(x.exclusive for x in running.values()) or (r.exclusive and running)
                if blocked or exclusive_busy or len(running) >= max(1, jobs):
                    continue
                pending.remove(r)
                bar.set_postfix_str(r.name)
                running[pool.submit(execute, r, study, keys[r.name])] = r
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                r = running.pop(fut)
                try:
                    seconds = fut.result()
                except RunFailed as err:
                    failed.add(r.name)
                    failures.append(str(err))
                    bar.write(f"FAILED {err}")
                else:
                    _stamp_path(study, r).write_text(keys[r.name])
                    done.add(r.name)
                    bar.write(f"{r.name}: done in {seconds:.1f} s")
                bar.update(1)
    bar.close()
    for f in failures:
        print(f"FAILED: {f}")
    return len(failures)
