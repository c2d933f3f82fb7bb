"""The gradients page: each estimator's gradient of one training window's loss against the exact one,
and what it costs in circuits.

:func:`compare` computes (at the initial parameters of the study's runs of one seed, exact
probabilities); :func:`table`, :func:`values` and :func:`figure` show a :class:`Gradients`. Shapes: any
number of FDSA step sizes (one or more) and SPSA draws (one or more); an error may be exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from qrnn_core.data import DataConfig, make_task
from qrnn_core.estimators import FDSA, SPSA
from qrnn_core.simulator import TorchSimulator
from qrnn_core.train import TrainConfig, generators, make_model

from .. import figures

#: Where an exact zero is drawn on the log axis.
FLOOR = 1e-16


@dataclass(frozen=True)
class Gradients:
    """``rows``: ``{"estimator", "circuits", "rel_error"}``, parameter-shift first, then FDSA per step size
    (``fdsa_steps``, in their order), then one SPSA draw (the median error) and the mean of all draws, last;
    ``spsa_errors``/``spsa_cosine``: per SPSA draw, its relative error and its cosine with the exact
    gradient; ``spsa_circuits``: one draw's circuits; ``warmup``: the window's first scored step."""

    rows: list[dict]
    spsa_errors: list[float]
    spsa_cosine: list[float]
    n_params: int
    spsa_circuits: int
    spsa_directions: int
    fdsa_steps: tuple[float, ...]
    steps: int
    seed: int
    warmup: int

    def record(self) -> dict:
        """``gradients.json``."""
        return {"rows": self.rows, "spsa_errors": self.spsa_errors, "spsa_cosine": self.spsa_cosine,
                "n_params": self.n_params}


def compare(n_qubits: int, steps: int, seed: int, spsa_draws: int, fdsa_steps) -> Gradients:
    """Each estimator's gradient of the first training window's loss (its first ``steps`` steps, batch 1)
    with respect to the input layer, against autograd's, at the initial parameters of seed ``seed``:
    parameter-shift, FDSA at each step size, ``spsa_draws`` independent SPSA draws and their mean."""
    sim = TorchSimulator(n_qubits)
    task = make_task(DataConfig(source="original"))
    x, y = task.train_x[:1, :steps], task.train_y[:1, :steps]
    warmup = min(TrainConfig().warmup, steps - 1)  # a shorter window keeps at least its last step scored

    def gradient(estimator, draw=0):
        gens = generators(seed)  # the initial values of the study's runs of this seed
        gens["directions"] = torch.Generator().manual_seed(10_000 + draw)  # SPSA: a fresh draw each call
        model = make_model(sim, estimator, gens)
        layer = model.quantum
        pred = model(x)
        torch.nn.functional.mse_loss(pred[:, warmup:], y[:, warmup:]).backward()
        return torch.cat([layer.weight.grad, layer.bias.grad]), layer.costs[-1].circuits

    exact, _ = gradient("exact")
    norm = exact.norm().item()

    def error(g):
        return ((g - exact).norm() / norm).item()

    ps, ps_cost = gradient("parameter_shift")
    rows = [{"estimator": "parameter-shift", "circuits": ps_cost, "rel_error": error(ps)}]
    for h in fdsa_steps:
        est, cost = gradient(FDSA(h=h))
        rows.append({"estimator": f"FDSA h={h}", "circuits": cost, "rel_error": error(est)})
    errors, cosine, mean = [], [], torch.zeros_like(exact)
    for d in range(spsa_draws):
        est, spsa_cost = gradient(SPSA(), d)
        errors.append(error(est))
        cosine.append(torch.nn.functional.cosine_similarity(est, exact, 0).item())
        mean += est / spsa_draws
    spsa = SPSA()
    rows.append({"estimator": f"SPSA (c = {spsa.c:g}, {spsa.num_directions} directions), one draw: median over "
                              f"{spsa_draws:,} draws", "circuits": spsa_cost, "rel_error": float(np.median(errors))})
    rows.append({"estimator": f"SPSA, mean of {spsa_draws:,} draws", "circuits": spsa_cost * spsa_draws,
                 "rel_error": error(mean)})
    return Gradients(rows, errors, cosine, exact.numel(), spsa_cost, spsa.num_directions, tuple(fdsa_steps), steps,
                     seed, warmup)


def _fdsa_rows(g: Gradients) -> list[dict]:
    return g.rows[1:1 + len(g.fdsa_steps)]


def table(g: Gradients) -> str:
    """Each estimator's circuits per backward pass and relative error, with what they mean (Markdown)."""
    return ("| estimator | circuits per backward | relative error |\n|---|---:|---:|\n" + "\n".join(
        f"| {r['estimator']} | {r['circuits']:,} | {r['rel_error']:.2e} |" for r in g.rows)
        + f"\n\nRelative error: $\\lVert g - g_{{exact}} \\rVert / \\lVert g_{{exact}} \\rVert$ over the "
          f"{g.n_params} parameters; circuits: evaluations per backward pass of one sequence (batch 1), the "
          "forward's one circuit not included (an update costs one more).")


def values(g: Gradients) -> dict[str, str]:
    """The prose's numbers (glue name: text); ``grad_fdsa_error`` is FDSA's at the step size the study's
    FDSA arms train with, ``-`` where it is not among the step sizes compared."""
    h = FDSA().h
    at_h = [r["rel_error"] for s, r in zip(g.fdsa_steps, _fdsa_rows(g)) if s == h]
    return {
        "grad_n_params": str(g.n_params),
        "grad_window": f"the first of the original's series: inputs x at rows 0 to {g.steps - 1}, targets y and z "
                       f"at rows 1 to {g.steps}",
        "grad_seed": str(g.seed),
        "grad_scored": f"{g.warmup} to {g.steps - 1}",
        "grad_spsa_draws": f"{len(g.spsa_errors):,}",
        "grad_spsa_circuits": f"{g.spsa_circuits:,}",
        "grad_ps_error": f"{g.rows[0]['rel_error']:.1e}",
        "grad_spsa_median_error": f"{np.median(g.spsa_errors):.2f}",
        "grad_spsa_cosine": f"{np.median(g.spsa_cosine):.2f}",
        "grad_spsa_directions": str(g.spsa_directions),
        "grad_fdsa_h": f"{h:g}",
        "grad_fdsa_error": f"{at_h[0]:.1e}" if at_h else "-",
    }


def figure(g: Gradients):
    """Left: relative error against circuits per backward pass, log-log (parameter-shift, FDSA per step
    size with the first and last labelled, one SPSA draw's median and 5-95 % range, the mean of the
    draws); right: the histogram of the SPSA draws' cosines with the exact gradient."""
    figures.style()
    draws = len(g.spsa_errors)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained", width_ratios=[1.3, 1])
    ax = axes[0]
    ax.scatter(g.rows[0]["circuits"], max(g.rows[0]["rel_error"], FLOOR), s=70, marker="D", color="C2",
               label="parameter-shift")
    fd = _fdsa_rows(g)
    ax.plot([r["circuits"] for r in fd], [max(r["rel_error"], FLOOR) for r in fd], "o-", ms=8, color="C3",
            label="FDSA, one point per step size h")
    for r, h, va in ((fd[0], g.fdsa_steps[0], "bottom"), (fd[-1], g.fdsa_steps[-1], "top")):  # the first and last h
        ax.annotate(f"h = {h:g}", (r["circuits"], max(r["rel_error"], FLOOR)), xytext=(8, 0),
                    textcoords="offset points", ha="left", va=va)
    lo, med, hi = np.percentile(g.spsa_errors, [5, 50, 95])
    ax.errorbar(g.spsa_circuits, med, yerr=[[med - lo], [hi - med]], fmt="s", ms=8, color="C0", capsize=5,
                label="SPSA, one draw: median, 5-95 %")
    ax.scatter(g.rows[-1]["circuits"], max(g.rows[-1]["rel_error"], FLOOR), s=70, marker="^", color="C0",
               label=f"SPSA, mean of {draws:,} draws")
    ax.set(xscale="log", yscale="log", xlabel="circuit evaluations per backward pass",
           ylabel="relative error of the gradient\n|g - g_exact| / |g_exact|", title="error against cost")
    ax.set_xlim(right=ax.get_xlim()[1] * 3)  # room for the h labels
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.hist(g.spsa_cosine, bins=30, color="C0")
    ax.axvline(np.median(g.spsa_cosine), color="k", ls="--", lw=1.5, label="median cosine (right)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="cosine(one SPSA estimate, exact gradient)", ylabel="draws (count)",
           title=f"SPSA, {draws:,} independent draws")
    fig.legend(loc="outside lower center", ncol=2)
    return fig
