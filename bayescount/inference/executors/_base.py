"""The executor seam: :class:`JobExecutor`, and the in-process and pool-backed ones."""

from __future__ import annotations

import abc
import concurrent.futures
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from bayescount.exceptions import SpecError

__all__ = [
    "FuturesExecutor",
    "JobExecutor",
    "SerialExecutor",
    "check_max_workers",
    "collect_results",
    "cpu_count",
]

T = TypeVar("T")
R = TypeVar("R")


def cpu_count() -> int:
    """Return the number of CPUs (1 when unknown)."""
    return os.cpu_count() or 1


def check_max_workers(max_workers: int | None) -> None:
    """Refuse a ``max_workers`` that is not ``None`` or an integer >= 1.

    Parameters
    ----------
    max_workers : int or None
        Most worker processes.

    Raises
    ------
    SpecError
        Not ``None`` and not an integer >= 1 (booleans refused).
    """
    if max_workers is not None and (
        not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
    ):
        raise SpecError(f"max_workers must be >= 1, got {max_workers!r}.")


class JobExecutor(abc.ABC):
    """Runs a function over jobs and returns the results in job order.

    Subclasses set :attr:`name` and implement :meth:`map`; :meth:`close` releases
    what the executor started. Executors are context managers.
    """

    #: ``"serial"``, ``"processes"``, ``"dask"`` or ``"futures"``.
    name: str = ""

    @abc.abstractmethod
    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_result: Callable[[], None] | None = None
    ) -> list[R]:
        """Return ``[fn(item) for item in items]``, computed where this executor runs jobs.

        Raises the first job's exception (its own type) when a job fails.

        Parameters
        ----------
        fn : callable
            A picklable function of one job (module-level, for processes and Dask).
        items : sequence
            The jobs.
        on_result : callable, optional
            Called here, without arguments, as each job's result arrives (progress).

        Returns
        -------
        list
            ``fn(item)`` per item, in item order.

        Raises
        ------
        ExecutorError
            (Subclasses) workers cannot start, or were lost and cannot be replaced.
        """

    @property
    def workers(self) -> int:
        """Worker processes that ran (or will run) jobs; 1 in this process."""
        return 1

    @property
    def in_process(self) -> bool:
        """Whether jobs run in this process (compiled models then stay here)."""
        return False

    def cores_per_job(self, n_jobs: int) -> int | None:
        """CPU cores each job may use for parallel chains (``None``: the job decides).

        Parameters
        ----------
        n_jobs : int
            Jobs about to be mapped.

        Returns
        -------
        int or None
            ``None`` here; subclasses share out local cores.
        """
        return None

    def close(self) -> None:  # noqa: B027 (nothing to release by default)
        """Release the workers this executor started (not those it was given)."""

    def __enter__(self) -> JobExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}, {self.workers} worker(s)>"


class SerialExecutor(JobExecutor):
    """Every job in this process, in order."""

    name = "serial"

    @property
    def in_process(self) -> bool:
        """Always ``True``."""
        return True

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_result: Callable[[], None] | None = None
    ) -> list[R]:
        """Run ``fn`` on each item here, in order.

        Parameters
        ----------
        fn : callable
            A picklable function of one job (module-level, for processes and Dask).
        items : sequence
            The jobs.
        on_result : callable, optional
            Called here, without arguments, as each job's result arrives (progress).

        Returns
        -------
        list
            ``fn(item)`` per item, in item order.
        """
        out = []
        for item in items:
            out.append(fn(item))
            if on_result is not None:
                on_result()
        return out


class FuturesExecutor(JobExecutor):
    """Jobs on a :class:`concurrent.futures.Executor` you own (never shut down here)."""

    name = "futures"

    def __init__(self, pool: concurrent.futures.Executor) -> None:
        self.pool = pool

    @property
    def workers(self) -> int:
        """The pool's ``_max_workers`` when it has one, else 1."""
        return int(getattr(self.pool, "_max_workers", 1) or 1)

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_result: Callable[[], None] | None = None
    ) -> list[R]:
        """Run ``fn`` on the pool; results in item order.

        Parameters
        ----------
        fn : callable
            A picklable function of one job (module-level, for processes and Dask).
        items : sequence
            The jobs.
        on_result : callable, optional
            Called here, without arguments, as each job's result arrives (progress).

        Returns
        -------
        list
            ``fn(item)`` per item, in item order.
        """
        return collect_results(self.pool.map(fn, items), on_result)


def collect_results[Result](
    results: Iterator[Result], on_result: Callable[[], None] | None
) -> list[Result]:
    """List ``results`` (an ordered iterator), calling ``on_result`` after each.

    Parameters
    ----------
    results : iterator
        Results in job order (e.g. ``Executor.map``).
    on_result : callable or None
        Called without arguments after each result.

    Returns
    -------
    list
    """
    out = []
    for result in results:
        out.append(result)
        if on_result is not None:
            on_result()
    return out
