"""How much of a profile's training has finished, and the notes a page prints about it: whether a
training instance is done (its folder verifies), the profile's note, the warning of a partial build.

Pages import this (not the runner's execution machinery) so that their keys follow only what they use."""

from __future__ import annotations

from qrnn_core.runfiles import verify_run

from .analysis import MIN_SEEDS
from .cli import config_from_parameters
from .study_file import Run, Study, load_study


def training_done(study: Study, run: Run) -> bool:
    """A training instance's results verify for the config its parameters describe
    (:func:`qrnn_core.runfiles.verify_run`, the check ``train`` decides "nothing to do" on). Read only:
    a folder that does not verify is run again, and ``train`` repairs it from its checkpoint or resumes."""
    try:
        config = config_from_parameters(run.parameters)
    except (TypeError, ValueError):
        return False
    return verify_run(study.results / run.name, config, warn=lambda line: None).done


def profile_note(profile: str) -> str:
    """A MyST note saying what the profile is (its description in the study file): how far its numbers go."""
    return f"```{{note}}\n**Profile `{profile}`.** {load_study(profile=profile).description}\n```"


def partial_warning(profile: str, where: str = "") -> str | None:
    """A MyST warning when the profile's training runs are not all finished (None when they are).

    ``where``: what this page shows of the coverage and the remaining compute, in a few words."""
    study = load_study(profile=profile)
    instances = [r for r in study.runs if r.trains]
    done = {r.name: training_done(study, r) for r in instances}
    finished = sum(done.values())
    if finished == len(instances):
        return None
    runs: dict[str, list[bool]] = {}  # by study-file run: which of its instances finished
    for r in instances:
        runs.setdefault(r.family or r.arm or r.name, []).append(done[r.name])
    unfinished = "; ".join(f"`{name}` {sum(d)} of {len(d)}" for name, d in runs.items() if not all(d))
    return (f"```{{warning}}\nThis build is **partial**: {finished} of the profile's {len(instances)} training runs "
            f"have finished{f' ({where})' if where else ''}; not yet every instance of {unfinished}. Numbers use the "
            "seeds and epochs finished so far; a "
            f"verdict needs {MIN_SEEDS} finished seeds of each arm it rests on and says *not tested* until they "
            "exist.\n```")
