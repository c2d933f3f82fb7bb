"""The fidelity page on every shape its run gives: every checkpoint or one (the tiny profile's), many
shot draws or a few, values that agree and one that does not."""

import matplotlib.pyplot as plt
import pytest

from qrnn_core.fidelity import CHECKPOINTS, Z_BAND
from qrnn_study.pages import fidelity as page


def rows(names=tuple(CHECKPOINTS), z=0.5, draws=5, outlier=None):
    """Fake :func:`qrnn_core.fidelity.fidelity_table` rows: every value ``z`` standard deviations above its
    expectation; ``outlier``: ``(checkpoint, output, z)`` of one that lies further out."""
    out = []
    for name in names:
        c = CHECKPOINTS[name]
        for k, output in enumerate(("y", "z", "mean")):
            zz = outlier[2] if outlier and outlier[:2] == (name, output) else z
            expected, sd = 0.1 + 0.01 * k, 0.002
            out.append({"checkpoint": name, "optimiser": c.optimiser, "shots": c.shots, "output": output,
                        "logged": expected + zz * sd, "exact": expected - 0.003, "expected": expected,
                        "std_trajectories": sd, "z": zz, "z_independent": 3 * zz, "agrees": abs(zz) <= Z_BAND,
                        "agrees_family": abs(zz) <= 3.29, "draws": [expected + 0.0001 * d for d in range(draws)]})
    return out


def test_every_value_agreeing_is_counted_so():
    said = page.summary(rows())
    assert said["fidelity_agree"] == "15 of 15" and said["fidelity_agree_family"] == "15 of 15"
    assert said["fidelity_agree_independent"] == "15 of 15"  # z 1.5 each
    assert said["fidelity_max_z"] == "0.50" and said["fidelity_max_z_where"] == "spsa_epoch1 y"
    assert said["fidelity_max_z_chance"].startswith("1 in ") and said["fidelity_z_family"] == "3.29"


def test_the_largest_deviation_is_among_y_and_z_not_the_mean():
    said = page.summary(rows(outlier=("fdsa_epoch4", "z", -3.0)))
    assert said["fidelity_agree"] == "14 of 15" and said["fidelity_max_z"] == "3.00"
    assert said["fidelity_max_z_where"] == "fdsa_epoch4 z" and said["fidelity_max_z_mean"] == "0.50"
    assert said["fidelity_max_z_independent"] == "9.00"
    assert page.summary(rows(outlier=("fdsa_epoch4", "mean", 9.0)))["fidelity_max_z"] == "0.50"


def test_the_table_has_a_line_per_checkpoint_and_output():
    lines = page.table(rows(outlier=("spsa_epoch2", "y", 3.0))).splitlines()
    assert len(lines) == 2 + 15 and all(line.count("|") == 8 for line in lines)
    assert lines[5].startswith("| spsa_epoch2 (1,024) | y | 0.10600 | 0.0970 | 0.1000 [0.09485, 0.10515] | +3.00 / +9.00 | no |")
    assert lines[-1].startswith("| fdsa_epoch4 (1,536) | mean |")


@pytest.mark.parametrize("names, draws", [(tuple(CHECKPOINTS), 200), (("spsa_epoch1",), 5), (("fdsa_epoch4",), 1)])
def test_the_figure_draws_each_checkpoint(names, draws):
    fig = page.figure(rows(names, draws=draws))
    assert len(fig.axes) == 2 and len(fig.axes[0].get_xticks()) == len(names)
    plt.close(fig)


def test_the_deck_figures_are_traced_to_the_logs():
    text = page.deck_figures(rows())
    assert text.startswith("**The deck's figures.** ")
    assert "SPSA's 0.1142 (epoch 2) rounds from " in text and "FDSA's 0.1178 (epoch 4) rounds from " in text
    assert "none of the logged means in the table above" in text  # the fake logged means are no run's
    only_spsa = page.deck_figures(rows(("spsa_epoch1",)))
    assert "FDSA's 0.1178" in only_spsa  # the deck's figures are named whichever checkpoints ran
