"""The arm page on every shape the profiles give it: one seed or several, fewer or more epochs than the
original's 10 logged ones, arms with the original's logs (SPSA as originally run, FDSA) and without, unfinished
seeds (NaN), a log with gaps, a protocol missing, and the precision check's twin."""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

from qrnn_study.pages import arm as page
from qrnn_study.pages.arm import log_against_seeds, progress, twin_rows

from .fakes import fake_arm

NAN = float("nan")
LOG = {e: (0.0, 0.0, 0.10 - 0.005 * e) for e in range(1, 11)}  # like the original's: epochs 1..10


def test_fewer_epochs_than_the_log_compares_only_the_epochs_run():
    """The quick profile's case that broke `make book`: 2 epochs against a 10-epoch log."""
    v = np.array([[0.080, 0.070], [0.100, 0.095]])
    out = log_against_seeds(LOG, v)
    assert out.compared == [1, 2] and out.beyond == list(range(3, 11))
    assert out.inside == [1, 2] and out.gap == {}


def test_more_epochs_than_the_log_and_a_log_that_starts_later():
    fdsa_log = {e: (0.0, 0.0, 0.2) for e in range(2, 11)}  # the original's FDSA log starts at epoch 2
    v = np.full((3, 12), 0.1)
    out = log_against_seeds(fdsa_log, v)
    assert out.compared == list(range(2, 11)) and out.beyond == []
    assert out.above == list(range(2, 11))
    assert out.gap[2] == pytest.approx(0.1)


def test_below_above_and_gaps_to_the_nearest_seed():
    log = {1: (0, 0, 0.05), 2: (0, 0, 0.30), 3: (0, 0, 0.15)}
    v = np.array([[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]])
    out = log_against_seeds(log, v)
    assert (out.below, out.above, out.inside) == ([1], [2], [3])
    assert out.gap == {1: pytest.approx(0.05), 2: pytest.approx(0.10)}


@pytest.mark.parametrize("v", [np.zeros((1, 10)), np.zeros((0, 10)), np.full((3, 10), NAN)])
def test_no_comparison_with_one_seed_none_or_no_finished_epoch(v):
    assert log_against_seeds(LOG, v) is None


def test_an_epoch_some_seed_has_not_run_is_not_compared():
    v = np.array([[0.1, 0.1, NAN], [0.1, 0.1, 0.1]])
    out = log_against_seeds(LOG, v)
    assert out.compared == [1, 2] and 3 in out.beyond


def _arm(seeds, epochs, value=0.1, spread=0.01, nan_from=None):
    v = value + spread * np.arange(seeds)[:, None] * np.ones((1, epochs))
    if nan_from is not None:
        v[:, nan_from:] = NAN
    return v


def test_twin_rows_over_common_epochs_and_protocols():
    a = {"sequence": _arm(3, 10), "windows": _arm(3, 10)}
    b = {"sequence": _arm(3, 10) + 0.001, "windows": _arm(3, 10, nan_from=4)}
    rows = {r.protocol: r for r in twin_rows(a, b)}
    assert rows["sequence"].epochs == 10 and rows["sequence"].inside == 10
    assert rows["sequence"].worst_difference == pytest.approx(0.001)
    assert rows["windows"].epochs == 4  # the epochs both have run


def test_twin_rows_leave_out_what_cannot_be_compared():
    assert twin_rows({"sequence": _arm(1, 2)}, {"sequence": _arm(1, 2)}) == []  # one seed: no spread
    assert twin_rows({"sequence": _arm(2, 2)}, {"windows": _arm(2, 2)}) == []  # no protocol in common
    assert twin_rows({"sequence": _arm(2, 2, nan_from=0)}, {"sequence": _arm(2, 2)}) == []  # no epoch run
    rows = twin_rows({"sequence": _arm(2, 2)}, {"sequence": _arm(2, 3)})  # different epoch counts: the prefix
    assert rows[0].epochs == 2


def test_identical_twins_are_inside_their_spread():
    v = _arm(2, 3, spread=0.0)
    (row,) = twin_rows({"sequence": v}, {"sequence": v})
    assert row.inside == 3 and row.worst_difference == 0


def test_progress_says_how_far_each_seed_has_run():
    assert progress(fake_arm(seeds=2, epochs=10, done=[8, 2])) == "1929 at epoch 8 of 10, 1930 at epoch 2 of 10"
    assert progress(fake_arm(seeds=1, epochs=2)) == "1929 at epoch 2 of 2"


# -- the page's calls, on fake arms of the profiles' shapes ------------------------------------------------

ARMS = ("spsa-original-shots", "spsa-original-exact", "fdsa-shots", "fdsa-exact", "spsa-shots", "oracle-lr007")
LOGGED = ("spsa-original-shots", "fdsa-shots")  # the only arms the original ran with its logs


def arm(name="spsa-original-shots", seeds=3, epochs=10, done=None, base=0.12, step=-0.002, apart=0.003, **config):
    """A fake arm named like the study's: its estimator, fixed directions and shots follow the name; validation
    RMSE ``base + step * (epoch - 1) + apart * seed index`` (shots 0.002 above exact), NaN after ``done``."""
    method = "fdsa" if name.startswith("fdsa") else "exact" if name.startswith("oracle") else "spsa"
    shots = None if name.endswith("exact") or method == "exact" else 1024
    config = {"method": method, "shots": shots, "spsa_fixed_directions": name.startswith("spsa-original")} | config
    a = fake_arm(name, seeds=seeds, epochs=epochs, done=done, **config)
    curve = base + step * np.arange(epochs)[None, :] + apart * np.arange(seeds)[:, None]
    for modes in a.val.values():
        for mode, v in modes.items():
            v[:, :, 2] = np.where(np.isfinite(v[:, :, 2]), curve + (0.002 if mode == "shots" else 0.0), np.nan)
    return a


def without(a, protocol, mode=None):
    """``a`` with ``protocol`` (in ``mode``, or both modes) never validated: all NaN."""
    for m in [mode] if mode else ["exact", "shots"]:
        a.val[protocol][m][:] = np.nan
    return a


class Check:
    def __init__(self, current=True):
        self.current = current

    def __str__(self):
        return "the check's words"


def render(a, twin=None, check=True):
    """Every call the notebook makes, in its order: ``{what: text or None}``, the figures closed (and so
    checked for legibility by conftest)."""
    out = {"header": page.header(a, Check(check)), "stale": page.stale_warning(Check(check))}
    deck, log = page.references(a.config)
    for key, draw in (("fig_val", lambda: page.validation_figure(a, deck, log)), ("fig_train", lambda: page.train_figure(a))):
        fig = draw()
        out[key] = fig
        plt.close(fig)
    out |= {"val_seeds": page.val_seeds(a), "val_marks": page.val_marks(deck), "lowest": page.lowest(a),
            "table": page.lowest_table(a), "shows": page.shows(a), "log": page.against_log(a, log),
            "smooth": page.smooth(a), "train_seeds": page.train_seeds(a), "rank": page.rank(a),
            "twin": page.against_twin(a, twin, twin and twin.arm)}
    return out


@pytest.mark.parametrize("name", ARMS)
@pytest.mark.parametrize("seeds,epochs,done", [(1, 2, None), (3, 2, None), (1, 1, None), (2, 10, None), (3, 12, None),
                                               (3, 9, None), (3, 2, [2, 1, 2]), (4, 10, [10, 10, 3, 7]),
                                               (3, 10, [2, 4, 7]), (1, 2, [1])])
def test_every_call_of_the_page_runs_on_every_shape(name, seeds, epochs, done):
    """The class of the quick profile's IndexError (2 epochs against the original's 10 logged ones): every
    call on fewer and more epochs than the log, one seed or several, finished or not, with a log or without."""
    a = arm(name, seeds, epochs, done)
    out = render(a)
    n_done = int(a.complete.sum())
    assert (out["log"] is not None) == (name in LOGGED and n_done >= 2 and not (name == "fdsa-shots" and epochs < 2))
    assert (out["rank"] is not None) == (name.startswith("spsa") and n_done > 0)
    assert (out["shows"] is None) == (n_done == 0) and out["twin"] is None and out["stale"] is None
    assert all("nan" not in str(v) for v in out.values() if isinstance(v, str))


def test_a_missing_arm_says_so():
    assert page.missing("results/quick") == ("**No seed of this arm has finished an epoch yet** in `results/quick`: run "
                                             "`python -m qrnn_study run` (the page fills in as its seeds finish).")
    assert set(page.FIGURES) | set(page.CAPTIONS) == {"fig_val", "fig_train", "val_seeds", "val_marks", "train_seeds",
                                                      "smooth"}


@pytest.mark.parametrize("name,deck", [("spsa-original-shots", 1), ("fdsa-shots", 2), ("spsa-original-exact", None),
                                       ("fdsa-exact", None), ("spsa-shots", None), ("oracle-lr007", None)])
def test_only_the_originals_arms_have_the_decks_numbers_and_its_log(name, deck):
    d, log = page.references(arm(name).config)
    assert (d and min(d)) == deck and (log and min(log)) == deck  # FDSA's are logged from epoch 2
    assert d is None or (max(d) == 10 and max(log) == 10)
    assert page.val_marks(d).startswith("Black squares" if deck else "The original ran no arm")


@pytest.mark.parametrize("epochs", [1, 2, 10, 12])
def test_the_validation_figure_marks_only_the_epochs_the_arm_runs(epochs):
    a = arm(epochs=epochs, done=[epochs, epochs, max(epochs - 1, 0)] if epochs > 1 else None)
    fig = page.validation_figure(a, *page.references(a.config))
    marks = {line.get_label(): line.get_xdata() for line in fig.axes[0].lines}
    # offset a little right and left of their epoch, so that coinciding values stay apart
    assert list(marks["original code's log"]) == pytest.approx([e + 0.12 for e in range(1, min(epochs, 10) + 1)])
    assert list(marks["deck (stated)"]) == pytest.approx([e - 0.12 for e in range(1, min(epochs, 10) + 1)])
    assert any("unfinished: 1931" in label for label in marks) == (epochs > 1)
    plt.close(fig)


def test_the_header_says_how_far_each_seed_has_run_and_what_the_arm_is():
    text = page.header(arm(seeds=2, epochs=10, done=[10, 4]), Check())
    assert text.startswith("**2 seeds** (1929, 1930): 1 finished all 10 epochs; not finished yet: 1930 at epoch 4 of 10. "
                           "4 updates an epoch, 5 circuits per update, 1,024 shots each; learning rate 0.001 (constant); "
                           "data: the original study's series; complex64.\n\n**Reproduction check:** the check's words.")
    assert "none has finished all 2 epochs yet: 1929 at epoch 1 of 2" in page.header(arm(seeds=1, epochs=2, done=[1]), Check())
    exact = arm("oracle-lr007", seeds=1, epochs=2, data={"source": "lorenz"})
    exact = dataclasses.replace(exact, shots_per_circuit=0)
    assert "**1 seed** (1929): all finished their 2 epochs." in page.header(exact, Check())
    assert "per update (exact probabilities); " in page.header(exact, Check())
    assert "data: the regenerated series" in page.header(exact, Check())
    assert "**stale**" in page.stale_warning(Check(current=False))


@pytest.mark.parametrize("seeds,done,val,train", [
    (1, None, "its one seed (no band).", "its one seed"),
    (2, None, "mean over its 2 seeds, the band their 95 % t interval.", "its 2 seeds"),
    (3, None, "mean over its 3 seeds, the band their 95 % t interval.", "its 3 seeds"),
    (3, [2, 1, 2], "mean over the 2 seeds that finished all 2 epochs, the band their 95 % t interval; thin lines, kept out of the mean: the seed not finished yet (1930 at epoch 1 of 2).",
     "the 2 seeds that finished all 2 epochs"),
    (2, [1, 1], "no seed has finished all 2 epochs yet, so there is no mean: one thin line for each seed up to its last "
     "epoch (1929 at epoch 1 of 2, 1930 at epoch 1 of 2).", "its 2 seeds, none finished yet, over the 1 epoch all of "
     "them have run")])
def test_the_captions_name_the_seeds_their_lines_are(seeds, done, val, train):
    a = arm(seeds=seeds, epochs=2, done=done)
    assert page.val_seeds(a) == val and page.train_seeds(a) == train
    assert page.smooth(a) == "1" and page.smooth(dataclasses.replace(a, train_rmse=np.zeros((seeds, 2, 1384)))) == "100"


def test_the_training_figure_before_any_seed_has_finished_is_over_the_epochs_all_have_run():
    a = arm(seeds=2, epochs=10, done=[3, 5])
    fig = page.train_figure(a)
    assert max(max(line.get_xdata(), default=0) for line in fig.axes[0].lines) <= 3 * 4
    plt.close(fig)


def test_the_table_of_the_lowest_on_one_seed_several_unfinished_and_none():
    one = page.lowest_table(arm(seeds=1, epochs=2))
    assert one.count("\n| ") == 4 and "(1 seed, no interval)" in one
    assert one.endswith("Each cell: the value of the one seed that finished all 2 epochs.")
    three = page.lowest_table(arm(seeds=4, epochs=10, done=[10, 10, 10, 3]))
    assert "| sequence | 1,024 shots | 0.1070 [0.0995, 0.1145] |" in three and "| 10 (10–10) |" in three
    assert three.endswith("mean over the 3 seeds that finished all 10 epochs [95 % t interval]; the epoch of the "
                          "lowest, a small whole number, as the median (range); not finished yet, so left out: 1932 "
                          "at epoch 3 of 10.")
    assert page.lowest(arm(seeds=3, epochs=2)) == {"sequence_exact": "0.1210", "sequence_shots": "0.1230",
                                                   "windows_exact": "0.1210", "windows_shots": "0.1230"}
    none = arm(seeds=2, epochs=10, done=[3, 5])
    assert page.lowest_table(none).startswith("**No seed has finished all 10 epochs yet** (1929 at epoch 3 of 10, ")
    assert page.lowest(none) == {}


def test_a_protocol_missing_is_left_out_of_the_table_and_the_words():
    a = without(arm(seeds=3, epochs=10), "windows")
    assert "| windows |" not in page.lowest_table(a) and set(page.lowest(a)) == {"sequence_exact", "sequence_shots"}
    shows = page.shows(a)
    assert "Under the deck's protocol" in shows and "windows" not in shows
    assert page.shows(without(a, "sequence")) is None
    exact_only = without(without(arm("spsa-exact", seeds=3, epochs=2, val_shots=None), "sequence", "shots"),
                         "windows", "shots")  # no shot validation at all
    assert "| sequence | exact probabilities |" in page.lowest_table(exact_only)
    assert "shots" not in page.lowest_table(exact_only) and "shots" not in str(page.lowest(exact_only))
    assert "exact validation" in page.shows(exact_only)
    one_mode = page.lowest_table(without(arm(seeds=3, epochs=2), "sequence", "shots"))
    assert "| sequence | exact probabilities |" in one_mode and "| sequence | 1,024 shots |" not in one_mode
    assert "| windows | 1,024 shots |" in one_mode


def test_what_the_arm_shows_with_one_seed_and_several():
    one = page.shows(arm(seeds=1, epochs=3))
    assert one.startswith("**What this arm shows** (its one finished seed, 1,024-shot validation). With one seed there "
                          "is no spread to judge a change by. Under the deck's protocol, it is 0.1220 after epoch 1")
    several = page.shows(arm("oracle-lr007", seeds=3, epochs=3, step=-0.01))
    assert several.startswith("**What this arm shows** (the mean over its 3 finished seeds, exact validation). "
                              "A change no larger than the seeds' standard deviation (its median over the epochs: "
                              "0.0030 under the deck's protocol, 0.0030 under the windows protocol)")
    assert "Each seed has its own lowest after epoch 3 too." in several
    a = arm(seeds=2, epochs=3, step=0.0)
    a.val["sequence"]["shots"][0, :, 2] = [0.13, 0.12, 0.125]
    assert "The seeds' own lowest come after epochs 2, 1 (the table gives their median and range" in page.shows(a)


@pytest.mark.parametrize("epochs,beyond", [(2, " The log's epochs 3-10 lie beyond the 2 epochs this arm runs: they are "
                                                "not compared."),
                                           (9, " The log's epoch 10 lies beyond the 9 epochs this arm runs: it is not "
                                               "compared."), (10, ""), (12, "")])
def test_the_log_is_compared_over_the_epochs_both_have(epochs, beyond):
    a = arm(seeds=3, epochs=epochs, base=0.03, step=0.0)  # far below the log's 0.11-0.13
    text = page.against_log(a, page.references(a.config)[1])
    first = f"after epochs 1 to {min(epochs, 10)}" if epochs > 2 else "after epochs 1 and 2"
    assert text.startswith("**The original's logged run against this arm.** The original code's log (one run, the "
                           "crosses in {numref}`fig-spsa-original-shots-val`) lies, against this arm's 3 finished seeds "
                           f"(1,024-shot validation, the deck's protocol), above every one of them {first}.{beyond} "
                           "Outside their range it lies 0.0776 from the nearest seed after epoch 1")
    assert "would lie outside the range of 3 seeds with probability 1/2" in text
    assert "Validation's shot noise adds at most 0.0020 to a seed's RMSE here" in text and "less than any" in text
    assert "its two fixed directions were its own generator's draws" in text


def test_fdsas_log_starts_at_epoch_2_and_names_its_shots():
    a = arm("fdsa-shots", seeds=2, epochs=2, base=0.5, step=0.0)
    text = page.against_log(a, page.references(a.config)[1])
    assert "below every one of them after epoch 2. The log's epochs 3-10 lie beyond" in text
    assert "at most 0.0020" in text and "its checkpoint's name gives 1,536 shots where this arm uses 1,024" in text
    assert page.against_log(arm("fdsa-shots", seeds=3, epochs=1), page.references(a.config)[1]) is None


def test_the_log_within_the_seeds_and_gaps_within_their_spread():
    log = page.references(arm().config)[1]
    within = arm(seeds=3, epochs=10, base=0.1156 - 0.003, step=0.0)
    within.val["sequence"]["shots"][:, :, 2] = np.array([0.10, 0.118, 0.14])[:, None]
    text = page.against_log(within, log)
    assert "within their range after epochs 1 to 10." in text and "Outside" not in text
    close = arm(seeds=3, epochs=2, base=0.1156 - 0.07, step=0.0, apart=0.03)  # spread 0.03 > a gap of 0.0036
    assert "Every gap is within the seeds' standard deviation (0.0300)" in page.against_log(close, log)


def test_the_log_against_unfinished_seeds_one_seed_a_missing_protocol_or_no_log():
    log = page.references(arm().config)[1]
    a = arm(seeds=4, epochs=10, done=[10, 10, 3, 7], base=0.03, step=0.0)
    assert "against this arm's 2 finished seeds" in page.against_log(a, log)
    assert "with probability 2/3" in page.against_log(a, log)
    assert page.against_log(arm(seeds=3, epochs=10, done=[10, 4, 7]), log) is None  # one finished seed: no range
    assert page.against_log(arm(seeds=1, epochs=2), log) is None
    assert page.against_log(arm(), None) is None
    assert page.against_log(without(arm(), "sequence", "shots"), log) is None
    no_exact = page.against_log(without(arm(base=0.03, step=0.0), "sequence", "exact"), log)
    assert "shot noise" not in no_exact and "nan" not in no_exact  # nothing to measure the shots' part by
    assert no_exact.endswith("None of them has been measured here, so the gap is not explained.")


def test_the_rank_of_the_quantum_parameters():
    a = arm(seeds=2, epochs=3)
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(2, 110)), rng.normal(size=(2, 110))
    params = np.zeros((2, 4, 144))
    params[0, :, :110] = rng.normal(size=(4, 2)) @ plane[0]
    params[1, 1:, :110] = rng.normal(size=(3, 110))
    glued, text = page.rank(dataclasses.replace(a, params=params))
    assert glued == "2-3" and "of the 110 quantum parameters is 2, 3 across its finished seeds (the same two" in text
    fresh = page.rank(dataclasses.replace(arm("spsa-shots", seeds=1, epochs=3), params=params[1:]))
    assert fresh[0] == "3" and fresh[1].endswith("for its one finished seed (fresh directions: it can grow by one with "
                                                 "each of the 3 epoch snapshots).")
    assert page.rank(arm("fdsa-shots")) is None and page.rank(arm(seeds=2, epochs=3, done=[1, 2])) is None


def twins(seeds=3, epochs=2, done=None, twin_seeds=None):
    """The precision check (complex128) and its twin ``spsa-shots`` (complex64, the fakes' default)."""
    return (arm("precision-check", seeds, epochs, done, precision="complex128"),
            arm("spsa-shots", twin_seeds or seeds, epochs, apart=0.004))


@pytest.mark.parametrize("seeds,epochs,done,twin_seeds", [(3, 2, None, None), (3, 10, None, None),
                                                          (3, 10, [10, 4, 10], 2), (2, 12, None, 3)])
def test_the_precision_check_against_its_twin(seeds, epochs, done, twin_seeds):
    a, b = twins(seeds, epochs, done, twin_seeds)
    text = render(a, b)["twin"]
    n = min(seeds, twin_seeds or seeds)
    assert text.startswith(f"**Against its twin** [spsa-shots](arm-spsa-shots) (which differs only in precision), "
                           f"over the {n} seeds both ran: at each epoch")
    rows = text.split("|---|---|---|\n")[1].split("\n")
    ran = 4 if done else epochs  # the epochs every common seed has run
    assert rows[0].startswith(f"| sequence | {ran} of {ran} | 0.00") and rows[1].startswith("| windows |")


def test_a_twin_without_two_common_seeds_or_results_is_not_compared():
    a, b = twins(seeds=1, epochs=2, twin_seeds=3)
    assert page.against_twin(a, b, "spsa-shots") == (
        "**Against its twin** [spsa-shots](arm-spsa-shots): not yet compared; that needs two seeds that both arms "
        "have run (common seeds so far: 1929).")
    b = dataclasses.replace(b, seeds=[7, 8, 9])
    assert page.against_twin(a, b, "spsa-shots").endswith("(common seeds so far: none).")
    assert page.against_twin(a, None, "spsa-shots") is None and page.against_twin(a, b, None) is None
