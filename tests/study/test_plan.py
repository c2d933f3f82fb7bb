"""What a ``run`` would do (:mod:`qrnn_study.plan`), seen as a newcomer extending the study sees it: the
walkthrough of ``book/extend.md`` (a new estimator arm and its page) done on a temporary study file."""

import yaml

from qrnn_study.drive import run_study
from qrnn_study.plan import dry_run, plan
from qrnn_study.study_file import ROOT, load_study

from .test_runner import cli, tiny_study

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
    path = tiny_study(tmp_path, runs=["data", "spsa-spall-shots"])
    study = load_study(path, "tiny")
    assert run_study(study, jobs=2, progress=False) == 0
    before = plan(study).inputs

    add_arm(path)
    extended = load_study(path, "tiny")
    text = dry_run(extended)
    lines = {line.split()[0]: line for line in text.splitlines()[1:-1]}
    assert set(lines) == {f"{ARM}@1929", f"arm-{ARM}"}, text  # the already-run results are current
    assert all(line.endswith("no result") for line in lines.values()), text
    assert text.startswith(f"study (tiny): 2 of {len(study.runs) + 2} runs out of date"), text
    after = plan(extended).inputs
    assert {name: after[name].key for name in before} == {name: i.key for name, i in before.items()}
    assert next(r for r in extended.runs if r.arm == ARM).parameters["spsa_directions"] == 4

    proc = cli("run", "--study-file", str(path), "--profile", "tiny", "-n")  # as the walkthrough types it
    assert proc.returncode == 0 and f"{ARM}@1929" in proc.stdout and "data " not in proc.stdout, proc.stderr
