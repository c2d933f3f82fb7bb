"""The study's model (:mod:`qrnn_study.model`): every id declared once and unique, every claim naming
arms and protocols that exist (in the model and in every profile of ``study.yml``), and an unknown id
refused in one line, in code and in the study file."""

import dataclasses

import pytest

from qrnn_study import model
from qrnn_study.model import (ARMS, BASELINES, CLAIMS, PROTOCOLS, Arm, Claim, UnknownId, arm, arm_ids, baseline,
                              claim, index, protocol)
from qrnn_study.scorecard import scorecard
from qrnn_study.study_file import ROOT, StudyFileError, load_study, read_study_file

PROFILES = ("tiny", "quick", "paper")


@pytest.mark.parametrize("items", [ARMS, PROTOCOLS, BASELINES, CLAIMS], ids=["arms", "protocols", "baselines", "claims"])
def test_ids_are_unique_short_and_stable_words(items):
    ids = [x.id for x in items]
    assert len(set(ids)) == len(ids)
    assert all(x == x.lower() and " " not in x and len(x) <= 24 for x in ids), ids


def test_a_repeated_id_is_refused():
    with pytest.raises(ValueError, match="duplicate arm id 'a'"):
        index([Arm("a", "A", "spsa"), Arm("a", "B", "fdsa")], "arm")


def test_the_model_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        arm("fdsa-shots").label = "something else"
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_study(profile="tiny").profile = "paper"


@pytest.mark.parametrize("find, kind", [(arm, "arm"), (protocol, "protocol"), (baseline, "baseline"),
                                        (claim, "claim")])
def test_an_unknown_id_is_refused_in_one_line(find, kind):
    with pytest.raises(UnknownId) as err:
        find("nope")
    said = str(err.value)
    assert said.startswith(f"unknown {kind} 'nope' ({kind}s: ") and "\n" not in said


def test_a_claim_refers_to_arms_and_protocols_by_id():
    with pytest.raises(UnknownId, match="unknown arm 'fdsa-shot'"):
        Claim("x", "a claim", ("fdsa-shots", "fdsa-shot"))
    with pytest.raises(UnknownId, match="unknown protocol 'sequences'"):
        Claim("x", "a claim", ("fdsa-shots",), "sequences")
    with pytest.raises(UnknownId, match="unknown arm 'FDSA'"):  # a label is no id
        arm_ids("FDSA")
    for c in CLAIMS:
        assert all(isinstance(a, str) and a in model.ARM for a in c.arms), c.id
        assert c.protocol is None or c.protocol in model.PROTOCOL, c.id


def test_every_arm_and_oracle_of_the_model_is_a_training_run_of_the_study_file():
    spec = read_study_file(ROOT / "study.yml")
    training = {r["name"] for r in spec["runs"] if r["notebook"].endswith("/train.py")}
    assert {a.id for a in ARMS} == training  # and every training run is declared
    assert all(a.oracle in model.ARM and arm(a.oracle).estimator == "exact" for a in ARMS if a.oracle)
    assert {a.estimator for a in ARMS} == {"spsa", "fdsa", "exact"}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_claims_arms_are_trained_in_every_profile(profile):
    study = load_study(profile=profile)
    assert study.id == profile
    for c in CLAIMS:
        for a in c.arms:
            assert study.arm(a).id == a, (c.id, a)
    with pytest.raises(UnknownId, match=f"study.yml: unknown arm 'nope' in profile '{profile}'"):
        study.arm("nope")


def test_a_run_the_model_does_not_declare_is_an_arm_read_from_its_title(tmp_path):
    text = (ROOT / "study.yml").read_text().replace("notebook: notebooks/", f"notebook: {ROOT}/notebooks/")
    text += ("  - name: spsa4-shots\n    title: \"SPSA, four directions\"\n    notebook: notebooks/train.py\n"
             "    seeds: {tiny: 1}\n    parameters:\n      common: {method: spsa, spsa_directions: 4}\n"
             "      tiny: *tiny\n").replace("notebooks/train.py", f"{ROOT}/notebooks/train.py")
    (tmp_path / "study.yml").write_text(text)
    new = load_study(tmp_path / "study.yml", "tiny").arm("spsa4-shots")
    assert (new.label, new.estimator, new.oracle) == ("SPSA, four directions", "spsa", None)


def test_every_claim_has_its_row_in_the_scorecard_and_no_row_is_unknown():
    """Without results every claim is "not tested": the speed claim's row (the GPU claims join it once an
    epoch has run), one row standing for the accuracy claims of each protocol (``accuracy-<protocol>``)."""
    rows = scorecard({}, {"rows": [{"estimator": "parameter-shift", "rel_error": 1e-12}]}, {})
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) and set(ids) <= set(model.CLAIM)
    assert ids == ["speed", "speed-update", "accuracy-sequence", "accuracy-windows", "learning-rate", "parameter-shift"]
    assert all(r["claim"] == claim(r["id"]).text for r in rows)


@pytest.mark.parametrize("parameter, value", [("arm", "fdsa-exct"), ("twin", "spsa-shot")])
def test_a_study_file_naming_an_unknown_arm_is_refused_with_its_file_line_and_field(tmp_path, parameter, value):
    text = (ROOT / "study.yml").read_text().replace("notebook: notebooks/", f"notebook: {ROOT}/notebooks/")
    old = {"arm": "{arm: fdsa-exact}", "twin": "twin: spsa-shots}"}[parameter]
    new = {"arm": f"{{arm: {value}}}", "twin": f"twin: {value}}}"}[parameter]
    assert text.count(old) == 1
    text = text.replace(old, new)
    line = text[:text.index(new)].count("\n") + 1
    (tmp_path / "study.yml").write_text(text)
    with pytest.raises(StudyFileError) as err:
        read_study_file(tmp_path / "study.yml")
    said = str(err.value)
    assert said.startswith("study.yml: runs[") and f".parameters.common.{parameter}: unknown arm '{value}' (arms: " in said
    assert said.endswith(f"(line {line})") and "\n" not in said
