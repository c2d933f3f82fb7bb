"""The study's code stays a model a newcomer can read: no module of ``qrnn_study`` over 400 lines, and no
import cycle anywhere in the three packages, imports inside functions included (a cycle hidden in a
function is still one the reader has to untangle)."""

import ast
from graphlib import CycleError, TopologicalSorter

import pytest

from qrnn_study.keys import PACKAGES, ROOT

MAX_LINES = 400


def _modules() -> dict[str, ast.Module]:
    """``{dotted name: parsed module}`` of every module of the three packages (a package is its ``__init__``)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = ast.parse(path.read_text(), filename=str(path))
    return out


def _package_of(name: str, modules: dict) -> str:
    """The package a relative import in module ``name`` starts from (a package's ``__init__`` is its own)."""
    is_package = any(other.startswith(name + ".") for other in modules)
    return name if is_package else name.rpartition(".")[0]


def imports_of(name: str, tree: ast.Module, modules: dict) -> set[str]:
    """The modules of the three packages that module ``name`` imports, anywhere in it, relative imports
    resolved; ``from package import module`` counts as importing the module (and not the package's own
    ``__init__`` unless it holds the name)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, modules)
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            submodules = {f"{target}.{a.name}" for a in node.names} & set(modules)
            found |= submodules
            if len(submodules) < len(node.names):  # names the module itself defines
                found.add(target)
    return {m for m in found if m in modules and m != name}


def test_imports_are_resolved_relative_ones_and_function_level_ones_included():
    modules = _modules()
    assert "qrnn_study.study_file" in imports_of("qrnn_study.results", modules["qrnn_study.results"], modules)
    assert "qrnn_study.cli" in imports_of("qrnn_study.__main__", modules["qrnn_study.__main__"], modules)  # in main()
    assert "qrnn_core.aer_backend" in imports_of("qrnn_tools.bench", modules["qrnn_tools.bench"], modules)


def test_no_import_cycle_in_the_three_packages():
    modules = _modules()
    graph = {name: imports_of(name, tree, modules) for name, tree in modules.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


def test_the_core_imports_neither_of_the_others():
    modules = _modules()
    for name, tree in modules.items():
        if name.startswith("qrnn_core"):
            assert all(m.startswith("qrnn_core") for m in imports_of(name, tree, modules)), name


def test_no_study_module_is_over_the_limit():
    long = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / "qrnn_study").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (split by job): {long}"
