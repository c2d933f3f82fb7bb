"""The data page on the original series and on small generated ones (other rows, window, stride and
training share): every count and figure from the task itself."""

import dataclasses

import matplotlib.pyplot as plt
import pytest

from qrnn_core.data import DataConfig
from qrnn_study.pages import data as page

ORIGINAL = DataConfig(source="original")
SMALL = DataConfig(source="generated", n_samples=400, window=10, stride=3, train_fraction=0.6)


@pytest.fixture(scope="module", params=[ORIGINAL, SMALL], ids=["original", "small"])
def made(request):
    config = request.param
    tasks = page.both_sources(config)
    spans = page.ranges(tasks)
    task = tasks[config.source]
    return config, tasks, task, spans, page.counts(task, config, 5, spans)


def test_both_sources_are_made_the_pages_own_first(made):
    config, tasks, task, spans, record = made
    assert list(tasks) == [config.source, "generated" if config.source == "original" else "original"]
    assert len(tasks["original"].series) == 9900  # the original file's rows, whatever the page's
    assert set(spans) == {"original", "generated"} and set(spans["original"]) == {"x", "y", "z"}
    assert record["samples"] == len(task.series) and record["window"] == config.window


def test_the_original_counts_are_the_decks():
    tasks = page.both_sources(ORIGINAL)
    said = page.values(tasks["original"], ORIGINAL, page.counts(tasks["original"], ORIGINAL, 5, page.ranges(tasks)))
    assert (said["data_samples"], said["data_train_sequences"], said["data_val_start"]) == ("9,900", "1,384", "6,930")
    assert (said["data_val_steps"], said["data_val_windows"], said["data_scored"]) == ("2,969", "590", "15")
    assert said["data_source_name"].startswith("the original study's own series (data/original/")
    assert said["data_train_share"] == "70 %" and said["data_val_end"] == "9,899"


def test_the_values_follow_the_windows_as_the_task_cuts_them(made):
    config, tasks, task, spans, record = made
    said = page.values(task, config, record)
    assert said["data_window"] == str(config.window) and said["data_stride"] == str(config.stride)
    assert said["data_last_start"] == f"{(len(task.train_x) - 1) * config.stride:,}"
    assert said["data_reaching"].startswith(("no training window", "the last"))
    table = page.ranges_table(tasks, config.source, spans).splitlines()
    assert len(table) == 2 + 2 + 2 and table[2].startswith("| original study's file | "
                                                           + ("yes" if config.source == "original" else "no"))


def test_a_task_cut_otherwise_is_refused():
    config = SMALL
    tasks = page.both_sources(config)
    moved = dataclasses.replace(config, stride=config.stride + 1)  # the page told another stride than the cut's
    with pytest.raises(ValueError, match="do not start where the data page says"):
        page.values(tasks["generated"], moved, page.counts(tasks["generated"], moved, 5, page.ranges(tasks)))


def test_the_figures_draw_every_shape(made):
    config, tasks, task, spans, record = made
    for fig in (page.attractor_figure(task, config), page.window_figure(task, config, 5)):
        assert fig.axes
        plt.close(fig)
    fig, shown, windows = page.validation_figure(task, config, 5)
    assert shown == min(page.SHOWN, len(task.val_x))
    assert windows == len([s for s in range(0, shown, config.stride) if s + config.window <= shown])
    plt.close(fig)
    fig, shown, windows = page.validation_figure(task, config, 5, shown=config.window - 1)  # no window fits
    assert windows == 0
    plt.close(fig)
