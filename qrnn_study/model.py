"""The study's vocabulary, declared once: its validation protocols, its baselines, its arms and the deck's
claims it judges, each a frozen dataclass with a short stable id.

Everything else names them by id: a rule of the scorecard builds the row of ``claim("better-windows")``,
a page draws ``arm("fdsa-shots").label``, a study-file run trains the arm of its name. A sentence is what
the model says of an id, never a key. An id the model does not declare is refused in one line
(:class:`UnknownId`), and so is a claim that names an arm or a protocol the model does not declare (at
import: the claims are checked as they are declared).

* :data:`PROTOCOLS`: the two ways every validation is run (``sequence``, ``windows``);
* :data:`BASELINES`: the predictors that train no circuit, or none at all (``mean``, ``linear``,
  ``ngrc``, ``esn``, ``qesn``), the ids of ``baselines.json``;
* :data:`ARMS`: the study file's training runs as the analysis reads them (``fdsa-shots``, ...; a
  swept run is one arm per value, declared once as its sweep). How each trains is its entry in
  ``study.yml``; :attr:`qrnn_study.study_file.Study.arms` joins the two, and gives a run the model does
  not declare an arm read from its title;
* :data:`CLAIMS`: the deck's claims (``speed``, ``better-sequence``, ...), each with the arms whose
  results judge it; the rules that judge them are :mod:`qrnn_study.scorecard`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from qrnn_core import reference


class UnknownId(ValueError):
    """An id the model does not declare: one line naming the kind, the id and the ids there are."""


def index(items, kind: str) -> dict:
    """``{id: item}`` of ``items`` (each with an ``id``), in their order; a repeated id is refused."""
    out = {}
    for item in items:
        if item.id in out:
            raise ValueError(f"duplicate {kind} id {item.id!r}")
        out[item.id] = item
    return out


def lookup(table: dict, id: str, kind: str):
    """``table[id]``, or :class:`UnknownId` in one line: ``unknown arm 'fdsa-shot' (arms: ...)``."""
    try:
        return table[id]
    except (KeyError, TypeError):
        raise UnknownId(f"unknown {kind} {id!r} ({kind}s: {', '.join(table)})") from None


# -- protocols ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol:
    """A way every validation is run: ``name`` in a claim's words, ``title`` over a figure's panel,
    ``phrase`` in a sentence, ``short`` where the page has said what it is."""

    id: str
    name: str
    title: str
    phrase: str
    short: str


PROTOCOLS = (
    Protocol("sequence", "deck's protocol, one sequence", "deck's protocol:\none 2,969-step sequence",
             "the deck's protocol (one 2,969-step sequence)", "the deck's protocol"),
    Protocol("windows", "windows protocol", "windows protocol:\n20-step windows", "the windows protocol",
             "the windows protocol"),
)
PROTOCOL = index(PROTOCOLS, "protocol")
PROTOCOL_IDS = tuple(PROTOCOL)


def protocol(id: str) -> Protocol:
    return lookup(PROTOCOL, id, "protocol")


# -- baselines ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A predictor the arms are set against (its id is its key in ``baselines.json``): ``name`` for a
    reader, ``short`` in the baselines page's narrow table; ``circuit``: it runs the QRNN's circuit
    (frozen), so it is scored with shots as well as exactly."""

    id: str
    name: str
    short: str
    circuit: bool = False


BASELINES = (
    Baseline("mean", "training mean", "mean"),
    Baseline("linear", "linear regression on x(t)", "linear"),
    Baseline("ngrc", "NG-RC", "NG-RC"),
    Baseline("esn", "echo-state network", "ESN"),
    Baseline("qesn", "frozen circuit (QESN)", "QESN", circuit=True),
)
BASELINE = index(BASELINES, "baseline")
#: The baselines that need no quantum circuit, and the frozen circuit.
CLASSICAL = tuple(b.id for b in BASELINES if not b.circuit)
FROZEN = "qesn"
#: The baselines' names for a reader.
BASELINE_NAMES = {b.id: b.name for b in BASELINES}


def baseline(id: str) -> Baseline:
    return lookup(BASELINE, id, "baseline")


# -- arms --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """A training configuration, run once per seed: ``id`` is its run's name in ``study.yml``.

    ``label``: its name in legends and tables; ``estimator``: the gradient it trains with (``spsa``,
    ``fdsa`` or ``exact``); ``oracle``: the exact-gradient arm at its learning rate, its reference;
    ``short``: its name in a narrow table; ``full``: trained on the deck's whole protocol (False: at the
    reduced budget of the sweep, the equal-budget run and the device study); ``swept``: the parameter a swept
    run takes one arm per value of (``lr``: the learning-rate sweep; ``noise_scale``: the device study);
    ``noiseless``: the full-protocol arm a device arm is at noise scale 0."""

    id: str
    label: str
    estimator: str
    oracle: str | None = None
    short: str | None = None
    full: bool = True
    swept: str | None = None
    noiseless: str | None = None


ARMS = (  # the full-protocol arms in the order the book lists them, then the reduced-budget runs
    Arm("spsa-original-shots", "SPSA as originally run", "spsa", "oracle-lr007", "SPSA as run"),
    Arm("spsa-original-exact", "SPSA as originally run (exact)", "spsa", "oracle-lr007"),
    Arm("spsa-shots", "SPSA corrected", "spsa", "oracle-lr007", "SPSA corrected"),
    Arm("spsa-exact", "SPSA corrected (exact)", "spsa", "oracle-lr007"),
    Arm("spsa-spall-shots", "SPSA corrected with Spall's gains", "spsa", "oracle-lr007"),
    Arm("spsa-spall-exact", "SPSA corrected with Spall's gains (exact)", "spsa", "oracle-lr007"),
    Arm("fdsa-shots", "FDSA", "fdsa", "oracle-lr001", "FDSA"),
    Arm("fdsa-exact", "FDSA (exact)", "fdsa", "oracle-lr001"),
    Arm("oracle-lr001", "oracle (lr 0.001)", "exact", short="oracle, lr 0.001"),
    Arm("oracle-lr007", "oracle (lr 0.007)", "exact", short="oracle, lr 0.007"),
    Arm("precision-check", "SPSA corrected (complex128 check)", "spsa"),
    Arm("sweep-spsa", "learning-rate sweep: SPSA corrected", "spsa", full=False, swept="lr"),
    Arm("sweep-fdsa", "learning-rate sweep: FDSA", "fdsa", full=False, swept="lr"),
    Arm("sweep-oracle", "learning-rate sweep: the exact gradient", "exact", full=False, swept="lr"),
    Arm("budget-spsa110", "SPSA with 110 directions", "spsa", full=False),
    Arm("noisy-spsa-original", "SPSA as originally run", "spsa", full=False, swept="noise_scale",
        noiseless="spsa-original-shots"),
    Arm("noisy-spsa", "SPSA corrected", "spsa", full=False, swept="noise_scale", noiseless="spsa-shots"),
    Arm("noisy-fdsa", "FDSA", "fdsa", full=False, swept="noise_scale", noiseless="fdsa-shots"),
    Arm("noisy-oracle", "oracle (exact gradient, lr 0.007)", "exact", full=False, swept="noise_scale",
        noiseless="oracle-lr007"),
)
ARM = index(ARMS, "arm")
#: The full-protocol arms' labels, in the book's order (the pages that report the whole study read these).
ARM_LABELS = {a.id: a.label for a in ARMS if a.full}
#: The learning-rate sweep of each estimator: ``{"spsa": "sweep-spsa", "fdsa": ..., "exact": ...}``.
SWEEPS = {a.estimator: a.id for a in ARMS if a.swept == "lr"}
#: The device study's arms (one per estimator, swept over the noise scale), in the book's order.
DEVICE_ARMS = tuple(a for a in ARMS if a.swept == "noise_scale")
#: The oracle (exact gradient) at each estimator arm's learning rate.
ORACLE_OF = {a.id: a.oracle for a in ARMS if a.oracle}


def arm(id: str) -> Arm:
    return lookup(ARM, id, "arm")


def arm_ids(*ids: str) -> tuple[str, ...]:
    """``ids``, each checked to be an arm's (:class:`UnknownId` otherwise): a page's selection of arms."""
    return tuple(arm(a).id for a in ids)


# -- claims ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A claim of the deck the scorecard judges: ``text`` its words as the scorecard shows them, ``arms``
    the arms (ids) whose results judge it, ``protocol`` the validation protocol it is judged under (None:
    none). Declaring a claim that names an arm or protocol the model does not declare raises
    :class:`UnknownId`."""

    id: str
    text: str
    arms: tuple[str, ...] = ()
    protocol: str | None = None

    def __post_init__(self):
        arm_ids(*self.arms)
        if self.protocol is not None:
            protocol(self.protocol)


def deck_figure(value: float) -> str:
    """A deck figure as the deck writes it: ``0.09`` as ``.09``."""
    return f"{value:g}".removeprefix("0")


#: The deck's two estimators as it ran them: SPSA with its fixed pair of directions, and FDSA (1,024 shots).
SPSA_ARM, FDSA_ARM = arm_ids("spsa-original-shots", "fdsa-shots")
#: FDSA's hours per CPU epoch over SPSA's, as the deck reports them.
DECK_SPEEDUP = reference.HOURS_PER_EPOCH["FDSA, CPU"] / reference.HOURS_PER_EPOCH["SPSA, CPU"]
#: FDSA's seconds per CPU update over SPSA's, as the deck reports them (its epoch table is not 1,384 of these).
DECK_UPDATE_SPEEDUP = reference.SECONDS_PER_UPDATE["FDSA, CPU"] / reference.SECONDS_PER_UPDATE["SPSA, CPU"]
#: The deck's accuracy claims, each judged under every protocol: ``(id, words, arms)``; the claim's id is
#: ``<id>-<protocol>``. ``accuracy`` stands for them all in a protocol where they cannot be tested.
ACCURACY = (
    ("accuracy", "Accuracy claims", (SPSA_ARM, FDSA_ARM)),
    ("rises-spsa", "Validation RMSE starts rising after 1 epoch with SPSA", (SPSA_ARM,)),
    ("rises-fdsa", "... and after about 3 epochs with FDSA", (FDSA_ARM,)),
    ("better", "SPSA found better parameters than FDSA", (SPSA_ARM, FDSA_ARM)),
    ("comparable", "SPSA's accuracy is comparable to FDSA's", (SPSA_ARM, FDSA_ARM)),
    ("fewer-epochs", "... in fewer epochs", (SPSA_ARM, FDSA_ARM)),
    ("lowest-spsa", f"Lowest RMSE observed with SPSA: {deck_figure(reference.LOWEST_RMSE['spsa'])}", (SPSA_ARM,)),
    ("lowest-fdsa", f"Lowest RMSE observed with FDSA: {deck_figure(reference.LOWEST_RMSE['fdsa'])}", (FDSA_ARM,)),
)

CLAIMS = (
    Claim("speed", f"SPSA is about {DECK_SPEEDUP:.1f}x faster per epoch than FDSA on CPU", (SPSA_ARM, FDSA_ARM)),
    Claim("speed-update", f"SPSA is about {DECK_UPDATE_SPEEDUP:.0f}x faster per update than FDSA on CPU",
          (SPSA_ARM, FDSA_ARM)),
    Claim("speed-gpu", "SPSA (CPU) is an order of magnitude faster than FDSA on GPU", (SPSA_ARM, FDSA_ARM)),
    Claim("fdsa-gpu", "FDSA on GPU is about 1.8x faster than on CPU", (FDSA_ARM,)),
    *(Claim(f"{id}-{p.id}", f"{words} ({p.name})", arms, p.id) for p in PROTOCOLS for id, words, arms in ACCURACY),
    Claim("learning-rate", "Train RMSE is similar for both methods at a low enough learning rate",
          (SWEEPS["spsa"], SWEEPS["fdsa"])),
    Claim("parameter-shift", "Parameter-shift cannot be used because of the mid-circuit measure and reset"),
)
CLAIM = index(CLAIMS, "claim")


def claim(id: str) -> Claim:
    return lookup(CLAIM, id, "claim")
