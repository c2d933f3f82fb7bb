"""Content keys: a result is keyed by the hash of what determines it, as Snakemake and showyourwork do.

A run's *inputs* are named hashes (:class:`Inputs`):

* ``notebook``: its notebook's code cells (a training instance's) or its whole source (a page's: its
  prose is what the book shows);
* ``parameters``: the parameters the study gives it;
* ``module <path>``: the source of each module of this repository that computes it, followed through
  imports from its notebook, leaving out the command line (:data:`NOT_SCIENCE`), and for a training
  instance everything outside the science core: an edit to the command line or to a page's analysis
  changes no training result's key; an edit to the simulator changes every one;
* ``lock``: the locked versions of every dependency (``requirements.lock``);
* ``data <path>``: the data files it reads (the original study's folder);
* ``depends <name>``: the key of each run it depends on; ``results <name>``: a training dependency's
  recorded metrics, so a page is out of date when the results it reads change.

The key is the hash of all of them; a result records its inputs (``inputs.json`` in a training run's
folder, ``<run>.inputs.json`` beside a page), so that a dry run can say *which* input changed.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qrnn_core", "qrnn_study", "qrnn_tools")  # the repository's own code
#: Modules that only carry a result's settings to it (the command line and its front door): what they
#: pass on is hashed as the run's parameters, so their source is no input of any result.
NOT_SCIENCE = ("qrnn_study/cli.py", "qrnn_study/__main__.py")
#: A training instance's result is computed by the science core alone: the modules of the study's machinery
#: that its notebook imports (its banner, its parameters' checks) are no input of it.
SCIENCE_CORE = "qrnn_core/"
LOCK_FILE = ROOT / "requirements.lock"
DATA_FOLDER = ROOT / "data" / "original"


def digest(data: bytes | str) -> str:
    """sha256 hex of ``data`` (str encoded as UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True)
class Inputs:
    """What determines one result: ``items`` maps an input's name (see the module docstring) to its hash."""

    items: dict[str, str]

    @property
    def key(self) -> str:
        return digest(json.dumps(self.items, sort_keys=True))

    def changed(self, before: "Inputs") -> list[str]:
        """The inputs that differ from ``before``: changed, new (``+``) or gone (``-``), sorted."""
        names = sorted(set(self.items) | set(before.items))
        return [("+" if n not in before.items else "-" if n not in self.items else "") + n
                for n in names if self.items.get(n) != before.items.get(n)]

    def to_json(self, seconds: float | None = None) -> str:
        """The record a result keeps; ``seconds``: what making it took (a dry run's estimate next time)."""
        record = {"key": self.key, "inputs": self.items} | ({"seconds": round(seconds, 1)} if seconds is not None else {})
        return json.dumps(record, indent=1, sort_keys=True)

    @staticmethod
    def seconds(path: Path) -> float | None:
        """The seconds recorded with the inputs at ``path`` (None: not recorded)."""
        try:
            return float(json.loads(Path(path).read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def read(cls, path: Path) -> "Inputs | None":
        """The inputs recorded at ``path``; None when there is no record or it does not parse."""
        try:
            return cls(dict(json.loads(Path(path).read_text())["inputs"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def imported_modules(source: str) -> set[str]:
    """Modules of :data:`PACKAGES` a piece of code imports (``qrnn_core.train``, ...), not following them."""
    return set(_imported_modules(source))


@functools.lru_cache(maxsize=256)  # a study's runs share a handful of notebooks
def _imported_modules(source: str) -> frozenset[str]:
    def ours(name: str) -> bool:
        return name.split(".")[0] in PACKAGES

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if ours(a.name)}
        elif isinstance(node, ast.ImportFrom) and node.module and ours(node.module):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names
                      if (ROOT / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()}
    return frozenset(found)


def file_stamp(path: Path) -> tuple[int, int]:
    """What tells a file's content changed, without reading it: (modification time in ns, size)."""
    st = path.stat()
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=4096)
def _file_digest(path: Path, stamp: tuple[int, int]) -> str:
    return digest(path.read_bytes())


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, read once per process while it is unchanged (a plan hashes the same
    modules and data files for every run of the study)."""
    return _file_digest(Path(path), file_stamp(Path(path)))


@functools.lru_cache(maxsize=1024)
def _imports_of_file(path: Path, stamp: tuple[int, int]) -> tuple[str, ...]:
    """The modules a file of :data:`PACKAGES` imports (relative imports resolved), parsed once per version."""
    package = ".".join(path.relative_to(ROOT).parent.parts)
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = f"{base}.{node.module}" if node.module else base
            found.append(mod)
            found += [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found += list(imported_modules(ast.unparse(node)))
    return tuple(found)


def _module_file(name: str) -> Path | None:
    path = (ROOT / name.replace(".", "/")).with_suffix(".py")
    if not path.exists():
        path = ROOT / name.replace(".", "/") / "__init__.py"
    return path if path.exists() else None


def module_closure(source: str, leave_out: tuple[str, ...] = NOT_SCIENCE) -> list[Path]:
    """The files of every module of :data:`PACKAGES` that ``source`` imports, followed through their own
    imports (relative ones included); modules in ``leave_out`` (paths from the root) are neither taken
    nor followed."""
    todo = list(imported_modules(source))
    files: set[Path] = set()
    while todo:
        path = _module_file(todo.pop())
        if path is None or path in files or path.relative_to(ROOT).as_posix() in leave_out:
            continue
        files.add(path)
        todo += _imports_of_file(path, file_stamp(path))
    return sorted(files)


def notebook_code(cells) -> str:
    """The code cells of a notebook, joined; IPython magics left out (they are not Python)."""
    return "\n".join(c.source for c in cells if c.cell_type == "code").replace("%matplotlib inline", "")


def code_beside_parameters(cells) -> list[str]:
    """The code cells of a notebook other than its ``parameters`` cell (a training notebook's parameters
    cell is generated from ``TrainConfig``, whose source is hashed as a science core module)."""
    return [c.source for c in cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]


@functools.lru_cache(maxsize=64)
def notebook_cells_at(commit: str, notebook: Path):
    """The cells of ``notebook`` as git holds it at ``commit`` (None where git cannot say: no repository,
    an unknown commit, a "-dirty" tree whose notebook no commit holds)."""
    import subprocess

    import jupytext

    if not commit or commit.endswith("-dirty"):
        return None
    try:
        where = Path(notebook).resolve().relative_to(ROOT).as_posix()
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{where}"], capture_output=True,
                              text=True, check=True, timeout=30).stdout
        return jupytext.reads(text, fmt="py:percent").cells
    except (ValueError, OSError, subprocess.SubprocessError):
        return None


def data_inputs(folder: Path = DATA_FOLDER) -> dict[str, str]:
    """``{"data <path>": hash}`` for every file of the original study's folder (what runs read from it)."""
    return {f"data {p.relative_to(ROOT).as_posix()}": file_digest(p)
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def inputs_of(notebook: Path, cells, parameters: dict, *, code_only: bool, depends: dict[str, str],
              results: dict[str, bytes] | None = None) -> Inputs:
    """The :class:`Inputs` of one run.

    ``cells``: its notebook's cells (nbformat); ``code_only``: a training instance: its notebook's code cells
    only (it is no page, so its prose determines nothing) and only the modules of :data:`SCIENCE_CORE`;
    ``depends``: ``{name: key}`` of the
    runs it depends on; ``results``: ``{name: recorded metrics}`` of the training runs among them.
    """
    code = notebook_code(cells)
    items = {"notebook": digest(code) if code_only else file_digest(Path(notebook)),
             "parameters": digest(json.dumps(parameters, sort_keys=True))}
    for f in module_closure(code):
        where = f.relative_to(ROOT).as_posix()
        if code_only and not where.startswith(SCIENCE_CORE):  # the study's machinery computes no training result
            continue
        items[f"module {where}"] = file_digest(f)
    if LOCK_FILE.exists():
        items["lock"] = file_digest(LOCK_FILE)
    items |= data_inputs()
    items |= {f"depends {name}": key for name, key in depends.items()}
    items |= {f"results {name}": digest(data) for name, data in (results or {}).items()}
    return Inputs(items)
