"""``python -m qrnn_study run``: the study's out-of-date runs executed on a Dask cluster.

:func:`run_study` takes the study's lock (one ``run`` per profile and tree), plans (:mod:`.plan`),
connects (:mod:`.cluster`) and drives: every run whose dependencies are done is submitted, one per worker
thread, in :func:`~.plan.submission_order`; a run marked ``exclusive`` (timing) runs alone with every
core. A lost worker's run is rescheduled by Dask and resumes from its checkpoints. A failing notebook (a
dead kernel included) is reported by name and cell; the others go on. Progress lines say what is
running, each epoch a training finishes, and how much training is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import time

from .cli import config_from_parameters
from .cluster import CONNECT_TIMEOUT, client_for
from .execute import RunFailed, execute
from .keys import Inputs
from .plan import Plan, epochs_left, estimated_seconds, inputs_record, plan, run_inputs
from .study_file import Run, Study, write_toc


class StudyLocked(RuntimeError):
    pass


@contextlib.contextmanager
def study_lock(study: Study):
    """One ``run`` of the study per profile and tree: a second one is refused, never run beside."""
    study.results.mkdir(parents=True, exist_ok=True)
    with open(study.results / ".study.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyLocked(f"another `run` of the study is running profile {study.profile!r} in this tree "
                              f"({study.results / '.study.lock'} is held): wait for it to finish") from None
        yield


#: Seconds between looks at the running trainings' metrics (a line whenever one finishes an epoch).
PROGRESS_POLL = 30.0


def epochs_done(study: Study, run: Run) -> int:
    """Epochs a training instance has finished so far (its ``metrics.json``; 0 before the first)."""
    try:
        return len(json.loads((study.results / run.name / "metrics.json").read_text())["val"])
    except (OSError, ValueError, KeyError):  # not started, or being rewritten this instant
        return 0


def training_left(study: Study, steps: Plan | None = None, left: set[str] | None = None) -> str:
    """What training is left: the epochs of the training instances that are out of date (a run whose
    inputs changed counts whole: it starts afresh), in worker-hours at the recorded rates.

    ``steps``: the plan the run started from (planned now if None); ``left``: the names of its runs not
    finished yet (all of them if None). A running study passes both: re-planning after every finished
    run would hash the whole study again while a worker waits.
    """
    steps = plan(study) if steps is None else steps
    trains = [r for r in steps.todo if r.trains and (left is None or r.name in left)]
    still = {r.name: _epochs_still_to_run(study, steps, r) for r in trains}
    epochs = sum(still.values())
    # at the rates recorded so far (they sharpen as runs finish), for the epochs still to run
    cost = estimated_seconds(study, Plan(steps.inputs, trains, steps.why), lambda r: still[r.name])
    known = [cost[r.name] for r in trains if not math.isnan(cost[r.name])]
    hours = ("not yet projected (no epoch has run)" if trains and not known else
             f"about {sum(known) / 3600:.1f} worker-hours at the recorded rates"
             + (f" ({len(trains) - len(known)} run(s) not projected)" if len(known) < len(trains) else ""))
    return f"training left: {epochs} epoch(s) of {len(trains)} run(s), {hours}"


def _epochs_still_to_run(study: Study, steps: Plan, run: Run) -> int:
    """A planned training instance's epochs left now: those its folder lacks when the folder was made from
    today's inputs (it resumes, or has started afresh: the runner clears a stale folder before it records
    them), else all that the plan counted (a stale folder's epochs count for nothing)."""
    recorded = Inputs.read(inputs_record(study, run))
    if recorded is not None and recorded.key == steps.inputs[run.name].key:
        return max(0, config_from_parameters(run.parameters).epochs - epochs_done(study, run))
    return epochs_left(steps, run)


def say(line: str) -> None:
    """The runner's log line, flushed at once (the log of a long background run is read as it grows)."""
    print(line, flush=True)


def run_study(study: Study, *, only: str | None = None, jobs: int | None = None, scheduler: str | None = None,
              scheduler_file: str | None = None, progress: bool = True, rerun: bool = False, train: bool = True,
              log=say, connect_timeout: float = CONNECT_TIMEOUT) -> int:
    """Run every out-of-date run of the study on Dask, dependencies first; returns the failures."""
    with study_lock(study):
        write_toc(study)
        steps = plan(study, only, rerun, train)
        keys, todo = steps.inputs, steps.todo
        skipped = len(study.runs) - len(todo)
        if skipped:
            log(f"study ({study.profile}): {skipped} run(s) up to date: skipped")
        if not todo:
            return 0
        client, cluster = client_for(jobs, scheduler, scheduler_file, connect_timeout)
        try:
            return _drive(study, client, steps, progress, log)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _drive(study, client, steps: Plan, progress, log) -> int:
    from dask.distributed import wait

    keys, todo = steps.inputs, steps.todo
    waiting = {r.name: r for r in todo}
    running: dict[str, object] = {}
    done: set[str] = {r.name for r in study.runs} - set(waiting)
    failed: list[str] = []
    failed_names: set[str] = set()
    exclusive_running: set[str] = set()
    by_name = {r.name: r for r in study.runs}
    epochs_seen: dict[str, int] = {}
    t0 = time.perf_counter()

    def stamp() -> str:
        return f"[study {study.profile} {time.perf_counter() - t0:6.0f} s]"

    def status() -> str:
        names = ", ".join(sorted(running)[:4]) + (", ..." if len(running) > 4 else "")
        return (f"{stamp()} done {len(done)}, running {len(running)} ({names}), waiting {len(waiting)}, "
                f"failed {len(failed_names)}")

    def report_epochs() -> None:
        """A line for each running training that has finished an epoch since the last look."""
        for name in sorted(running):
            run = by_name[name]
            if not run.trains:
                continue
            n = epochs_done(study, run)
            if n > epochs_seen.setdefault(name, n):
                log(f"{stamp()} {name}: epoch {n} of {config_from_parameters(run.parameters).epochs} finished")
            epochs_seen[name] = n

    def submit_ready() -> None:
        if any(exclusive_running):
            return
        for r in list(waiting.values()):
            if any(d in failed_names for d in r.depends):
                waiting.pop(r.name)
                failed_names.add(r.name)
                failed.append(f"{r.name}: not run, a run it depends on failed")
                continue
            if any(d not in done for d in r.depends):
                continue
            if r.exclusive and running:
                continue  # waits until the cluster is idle
            if len(running) >= max(1, sum(client.nthreads().values())):
                return  # one run per worker thread: "running" means running
            waiting.pop(r.name)
            if r.depends:  # its inputs now, with what its dependencies have just recorded (at planning time
                keys[r.name] = run_inputs(r, keys, study.results)  # a training dependency had no metrics yet)
            # One thread a run, so that runs side by side do not contend; a run alone has the machine.
            threads = None if r.exclusive else 1
            fut = client.submit(execute, r, str(study.output), str(study.results), keys[r.name], threads,
                                key=f"{r.name}-{keys[r.name].key[:8]}-{time.time_ns()}", pure=False)
            running[r.name] = fut
            if r.exclusive:
                exclusive_running.add(r.name)
                return  # nothing else starts beside it

    trains = any(r.trains for r in todo)
    submit_ready()
    if progress:
        log(status())
        if trains:
            log(f"{stamp()} {training_left(study, steps, set(waiting) | set(running))}")
    while running:
        try:  # wake when a run finishes, or every PROGRESS_POLL seconds to report finished epochs
            wait(list(running.values()), timeout=PROGRESS_POLL, return_when="FIRST_COMPLETED")
        except TimeoutError:
            if progress:
                report_epochs()
            continue
        finished_training = False
        for name in [n for n, f in running.items() if f.done()]:
            fut = running.pop(name)
            exclusive_running.discard(name)
            epochs_seen.pop(name, None)
            try:
                seconds = fut.result()
            except RunFailed as err:
                failed_names.add(name)
                failed.append(str(err))
                log(f"FAILED {err}")
            except Exception as err:  # noqa: BLE001 - the worker itself failed for good
                failed_names.add(name)
                failed.append(f"{name}: {type(err).__name__}: {err}")
                log(f"FAILED {name}: {type(err).__name__}: {err}")
            else:
                done.add(name)
                if progress:
                    log(f"{name}: done in {seconds:.1f} s")
                finished_training |= by_name[name].trains
        submit_ready()  # before any report: a free worker never waits on a progress line
        if progress:
            if finished_training:
                log(f"{stamp()} {training_left(study, steps, set(waiting) | set(running))}")
            log(status())
    for r in waiting.values():  # only left when their dependencies failed
        failed.append(f"{r.name}: not run, a run it depends on failed")
    for f in failed:
        log(f"FAILED: {f}")
    return len(failed)
