"""The baselines page on every shape its run gives: the ESN and QESN over one seed or several, the QESN
with shots or without, a baseline that loses to the training mean."""

import matplotlib.pyplot as plt
import pytest

from qrnn_study.model import BASELINES
from qrnn_study.pages import baselines as page

from .fakes import fake_baselines


@pytest.mark.parametrize("seeds", [(1929,), (1929, 1930, 1931)])
def test_the_table_has_a_row_per_baseline_protocol_and_mode(seeds):
    results = fake_baselines(seeds)
    text, glued = page.table(results, list(seeds))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "baseline |" not in line]
    assert len(rows) == 2 * (4 + 3)  # per protocol: four baselines with one mode, the QESN with three
    assert rows[0] == "| mean | deck's (one sequence) | - | 0.1620 | 0.1980 | 0.1800 |"
    esn = next(r for r in rows if r.startswith("| ESN | deck's"))
    if len(seeds) == 1:
        assert "one seed (1929)" in text and esn == "| ESN | deck's (one sequence) | - | 0.0045 | 0.0055 | 0.0050 |"
    else:
        assert "mean ± standard deviation over 3 seeds (lowest to highest seed)" in text
        assert esn.endswith("| 0.0060 ± 0.0010 (0.0050 to 0.0070) |")
    assert glued["baseline_linear_sequence_mean"] == "0.1400"
    assert glued["baseline_qesn_shots_windows_mean"] == f"{0.1 * 1.1 + (0.001 if len(seeds) > 1 else 0) * 1.1:.4f}"
    assert ("baseline_esn_sequence_mean_std" in glued) and "baseline_linear_sequence_mean_std" not in glued


def test_a_qesn_without_shots_has_exact_rows_only():
    text, glued = page.table(fake_baselines(shots=False), [1929, 1930, 1931])
    assert "readout fitted on shots" not in text and not any("_shots_" in k for k in glued)
    assert "diagnostic" not in page.against_mean(fake_baselines(shots=False))


def test_the_settings_name_what_each_baseline_chose():
    text = page.settings(fake_baselines())
    assert "* **linear**: y = 0.710 x + 0.130, z = -0.050 x + 0.510." in text
    assert "* **NG-RC**, windows (steps 5..19): k 8, s 1, alpha 1e-10 (held-out RMSE 0.0230)." in text
    assert "chosen with reservoir seed 0, 300 units." in text
    assert text.count("* **QESN**") == 4  # two protocols, readout fitted exactly and on shots
    assert "washout, ridge alpha per seed 50, 1e-06, 50, 1e-06, 50, 1e-06." in text


@pytest.mark.parametrize("seeds", [(1929,), (1929, 1930)])
def test_the_figure_draws_every_baseline_per_protocol(seeds):
    fig, rows = page.figure(fake_baselines(seeds), list(seeds))
    assert len(rows) == 2 * len(BASELINES) and rows[0][:2] == ["mean", "sequence"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["mean", "linear", "NG-RC", "ESN", "QESN"]
    plt.close(fig)


def test_a_baseline_that_loses_to_the_mean_is_named():
    assert page.against_mean(fake_baselines()).startswith("Every baseline scores below the training mean")
    text = page.against_mean(fake_baselines(qesn=0.2))
    assert text.startswith("**Not every baseline beats the training mean:**")
    assert "* **QESN**, deck's (one sequence), exact: 0.2010 against the mean's 0.1800" in text
    assert "(worse than the mean)" in text  # its exact readout on shots: 1.5 times
