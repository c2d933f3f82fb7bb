# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Results: accuracy, predictions and the reproduction scorecard
#
# This page gathers every run of the study from its result files. The runs with 1,024 shots follow
# the deck's protocol, and "SPSA seed" also keeps the seed's quirk of reusing the same two SPSA
# directions at every update; the exact-probability runs beside them show what the shot noise costs.

# %% tags=["parameters", "hide-input"]
profile = "quick"
results_dir = "book/_results"
run_name = "summary"  # this run's folder under results_dir

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from qrnn_core import reference
from qrnn_core.data import make_task
from qrnn_core.report import load_json, show_banner
from qrnn_core.scorecard import scorecard
from qrnn_core.train import TrainConfig

show_banner(profile)
from qrnn_core.report import banner  # noqa: E402

glue("banner_plain", banner(profile, markdown=False), display=False)
results = Path(results_dir)
runs = {}
for method in ("spsa", "fdsa"):
    for kind in ("seed", "shots", "exact"):
        path = results / f"train-{method}-{kind}" / "metrics.json"
        if path.exists():
            runs[(method, kind)] = load_json(path)
timing = load_json(results / "timing" / "timing.json")
gradients = load_json(results / "gradients" / "gradients.json")
rows = []
for (method, kind), m in runs.items():
    c = m["config"]
    rows.append(f"| {method.upper()} | {kind} | {c['shots'] or 'exact'} | {c['lr'] or reference.LEARNING_RATE.get(method, 0.001)} "
                f"| {len(m['val'])} | {len(m['train_rmse'][0])} | {np.mean(m['epoch_seconds']):.1f} s |")
display(Markdown("| method | run | shots | lr | epochs | updates/epoch | s/epoch |\n|---|---|---|---|---|---|---|\n"
                 + "\n".join(rows)))

# %% [markdown]
# ## Accuracy
#
# Train RMSE per update over the first epoch, and validation RMSE per epoch, for both methods, with
# the deck's per-epoch values beside ours.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for (method, kind), m in runs.items():
    r = np.asarray(m["train_rmse"][0])
    k = max(1, min(50, len(r) // 10))
    style = {"seed": "-", "shots": "--", "exact": ":"}[kind]
    color = {"spsa": "C0", "fdsa": "C3"}[method] if kind != "seed" else "C2"
    axes[0].plot(np.convolve(r, np.ones(k) / k, "valid"), label=f"{method.upper()} {kind} (mean of {k})",
                 ls=style, color=color)
    v = m["val"]
    axes[1].plot([e["epoch"] for e in v], [e["rmse_mean"] for e in v], "o" + style, color=color,
                 label=f"{method.upper()} {kind}")
for method, c in (("spsa", "C0"), ("fdsa", "C3")):
    d = reference.VAL_RMSE[method]
    axes[1].plot(sorted(d), [d[e][2] for e in sorted(d)], "s--", color=c, alpha=0.35, label=f"{method.upper()} deck")
axes[0].set(xlabel="update (epoch 1)", ylabel="train RMSE", title="train RMSE per update")
axes[1].set(xlabel="epoch", ylabel="mean validation RMSE (y, z)", title="validation RMSE per epoch")
for ax in axes:
    ax.legend(fontsize=7)
fig.tight_layout()
glue("fig_accuracy", fig, display=False)

# %% tags=["hide-input"]
lines = ["| epoch | " + " | ".join(f"{m.upper()} {k}" for (m, k) in runs) + " | SPSA deck | FDSA deck |",
         "|---" * (len(runs) + 3) + "|"]
n_epochs = max(len(m["val"]) for m in runs.values())
for e in range(1, max(n_epochs, 10) + 1):
    cells = []
    for m in runs.values():
        v = next((x for x in m["val"] if x["epoch"] == e), None)
        cells.append(f"{v['rmse_y']:.4f} / {v['rmse_z']:.4f} / {v['rmse_mean']:.4f}" if v else "")
    deck = [reference.VAL_RMSE[mm].get(e) for mm in ("spsa", "fdsa")]
    cells += ["" if d is None else " / ".join("-" if x is None else f"{x:.4f}" for x in d) for d in deck]
    lines.append(f"| {e} | " + " | ".join(cells) + " |")
display(Markdown("Validation RMSE, y / z / mean, per epoch:\n\n" + "\n".join(lines)))

# %% [markdown]
# ## Predictions
#
# The best epoch (lowest mean validation RMSE) of each run, over the whole validation span.

# %% tags=["hide-input"]
task = make_task(TrainConfig.from_dict(next(iter(runs.values()))["config"]).data)
fig, axes = plt.subplots(len(runs), 1, figsize=(12, 2.3 * len(runs)), sharex=True, squeeze=False)
best_rows = []
for ax, ((method, kind), m) in zip(axes[:, 0], runs.items()):
    best = min(m["val"], key=lambda v: v["rmse_mean"])
    pred = torch.load(results / f"train-{method}-{kind}" / f"checkpoint_epoch{best['epoch']}.pt",
                      weights_only=False)["val_pred"].numpy()
    truth = task.val_y[: len(pred)].numpy()
    ax.plot(truth[:, 0], "k", lw=0.6)
    ax.plot(pred[:, 0], "C1", lw=0.6)
    ax.plot(truth[:, 1] - 1.1, "k", lw=0.6)
    ax.plot(pred[:, 1] - 1.1, "C2", lw=0.6)
    ax.set(yticks=[], ylabel=f"{method.upper()}\n{kind}")
    ax.set_title(f"{method.upper()} {kind}, epoch {best['epoch']}: y (top, orange) and z (bottom, green) "
                 f"against the truth (black)", fontsize=9)
    ys = min(v["rmse_y"] for v in m["val"])
    zs = min(v["rmse_z"] for v in m["val"])
    best_rows.append(f"| {method.upper()} {kind} | {ys:.4f} | {zs:.4f} | {best['rmse_mean']:.4f} | "
                     f"{reference.LOWEST_RMSE[method]:.2f} |")
axes[-1, 0].set(xlabel="validation step")
fig.tight_layout()
glue("fig_predictions", fig, display=False)
display(Markdown("Lowest validation RMSE per component and of the mean, over all epochs:\n\n"
                 "| run | y | z | mean | deck's lowest |\n|---|---|---|---|---|\n" + "\n".join(best_rows)))

# %% [markdown]
# ## Reproduction scorecard
#
# Each claim of the deck, the value measured here, and a verdict computed from the result files
# (`qrnn_core.scorecard`). Accuracy claims use the runs closest to the deck's: 1,024 shots, and for
# SPSA the seed's fixed directions, where present.

# %% tags=["hide-input"]
accuracy, used = {}, []
for method in ("spsa", "fdsa"):
    kind = next((k for k in ("seed", "shots", "exact") if (method, k) in runs), None)
    if kind:
        accuracy[method] = runs[(method, kind)]
        used.append(f"{method.upper()} {kind}")
card = scorecard(timing, accuracy, gradients)
display(Markdown("| claim | deck | here | verdict | basis |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {r['claim']} | {r['deck']} | {r['measured']} | **{r['verdict']}** | {r['basis']} |" for r in card)))
counts = {v: sum(r["verdict"] == v for r in card) for v in ("reproduced", "holds", "not reproduced", "refuted", "not tested here")}
for v, n in counts.items():
    glue(f"card_{v.replace(' ', '_')}", n, display=False)
glue("card_total", len(card), display=False)
glue("card_runs", " and ".join(used), display=False)

# %% tags=["hide-input"]
t = {r["name"]: r["seconds"] for r in timing["rows"]}
glue("c_ratio", f"{t['fdsa | PyTorch exact'] / t['spsa | PyTorch exact']:.0f}", display=False)
glue("c_spsa_speedup", f"{reference.SECONDS_PER_UPDATE['SPSA, CPU'] / t['spsa | PyTorch exact']:.0f}", display=False)
glue("c_fdsa_speedup", f"{reference.SECONDS_PER_UPDATE['FDSA, CPU'] / t['fdsa | PyTorch exact']:.0f}", display=False)
s_best = min(accuracy["spsa"]["val"], key=lambda v: v["rmse_mean"]) if "spsa" in accuracy else None
f_best = min(accuracy["fdsa"]["val"], key=lambda v: v["rmse_mean"]) if "fdsa" in accuracy else None
glue("c_spsa_best", f"{s_best['rmse_mean']:.4f}" if s_best else "-", display=False)
glue("c_fdsa_best", f"{f_best['rmse_mean']:.4f}" if f_best else "-", display=False)
glue("c_spsa_best_epoch", s_best["epoch"] if s_best else "-", display=False)
glue("c_fdsa_best_epoch", f_best["epoch"] if f_best else "-", display=False)
glue("c_profile", profile, display=False)

# %% [markdown]
# ## Conclusions
#
# Of the deck's {glue:text}`card_total` checked claims, {glue:text}`card_reproduced` are reproduced,
# {glue:text}`card_holds` hold with a different size, {glue:text}`card_not_reproduced` are not
# reproduced, {glue:text}`card_refuted` is refuted and {glue:text}`card_not_tested_here` could not be
# tested on this machine (profile {glue:text}`c_profile`, accuracy from the runs {glue:text}`card_runs`).
#
# - **Speed.** On the exact simulator an SPSA update is {glue:text}`c_spsa_speedup`x faster and an
#   FDSA update {glue:text}`c_fdsa_speedup`x faster than the deck's; FDSA still costs
#   {glue:text}`c_ratio`x SPSA per update, since it needs 221 circuits to SPSA's 5.
# - **Accuracy.** The best mean validation RMSE is {glue:text}`c_spsa_best` for SPSA (epoch
#   {glue:text}`c_spsa_best_epoch`) and {glue:text}`c_fdsa_best` for FDSA (epoch
#   {glue:text}`c_fdsa_best_epoch`).
# - **Parameter shift** works through the mid-circuit measurement and reset, exactly (see the
#   gradients page), contrary to the deck's reason for dropping it.
