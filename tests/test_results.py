"""The shipped results come from this code: a prefix of a shipped run, re-computed, matches exactly."""

import json

import pytest

from qrnn_core.results import load_arm, reproduces
from qrnn_core.study import ROOT

SHIPPED = ROOT / "results" / "paper"


def _finished_runs():
    runs = []
    for m in sorted(SHIPPED.glob("*@*/metrics.json")):
        d = json.loads(m.read_text())
        if len(d["val"]) == d["config"]["epochs"]:
            runs.append(m.parent)
    return runs


def test_a_shipped_run_reproduces_exactly():
    runs = _finished_runs()
    if not runs:
        pytest.skip("no finished paper run is shipped yet")
    # the cheapest to re-compute: an exact-gradient or SPSA run
    run = next((r for r in runs if r.name.startswith(("oracle", "spsa"))), runs[0])
    check = reproduces(run)
    assert check.exact, str(check)


def test_shipped_arms_load_with_their_seeds():
    runs = _finished_runs()
    if not runs:
        pytest.skip("no finished paper run is shipped yet")
    arm, seed = runs[0].name.split("@")
    res = load_arm(SHIPPED, arm)
    assert int(seed) in res.seeds and res.complete[res.seeds.index(int(seed))]
    assert res.params.shape[1:] == (res.config["epochs"] + 1, 144)
