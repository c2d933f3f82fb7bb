"""The study file (``study.yml``): its schema, the runs it lists and the profiles they run in.

:func:`read_study_file` checks the file (:data:`SCHEMA` for its shape, :mod:`.study_values` for its
values, then names, notebooks, profiles and dependencies), every refusal one line naming the file, the
key and its line. :func:`load_study` turns one profile of it into a :class:`Study`: its runs (:class:`Run`)
in dependency order, parameters layered (``common``, then the profile's), a seeded run expanded into one
instance per seed (``NAME@SEED``) and a swept run into one seeded arm per value
(``NAME-lr0.001@SEED``, :func:`sweep_arm`). :func:`write_toc` gives the profile's book its table of
contents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from . import study_values
from .keys import ROOT
from .model import ARM, Arm, UnknownId
from .pages.contracts import CONTRACTS

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
                    # timed alone: in every profile (true), or in the profiles listed
                    "exclusive": {"oneOf": [{"type": "boolean"},
                                            {"type": "array", "items": {"type": "string"}, "uniqueItems": True}]},
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


@dataclass(frozen=True)
class Study:
    """One profile of the study file: its runs (:class:`Run`) in dependency order, where they write, and
    the arms they train (:attr:`arms`); its ``id`` is the profile's name."""

    output: Path
    results: Path
    profile: str
    runs: list[Run] = field(default_factory=list)
    description: str = ""
    path: Path | None = None
    seeds: list[int] = field(default_factory=list)  # the profile's seeds, in the study file's order

    @property
    def id(self) -> str:
        return self.profile

    @property
    def arms(self) -> tuple[Arm, ...]:
        """The arms this profile trains, one per training run of the study file that has instances here
        (a swept run is one arm, its sweep), in the file's order: the model's declaration of each
        (:data:`qrnn_study.model.ARMS`), or for a run the model does not declare, one read from the study
        file (its title as label, its ``method`` as estimator)."""
        first = {}
        for r in self.runs:
            if r.trains:
                first.setdefault(r.family, r)
        return tuple(ARM.get(name) or Arm(name, r.title or name, r.parameters.get("method", "spsa"),
                                          swept=next(iter(r.point), None) if r.point else None)
                     for name, r in first.items())

    def arm(self, id: str) -> Arm:
        """The arm ``id`` of :attr:`arms`; :class:`~qrnn_study.model.UnknownId` in one line naming the
        study file and the profile when this profile trains none of that id."""
        found = {a.id: a for a in self.arms}
        if id not in found:
            where = self.path.name if self.path else "the study"
            raise UnknownId(f"{where}: unknown arm {id!r} in profile {self.profile!r} (arms: {', '.join(found)})")
        return found[id]

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
    import jsonschema  # here: only a run that reads a study file pays for it

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
        for block in r.get("exclusive", []) if isinstance(r.get("exclusive"), list) else []:
            if block not in profiles:
                fail(["runs", k, "exclusive"], f"unknown profile {block!r}")
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
        if found := _unknown_arm(spec, r):
            fail(["runs", k, "parameters", *found[0]], found[1])
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


def _unknown_arm(spec: dict, run: dict) -> tuple[list, str] | None:
    """A parameter of ``run`` that names the run whose results its page reads (its notebook's contract:
    ``{arm}``, ``{twin}``) but names no training run of the study file: ``([block, parameter], message)``."""
    contract = CONTRACTS.get(Path(run["notebook"]).stem)
    named = [read[1:-1] for read in (contract.reads if contract else ()) if read.startswith("{")]
    arms = [x["name"] for x in spec["runs"] if Path(x["notebook"]).name == TRAIN_NOTEBOOK]
    for block, values in (run.get("parameters") or {}).items():
        for parameter in named:
            value = (values or {}).get(parameter)
            if value is not None and value not in arms:
                return [block, parameter], f"unknown arm {value!r} (arms: {', '.join(arms)})"
    return None


def sweep_arm(run: str, parameter: str, value) -> str:
    """The arm of one point of a swept run: ``sweep-fdsa`` at ``lr`` 0.001 is ``sweep-fdsa-lr0.001``."""
    return f"{run}-{parameter}{value:g}"


def load_study(path: Path | str = ROOT / "study.yml", profile: str = "quick") -> Study:
    """The runs of ``profile`` in dependency order, parameters layered (``common``, then the profile's),
    seeded runs expanded into one instance per seed (the first k of the profile's seeds). A page whose
    every dependency has no instance in ``profile`` (an arm page of an arm the profile runs no seed of) is
    left out of it, and out of its book (:func:`write_toc`)."""
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
        alone = r.get("exclusive", False)
        common = dict(notebook=base / r["notebook"], exclusive=alone if isinstance(alone, bool) else profile in alone,
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
        elif r.get("depends") and not depends:  # every run it reads has no instance here: nothing to show
            expanded[name] = []
        else:
            expanded[name] = [name]
            runs.append(Run(name, parameters={**params, "run_name": name}, **common))
    return Study(output, results, profile, runs, prof.get("description", "").strip(), path, list(prof["seeds"]))


#: A toc entry of a generated page: its run's name.
TOC_PAGE = re.compile(r"\s*- file: generated/paper/(\S+?)\s*$")


def write_toc(study: Study, book: Path = ROOT / "book") -> Path:
    """The book's table of contents for ``study.profile``: ``_toc.yml`` with its pages' folder
    ``generated/paper/`` replaced by this profile's (written into that folder), less the pages the
    profile leaves out (:func:`load_study`)."""
    pages = {r.name for r in study.runs if not r.trains}
    lines = [line for line in (book / "_toc.yml").read_text().splitlines(keepends=True)
             if not (m := TOC_PAGE.match(line)) or m.group(1) in pages]  # a page left out of the profile
    out = study.output / "_toc.yml"  # pages in <book>/generated/<profile>/, as the toc's entries say
    study.output.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(lines).replace("generated/paper/", f"generated/{study.profile}/"))
    return out


def _relative(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
