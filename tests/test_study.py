"""The study: notebooks under nbval, the batch runner, the book build (-W) and a real browser.

These run notebooks in Jupyter kernels, so they take a few minutes; the ``tiny`` profile of
``study.yml`` keeps every notebook to seconds.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import papermill
import pytest
import yaml

from qrnn_core.study import ROOT, load_study, read_notebook, run_study

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def tiny_study(tmp: Path, runs=None, overrides=None) -> Path:
    """A copy of study.yml writing into ``tmp`` (notebooks from the repository), optionally cut
    down to ``runs`` and with ``overrides`` {run: {param: value}} in the tiny profile."""
    spec = yaml.safe_load((ROOT / "study.yml").read_text())
    spec["output"], spec["results"] = str(tmp / "book" / "generated"), str(tmp / "book" / "_results")
    keep = []
    for r in spec["runs"]:
        if runs is not None and r["name"] not in runs:
            continue
        r["notebook"] = str(ROOT / r["notebook"])
        r["depends"] = [d for d in r.get("depends", []) if runs is None or d in runs]
        r.setdefault("parameters", {}).setdefault("tiny", {}).update((overrides or {}).get(r["name"], {}))
        keep.append(r)
    spec["runs"] = keep
    path = tmp / "study.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_every_notebook_is_in_the_study_and_has_a_parameters_cell():
    listed = {Path(r.notebook).name for r in load_study(profile="tiny").runs}
    assert listed == {p.name for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        nb = read_notebook(path)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), path.name


def test_notebooks_pass_nbval_with_tiny_parameters(tmp_path):
    """Each notebook, parameterised with the tiny profile, runs clean under nbval (lax mode)."""
    results = tmp_path / "results"
    for run in load_study(profile="tiny").runs:
        if run.name == "summary":
            continue  # needs the other runs' results: covered by the book build below
        params = dict(run.parameters, results_dir=str(results))
        papermill.execute_notebook(read_notebook(run.notebook), str(tmp_path / f"{run.name}.ipynb"),
                                   parameters=params, prepare_only=True, kernel_name="python3",
                                   progress_bar=False)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    """The whole study in the tiny profile and the book built -W."""
    tmp = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "book", tmp / "book", ignore=shutil.ignore_patterns("generated", "_results", "_build"))
    shutil.copy(ROOT / "_config.yml", tmp / "_config.yml")
    failures = run_study(load_study(tiny_study(tmp), profile="tiny"), jobs=2, progress=False)
    assert failures == 0
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(tmp / "book"), "-W",
                            "--keep-going"], cwd=tmp, capture_output=True, text=True, timeout=900)
    return tmp, build


def test_book_builds_with_warnings_as_errors(tiny_book):
    tmp, build = tiny_book
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    html = tmp / "_build" / "html"
    pages = ["intro", "methods", "reproduce"] + [f"generated/{p.stem}" for p in (tmp / "book" / "generated").glob("*.ipynb")]
    for page in pages:
        assert (html / f"{page}.html").exists(), page
    for page in (html / "generated").glob("*.html"):
        assert "Numbers on this page:" in page.read_text(), f"{page.name} does not say what produced it"
    intro = re.sub(r"<[^>]+>", "", (html / "intro.html").read_text()).replace("\n", " ")
    assert "Numbers in this book: profile tiny" in intro


def test_book_in_a_real_browser(tiny_book):
    """Every page opened in headless Chromium: no JavaScript error, every figure loads, math renders."""
    from qrnn_core.book_check import check_book

    tmp, build = tiny_book
    assert build.returncode == 0
    problems = check_book(tmp / "_build" / "html")
    assert problems == [], "\n".join(problems)


def test_runner_skips_unchanged_runs_and_reruns_changed_ones(tmp_path, capsys):
    study_file = tiny_study(tmp_path, runs=["data"])
    assert run_study(load_study(study_file, "tiny"), progress=False) == 0
    out = tmp_path / "book" / "generated" / "data.ipynb"
    first = out.stat().st_mtime_ns
    assert run_study(load_study(study_file, "tiny"), progress=False) == 0
    assert out.stat().st_mtime_ns == first  # unchanged: skipped
    study_file = tiny_study(tmp_path, runs=["data"], overrides={"data": {"stride": 10}})
    assert run_study(load_study(study_file, "tiny"), progress=False) == 0
    assert out.stat().st_mtime_ns != first
    data = json.loads((tmp_path / "book" / "_results" / "data" / "data.json").read_text())
    assert data["train_sequences"] == 692


def test_a_bad_notebook_parameter_fails_clearly_and_keeps_other_outputs(tmp_path, capsys):
    study_file = tiny_study(tmp_path, runs=["data", "train-spsa-exact"],
                            overrides={"train-spsa-exact": {"method": "adam"}})
    failures = run_study(load_study(study_file, "tiny"), progress=False)
    assert failures == 1
    out = capsys.readouterr().out
    assert "train-spsa-exact (" in out and "train.py" in out and "failed in cell" in out
    assert "method: unknown 'adam'" in out
    generated = tmp_path / "book" / "generated"
    assert (generated / "data.ipynb").exists() and (generated / "train-spsa-exact.failed.ipynb").exists()
    assert not (generated / "train-spsa-exact.ipynb").exists()


def test_an_unknown_parameter_is_refused_before_anything_runs(tmp_path):
    study_file = tiny_study(tmp_path, runs=["data"], overrides={"data": {"n_sample": 10}})
    with pytest.raises(ValueError, match="has no parameter 'n_sample'"):
        run_study(load_study(study_file, "tiny"), progress=False)
    assert not (tmp_path / "book" / "generated" / "data.ipynb").exists()


def test_study_command_line_errors():
    proc = subprocess.run([sys.executable, "-m", "qrnn_core", "study", "--profile", "fast"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown profile 'fast'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "qrnn_core", "study", "--only", "nope"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no run named 'nope'" in proc.stderr
