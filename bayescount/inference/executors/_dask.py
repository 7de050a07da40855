"""Jobs on a Dask distributed cluster: an existing scheduler, a client, or a LocalCluster."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from bayescount.constants import SCHEDULER_ENV
from bayescount.exceptions import ExecutorError, SpecError
from bayescount.inference.executors._base import JobExecutor, check_max_workers, cpu_count
from bayescount.inference.executors._compiledir import worker_environ

if TYPE_CHECKING:
    import distributed

__all__ = ["SCHEDULER_ENV", "DaskExecutor", "import_distributed"]

log = logging.getLogger(__name__)


T = TypeVar("T")
R = TypeVar("R")


def import_distributed() -> Any:
    """Return the ``distributed`` module, or raise ``ExecutorError`` saying how to install it."""
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
    distributed = import_distributed()

    class _BayescountLocalCluster(distributed.LocalCluster):
        def new_worker_spec(self) -> dict[Any, dict[str, Any]]:
            spec = super().new_worker_spec()
            out = {}
            for name, worker in spec.items():
                options = dict(worker.get("options", {}))
                options["env"] = {**options.get("env", {}), **worker_environ(name)}
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
        check_max_workers(max_workers)
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
        """Return a LocalCluster worker's share of this machine's cores; ``None`` on a cluster.

        Parameters
        ----------
        n_jobs : int
            Jobs about to be mapped.

        Returns
        -------
        int or None
            ``cpu_count() // workers`` on a LocalCluster, else ``None``.
        """
        if self._cluster is None:
            return None
        return max(1, cpu_count() // max(1, len(self._cluster.worker_spec)))

    def _connect(self, n_jobs: int | None) -> None:
        distributed = import_distributed()
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
        limit = self.max_workers if self.max_workers is not None else cpu_count()
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

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_result: Callable[[], None] | None = None
    ) -> list[R]:
        """Submit one task per item; gather the results in item order.

        A worker lost while running a task is replaced and the task rescheduled by
        the scheduler (up to ``distributed.scheduler.allowed-failures`` times).
        Connects (or starts the LocalCluster) at the first call.

        Parameters
        ----------
        fn : callable
            A picklable function of one job (module-level, for processes and Dask).
        items : sequence
            The jobs.
        on_result : callable, optional
            Called here as each task finishes, in the order they finish (progress).

        Returns
        -------
        list
            ``fn(item)`` per item, in item order.

        Raises
        ------
        ExecutorError
            The scheduler cannot be reached, has no workers within the timeout, or
            gave up on a job whose workers kept dying.
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
            if on_result is not None:
                for _ in import_distributed().as_completed(futures):
                    on_result()
            return client.gather(futures)
        except import_distributed().KilledWorker as err:
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
