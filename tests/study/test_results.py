"""The shipped results come from this code: a prefix of a shipped run, re-computed, matches exactly;
and a fresh clone builds the paper profile's book from them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qrnn_core.provenance import machine
from qrnn_study.results import load_arm, reproduces
from qrnn_study.study_file import ROOT

SHIPPED = ROOT / "results" / "paper"


def _finished_runs():
    runs = []
    for m in sorted(SHIPPED.glob("*@*/metrics.json")):
        d = json.loads(m.read_text())
        if len(d["val"]) == d["config"]["epochs"]:
            runs.append(m.parent)
    return runs


def test_a_shipped_run_reproduces_exactly():
    """Bitwise on the CPU model that made the numbers; elsewhere (another CPU's vector units round a
    float32 sum differently: 2.9e-7 on an Intel Xeon against an AMD EPYC) to a few ulps of the run's
    precision, accumulated over its few updates and one validation."""
    runs = _finished_runs()
    if not runs:
        pytest.skip("no finished paper run is shipped yet")
    # the cheapest to re-compute: an exact-gradient or SPSA run
    run = next((r for r in runs if r.name.startswith(("oracle", "spsa"))), runs[0])
    check = reproduces(run)
    metrics = json.loads((run / "metrics.json").read_text())
    if metrics["provenance"]["machine"]["cpu"] == machine()["cpu"]:
        assert check.exact, str(check)
    else:
        real = np.float32 if metrics["config"]["precision"] == "complex64" else np.float64
        assert check.max_relative_difference <= 64 * np.finfo(real).eps, str(check)


def test_shipped_arms_load_with_their_seeds():
    runs = _finished_runs()
    if not runs:
        pytest.skip("no finished paper run is shipped yet")
    arm, seed = runs[0].name.split("@")
    res = load_arm(SHIPPED, arm)
    assert int(seed) in res.seeds and res.complete[res.seeds.index(int(seed))]
    assert res.params.shape[1:] == (res.config["epochs"] + 1, 144)


def test_a_fresh_clone_builds_the_shipped_paper_book(tmp_path):
    """`jupyter-book build book/` in a clone of the committed tree: the shipped pages, no training."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    if not (clone / "book" / "generated" / "paper" / "summary.ipynb").exists():
        pytest.skip("no shipped paper pages in the committed tree yet")
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", "book/", "-W", "--keep-going"],
                           cwd=clone, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    html = clone / "_build" / "html" / "generated" / "paper"
    for page in ("summary", "arm-fdsa-shots", "baselines", "fidelity", "timing"):
        text = (html / f"{page}.html").read_text()
        assert "Numbers on this page:" in text and "profile paper" in re.sub(r"<[^>]+>", "", text), page


def test_the_compute_table_counts_every_epoch_and_projects_from_the_median_and_the_fastest(tmp_path):
    from qrnn_study.results import compute_table
    from qrnn_study.study_file import Run

    def run(name, family, **parameters):
        return Run(name, Path("notebooks/train.py"), {"epochs": 4, "train_sequences": 10, **parameters},
                   arm=family, family=family)

    runs = [run("a@1", "a", method="spsa"), run("a@2", "a", method="spsa"), run("b@1", "b", method="fdsa")]
    (tmp_path / "a@1").mkdir()
    (tmp_path / "a@1" / "metrics.json").write_text(json.dumps({
        "val": [{}, {}, {}], "epoch_seconds": [4.0, 2.0, 5.0], "val_seconds": [1.0, 1.0, 1.0], "save_seconds": [1.0]}))
    table = {r.family: r for r in compute_table(runs, tmp_path)}
    a, b = table["a"], table["b"]
    assert (a.instances, a.finished, a.epochs_done, a.epochs_total) == (2, 0, 3, 8)
    assert a.seconds_done == 15.0 and a.measured  # 4 + 1 + 1, then 2 + 1 + 0 and 5 + 1 + 0 (no save recorded)
    assert a.seconds_per_update == pytest.approx(0.6) and a.fastest_per_update == pytest.approx(0.3)  # 6 s, 3 s / 10
    assert a.seconds_left == pytest.approx((8 - 3) * 10 * 0.6)
    assert a.seconds_left_fastest == pytest.approx((8 - 3) * 10 * 0.3)
    assert not b.measured and b.seconds_left == pytest.approx(4 * 10 * 0.6)  # borrowed from a


def test_an_arm_restricted_to_some_seeds_keeps_each_seeds_rows_together():
    from .test_scorecard import CONFIG, arm

    res = arm("fdsa-shots", [[0.3, 0.2], [0.5, 0.4], [0.7, 0.6]], 1, {**CONFIG, "epochs": 2})
    res.epochs_done[1] = 1
    done = res.subset(res.complete)
    assert done.seeds == [1929, 1931] and done.complete.all()
    assert done.val["windows"]["shots"][:, :, 2].tolist() == [[0.3, 0.2], [0.7, 0.6]]
    assert res.subset(~res.complete).seeds == [1930]


def _copy_seeds(tmp_path, arm, seeds, as_arm=None):
    """Two shipped seeds of ``arm`` (metrics and trajectory only), under ``as_arm`` if given."""
    import shutil

    for s in seeds:
        dest = tmp_path / f"{as_arm or arm}@{s}"
        dest.mkdir()
        for f in ("metrics.json", "trajectory.npz"):
            shutil.copy(ROOT / "results" / "paper" / f"{arm}@{s}" / f, dest / f)


def test_seeds_of_one_arm_with_different_configs_are_refused(tmp_path):
    _copy_seeds(tmp_path, "spsa-shots", (1929, 1930))
    assert load_arm(tmp_path, "spsa-shots").seeds == [1929, 1930]
    path = tmp_path / "spsa-shots@1930" / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["config"]["lr"] = 0.5
    path.write_text(json.dumps(metrics))
    with pytest.raises(ValueError, match="seed 1930's config differs from seed 1929's in lr"):
        load_arm(tmp_path, "spsa-shots")


def test_a_sweep_reads_the_values_the_study_lists_only(tmp_path):
    from qrnn_study.results import load_sweep

    _copy_seeds(tmp_path, "sweep-spsa-lr0.001", (1929,))
    _copy_seeds(tmp_path, "sweep-spsa-lr0.007", (1929,))
    assert list(load_sweep(tmp_path, "sweep-spsa")) == [0.001, 0.007]  # whatever is on disk
    assert list(load_sweep(tmp_path, "sweep-spsa", values=[0.007, 0.02])) == [0.007]  # an older rate left out
