"""Where fits run: one seam, three executors (this process, local processes, Dask).

The fitting driver (:mod:`bayescount.inference.driver`) hands a list of jobs to an
executor and gets the results back in the same order. Three kinds ship:

``"serial"`` (:class:`SerialExecutor`)
    Every job in this process, one after the other.
``"processes"`` (:class:`ProcessExecutor`)
    A :class:`concurrent.futures.ProcessPoolExecutor` of ``spawn`` workers on this
    machine. A script that uses it needs the usual ``if __name__ == "__main__":``
    guard (notebooks and the command line need nothing).
``"dask"`` (:class:`DaskExecutor`)
    A Dask distributed cluster (``pip install 'bayescount[dask]'``): an existing
    scheduler by address (``scheduler="tcp://host:8786"`` or the environment
    variable ``BAYESCOUNT_DASK_SCHEDULER``), a :class:`distributed.Client` passed
    directly, or else a :class:`distributed.LocalCluster` of single-threaded worker
    processes started for the run and closed after it. A worker lost mid-run (killed,
    out of memory, pre-empted) is replaced and its job rescheduled by Dask.

:func:`resolve_executor` turns a name, a client or an executor into one of these and
:func:`open_executor` is a context manager that closes only what it opened.

Each worker process keeps its own compiled models (in the driver) and its own
PyTensor compile directory: the workers this module starts (local processes, a
LocalCluster) get ``PYTENSOR_FLAGS=base_compiledir=<base>/bayescount-workers/worker-<k>``
before they import PyTensor, so no two running workers share numba's on-disk cache
or PyTensor's compile lock, and a worker killed while compiling leaves no lock that
blocks the others. Slots are numbered per pool, so a re-run finds its cache warm.
Workers of an existing Dask cluster keep the environment they were started with
(see ``docs/executors.md``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from bayescount.constants import EXECUTORS
from bayescount.exceptions import SpecError
from bayescount.inference.executors._base import (
    FuturesExecutor,
    JobExecutor,
    SerialExecutor,
)
from bayescount.inference.executors._base import (
    check_max_workers as _check_max_workers,
)
from bayescount.inference.executors._compiledir import worker_compiledir
from bayescount.inference.executors._dask import SCHEDULER_ENV, DaskExecutor
from bayescount.inference.executors._dask import import_distributed as _import_distributed
from bayescount.inference.executors._processes import ProcessExecutor

if TYPE_CHECKING:
    import distributed

__all__ = [
    "DaskExecutor",
    "EXECUTORS",
    "FuturesExecutor",
    "JobExecutor",
    "ProcessExecutor",
    "SCHEDULER_ENV",
    "SerialExecutor",
    "open_executor",
    "resolve_executor",
    "worker_compiledir",
]


ExecutorName = Literal["serial", "processes", "dask"]


def _is_dask_client(obj: object) -> bool:
    module = sys.modules.get("distributed")
    return module is not None and isinstance(obj, module.Client)


def resolve_executor(
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    *,
    scheduler: str | None = None,
    max_workers: int | None = None,
    default: ExecutorName = "serial",
) -> JobExecutor:
    """Turn ``executor`` into a :class:`JobExecutor`.

    Parameters
    ----------
    executor : str, JobExecutor, concurrent.futures.Executor, distributed.Client or None
        ``"serial"``, ``"processes"`` or ``"dask"``; an executor of this module (used
        as is); a :class:`concurrent.futures.Executor` or a Dask client (used, never
        closed). ``None``: ``"dask"`` when a scheduler address is given, else
        ``default``.
    scheduler : str, optional
        Dask scheduler address; default: the ``BAYESCOUNT_DASK_SCHEDULER``
        environment variable; without either ``"dask"`` starts a LocalCluster.
    max_workers : int, optional
        Most local worker processes (``"processes"``, or a LocalCluster).
    default : {"serial", "processes", "dask"}
        The executor when ``executor`` is ``None`` and no scheduler is given.

    Returns
    -------
    JobExecutor
        Nothing is started yet: pools and clusters start at the first ``map``.

    Raises
    ------
    SpecError
        An unknown name, ``max_workers < 1``, or a scheduler with a non-Dask executor.
    ExecutorError
        ``"dask"`` without Dask installed.
    """
    _check_max_workers(max_workers)
    if isinstance(executor, JobExecutor):
        return executor
    if isinstance(executor, concurrent.futures.Executor):
        return FuturesExecutor(executor)
    if _is_dask_client(executor):
        return DaskExecutor(executor)
    if executor is None:
        executor = "dask" if scheduler else default
    if not isinstance(executor, str) or executor not in EXECUTORS:
        raise SpecError(
            f"Unknown executor {executor!r}; choose from {list(EXECUTORS)}, or pass a "
            "distributed.Client or a concurrent.futures.Executor."
        )
    if scheduler and executor != "dask":
        raise SpecError(
            f"A Dask scheduler address ({scheduler!r}) needs executor='dask', not {executor!r}."
        )
    if executor == "serial":
        return SerialExecutor()
    if executor == "processes":
        return ProcessExecutor(max_workers)
    _import_distributed()
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    return DaskExecutor(scheduler=address, max_workers=max_workers)


@contextlib.contextmanager
def open_executor(
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    *,
    scheduler: str | None = None,
    max_workers: int | None = None,
    default: ExecutorName = "serial",
) -> Iterator[JobExecutor]:
    """Context manager: :func:`resolve_executor`, closing on exit only what it opened.

    An executor, pool or client passed in stays open; a pool, LocalCluster or client
    started for a name is closed (also when a job fails).

    Parameters
    ----------
    executor : str, JobExecutor, concurrent.futures.Executor, distributed.Client or None
        As in :func:`resolve_executor`.
    scheduler : str, optional
        Dask scheduler address (else ``BAYESCOUNT_DASK_SCHEDULER``).
    max_workers : int, optional
        Most local worker processes.
    default : {"serial", "processes", "dask"}
        The executor when none is named.

    Yields
    ------
    JobExecutor

    Raises
    ------
    SpecError
        An unknown name, ``max_workers < 1``, or a scheduler with a non-Dask executor.
    ExecutorError
        ``"dask"`` without Dask installed.
    """
    resolved = resolve_executor(
        executor, scheduler=scheduler, max_workers=max_workers, default=default
    )
    owned = resolved is not executor
    try:
        yield resolved
    finally:
        if owned:
            resolved.close()
