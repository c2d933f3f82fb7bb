"""The book built from the whole study in the tiny profile: with warnings as errors, and opened in a
real browser."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qrnn_study.drive import run_study
from qrnn_study.plan import dry_run, plan
from qrnn_study.study_file import ROOT, load_study

from .test_plan import ARM, add_arm
from .test_runner import cli, tiny_study


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    """The whole study in the tiny profile and the book built -W from its pages."""
    tmp = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "book", tmp / "book", ignore=shutil.ignore_patterns("generated", "_build"))
    shutil.copy(ROOT / "_config.yml", tmp / "_config.yml")
    (tmp / "qrnn_tools").symlink_to(ROOT / "qrnn_tools")  # the book's own Sphinx extension (book_guard), as in a clone
    archive = tmp / "results" / "paper" / "summary" / "results-paper.zip"  # the reproduce page links it
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")
    said = []
    study = load_study(tiny_study(tmp), profile="tiny")
    failures = run_study(study, jobs=2, progress=False, log=said.append)
    assert failures == 0, "\n".join(said)
    toc = tmp / "book" / "generated" / "tiny" / "_toc.yml"
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(tmp / "book"), "-W",
                            "--keep-going", "--toc", str(toc)], cwd=tmp, capture_output=True, text=True, timeout=900)
    return tmp, build


def test_book_builds_with_warnings_as_errors(tiny_book):
    tmp, build = tiny_book
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    html = tmp / "_build" / "html"
    for page in ["methods", "reproduce", "deviations", "bibliography", "generated/tiny/summary",
                 "generated/tiny/arm-fdsa-shots", "generated/tiny/baselines", "generated/tiny/fidelity",
                 "generated/tiny/conclusions"]:
        assert (html / f"{page}.html").exists(), page
    for page in (html / "generated" / "tiny").glob("*.html"):
        assert "Numbers on this page:" in page.read_text(), f"{page.name} does not say what produced it"
    front = re.sub(r"<[^>]+>", "", (html / "index.html").read_text() if (html / "index.html").exists() else "")
    assert "profile tiny" in front or (html / "generated" / "tiny" / "summary.html").exists()
    for page in ("summary", "conclusions"):  # each says what its profile's numbers are worth
        text = re.sub(r"<[^>]+>", "", (html / "generated" / "tiny" / f"{page}.html").read_text())
        assert "the numbers mean nothing" in text, page


def test_book_in_a_real_browser(tiny_book):
    """Every page opened in headless Chromium: no JavaScript error, figures load with captions, math renders."""
    from qrnn_tools.book_check import check_book

    tmp, build = tiny_book
    assert build.returncode == 0
    problems = check_book(tmp / "_build" / "html")
    assert problems == [], "\n".join(problems)


# -- the finished study, planned again (its results reused: a study costs this module's fixture once) --


def test_a_finished_study_is_up_to_date_and_a_changed_input_is_named(tiny_book):
    import json

    tmp, _ = tiny_book
    study = load_study(tmp / "study.yml", "tiny")
    assert dry_run(study) == f"study (tiny): all {len(study.runs)} runs up to date: nothing to run"
    record = tmp / "book" / "generated" / "tiny" / "data.inputs.json"
    kept = record.read_text()
    saved = json.loads(kept)
    saved["inputs"]["parameters"] = "0" * 64  # as if the page had been made with other parameters
    try:
        record.write_text(json.dumps(saved))
        assert "inputs changed: parameters" in dry_run(study)
        proc = cli("run", "--study-file", str(tmp / "study.yml"), "--profile", "tiny", "-n")
        assert proc.returncode == 0 and "data" in proc.stdout and "inputs changed: parameters" in proc.stdout, \
            proc.stderr
    finally:
        record.write_text(kept)


def test_a_new_arm_on_the_finished_study_is_all_that_is_out_of_date(tiny_book):
    """book/extend.md's walkthrough: one edit of the study file; what has run stays current."""
    tmp, _ = tiny_book
    study = load_study(tmp / "study.yml", "tiny")
    before = plan(study).inputs
    path = tmp / "extended.yml"  # the fixture's own study file stays as it was, for the other tests
    path.write_text((tmp / "study.yml").read_text())
    add_arm(path)
    extended = load_study(path, "tiny")
    text = dry_run(extended)
    lines = {line.split()[0]: line for line in text.splitlines()[1:-1]}
    assert set(lines) == {f"{ARM}@1929", f"arm-{ARM}"}, text
    assert all(line.endswith("no result") for line in lines.values()), text
    assert text.startswith(f"study (tiny): 2 of {len(study.runs) + 2} runs out of date"), text
    after = plan(extended).inputs
    assert {name: after[name].key for name in before} == {name: i.key for name, i in before.items()}
    proc = cli("run", "--study-file", str(path), "--profile", "tiny", "-n")  # as the walkthrough types it
    assert proc.returncode == 0 and f"{ARM}@1929" in proc.stdout and "data " not in proc.stdout, proc.stderr


def test_a_result_whose_science_source_changed_is_rekeyed_only_when_it_computes_the_same(tiny_book, monkeypatch):
    """`run --rekey` (qrnn_study/rekey.py): today's code re-computes the first updates bit for bit, or the run
    stays out of date."""
    import json

    import qrnn_study.results as results
    from qrnn_study.rekey import rekey

    tmp, _ = tiny_book
    study = load_study(tmp / "study.yml", "tiny")
    name = "spsa-shots@1929"
    record = tmp / "results" / "tiny" / name / "inputs.json"
    kept = record.read_text()
    made = json.loads(kept)
    made["inputs"]["module qrnn_core/train.py"] = "0" * 64  # as if made before an edit of train.py
    try:
        record.write_text(json.dumps(made))
        text = dry_run(study)
        assert f"inputs changed: module qrnn_core/train.py (science source only" in text, text
        outcomes = rekey(study, log=lambda line: None)
        assert [(o.run, o.done) for o in outcomes] == [(name, True)], outcomes
        assert "bit for bit" in outcomes[0].check
        rekeyed = json.loads(record.read_text())
        assert rekeyed["key"] == json.loads(kept)["key"] and rekeyed["rekeyed"][0]["changed"] == [
            "module qrnn_core/train.py"]
        assert dry_run(study).endswith("nothing to run")

        record.write_text(json.dumps(made))  # the same, and today's code computing other numbers
        update = results.update
        monkeypatch.setattr(results, "update", lambda *args: update(*args) * (1 + 1e-3))
        outcomes = rekey(study, log=lambda line: None)
        monkeypatch.undo()
        assert [(o.run, o.done) for o in outcomes] == [(name, False)] and "STALE" in outcomes[0].check
        assert json.loads(record.read_text())["inputs"]["module qrnn_core/train.py"] == "0" * 64

        made["inputs"]["parameters"] = "0" * 64  # another computation: never re-keyed
        record.write_text(json.dumps(made))
        assert rekey(study, log=lambda line: None) == []
    finally:
        record.write_text(kept)


def test_a_change_of_the_training_notebooks_parameters_cell_alone_is_rekeyed(tiny_book, monkeypatch):
    """A field added to TrainConfig adds a line to the training notebook's generated parameters cell: the
    notebook the run was made from (read from git at its commit) differs in that cell alone, so `--rekey`
    may check it; a change of any other cell is another computation."""
    import json

    import qrnn_study.plan as plan_module
    from qrnn_study.keys import digest, notebook_code
    from qrnn_study.notebook import read_notebook
    from qrnn_study.rekey import rekey

    tmp, _ = tiny_book
    study = load_study(tmp / "study.yml", "tiny")
    name = "spsa-shots@1929"
    run = next(r for r in study.runs if r.name == name)
    record = tmp / "results" / "tiny" / name / "inputs.json"
    kept = record.read_text()

    def made_from(edit):  # the notebook as an older commit held it, and the record it would have made
        cells = read_notebook(run.notebook).cells
        edit(cells)
        monkeypatch.setattr(plan_module, "notebook_cells_at", lambda commit, notebook: cells)
        made = json.loads(kept)
        made["inputs"]["notebook"] = digest(notebook_code(cells))
        record.write_text(json.dumps(made))

    def parameters_cell(cells):
        return next(c for c in cells if "parameters" in c.metadata.get("tags", []))

    try:
        made_from(lambda cells: setattr(parameters_cell(cells), "source",
                                        parameters_cell(cells).source.replace("noise_scale = 1.0", "")))
        assert "inputs changed: notebook (science source only" in dry_run(study)
        assert [(o.run, o.done) for o in rekey(study, log=lambda line: None)] == [(name, True)]
        assert json.loads(record.read_text())["rekeyed"][0]["changed"] == ["notebook"]

        def other_cell(cells):
            last = next(c for c in reversed(cells) if c.cell_type == "code")
            last.source += "\nprint()"

        made_from(other_cell)
        assert "science source only" not in dry_run(study)
        assert rekey(study, log=lambda line: None) == []
    finally:
        record.write_text(kept)
