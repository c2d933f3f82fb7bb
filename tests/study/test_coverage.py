"""How a page says its build is partial (:mod:`qrnn_study.coverage`): the count and which runs of the study
file are not finished yet."""

import qrnn_study.coverage as coverage
from qrnn_study.study_file import load_study


def test_a_partial_build_names_the_runs_not_yet_finished(monkeypatch):
    monkeypatch.setattr(coverage, "training_done", lambda study, run: not run.name.startswith("noisy-fdsa"))
    trains = sum(r.trains for r in load_study(profile="paper").runs)
    text = coverage.partial_warning("paper", "see below")
    assert f"This build is **partial**: {trains - 20} of the profile's {trains} training runs have finished (see below)" in text
    assert "not yet every instance of `noisy-fdsa` 0 of 20." in text
    monkeypatch.setattr(coverage, "training_done", lambda study, run: True)
    assert coverage.partial_warning("paper") is None
