"""The arm page: every seed of one arm, its curves, the table of its lowest validation RMSE, what it
shows in words, and its comparisons with the deck, the original's logged run and a twin arm.

Shapes: ``res`` is an :class:`~qrnn_study.results.ArmResults` of ``S`` seeds (one or several, any of them
unfinished: NaN after its last epoch) and ``E`` epochs; its ``val[protocol][mode]`` is ``(S, E, 3)`` (y, z,
mean), all NaN for a protocol or mode that was not run. ``v`` arrays are ``(S, E)`` validation RMSE (mean
of y and z) per seed and epoch, epoch ``e`` at column ``e - 1``. A log is ``{epoch: (y, z, mean)}`` as
:func:`qrnn_core.reference.original_log` returns it; its epochs need not be the arm's (the quick profile
trains 2 epochs, the original logged 10). Means and comparisons over seeds use the finished seeds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from qrnn_core import reference
from qrnn_core.circuit import n_angles
from qrnn_core.fidelity import CHECKPOINTS
from qrnn_core.train import TrainConfig

from .. import figures
from ..analysis import best_epoch, mean_ci, median_range, subspace_rank
from ..model import PROTOCOLS
from ..words import after_epochs, count, describe_curve

PROTOCOL_NAMES = {p.id: p.short for p in PROTOCOLS}
#: The page's figures and its captions' computed pieces, glued as ``{arm}_{key}``; before any seed has
#: finished an epoch, the figures are placeholders and the pieces say :data:`NOT_YET`.
FIGURES, CAPTIONS = ("fig_val", "fig_train"), ("val_seeds", "val_marks", "train_seeds", "smooth")
NOT_YET = "(no seed has run an epoch yet)"


def progress(res) -> str:
    """``1929 at epoch 8 of 10, 1930 at epoch 2 of 10``: how far each seed of ``res`` (an
    :class:`~qrnn_study.results.ArmResults`) has run."""
    return ", ".join(f"{s} at epoch {e} of {res.config['epochs']}" for s, e in zip(res.seeds, res.epochs_done))


@dataclass(frozen=True)
class LogComparison:
    """Where one logged run lies against the range of an arm's seeds, epoch by epoch.

    ``below``/``above``/``inside``: the compared epochs where the log lies below every seed, above every
    seed, or within their range; ``gap[e]``: its distance to the nearest seed at an epoch outside the
    range; ``beyond``: logged epochs the arm has not run (not compared); ``n_seeds``: seeds compared.
    """

    n_seeds: int
    below: list[int]
    above: list[int]
    inside: list[int]
    gap: dict[int, float] = field(default_factory=dict)
    beyond: list[int] = field(default_factory=list)

    @property
    def compared(self) -> list[int]:
        return sorted(self.below + self.above + self.inside)


def log_against_seeds(log: dict[int, tuple[float, float, float]], v: np.ndarray) -> LogComparison | None:
    """Compare the log's mean RMSE with the seeds' range at every epoch both have.

    ``v``: ``(S, E)`` float; an epoch counts only where every seed has a finite value. None when there
    are fewer than two seeds (one run against one run has no range) or no epoch in common.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 2 or v.shape[0] < 2:
        return None
    epochs = sorted(log)
    ran = [e for e in epochs if 1 <= e <= v.shape[1] and np.isfinite(v[:, e - 1]).all()]
    if not ran:
        return None
    value = {e: log[e][2] for e in ran}
    low = {e: float(v[:, e - 1].min()) for e in ran}
    high = {e: float(v[:, e - 1].max()) for e in ran}
    below = [e for e in ran if value[e] < low[e]]
    above = [e for e in ran if value[e] > high[e]]
    inside = [e for e in ran if e not in below and e not in above]
    gap = {e: low[e] - value[e] for e in below} | {e: value[e] - high[e] for e in above}
    return LogComparison(n_seeds=v.shape[0], below=below, above=above, inside=inside, gap=gap,
                         beyond=[e for e in epochs if e not in ran])


@dataclass(frozen=True)
class TwinRow:
    """One protocol of an arm against its twin over their common seeds: at each epoch both have run,
    the absolute mean difference against the pooled seed-to-seed SD; ``inside`` of ``epochs`` epochs
    had the difference within the SD; ``worst`` is the epoch of the largest ratio."""

    protocol: str
    inside: int
    epochs: int
    worst_difference: float
    worst_sd: float


def twin_rows(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[TwinRow]:
    """``a``, ``b``: ``{protocol: (S, E) array}`` of two arms over the SAME seeds in the same order.

    A protocol is left out where fewer than two seeds are compared, no epoch is run by every seed of
    both arms, or the arms' epoch counts differ (only the common prefix is compared then).
    """
    rows = []
    for protocol in a:
        if protocol not in b:
            continue
        x, y = np.asarray(a[protocol], float), np.asarray(b[protocol], float)
        if x.shape[0] < 2 or x.shape[0] != y.shape[0]:
            continue
        E = min(x.shape[1], y.shape[1])
        x, y = x[:, :E], y[:, :E]
        both = np.isfinite(x).all(0) & np.isfinite(y).all(0)
        if not both.any():
            continue
        diff = np.abs((x - y)[:, both].mean(0))
        sd = np.sqrt((np.var(x[:, both], axis=0, ddof=1) + np.var(y[:, both], axis=0, ddof=1)) / 2)
        ratio = np.divide(diff, sd, out=np.where(diff > 0, np.inf, 0.0), where=sd > 0)
        worst = int(np.argmax(ratio))
        rows.append(TwinRow(protocol, int((diff <= sd).sum()), int(both.sum()), float(diff[worst]), float(sd[worst])))
    return rows


def missing(results_dir) -> str:
    """What the page says before any seed of the arm has finished an epoch."""
    return (f"**No seed of this arm has finished an epoch yet** in `{results_dir}`: "
            "run `python -m qrnn_study run` (the page fills in as its seeds finish).")


def split(res):
    """``(finished, unfinished)``: the seeds of ``res`` that have run all their epochs, and the others."""
    return res.subset(res.complete), res.subset(~res.complete)


def _seeds(n: int) -> str:
    return "one seed" if n == 1 else f"{n} seeds"


def header(res, check) -> str:
    """The seeds, how far each has run, the arm's settings and ``check`` (a
    :class:`~qrnn_study.results.Reproduction` of its first seed), in one paragraph."""
    c, E = res.config, res.config["epochs"]
    done, running = split(res)
    n_done = len(done.seeds)
    state = (f"all finished their {E} epochs" if not running.seeds else
             f"none has finished all {E} epochs yet: {progress(running)}" if not n_done else
             f"{n_done} finished all {E} epochs; not finished yet: {progress(running)}")
    shots = f", {res.shots_per_circuit:,} shots each" if res.shots_per_circuit else " (exact probabilities)"
    data = "original study's series" if c["data"]["source"] == "original" else "regenerated series"
    return (f"**{count(len(res.seeds), 'seed')}** ({', '.join(map(str, res.seeds))}): {state}. "
            f"{res.train_rmse.shape[2]:,} updates an epoch, {count(res.circuits_per_update, 'circuit')} per update"
            f"{shots}; learning rate {TrainConfig.from_dict(c).learning_rate:g} ({c['lr_schedule']}); "
            f"data: the {data}; {c['precision']}.\n\n**Reproduction check:** {check}.")


def stale_warning(check) -> str | None:
    """A warning when ``check`` finds that today's code computes other numbers; None when it is current."""
    return None if check.current else ("```{warning}\nThe code has changed what this arm computes: these results "
                                       "are **stale**. Re-run the study to refresh them.\n```")


def references(config: dict) -> tuple[dict | None, dict | None]:
    """``(deck, log)``: the deck's validation RMSE and the original code's log, each ``{epoch: (y, z, mean)}``
    over the epochs they have (up to 10, whatever this arm runs); both None unless the arm is the original's
    (SPSA with fixed directions, or FDSA, trained with shots)."""
    deck = reference.VAL_RMSE.get(config["method"]) if config["method"] in ("spsa", "fdsa") and config["shots"] else None
    if config["method"] == "spsa" and not config.get("spsa_fixed_directions"):
        deck = None  # the deck's SPSA ran with fixed directions: only that arm is compared with it
    return deck, reference.original_log(config["method"]) if deck else None


def validation_figure(res, deck: dict | None = None, log: dict | None = None):
    """The validation curves: mean and band of the finished seeds, a thin line for each unfinished one, and
    the deck's and the log's marks at the epochs this arm runs (the quick profile runs fewer than 10)."""
    E = res.config["epochs"]
    done, running = split(res)
    fig = figures.validation_curves(done, deck=deck and {e: v for e, v in deck.items() if e <= E},
                                    original=log and {e: v for e, v in log.items() if e <= E})
    if running.seeds:
        figures.add_unfinished(fig, running)
    return fig


def val_seeds(res) -> str:
    """The validation caption's words for which seeds its lines are."""
    E = res.config["epochs"]
    done, running = split(res)
    n_done = len(done.seeds)
    if not n_done:
        return (f"no seed has finished all {E} epochs yet, so there is no mean: one thin line for "
                f"each seed up to its last epoch ({progress(running)}).")
    who = f"its {_seeds(n_done)}" if not running.seeds else f"the {_seeds(n_done)} that finished all {E} epochs"
    text = f"{who} (no band)" if n_done == 1 else f"mean over {who}, the band their 95 % t interval"
    if running.seeds:
        text += (f"; thin lines, kept out of the mean: the {'seed' if len(running.seeds) == 1 else 'seeds'}"
                 f" not finished yet ({progress(running)})")
    return text + "."


def val_marks(deck: dict | None) -> str:
    """The validation caption's words for the original's marks, drawn where ``deck`` is."""
    return ("Black squares: the validation RMSEs the deck states; red crosses: the original code's logs." if deck
            else "The original ran no arm with these settings: none of its numbers are drawn.")


def _modes(done):
    """``(protocol, mode, v (S, E))`` of the finished seeds, for each protocol and mode that has a value."""
    return [(p, m, v) for p in ("sequence", "windows") for m in ("exact", "shots")
            if np.isfinite(v := done.val[p][m][:, :, 2]).any()]


def lowest(res) -> dict[str, str]:
    """``{"sequence_exact": "0.0935", ...}``: the mean over finished seeds of each one's lowest validation
    RMSE, per protocol and mode that has run (glued as ``{arm}_{key}_best``)."""
    return {f"{p}_{m}": f"{mean_ci(v.min(1)).mean:.4f}" for p, m, v in _modes(split(res)[0])}


def lowest_table(res) -> str:
    """The table of each finished seed's lowest validation RMSE, its epoch and the last value, per protocol
    and mode (mean and interval over seeds); before any seed has finished, a sentence saying so."""
    E, shots = res.config["epochs"], res.config["val_shots"]
    done, running = split(res)
    n_done = len(done.seeds)
    if not n_done:
        return (f"**No seed has finished all {E} epochs yet** ({progress(running)}): their lowest validation RMSE "
                "and its epoch are compared once they have. The figure shows each seed so far.")
    rows = [f"| {p} | {'exact probabilities' if m == 'exact' else f'{shots:,} shots'} | {mean_ci(v.min(1))} | "
            f"{median_range(best_epoch(v))} | {mean_ci(v[:, -1])} |" for p, m, v in _modes(done)]
    return ("| protocol | validation scored with | lowest validation RMSE (mean of y, z) | epoch of the lowest | "
            "after the last epoch |\n|---|---|---|---|---|\n" + "\n".join(rows)
            + (f"\n\nEach cell: the value of the one seed that finished all {E} epochs" if n_done == 1 else
               f"\n\nEach cell: mean over the {n_done} seeds that finished all {E} epochs")
            + (" [95 % t interval]; the epoch of the lowest, a small whole number, as the median (range)"
               if n_done > 1 else "")
            + (f"; not finished yet, so left out: {progress(running)}" if running.seeds else "") + ".")


def spreads(done) -> dict[str, float | None]:
    """Per protocol whose every epoch the finished seeds ``done`` have in their own validation mode: the
    median over epochs of the seeds' standard deviation (None for one seed)."""
    n = len(done.seeds)
    vs = {p: done.val[p][done.mode][:, :, 2] for p in PROTOCOL_NAMES}
    return {p: float(np.median(v.std(0, ddof=1))) if n > 1 else None for p, v in vs.items()
            if n and np.isfinite(v).all()}


def shows(res) -> str | None:
    """**What this arm shows**: the mean curve of its finished seeds in words, per protocol, in the validation
    mode it trained with; a change no larger than the seeds' spread is not called a fall or a rise. None
    before a seed has finished."""
    done = split(res)[0]
    n_done, spread, said = len(done.seeds), spreads(done), []
    for protocol, sd in spread.items():
        v = done.val[protocol][done.mode][:, :, 2]
        curve, own = v.mean(0), best_epoch(v).astype(int).tolist()
        low = int(np.argmin(curve)) + 1
        seeds_lowest = (f"Each seed has its own lowest after epoch {low} too" if set(own) == {low} else
                        f"The seeds' own lowest come after epochs {', '.join(map(str, own))} (the table gives their "
                        f"median and range; the mean curve's lowest is after epoch {low})")
        said.append(f"Under {PROTOCOL_NAMES[protocol]}, {'it' if n_done == 1 else 'the mean'} is "
                    f"{describe_curve(curve, sd)}." + ("" if n_done == 1 else f" {seeds_lowest}."))
    if not said:
        return None
    judged = ("A change no larger than the seeds' standard deviation (its median over the epochs: "
              + ", ".join(f"{s:.4f} under {PROTOCOL_NAMES[p]}" for p, s in spread.items())
              + ") counts as staying within the seed spread." if n_done > 1 else
              "With one seed there is no spread to judge a change by.")
    whose = "its one finished seed" if n_done == 1 else f"the mean over its {n_done} finished seeds"
    validation = f"{res.config['val_shots']:,}-shot" if done.mode == "shots" else "exact"
    return f"**What this arm shows** ({whose}, {validation} validation). {judged} " + " ".join(said)


def _differences(c: dict) -> list[str]:
    """The documented differences between the original's logged run and an arm of config ``c``."""
    return ([f"its checkpoint's name gives {CHECKPOINTS['fdsa_epoch4'].shots:,} shots where this arm uses "
             f"{c['shots']:,}, and its validation used them (see the fidelity page)"] if c["method"] == "fdsa" else [])\
        + (["its two fixed directions were its own generator's draws, not this arm's"] if c["method"] == "spsa" else [])\
        + ["it is one run, from initial values that no seed here reproduces", "by our reading of its code it saw "
           "the training windows in the same order every epoch (here in a fresh order every epoch)"]


def against_log(res, log: dict | None) -> str | None:
    """**The original's logged run against this arm**: where ``log`` lies against the range of the finished
    seeds (deck's protocol, with shots, as it was logged) at each epoch both have, how far outside, and what
    could explain a gap. One run is set against the seeds' range, not the interval of their mean. None
    without a log, or with fewer than two finished seeds."""
    c, E = res.config, res.config["epochs"]
    done = split(res)[0]
    v = done.val["sequence"]["shots"][:, :, 2]
    compared = log_against_seeds(log, v) if log else None
    if compared is None:
        return None
    n_done, gap = len(done.seeds), compared.gap
    where = [f"{side} {after_epochs(epochs)}" for side, epochs in (
        ("below every one of them", compared.below), ("above every one of them", compared.above),
        ("within their range", compared.inside)) if epochs]
    text = (f"**The original's logged run against this arm.** The original code's log (one run, the crosses "
            f"in {{numref}}`fig-{res.arm}-val`) lies, against this arm's {count(n_done, 'finished seed')} "
            f"({c['val_shots']:,}-shot validation, the deck's protocol), {'; '.join(where)}.")
    if beyond := compared.beyond:
        text += (f" The log's epochs {beyond[0]}-{beyond[-1]} lie beyond the {E} epochs this arm runs: they are "
                 "not compared." if len(beyond) > 1 else
                 f" The log's epoch {beyond[0]} lies beyond the {E} epochs this arm runs: it is not compared.")
    if not gap:
        return text
    first, last, largest = min(gap), max(gap), max(gap, key=gap.get)
    text += (f" Outside their range it lies {gap[first]:.4f} from the nearest seed after epoch {first}"
             + (f" and {gap[last]:.4f} after epoch {last}" if last != first else "")
             + (f" (the most, {gap[largest]:.4f}, after epoch {largest})" if largest not in (first, last) else "")
             + f". At any one epoch, a further run like this arm's would lie outside the range of "
             f"{count(n_done, 'seed')} with probability {Fraction(2, n_done + 1)}: being outside says "
             "little, how far outside says more.")
    sd = spreads(done).get("sequence")  # None where a finished seed lacks an epoch of this protocol
    if sd is not None and max(gap.values()) <= sd:
        return text + (f" Every gap is within the seeds' standard deviation ({sd:.4f}): nothing sets the log "
                       "apart from what one more seed could give.")
    shot = v - done.val["sequence"]["exact"][:, :, 2]  # all NaN where the exact validation has not run
    noise = "" if not np.isfinite(shot).any() else (
        f" Validation's shot noise adds at most {np.nanmax(shot):.4f} to a seed's RMSE here ({c['val_shots']:,}-shot "
        "against exact validation of the same parameters; more shots add less), "
        + ("less than any" if np.nanmax(shot) < min(gap.values()) else "as much as some") + " of these gaps.")
    return text + (f" The seeds' standard deviation is about {sd:.4f}." if sd is not None else "") + noise + (
        f" The documented differences from the original's run: {'; '.join(_differences(c))}. None of them has "
        "been measured here, so the gap is not explained.")


def _trained(res):
    """The seeds the training curves average (the finished ones, or, before any has finished, every seed over
    the epochs all of them have run) and those epochs' count."""
    done, common = split(res)[0], int(res.epochs_done.min())
    return (done if done.seeds else dataclasses.replace(res, train_rmse=res.train_rmse[:, :common])), common


def train_figure(res):
    """The training RMSE per update over the same seeds as the validation means (see :func:`train_seeds`)."""
    return figures.train_curves(_trained(res)[0])


def smooth(res) -> str:
    """The updates in the training curves' running mean, for their caption (``train_rmse`` is ``(S, E, U)``)."""
    return f"{figures.smoothing(res.train_rmse.shape[2]):,}"


def train_seeds(res) -> str:
    """The training caption's words for which seeds its mean is over."""
    E = res.config["epochs"]
    done, running = split(res)
    n_done = len(done.seeds)
    return (f"its {_seeds(n_done)}" if not running.seeds else f"the {_seeds(n_done)} that finished all {E} epochs"
            if n_done else f"its {count(len(res.seeds), 'seed')}, none finished yet, over the "
            f"{count(_trained(res)[1], 'epoch')} all of them have run")


def rank(res) -> tuple[str, str] | None:
    """``(glued, paragraph)``: the final rank of each finished SPSA seed's quantum-parameter displacements
    over its epoch snapshots (``params`` is ``(S, E + 1, P)``, the quantum layer's leading), as ``2`` or ``2-3``
    and in words. None for other estimators or before a seed has finished."""
    c, done = res.config, split(res)[0]
    if c["method"] != "spsa" or not done.seeds:
        return None
    n_quantum = 2 * n_angles(c["n_qubits"])
    final = [int(subspace_rank(p[:, :n_quantum])[-1]) for p in done.params]
    return (f"{min(final)}-{max(final)}" if min(final) != max(final) else str(final[0]),
            f"**Where the quantum parameters went.** The rank of $\\{{\\theta_t - \\theta_0\\}}$ over the epoch "
            f"snapshots of the {n_quantum} quantum parameters is {', '.join(map(str, final))} "
            f"{'across its finished seeds' if len(final) > 1 else 'for its one finished seed'} "
            + ("(the same two directions every update keep them in a plane)." if c.get("spsa_fixed_directions") else
               f"(fresh directions: it can grow by one with each of the {c['epochs']} epoch snapshots)."))


def against_twin(res, other, twin: str | None) -> str | None:
    """**Against its twin**: ``res`` and ``other`` (the arm ``twin``, differing in one setting) over the seeds
    both have run, per protocol (1,024-shot validation), the mean difference against the seeds' spread; or
    that they cannot be compared yet. None without a twin or before it has results."""
    if not twin or other is None:
        return None
    link = f"**Against its twin** [{twin}]({'arm-' + twin})"
    differ = sorted(k for k in set(res.config) | set(other.config)
                    if k != "seed" and res.config.get(k) != other.config.get(k))
    common = [s for s in res.seeds if s in other.seeds]
    i, j = [res.seeds.index(s) for s in common], [other.seeds.index(s) for s in common]
    lines = [f"| {r.protocol} | {r.inside} of {r.epochs} | {r.worst_difference:.5f} against {r.worst_sd:.5f} |"
             for r in twin_rows({p: res.val[p]["shots"][i, :, 2] for p in ("sequence", "windows")},
                                {p: other.val[p]["shots"][j, :, 2] for p in ("sequence", "windows")})]
    if not lines:
        return (f"{link}: not yet compared; that needs two seeds that both arms have run (common seeds so far: "
                f"{', '.join(map(str, common)) or 'none'}).")
    return (f"{link} (which differs only in {', '.join(differ)}), over the {len(common)} seeds both ran: at each "
            "epoch both have run, the mean difference of validation RMSE (mean of y and z, 1,024-shot validation) "
            "against the seed-to-seed standard deviation within the arms at that epoch (pooled). With shots, the "
            "two precisions' probabilities differ in their last digits; a shot count changes wherever a random "
            "draw falls between the two, and from the first changed count on the two runs' parameters, and so all "
            "later draws, differ. Their runs then differ as two seeds do, and the question is whether that "
            "difference stays within the spread between seeds.\n\n| protocol | epochs with the difference inside "
            "the spread | the largest difference, against its spread |\n|---|---|---|\n" + "\n".join(lines))
