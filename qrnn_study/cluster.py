"""The Dask cluster a study runs on: a local one of one-thread workers (glibc's malloc defaults kept),
or a running one named by address or scheduler file, each refused in one line when it does not answer
within ``--connect-timeout``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .execute import MALLOC_TRIM


class SchedulerUnreachable(RuntimeError):
    """The Dask cluster named by ``--scheduler`` or ``--scheduler-file`` cannot be reached in time."""


#: Seconds ``run`` waits for a scheduler file to appear and for its scheduler to answer (``--connect-timeout``).
CONNECT_TIMEOUT = 10.0


def scheduler_address(scheduler_file: str, timeout: float) -> str:
    """The address a Dask scheduler file names, waiting up to ``timeout`` seconds for it to appear
    (a scheduler starting beside us writes it); one line when it does not, or is not one."""
    path, deadline = Path(scheduler_file), time.monotonic() + timeout
    while not path.is_file():
        if time.monotonic() >= deadline:
            raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: no such file after {timeout:g} s (start "
                                       f"the scheduler with `dask scheduler --scheduler-file {scheduler_file}`)")
        time.sleep(0.1)
    try:
        address = json.loads(path.read_text())["address"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: not a Dask scheduler file "
                                   f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
    if not isinstance(address, str):
        raise SchedulerUnreachable(f"--scheduler-file {scheduler_file}: its address {address!r} is not a string")
    return address


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A Dask client of the scheduler at ``address``, or one line saying why not within ``timeout`` seconds."""
    from dask.distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme == "tcp":  # probe first: a failed Client leaves noise on stderr when it is collected
            import socket

            socket.create_connection(parse_host_port(location), timeout=timeout).close()
        return Client(address, timeout=timeout)
    except Exception as err:  # noqa: BLE001 - a bad address, a refusal, a timeout, a non-Dask peer: one line each
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
                                   f"({type(err).__name__}: {detail[:200]})") from None


def client_for(jobs: int | None, scheduler: str | None, scheduler_file: str | None, timeout: float = CONNECT_TIMEOUT):
    """``(client, cluster)``: of the running cluster named by ``scheduler`` or ``scheduler_file`` (cluster
    None), or of a local cluster of ``jobs`` one-thread workers (default: one per core) started here."""
    from dask.distributed import Client, LocalCluster

    if scheduler and scheduler_file:
        raise ValueError("--scheduler and --scheduler-file name one cluster twice: give one of them")
    if scheduler or scheduler_file:
        return connect(scheduler or scheduler_address(scheduler_file, timeout), timeout), None
    import dask

    with dask.config.set({f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM}": None}):  # see MALLOC_TRIM
        cluster = LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    return Client(cluster), cluster

