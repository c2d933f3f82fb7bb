"""A book with a missing or corrupt page or results file is not built, even by a plain
``jupyter-book build book/``: the book's Sphinx extension (:mod:`qrnn_tools.book_guard`) names the file."""

import shutil
from types import SimpleNamespace

import pytest
import yaml
from sphinx.errors import ExtensionError

from qrnn_study.study_file import ROOT
from qrnn_tools.book_guard import book_problem, check_book, csv_problem


@pytest.fixture
def book(tmp_path):
    """A copy of the shipped book and its results (the pages link the results three folders up)."""
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(ROOT / "results" / "paper", tmp_path / "results" / "paper",
                    ignore=shutil.ignore_patterns("*@*", "*.pt", "*.npz"))
    return tmp_path / "book"


def test_the_shipped_book_passes_and_the_extension_is_configured(book):
    assert book_problem(book, book / "_toc.yml") is None
    assert yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["local_extensions"] == {"book_guard": "qrnn_tools"}


@pytest.mark.parametrize("damage, says", [
    (lambda b: (b / "generated/paper/sweep.ipynb").unlink(), "generated/paper/sweep: the table of contents (_toc.yml) "
                                                             "names this page, and it is missing"),
    (lambda b: (b / "methods.md").unlink(), "methods: the table of contents (_toc.yml) names this page"),
    (lambda b: (b / "generated/paper/data.ipynb").write_text("{truncated"), "data.ipynb: not a notebook (JSONDecodeError)"),
    (lambda b: (b.parent / "results/paper/sweep/sweep.csv").write_text("garbage\n"),
     "results/paper/sweep/sweep.csv: has no rows (a header at most) (sweep.ipynb offers it as a download)"),
    (lambda b: (b.parent / "results/paper/sweep/sweep.csv").unlink(),
     "results/paper/sweep/sweep.csv: sweep.ipynb offers it as a download, and it is missing"),
    (lambda b: (b.parent / "results/paper/summary/results-paper.zip").unlink(), "results-paper.zip: summary.ipynb offers"),
    (lambda b: (b / "_toc.yml").write_text("root: [unclosed"), "_toc.yml: the table of contents cannot be read"),
])
def test_a_missing_or_corrupt_file_stops_the_build_naming_it(book, damage, says):
    damage(book)
    problem = book_problem(book, book / "_toc.yml")
    assert problem is not None and says in problem and "\n" not in problem
    app = SimpleNamespace(srcdir=str(book), config={"external_toc_path": str(book / "_toc.yml")})
    with pytest.raises(ExtensionError, match="book_guard: "):
        check_book(app)


@pytest.mark.parametrize("text, says", [
    ("a,b\n1,2\n3\n", "line 3 has 1 fields, the header 2"),
    ("arm,rmse\nx,0.1\ny,0.2\nz,oops\n", "line 4, column 'rmse': 'oops' is not a number"),
    ("arm,rmse\n", "has no rows"),
    ("", "has no rows"),
])
def test_a_garbage_results_csv_is_named(tmp_path, text, says):
    path = tmp_path / "x.csv"
    path.write_text(text)
    assert says in csv_problem(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot be read as CSV (UnicodeDecodeError)" == csv_problem(path)


def test_text_tables_and_missing_values_pass(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('claim,deck,verdict\n"a, b",14.5x,reproduced\nc,-,not tested\n')
    assert csv_problem(path) is None
    path.write_text("arm,rmse,ci\nx,0.1,\ny,nan,0.2\n")
    assert csv_problem(path) is None
