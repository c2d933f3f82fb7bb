"""The deck's claims, checked against this study's results: each verdict is computed, not typed.

``scorecard(results)`` takes the result files' contents (timing, training metrics per run,
gradients) and returns one row per claim: the deck's words, its figure, the figure measured here,
the verdict and what it rests on. Verdicts: ``reproduced`` (same direction, within 2x of the deck's
figure), ``holds`` (same direction, different size), ``not reproduced``, ``refuted`` (for the
parameter-shift belief), ``not tested here`` (e.g. no GPU on this machine).
"""

from __future__ import annotations

from . import reference


def _size_verdict(measured: float, deck: float) -> str:
    if measured <= 1:
        return "not reproduced"
    return "reproduced" if deck / 2 <= measured <= deck * 2 else "holds"


def _rises_after(best: int, epochs: int, earliest: int, latest: int) -> str:
    """Does validation RMSE bottom out at an epoch in [earliest, latest] and rise after it?"""
    if best == epochs:  # still falling at the last epoch run
        return "not tested here" if epochs < latest else "not reproduced"
    return "reproduced" if earliest <= best <= latest else "not reproduced"


def _best(val: list[dict], key: str = "rmse_mean") -> tuple[int, float]:
    best = min(val, key=lambda v: v[key])
    return best["epoch"], best[key]


def scorecard(timing: dict, runs: dict[str, dict], gradients: dict | None, accuracy_runs=("spsa", "fdsa")) -> list[dict]:
    """Rows ``{claim, deck, measured, verdict, basis}``.

    ``timing``: timing.json; ``runs``: method -> metrics.json of the runs used for accuracy (the
    deck's protocol); ``gradients``: gradients.json.
    """
    t = {r["name"]: r["seconds"] for r in timing["rows"]}
    spsa, fdsa = t.get("spsa | PyTorch exact"), t.get("fdsa | PyTorch exact")
    fdsa_gpu = t.get("fdsa | PyTorch exact (cuda)")
    rows = []
    deck_cpu = reference.HOURS_PER_EPOCH["FDSA, CPU"] / reference.HOURS_PER_EPOCH["SPSA, CPU"]
    ratio = fdsa / spsa
    rows.append({"claim": "SPSA is about 14.5x faster per epoch than FDSA on CPU",
                 "deck": f"{deck_cpu:.1f}x", "measured": f"{ratio:.1f}x", "verdict": _size_verdict(ratio, deck_cpu),
                 "basis": "seconds per update, PyTorch exact simulator, same process"})
    deck_gpu = reference.HOURS_PER_EPOCH["FDSA, GPU"] / reference.HOURS_PER_EPOCH["SPSA, CPU"]
    if fdsa_gpu:
        r = fdsa_gpu / spsa
        rows.append({"claim": "SPSA (CPU) is an order of magnitude faster than FDSA on GPU",
                     "deck": f"{deck_gpu:.1f}x", "measured": f"{r:.1f}x", "verdict": "holds" if r >= 10 else "not reproduced",
                     "basis": "FDSA update on the GPU / SPSA update on the CPU"})
        r2 = fdsa / fdsa_gpu
        deck_speedup = reference.HOURS_PER_EPOCH["FDSA, CPU"] / reference.HOURS_PER_EPOCH["FDSA, GPU"]
        rows.append({"claim": "FDSA on GPU is about 1.8x faster than on CPU", "deck": f"{deck_speedup:.1f}x",
                     "measured": f"{r2:.1f}x", "verdict": _size_verdict(r2, deck_speedup),
                     "basis": "FDSA update, CPU / GPU"})
    else:
        for claim, deck in (("SPSA (CPU) is an order of magnitude faster than FDSA on GPU", f"{deck_gpu:.1f}x"),
                            ("FDSA on GPU is about 1.8x faster than on CPU", "1.8x")):
            rows.append({"claim": claim, "deck": deck, "measured": "-", "verdict": "not tested here",
                         "basis": "no CUDA GPU on the machine that ran the timing"})

    if all(m in runs for m in accuracy_runs):
        s, f = runs["spsa"], runs["fdsa"]
        # Compare over the same updates of epoch 1: the last quarter of the first n of both.
        n = min(len(s["train_rmse"][0]), len(f["train_rmse"][0]))
        tail = lambda m: sum(m["train_rmse"][0][n - max(1, n // 4):n]) / max(1, n // 4)  # noqa: E731
        ts, tf = tail(s), tail(f)
        similar = max(ts, tf) / min(ts, tf)
        rows.append({"claim": "Train RMSE is similar for both methods at a low enough learning rate",
                     "deck": "similar", "measured": f"{ts:.3f} vs {tf:.3f} ({similar:.2f}x)",
                     "verdict": "reproduced" if similar <= 1.25 else "not reproduced",
                     "basis": f"mean train RMSE over updates {n - max(1, n // 4) + 1}-{n} of epoch 1 "
                              "(within 1.25x counts as similar)"})
        es, bs = _best(s["val"])
        ef, bf = _best(f["val"])
        n_s, n_f = len(s["val"]), len(f["val"])
        rows.append({"claim": "Validation RMSE starts rising after 1 epoch with SPSA",
                     "deck": "best at epoch 1-2", "measured": f"best at epoch {es} of {n_s}",
                     "verdict": _rises_after(es, n_s, earliest=1, latest=2),
                     "basis": "epoch of the lowest mean validation RMSE"})
        rows.append({"claim": "... and after about 3 epochs with FDSA",
                     "deck": "best at epoch 3-4", "measured": f"best at epoch {ef} of {n_f}",
                     "verdict": _rises_after(ef, n_f, earliest=2, latest=5),
                     "basis": "epoch of the lowest mean validation RMSE (needs epochs past the minimum)"})
        rows.append({"claim": "SPSA found better parameters than FDSA in fewer epochs",
                     "deck": "SPSA .1142 (epoch 2), FDSA .1178 (epoch 4)",
                     "measured": f"SPSA {bs:.4f} (epoch {es}), FDSA {bf:.4f} (epoch {ef})",
                     "verdict": "reproduced" if bs < bf and es <= ef else "not reproduced",
                     "basis": "lowest mean validation RMSE and its epoch"})
        ys, yf = _best(s["val"], "rmse_y")[1], _best(f["val"], "rmse_y")[1]
        rows.append({"claim": "Lowest RMSE observed: SPSA .09, FDSA .11",
                     "deck": f"{reference.LOWEST_RMSE['spsa']:.2f} / {reference.LOWEST_RMSE['fdsa']:.2f}",
                     "measured": f"{ys:.3f} / {yf:.3f} (y)",
                     "verdict": "reproduced" if abs(ys - 0.09) <= 0.02 and abs(yf - 0.11) <= 0.02 else
                     ("holds" if ys < yf else "not reproduced"),
                     "basis": "lowest validation RMSE of y (the deck's metric is unstated; its SPSA figure matches y)"})
    if gradients:
        ps = next(r["rel_error"] for r in gradients["rows"] if r["estimator"] == "parameter-shift")
        rows.append({"claim": "Parameter-shift cannot be used because of the mid-circuit measure and reset",
                     "deck": "dropped", "measured": f"equals the exact gradient to {ps:.0e}",
                     "verdict": "refuted" if ps < 1e-8 else "not reproduced",
                     "basis": "relative error against autograd through the exact simulator"})
    return rows
