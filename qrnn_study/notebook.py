"""The study's notebooks as files: a jupytext percent ``.py`` read as an nbformat node, and the names
and defaults its ``parameters`` cell declares (what a run of it may be given)."""

from __future__ import annotations

import ast
import copy
import functools
from pathlib import Path

from .keys import file_stamp


@functools.lru_cache(maxsize=256)
def _read(path: Path, stamp: tuple[int, int]):
    import jupytext

    return jupytext.read(path)


def read_notebook(path: Path):
    """A jupytext percent-format ``.py`` notebook as an nbformat node (converted in memory; converted once
    per process while the file is unchanged, and a copy returned, since papermill writes into it)."""
    path = Path(path).resolve()
    return copy.deepcopy(_read(path, file_stamp(path)))


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
