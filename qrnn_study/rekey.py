"""Re-keying: a finished training instance whose *science core source* changed, checked to compute the same.

A training instance's key hashes the source of the science core's modules (:mod:`.keys`), so any edit there,
an added option or a comment included, puts every training result out of date. Re-running them all (hours)
is what the key asks; but where the edit changed no number, a cheaper check says so as surely for the
numbers that matter: today's code re-computes the run's first updates and its first validation from its
seed (:func:`qrnn_study.results.reproduces`), and the result is re-keyed only when they are **bit for
bit** what its files hold. Its record then carries today's inputs, the key it was made under and the
check (``rekeyed`` in its ``inputs.json``), so a reader sees which results were re-keyed and how.

Only the ``module qrnn_core/...`` inputs may differ, and the training notebook's ``parameters`` cell (it is
generated from ``TrainConfig``; :func:`qrnn_study.plan.rekeyable` reads the notebook the run was made from
out of git to see that nothing else changed): any other change of the notebook, a parameter, the lock, the
data or a dependency's result is a different computation and is re-run, never re-keyed. Bitwise equality holds on
the platform that made a result (another CPU's last bits may differ): re-key there.

``python -m qrnn_study run --rekey [--only NAME]`` does it; ``run -n`` shows which runs qualify.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qrnn_core.provenance import provenance
from qrnn_core.runfiles import atomic_write, verify_run

from .cli import config_from_parameters
from .keys import Inputs
from .plan import Plan, inputs_record, plan, rekeyable
from .study_file import Run, Study

#: Updates re-computed per run: each draws fresh directions (SPSA) or steps (FDSA) from the run's generators.
UPDATES = 3


def candidates(study: Study, steps: Plan) -> list[tuple[Run, Inputs]]:
    """The out-of-date training instances of ``steps`` that are finished and differ from today's inputs in
    science core source only, each with the inputs it records."""
    out = []
    for run in steps.todo:
        if not run.trains:
            continue
        recorded = Inputs.read(inputs_record(study, run))
        if recorded is None or not rekeyable(study, run, steps.inputs[run.name].changed(recorded), recorded):
            continue
        verdict = verify_run(study.results / run.name, config_from_parameters(run.parameters), warn=lambda _: None)
        if verdict.done:
            out.append((run, recorded))
    return out


@dataclass(frozen=True)
class Rekeyed:
    """One run's outcome: ``done`` when its record now holds today's inputs."""

    run: str
    done: bool
    check: str


def rekey(study: Study, only: str | None = None, updates: int = UPDATES, log=print) -> list[Rekeyed]:
    """Re-key every qualifying run of ``study`` (:func:`candidates`) whose first ``updates`` updates and
    first validation today's code reproduces bit for bit; the others stay out of date, with the reason."""
    from .results import reproduces

    steps = plan(study, only)
    outcomes = []
    for run, recorded in candidates(study, steps):
        today = steps.inputs[run.name]
        check = reproduces(study.results / run.name, updates)
        if check.exact:
            record = inputs_record(study, run)
            kept = json.loads(record.read_text())
            history = kept.get("rekeyed", []) + [{
                "from": recorded.key, "changed": today.changed(recorded), "check": str(check),
                "by": provenance().get("git_commit", "unknown")}]
            text = json.dumps(json.loads(today.to_json(kept.get("seconds"))) | {"rekeyed": history}, indent=1,
                              sort_keys=True)
            atomic_write(record, lambda tmp: tmp.write_text(text))
        outcomes.append(Rekeyed(run.name, check.exact, str(check)))
        log(f"{run.name}: {'re-keyed' if check.exact else 'left out of date'}: {check}")
    return outcomes
