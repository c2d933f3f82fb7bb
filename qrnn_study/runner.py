"""The study engine's former single module, kept as re-exports so that older imports still work.

New code imports from the module that holds a thing: :mod:`.study_file` (schema, runs, seeds, sweeps,
toc), :mod:`.notebook` (a notebook and its parameters cell), :mod:`.plan` (keys, what is out of date,
order, cost, dry run), :mod:`.execute` (one notebook executed into a page), :mod:`.cluster` (Dask),
:mod:`.drive` (``run``: the lock, the drive loop, progress) and :mod:`.coverage` (what a page says of
how far training has come).
"""

from .cluster import CONNECT_TIMEOUT, SchedulerUnreachable, client_for, connect, scheduler_address  # noqa: F401
from .coverage import partial_warning, profile_note, training_done  # noqa: F401
from .drive import PROGRESS_POLL, StudyLocked, epochs_done, run_study, say, study_lock, training_left  # noqa: F401
from .execute import MALLOC_TRIM, RunFailed, execute, relative_downloads  # noqa: F401
from .notebook import notebook_parameters, read_notebook  # noqa: F401
from .plan import (Plan, check_parameters, dry_run, estimated_seconds, inputs_record, out_of_date, plan,  # noqa: F401
                   run_inputs, submission_order)
from .study_file import (ROOT, SCHEMA, TRAIN_NOTEBOOK, Run, Study, StudyFileError, load_study,  # noqa: F401
                         read_study_file, sweep_arm, write_toc)
