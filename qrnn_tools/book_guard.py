"""A Sphinx extension that stops the book's build on a missing or corrupt page or results file.

Sphinx only *warns* about a page the table of contents names but that is missing, or a download whose
file is gone, and publishes a garbage CSV as it is: a plain ``jupyter-book build book/`` (without
``-W``) would publish a book with holes. At ``builder-inited`` this checks that every page the toc names
exists (a notebook page parses as a notebook), that every file a page offers as a ``{download}`` exists,
and that every such CSV parses (a header, rows of its length, its numeric columns numbers throughout),
and raises an :class:`~sphinx.errors.ExtensionError` naming the first file that does not.
``_config.yml`` loads it from this tree as the top-level module ``book_guard`` (``sphinx.local_extensions``:
an installed ``qrnn_tools`` of another checkout must not stand in for it), so it imports nothing of ours.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import yaml

#: The suffixes a toc entry without one may have (MyST markdown, notebooks, reStructuredText).
PAGE_SUFFIXES = (".md", ".ipynb", ".rst")
_DOWNLOAD = re.compile(r"\{download\}`[^`<]*<([^>]+)>`")


def toc_files(toc: dict) -> list[str]:
    """Every page a jupyter-book toc names: its root, then each ``file`` entry at any depth."""
    found = [toc["root"]] if isinstance(toc, dict) and "root" in toc else []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in toc.items() if k != "root"} if isinstance(toc, dict) else toc)
    return found


def page_path(srcdir: Path, entry: str) -> Path | None:
    """The file of a toc entry (``generated/paper/data`` -> ``.../data.ipynb``), or None when none exists."""
    base = srcdir / entry
    if base.suffix in PAGE_SUFFIXES and base.is_file():
        return base
    return next((base.with_name(base.name + s) for s in PAGE_SUFFIXES if base.with_name(base.name + s).is_file()), None)


def downloads(page: Path) -> list[Path]:
    """The files a page offers with ``{download}`` (in its text and its cells' outputs), resolved."""
    text = page.read_text(encoding="utf-8")
    return [(page.parent / target.strip()).resolve() for target in _DOWNLOAD.findall(text.replace('\\"', '"'))]


def csv_problem(path: Path) -> str | None:
    """Why a results CSV is not a table (None: it is): a header, rows of its length, and every column of
    numbers (most of its cells are) holding numbers throughout (an empty cell: a value not measured)."""
    try:
        rows = [r for r in csv.reader(path.read_text(encoding="utf-8").splitlines()) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        return f"cannot be read as CSV ({type(err).__name__})"
    if len(rows) < 2:
        return "has no rows (a header at most)"
    header, body = rows[0], rows[1:]
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            return f"line {n} has {len(row)} fields, the header {len(header)}"
    for k, name in enumerate(header):
        column = [row[k] for row in body if row[k].strip()]
        numbers = sum(map(_number, column))
        if 2 * numbers > len(column) and numbers < len(column):
            n, value = next((n, row[k]) for n, row in enumerate(body, start=2) if row[k].strip() and not _number(row[k]))
            return f"line {n}, column {name!r}: {value[:40]!r} is not a number"
    return None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def book_problem(srcdir: Path, toc_path: Path) -> str | None:
    """The first missing or corrupt page or download of the book, in one line naming the file; None: none."""
    try:
        toc = yaml.safe_load(toc_path.read_text())
    except (OSError, yaml.YAMLError) as err:
        return f"{toc_path}: the table of contents cannot be read ({type(err).__name__})"
    for entry in toc_files(toc):
        page = page_path(srcdir, entry)
        if page is None:
            return f"{srcdir / entry}: the table of contents ({toc_path.name}) names this page, and it is missing"
        if page.suffix == ".ipynb":
            try:
                json.loads(page.read_text(encoding="utf-8"))["cells"]
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
                return f"{page}: not a notebook ({type(err).__name__}): re-run the study to regenerate it"
        for target in downloads(page):
            if not target.is_file():
                return f"{target}: {page.name} offers it as a download, and it is missing"
            if target.suffix == ".csv" and (why := csv_problem(target)):
                return f"{target}: {why} ({page.name} offers it as a download)"
    return None


def check_book(app) -> None:
    """``builder-inited``: refuse to build a book with a missing or corrupt page or results file."""
    from sphinx.errors import ExtensionError

    srcdir = Path(app.srcdir)
    toc = Path(str(app.config["external_toc_path"]))
    if (problem := book_problem(srcdir, toc if toc.is_absolute() else srcdir / toc)) is not None:
        raise ExtensionError(f"book_guard: {problem}")


def setup(app):
    app.connect("builder-inited", check_book)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
