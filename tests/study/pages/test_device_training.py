"""The "On a device" page's training half (:mod:`qrnn_study.pages.device_training`) on constructed arms:
the table paired against the noiseless engine, Holm-adjusted; the recommendation as the numbers change;
what later epochs add."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.model import DEVICE_ARMS
from qrnn_study.pages import device as device_page
from qrnn_study.pages import device_training as page
from tests.study.pages.fakes import fake_arm


def training(seeds=5, worse=0.0, fdsa_offset=0.0, scales=(0.0, 0.5, 1.0, 2.0)):
    """Every device arm at ``scales``; RMSE 0.08 + ``worse`` * s (1 + k / 20) on seed k (a little spread across
    seeds), FDSA ``fdsa_offset`` above."""
    spread = 0.002 * np.arange(seeds)
    return {a.id: {s: fake_arm(f"{a.id}-noise_scale{s:g}", val=0.08 + worse * s * (1 + spread * 25) + spread
                               + (fdsa_offset if a.estimator == "fdsa" else 0.0), seeds=seeds)
                   for s in scales} for a in DEVICE_ARMS}


def test_the_training_table_pairs_each_scale_with_the_noiseless_engine_and_holm_adjusts():
    t = training(worse=0.01)
    markdown, rows = page.training_table(t, "shots")
    assert "| s = 0 | s = 0.5 | s = 1 | s = 2 | s = 2 − s = 0, paired | p (Holm) |" in markdown
    assert len(rows) == 2 * 4 * 4 and {r["n"] for r in rows} == {5}
    effects = page.noise_effects(t, "shots")
    assert len(effects) == 2 * 4 * 3
    two = [e for e in effects if e["scale"] == 2.0]
    assert all(e["estimate"] == pytest.approx(0.02 * 1.1) and e["p_holm"] >= e["p"] for e in two)
    assert all(set(page.EFFECT_COLUMNS) <= set(e) for e in effects)
    fig = page.training_figure(t, "shots", {"windows": 0.18, "sequence": 0.18})
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel().startswith("noise scale")
    plt.close(fig)


def test_the_recommendation_follows_the_numbers():
    qpu = device_page.qpu_rows(("FakeMarrakesh",), 8)
    equal = page.recommendation(training(), "shots", qpu, {"windows": 0.18})
    assert "Train with SPSA corrected on a device" in equal and "at every scale run here" in equal
    assert equal.count("as accurate within") == 2 and "TOST p" in equal  # both protocols, by equivalence
    fdsa_better = page.recommendation(training(fdsa_offset=-0.03), "shots", qpu, {"windows": 0.18})
    assert "FDSA lower: SPSA − FDSA 0.030" in fdsa_better and "FDSA buys its accuracy" in fdsa_better
    lost = page.recommendation(training(worse=0.08), "shots", qpu, {"windows": 0.18})
    assert "no longer beats the training-mean predictor" in lost and "from s = 2" in lost
    assert "No recommendation yet" in page.recommendation(training(scales=(0.0,)), "shots", qpu, {})


def test_the_noise_words_name_only_the_changes_that_survive_holm():
    labels = {a.id: a.label for a in DEVICE_ARMS}
    hurt = page.noise_words(page.noise_effects(training(worse=0.01), "shots"), labels)
    assert hurt.startswith("**What the noise does.** From the noiseless engine to s = 2")
    assert hurt.count("it raises the RMSE of") == 2 and "lowers" not in hurt
    flat = page.noise_words(page.noise_effects(training(), "shots"), labels)
    assert flat.count("changes no estimator's RMSE beyond chance") == 2
    assert page.noise_words([], labels) == ""
    assert "after the same 3 epochs" in page.recommendation(training(), "shots",
                                                             device_page.qpu_rows(("FakeMarrakesh",), 8), {})


def test_the_epochs_evidence_says_what_later_epochs_change():
    later = fake_arm("fdsa-shots", epochs=10)
    later.val["windows"]["shots"][:, 3:, 2] = 0.07  # epochs 4-10 lower the windows score
    evidence = page.epochs_evidence({"fdsa-shots": later, "spsa-shots": fake_arm("spsa-shots", epochs=3)}, "shots")
    assert set(evidence) == {"fdsa-shots"} and evidence["fdsa-shots"]["windows"] == pytest.approx(-0.03)
    text = page.epochs_text(evidence, 3)
    assert "3 epochs of the full protocol" in text and "-0.030 (windows)" in text and "FDSA is the one" in text
    assert page.epochs_text({}, 3) == ""


def test_the_trained_models_are_set_beside_the_hardware_reference():
    t = training(scales=(0.0, 1.0))
    text = page.beside_hardware(t, "shots")
    assert "FDSA y" in text and f"{page.HARDWARE_REFERENCE['y']:.3f}" in text and "connerty2025quantum" in text
    assert page.beside_hardware(training(scales=(0.0,)), "shots") == ""
    assert page.reference_values()["dev_hw_z"] == f"{page.HARDWARE_REFERENCE['z']:.4f}"


def test_before_any_device_run_the_section_says_they_are_in_progress_and_shows_no_empty_table():
    nothing = {a.id: {} for a in DEVICE_ARMS}
    assert "**The device runs are in progress**: none of the profile's 80" in page.intro(nothing, 80)
    assert page.findings(nothing, "shots", [], {}, {}) == []
    partial = training(seeds=2, scales=(1.0,))
    text = page.intro(partial, 80)
    assert "noise scales 1 " in text and "**In progress: 8 of the 80 device runs have finished**" in text and "2 paired seeds" in text
    parts = page.findings(partial, "shots", device_page.qpu_rows(("FakeMarrakesh",), 8), {"windows": 0.18}, {})
    assert parts[0].startswith("| protocol | estimator | s = 1 |") and all(parts)
