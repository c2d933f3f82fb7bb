"""The study's notebooks as files: a jupytext percent ``.py`` read as an nbformat node, and the names
and defaults its ``parameters`` cell declares (what a run of it may be given)."""

from __future__ import annotations

import ast
from pathlib import Path


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
