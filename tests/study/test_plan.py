"""What a ``run`` would do (:mod:`qrnn_study.plan`), seen as a newcomer extending the study sees it: the
walkthrough of ``book/extend.md`` (a new estimator arm and its page) done on a temporary study file."""

import yaml

from qrnn_study.plan import dry_run, plan
from qrnn_study.study_file import ROOT, load_study

from .test_runner import tiny_study

ARM = "spsa4-shots"


def add_arm(path):
    """``book/extend.md``'s edit of the study file: SPSA averaging four directions, and its arm page."""
    spec = yaml.safe_load(path.read_text())
    shipped = {r["name"]: r for r in yaml.safe_load((ROOT / "study.yml").read_text())["runs"]}
    arm = {"name": ARM, "title": "SPSA corrected, four directions an update, 1,024 shots",
           "notebook": str(ROOT / "notebooks/train.py"), "seeds": {"paper": 10, "quick": 3, "tiny": 1},
           "parameters": {**shipped["spsa-shots"]["parameters"]}}
    arm["parameters"]["common"] = {**arm["parameters"]["common"], "spsa_directions": 4}
    page = {"name": f"arm-{ARM}", "title": "SPSA corrected, four directions, 1,024 shots",
            "notebook": str(ROOT / "notebooks/arm.py"), "parameters": {"common": {"arm": ARM}}, "depends": [ARM]}
    spec["runs"] += [arm, page]
    path.write_text(yaml.safe_dump(spec))


def test_a_new_arm_is_dry_run_as_no_result_and_nothing_else_changes(tmp_path):
    """Before anything has run, the new arm's instance and page are planned with the rest, from the one edit
    (on the finished tiny study, only they are out of date: tests/study/test_study_book.py)."""
    path = tiny_study(tmp_path, runs=["data", "spsa-spall-shots"])
    add_arm(path)
    extended = load_study(path, "tiny")
    assert {f"{ARM}@1929", f"arm-{ARM}"} <= {r.name for r in plan(extended).todo}
    assert next(r for r in extended.runs if r.arm == ARM).parameters["spsa_directions"] == 4
    assert "no result" in dry_run(extended)
