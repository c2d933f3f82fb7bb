"""One run executed (in a Dask worker): a page's notebook in its own Jupyter kernel by papermill, the
line that reports a failure by run and cell, and the executed notebook finished as a page of the book;
a training instance in the worker itself (:func:`train_here`).

A page starts from an empty results folder when its inputs changed; a training instance keeps its folder
(its checkpoints decide what is done) unless it was made from other inputs.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from qrnn_core.runfiles import atomic_write

from .keys import Inputs
from .notebook import read_notebook
from .study_file import ROOT, Run


class RunFailed(RuntimeError):
    pass


#: Dask's nannies set this for their workers (``distributed.nanny.pre-spawn-environ``) to return freed
#: memory to the system early. It also turns off glibc's adaptive mmap threshold, so that every large
#: temporary tensor of the simulator is a fresh mmap: measured here, 2.3x slower simulation at batch
#: 221 (the timing page and every FDSA run). Neither the study's workers nor its kernels keep it.
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"


def _kernel_manager(log: Path):
    """Jupyter's kernel manager for one run: IPC sockets instead of TCP, the kernel's own output to ``log``.

    A study's kernels live on the machine that starts them: over IPC nothing listens on a port, and no
    kernel warns at its start that TCP carries its traffic unencrypted. What a kernel itself prints (its
    log, and the interrupt that Jupyter sends every kernel it shuts down) goes to the run's kernel log
    beside its executed notebook, not between the study's progress lines; a failing cell is reported
    from the notebook as before. Each kernel's sockets get a folder of their own: Jupyter's default
    names (``kernel-ipc-N`` in the working folder) collide between workers.
    """
    import tempfile

    from jupyter_client import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            self._folder = tempfile.mkdtemp(prefix="qrnn-kernel-")
            super().__init__(transport="ipc", ip=os.path.join(self._folder, "kernel"), **kwargs)

        async def _async_pre_start_kernel(self, **kw):
            self._log = open(log, "ab")  # noqa: SIM115 - closed with the kernel's resources
            kw.update(stdout=self._log, stderr=self._log)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart)
            if not restart:
                shutil.rmtree(self._folder, ignore_errors=True)
                if getattr(self, "_log", None):
                    self._log.close()

    return RunKernelManager


def execute(run: Run, output: str, results: str, inputs: Inputs, threads: int | None = 1) -> float:
    """Execute one run's notebook into ``output/NAME.ipynb`` (in a Dask worker); returns seconds.

    ``threads``: the threads its kernel computes on; None: every core of the worker's machine (a run that
    runs alone).

    Pages and analyses start from an empty results folder when their key changed; a training
    instance keeps its folder (its checkpoints decide what is done). Raises :class:`RunFailed`.
    """
    import papermill

    output, results = Path(output), Path(results)
    output.mkdir(parents=True, exist_ok=True)
    # The kernel inherits these: one run per worker thread, torch's threads pinned to match.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads or os.cpu_count() or 1)
    os.environ.pop(MALLOC_TRIM, None)  # set by the nannies of a cluster started elsewhere
    started = output / f"{run.name}.started"
    if not run.trains and (not started.exists() or started.read_text() != inputs.key):
        shutil.rmtree(results / run.name, ignore_errors=True)
    started.write_text(inputs.key)
    if run.trains:  # a training resumes only what today's inputs made; it records them before it starts
        record = results / run.name / "inputs.json"
        before = Inputs.read(record)
        if before is None or before.key != inputs.key:
            shutil.rmtree(results / run.name, ignore_errors=True)
        record.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(record, lambda tmp: tmp.write_text(inputs.to_json()))
    if run.trains:
        t0 = time.perf_counter()
        train_here(run, threads)
        return time.perf_counter() - t0
    partial = output / f"{run.name}.running.ipynb"
    kernel_log = output / f"{run.name}.kernel.log"
    kernel_log.unlink(missing_ok=True)  # this execution's output only
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            read_notebook(run.notebook), str(partial), parameters=run.parameters, kernel_name="python3",
            progress_bar=False, cwd=str(ROOT), language="python",
            kernel_manager_class=_kernel_manager(kernel_log),
        )
    except Exception as err:  # noqa: BLE001 - a failing cell, a dead kernel, a timeout: reported the same way
        failed = output / f"{run.name}.failed.ipynb"
        if partial.exists():
            os.replace(partial, failed)
        also = f" (the kernel's own output: {kernel_log})" if kernel_log.exists() and kernel_log.stat().st_size else ""
        raise RunFailed(_failure_line(run, err, failed) + also) from None
    _finish_for_book(partial, run.title, run.parameters)
    os.replace(partial, output / f"{run.name}.ipynb")
    seconds = time.perf_counter() - t0
    atomic_write(output / f"{run.name}.inputs.json", lambda tmp: tmp.write_text(inputs.to_json(seconds)))
    return seconds


def train_here(run: Run, threads: int | None = 1) -> None:
    """A training instance, run in this (worker) process: what its notebook's cells do, without a kernel.

    A training instance's notebook is no page of the book, and starting a Jupyter kernel (and importing
    torch and Qiskit in it) for each of a profile's dozens of instances cost more than the training
    itself in the quick profile. Its parameters are the notebook's defaults updated with the run's, as
    papermill would inject them, and they are checked by the same function its first cell calls; the
    notebook (``notebooks/train.py``) stays the way to run one instance by hand. Raises :class:`RunFailed`.
    """
    import torch

    from qrnn_core.train import train

    from .cli import check_notebook_parameters
    from .notebook import notebook_parameters

    values = notebook_parameters(run.notebook) | run.parameters
    if not Path(values["results_dir"]).is_absolute():  # as for the notebook, whose kernel starts in ROOT
        values["results_dir"] = str(ROOT / values["results_dir"])
    torch.set_num_threads(threads or os.cpu_count() or 1)
    try:
        config, out_dir = check_notebook_parameters(values)
        train(config, out_dir, progress=False, lock_wait=300)
    except Exception as err:  # noqa: BLE001 - reported by run, as a notebook's failing cell is
        where = _notebook_path(run)
        raise RunFailed(f"{run.name} ({where}, run in its worker) failed: {type(err).__name__}: "
                        f"{str(err).strip()[:300]}") from None


def _notebook_path(run: Run) -> Path:
    """The run's notebook as a failure line names it: relative to the repository where it lies inside."""
    return run.notebook.relative_to(ROOT) if run.notebook.is_relative_to(ROOT) else run.notebook


def _failure_line(run: Run, err: Exception, kept: Path) -> str:
    where = _notebook_path(run)
    cell = getattr(err, "exec_count", None)
    source = (getattr(err, "source", "") or "").strip().splitlines()
    what = f"{getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', str(err)).strip()[:300]}"
    in_cell = f" in cell {cell} ({source[0][:60]!r}...)" if cell else ""
    return f"{run.name} ({where}) failed{in_cell}: {what}; the executed notebook is kept as {kept}"


def _finish_for_book(path: Path, title: str | None, parameters: dict | None = None) -> None:
    """Leave the parameters cells out of the page (its banner states the profile), give the page the
    run's title (one notebook serves several runs), and fill ``{{name}}`` in its markdown cells with
    the run's string parameters (figure labels unique per page, e.g. ``fig-{{arm}}-val``)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for name, value in (parameters or {}).items():
                if isinstance(value, str):
                    cell.source = cell.source.replace("{{" + name + "}}", value)
        tags = cell.metadata.get("tags", [])
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]  # the page states its provenance instead
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            if md:
                out["data"]["text/markdown"] = relative_downloads(md, path.parent)
    heading = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")), None)
    if title and heading is not None:
        _, newline, rest = heading.source.partition("\n")
        heading.source = f"# {title}{newline}{rest}"
    nbformat.write(nb, path)


_DOWNLOAD = re.compile(r"(\{download\}`[^`<]*<)(/[^>]+)(>`)")


def relative_downloads(markdown: str, page_dir: Path) -> str:
    """``{download}`` roles of a page's output with absolute paths, made relative to the page's folder
    (the book can then move as a whole, and a fresh clone finds the shipped files)."""
    return _DOWNLOAD.sub(lambda m: m.group(1) + os.path.relpath(m.group(2), page_dir) + m.group(3), markdown)
