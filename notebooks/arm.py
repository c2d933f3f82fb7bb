# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # An arm of the study
#
# Every seed of one arm, read from its result files (this page trains nothing): validation RMSE
# after each epoch as a mean over seeds with its 95 % t band, under both validation protocols,
# exact and with 1,024 shots, beside the deck's and the original code's numbers where the arm is the
# original's; and the training RMSE per update. Means and comparisons over seeds use the seeds that
# have finished all their epochs (while a seed is still training, it is drawn on its own, up to its
# last epoch).

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "results/quick"
run_name = "arm"
arm = "spsa-shots"  # the study file's run whose seeds this page gathers
seeds = None  # None: every seed found under results_dir
twin = None  # an arm that differs from this one in one setting only, compared seed by seed (or None)

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_study import figures
from qrnn_study.pages import arm as page
from qrnn_study.report import results_path, save_json, show_banner
from qrnn_study.results import instance_dirs, load_arm, reproduces

show_banner(profile)
res = load_arm(results_dir, arm, seeds)
if res is None:  # the page still builds: it says what is missing
    display(Markdown(page.missing(results_dir)))
    for key in page.FIGURES:
        fig = figures.placeholder(f"{arm}: no finished epoch yet")
        glue(f"{arm}_{key}", fig, display=False)
        plt.close(fig)
    for key in page.CAPTIONS:  # the captions' computed pieces
        glue(f"{arm}_{key}", page.NOT_YET, display=False)
if res is not None:
    check = reproduces(instance_dirs(results_dir, arm)[res.seeds[0]])
    display(Markdown(page.header(res, check)))
    if warning := page.stale_warning(check):
        display(Markdown(warning))

# %% tags=["hide-input"]
if res is not None:
    deck, original_log = page.references(res.config)  # None unless the arm is the original's
    fig = page.validation_figure(res, deck, original_log)
    glue(f"{arm}_fig_val", fig, display=False)
    plt.close(fig)
    glue(f"{arm}_val_seeds", page.val_seeds(res), display=False)
    glue(f"{arm}_val_marks", page.val_marks(deck), display=False)
    data = figures.curves_table(res)
    save_json(results_path(results_dir, run_name) / "validation.json", data)
    figures.csv_link(results_path(results_dir, run_name) / "validation.csv", data["rows"], data["columns"])

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_val
# :name: fig-{{arm}}-val
# :alt: Validation RMSE against epoch for each protocol and mode, mean over seeds with a shaded 95 % band
#
# Validation RMSE (mean of y and z, scaled units) after each epoch: {glue:text}`{{arm}}_val_seeds`
# Left the deck's protocol (one 2,969-step sequence), right the windows protocol (20-step windows,
# steps 5..19 scored); solid exact probabilities, dashed 1,024 shots. {glue:text}`{{arm}}_val_marks`
# ```

# %% tags=["hide-input"]
if res is not None:
    for key, value in page.lowest(res).items():
        glue(f"{arm}_{key}_best", value, display=False)
    display(Markdown(page.lowest_table(res)))
    for text in (page.shows(res), page.against_log(res, original_log)):
        if text:
            display(Markdown(text))

# %% tags=["hide-input"]
if res is not None:
    fig = page.train_figure(res)
    glue(f"{arm}_fig_train", fig, display=False)
    plt.close(fig)
    glue(f"{arm}_smooth", page.smooth(res), display=False)
    glue(f"{arm}_train_seeds", page.train_seeds(res), display=False)
    if ranks := page.rank(res):
        glue(f"{arm}_rank", ranks[0], display=False)
        display(Markdown(ranks[1]))
    other = load_arm(results_dir, twin, seeds) if twin else None
    if text := page.against_twin(res, other, twin):
        display(Markdown(text))

# %% [markdown]
# ```{glue:figure} {{arm}}_fig_train
# :name: fig-{{arm}}-train
# :alt: Training RMSE against update, mean over seeds, smoothed, with a 95 % band
#
# Training RMSE per update (the square root of the window's loss), a running mean over {glue:text}`{{arm}}_smooth` updates,
# averaged over {glue:text}`{{arm}}_train_seeds`, with the 95 % t band where there are two seeds or
# more; grey lines mark epochs.
# ```
