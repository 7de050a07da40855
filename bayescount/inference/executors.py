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

import abc
import concurrent.futures
import contextlib
import itertools
import logging
import multiprocessing.context
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bayescount.exceptions import ExecutorError, SpecError

if TYPE_CHECKING:
    import distributed

__all__ = [
    "EXECUTORS",
    "SCHEDULER_ENV",
    "DaskExecutor",
    "FuturesExecutor",
    "JobExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "open_executor",
    "resolve_executor",
    "worker_compiledir",
]

log = logging.getLogger(__name__)

#: Executor names accepted by ``executor=`` and ``--executor``.
EXECUTORS = ("serial", "processes", "dask")
#: Environment variable with the address of an existing Dask scheduler.
SCHEDULER_ENV = "BAYESCOUNT_DASK_SCHEDULER"

ExecutorName = Literal["serial", "processes", "dask"]
T = TypeVar("T")
R = TypeVar("R")


def _cpu_count() -> int:
    return os.cpu_count() or 1


def _check_max_workers(max_workers: int | None) -> None:
    if max_workers is not None and (
        not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
    ):
        raise SpecError(f"max_workers must be >= 1, got {max_workers!r}.")


# ------------------------------------------------------------ compile directories
def worker_compiledir(slot: int | str) -> Path:
    """Return the PyTensor ``base_compiledir`` of worker ``slot`` started by bayescount.

    ``<base>/bayescount-workers/worker-<slot>`` where ``<base>`` is this process's
    ``pytensor.config.base_compiledir`` (``~/.pytensor`` unless configured).
    """
    import pytensor

    return Path(pytensor.config.base_compiledir) / "bayescount-workers" / f"worker-{slot}"


def _flags_with_compiledir(flags: str, directory: Path) -> str:
    """``PYTENSOR_FLAGS`` with ``base_compiledir`` (and ``compiledir``) replaced."""
    kept = [
        item
        for item in flags.split(",")
        if item.strip() and item.split("=", 1)[0].strip() not in ("base_compiledir", "compiledir")
    ]
    return ",".join([*kept, f"base_compiledir={directory}"])


def _worker_environ(slot: int | str) -> dict[str, str]:
    """Return the environment variables that give worker ``slot`` its own compile directory."""
    flags = _flags_with_compiledir(os.environ.get("PYTENSOR_FLAGS", ""), worker_compiledir(slot))
    return {"PYTENSOR_FLAGS": flags}


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _WorkerSpawnContext(multiprocessing.context.SpawnContext):
    """``spawn`` whose k-th process starts with its own PyTensor compile directory."""

    def __init__(self) -> None:
        self._slots = itertools.count()

    def Process(self, *args: Any, **kwargs: Any) -> multiprocessing.context.SpawnProcess:  # noqa: N802
        """Return a spawn process that starts with the next slot's environment."""
        process = _WorkerProcess(*args, **kwargs)
        process.bayescount_environ = _worker_environ(next(self._slots))
        return process


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    bayescount_environ: dict[str, str]

    def start(self) -> None:
        # The spawned interpreter inherits this process's environment at exec time,
        # before it imports PyTensor (which fixes its compile directory on import).
        with _environ(self.bayescount_environ):
            super().start()


# ---------------------------------------------------------------------- the seam
class JobExecutor(abc.ABC):
    """Runs a function over jobs and returns the results in job order.

    Subclasses set :attr:`name` and implement :meth:`map`; :meth:`close` releases
    what the executor started. Executors are context managers.
    """

    #: ``"serial"``, ``"processes"``, ``"dask"`` or ``"futures"``.
    name: str = ""

    @abc.abstractmethod
    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Return ``[fn(item) for item in items]``, computed where this executor runs jobs.

        Raises the first job's exception (its own type) when a job fails.
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
        """CPU cores each job may use for parallel chains (``None``: the job decides)."""
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

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn`` on each item here, in order."""
        return [fn(item) for item in items]


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
        _check_max_workers(max_workers)
        self.max_workers = max_workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._size = 0

    @property
    def workers(self) -> int:
        """Processes of the pool (0 before the first map)."""
        return self._size

    def _limit(self, n_jobs: int) -> int:
        limit = self.max_workers if self.max_workers is not None else _cpu_count()
        return max(1, min(limit, n_jobs))

    def cores_per_job(self, n_jobs: int) -> int | None:
        """Return the machine's cores shared out among the pool's processes."""
        return max(1, _cpu_count() // (self._size or self._limit(n_jobs)))

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn`` on the pool's processes; results in item order."""
        if not items:
            return []
        if self._pool is None:
            self._size = self._limit(len(items))
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self._size, mp_context=_WorkerSpawnContext()
            )
        try:
            return list(self._pool.map(fn, items))
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


class FuturesExecutor(JobExecutor):
    """Jobs on a :class:`concurrent.futures.Executor` you own (never shut down here)."""

    name = "futures"

    def __init__(self, pool: concurrent.futures.Executor) -> None:
        self.pool = pool

    @property
    def workers(self) -> int:
        """The pool's ``_max_workers`` when it has one, else 1."""
        return int(getattr(self.pool, "_max_workers", 1) or 1)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn`` on the pool; results in item order."""
        return list(self.pool.map(fn, items))


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            "executor='dask' needs Dask distributed; install it with "
            "pip install 'bayescount[dask]' (or pip install 'dask[distributed]')."
        ) from None
    return distributed


def _local_cluster_class() -> type:
    """Return a LocalCluster class whose worker ``k`` starts with its own compile directory."""
    distributed = _distributed()

    class _BayescountLocalCluster(distributed.LocalCluster):
        def new_worker_spec(self) -> dict[Any, dict[str, Any]]:
            spec = super().new_worker_spec()
            out = {}
            for name, worker in spec.items():
                options = dict(worker.get("options", {}))
                options["env"] = {**options.get("env", {}), **_worker_environ(name)}
                out[name] = {**worker, "options": options}
            return out

    return _BayescountLocalCluster


class DaskExecutor(JobExecutor):
    """Jobs on a Dask distributed cluster.

    Parameters
    ----------
    client : distributed.Client, optional
        A connected client; it is used as is and never closed here.
    scheduler : str, optional
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``); a client is
        connected at the first :meth:`map` and closed by :meth:`close` (the cluster
        keeps running).
    max_workers : int, optional
        Without ``client`` and ``scheduler``: workers of the LocalCluster started at
        the first :meth:`map` (default: the CPU count, at most the number of jobs),
        one thread each; :meth:`close` shuts it down.
    timeout : float
        Seconds to wait for the scheduler and for the first worker.
    """

    name = "dask"

    def __init__(
        self,
        client: distributed.Client | None = None,
        *,
        scheduler: str | None = None,
        max_workers: int | None = None,
        timeout: float = 60.0,
    ) -> None:
        _check_max_workers(max_workers)
        if client is not None and scheduler is not None:
            raise SpecError("Pass a Dask client or a scheduler address, not both.")
        self.scheduler = scheduler
        self.max_workers = max_workers
        self.timeout = timeout
        self._client = client
        self._owns_client = False
        self._cluster: Any = None

    @property
    def client(self) -> distributed.Client:
        """The client (connecting, or starting the LocalCluster, on first use)."""
        if self._client is None:
            self._connect(None)
        return self._client

    @property
    def workers(self) -> int:
        """Workers the scheduler knows now (0 before connecting)."""
        if self._client is None:
            return 0
        return len(self._client.nthreads())

    @property
    def local(self) -> bool:
        """Whether this executor started (and will close) a LocalCluster."""
        return self._cluster is not None

    def cores_per_job(self, n_jobs: int) -> int | None:
        """Return a LocalCluster worker's share of this machine's cores; ``None`` on a cluster."""
        if self._cluster is None:
            return None
        return max(1, _cpu_count() // max(1, len(self._cluster.worker_spec)))

    def _connect(self, n_jobs: int | None) -> None:
        distributed = _distributed()
        if self.scheduler is not None:
            try:
                self._client = distributed.Client(self.scheduler, timeout=self.timeout)
            except (OSError, TimeoutError) as err:
                raise ExecutorError(
                    f"Cannot reach the Dask scheduler at {self.scheduler!r} ({err}). Start one "
                    f"(dask scheduler) or unset --scheduler / {SCHEDULER_ENV} to run a local "
                    "cluster."
                ) from None
            self._owns_client = True
            return
        limit = self.max_workers if self.max_workers is not None else _cpu_count()
        n = max(1, min(limit, n_jobs or limit))
        cluster = _local_cluster_class()(
            n_workers=0,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # no dashboard; its HTTP server (health, metrics) on any free port, not 8787
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        )
        try:
            cluster.scale(n)
            self._client = distributed.Client(cluster, timeout=self.timeout)
            self._client.wait_for_workers(n, timeout=self.timeout)
        except BaseException:
            if self._client is not None:
                self._client.close()
            cluster.close()
            self._client = None
            raise
        self._cluster = cluster
        self._owns_client = True
        log.info("started a Dask LocalCluster with %d worker(s)", n)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Submit one task per item; gather the results in item order.

        A worker lost while running a task is replaced and the task rescheduled by
        the scheduler (up to ``distributed.scheduler.allowed-failures`` times).
        """
        if not items:
            return []
        if self._client is None:
            self._connect(len(items))
        client = self._client
        try:
            client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            raise ExecutorError(
                f"The Dask scheduler at {client.scheduler.address} has no workers after "
                f"{self.timeout:.0f}s; start some (dask worker ADDRESS)."
            ) from None
        token = uuid.uuid4().hex[:12]
        keys = [f"bayescount-fit-{token}-{i}" for i in range(len(items))]
        futures = client.map(fn, list(items), key=keys, pure=False)
        try:
            return client.gather(futures)
        except _distributed().KilledWorker as err:
            raise ExecutorError(
                f"Dask gave up on a job after its workers died repeatedly ({err}); the job may "
                "need more memory than a worker has."
            ) from None
        finally:
            client.cancel(futures)

    def close(self) -> None:
        """Close the client and the LocalCluster this executor started."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


# ------------------------------------------------------------------ resolving
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
    _distributed()
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
