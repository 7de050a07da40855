"""Local worker processes (``spawn``), each with its own PyTensor compile directory."""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing.context
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bayescount.exceptions import ExecutorError
from bayescount.inference.executors._base import (
    JobExecutor,
    check_max_workers,
    collect_results,
    cpu_count,
)
from bayescount.inference.executors._compiledir import environ_set, worker_environ

__all__ = ["ProcessExecutor"]

T = TypeVar("T")
R = TypeVar("R")


class _WorkerSpawnContext(multiprocessing.context.SpawnContext):
    """``spawn`` whose k-th process starts with its own PyTensor compile directory."""

    def __init__(self) -> None:
        self._slots = itertools.count()

    def Process(self, *args: Any, **kwargs: Any) -> multiprocessing.context.SpawnProcess:  # noqa: N802
        """Return a spawn process that starts with the next slot's environment."""
        process = _WorkerProcess(*args, **kwargs)
        process.bayescount_environ = worker_environ(next(self._slots))
        return process


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    bayescount_environ: dict[str, str]

    def start(self) -> None:
        # The spawned interpreter inherits this process's environment at exec time,
        # before it imports PyTensor (which fixes its compile directory on import).
        with environ_set(self.bayescount_environ):
            super().start()


class ProcessExecutor(JobExecutor):
    """Jobs on local worker processes (``spawn``), each with its own compile directory.

    Parameters
    ----------
    max_workers : int, optional
        Most processes (default: the CPU count). A pool is started at the first
        :meth:`map` with ``min(max_workers, jobs)`` processes and kept until
        :meth:`close`, so its workers' compiled models serve later maps too.
    """

    name = "processes"

    def __init__(self, max_workers: int | None = None) -> None:
        check_max_workers(max_workers)
        self.max_workers = max_workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._size = 0

    @property
    def workers(self) -> int:
        """Processes of the pool (0 before the first map)."""
        return self._size

    def _limit(self, n_jobs: int) -> int:
        limit = self.max_workers if self.max_workers is not None else cpu_count()
        return max(1, min(limit, n_jobs))

    def cores_per_job(self, n_jobs: int) -> int | None:
        """Return the machine's cores shared out among the pool's processes.

        Parameters
        ----------
        n_jobs : int
            Jobs about to be mapped.

        Returns
        -------
        int or None
            ``cpu_count() // processes``, at least 1.
        """
        return max(1, cpu_count() // (self._size or self._limit(n_jobs)))

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_result: Callable[[], None] | None = None
    ) -> list[R]:
        """Run ``fn`` on the pool's processes; results in item order.

        The pool starts at the first call, with ``min(max_workers, len(items))``
        processes (``max_workers`` defaults to the CPU count).

        Parameters
        ----------
        fn : callable
            A picklable function of one job (module-level, for processes and Dask).
        items : sequence
            The jobs.
        on_result : callable, optional
            Called here as each job's result arrives, in job order (progress).

        Returns
        -------
        list
            ``fn(item)`` per item, in item order.

        Raises
        ------
        ExecutorError
            A worker process died (killed, out of memory); the pool is shut down.
        """
        if not items:
            return []
        if self._pool is None:
            self._size = self._limit(len(items))
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self._size, mp_context=_WorkerSpawnContext()
            )
        try:
            return collect_results(self._pool.map(fn, items), on_result)
        except BrokenProcessPool as err:
            self.close()
            raise ExecutorError(
                "A worker process died (killed, or out of memory) and the local process pool "
                "cannot replace it; rerun with fewer workers, or with executor='dask', which "
                "reschedules the lost jobs."
            ) from err

    def close(self) -> None:
        """Shut the pool down (waits for running jobs)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
