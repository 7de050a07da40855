"""One fitting driver: fit jobs in, results out, through an executor.

:meth:`CountModel.fit <bayescount.CountModel.fit>`, rolling-origin backtests,
simulation-based calibration and family comparison all describe their fits as
:class:`FitJob` s and hand them to :func:`run_fits`, which runs them through an
executor (:mod:`bayescount.inference.executors`: this process, local processes or
Dask) and returns one :class:`FitResult` per job, in job order.

A job is fitted one of two ways:

compiled (nutpie, re-used)
    When no sampling function is given and the job samples with nutpie with a
    diagonal mass matrix (the pointwise log-likelihood is computed after sampling,
    on either path), the worker compiles the
    model once with :class:`~bayescount.inference.compiled.CompiledSampler` and
    keeps it in a small per-thread cache keyed by the spec hash, the design, the
    parameterization, the sampler settings and the template rows; later jobs with
    the same key swap their rows in (``CompiledModel.with_data``) instead of
    recompiling.
seam
    Otherwise the worker builds the model and calls the sampling function
    (:func:`~bayescount.inference.run_sampler` by default): :func:`fit_prepared`,
    exactly what :func:`~bayescount.inference.fit_table` does.

An optional ``then(fit, job)`` runs on the worker, so only its (small) result
travels back; without it the :class:`~bayescount.Fit` itself does. Seeds travel
with the jobs, so the same seeds give identical numbers whatever the executor.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import socket
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bayescount._warnings import warn
from bayescount.exceptions import SpecError
from bayescount.inference._tree_data import _finish_tree
from bayescount.inference.compiled import CompiledSampler, data_updates
from bayescount.inference.convergence import ConvergenceThresholds, check_convergence
from bayescount.inference.executors import JobExecutor, open_executor
from bayescount.inference.fit import Fit, fit_prepared, prepare_training
from bayescount.inference.sampling import SampleFn, SamplerConfig
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.validate import validate_frame
from bayescount.progress import progress

if TYPE_CHECKING:
    import concurrent.futures

    import distributed

__all__ = ["FitJob", "FitResult", "clear_compiled_models", "run_fits"]

log = logging.getLogger(__name__)

#: Compiled models kept per worker thread (least recently used dropped first).
CACHE_SIZE = 4

Then = Callable[[Fit, "FitJob"], Any]


@dataclass(frozen=True, eq=False)
class FitJob:
    """One fit for the driver: a spec, its rows, the sampler settings and a seed.

    Frozen; compared and hashed by identity (it may hold a table).

    Attributes
    ----------
    spec : ModelSpec
        The model.
    data : PreparedData or pandas.DataFrame
        Encoded training rows (then ``design`` is required), or a table that is
        validated on the worker and encoded with ``design`` (fitted on it when
        ``design`` is ``None``).
    config : SamplerConfig
        How to run NUTS.
    design : Design, optional
        The encoding of ``data``.
    seed : int, optional
        Sampler seed of this job (replaces ``config.random_seed``).
    key : hashable, optional
        The caller's label (origin index, family, simulation number); copied into the
        :class:`FitResult`.
    parameterization : mapping, optional
        ``"centered"`` / ``"non_centered"`` per level (and ``"latent"``); default:
        chosen from the rows (:func:`~bayescount.models.choose_parameterization`).
    template : PreparedData, optional
        Rows the compiled model is built on when it is re-used (default: this job's
        rows). Jobs that share spec, design, parameterization, sampler settings and
        template share one compiled model per worker.
    extra : any
        Whatever ``then`` needs besides the fit (held-out rows, seeds); travels with
        the job and is never fitted.
    """

    spec: ModelSpec
    data: PreparedData | pd.DataFrame
    config: SamplerConfig
    design: Design | None = None
    seed: int | None = None
    key: Hashable = None
    parameterization: Mapping[str, str] | None = None
    template: PreparedData | None = None
    extra: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.spec, ModelSpec):
            raise SpecError(f"FitJob.spec must be a ModelSpec, got {type(self.spec).__name__}.")
        if not isinstance(self.config, SamplerConfig):
            raise SpecError(
                f"FitJob.config must be a SamplerConfig, got {type(self.config).__name__}."
            )
        if isinstance(self.data, PreparedData):
            if self.design is None:
                raise SpecError("A FitJob with encoded rows (PreparedData) needs their design.")
        elif not isinstance(self.data, pd.DataFrame):
            raise SpecError(
                f"FitJob.data must be a DataFrame or PreparedData, got {type(self.data).__name__}."
            )


@dataclass(frozen=True)
class FitResult:
    """What one job returned, and how it ran.

    Attributes
    ----------
    key : hashable
        The job's ``key``.
    value : Fit or any
        The :class:`~bayescount.Fit`, or ``then(fit, job)`` when ``then`` was given.
    engine : {"compiled", "seam"}
        Whether the job sampled a re-usable compiled model or called the sampling
        function.
    compile_seconds : float
        Time compiling the model for this job (0 when it re-used one; with the seam,
        compiling is inside ``sample_seconds``).
    sample_seconds : float
        Time sampling.
    worker : str
        ``host:pid`` of the process that ran the job.
    warnings : tuple of (type, str)
        Warnings the job issued on a worker process (category, message); the driver
        issues them again here. Empty for jobs run in this process (their warnings
        were issued directly).
    """

    key: Hashable
    value: Any
    engine: Literal["compiled", "seam"]
    compile_seconds: float
    sample_seconds: float
    worker: str
    warnings: tuple[tuple[type[Warning], str], ...] = ()


# ------------------------------------------------------------ compiled models
_LOCAL = threading.local()


def _cache() -> OrderedDict[str, CompiledSampler]:
    cache = getattr(_LOCAL, "engines", None)
    if cache is None:
        cache = _LOCAL.engines = OrderedDict()
    return cache


def clear_compiled_models() -> None:
    """Drop the compiled models this thread keeps (each worker keeps its own)."""
    _cache().clear()


def _compile_key(
    spec: ModelSpec, design: Design, how: Mapping[str, str], config: SamplerConfig,
    template: PreparedData,
) -> str:
    settings = dataclasses.replace(config, random_seed=None, cores=None, progressbar=None)
    blob = pickle.dumps(
        (spec.hash(), design, sorted(how.items()), settings, template),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    return hashlib.sha256(blob).hexdigest()


def _engine(
    spec: ModelSpec, design: Design, how: Mapping[str, str], config: SamplerConfig,
    template: PreparedData,
) -> tuple[CompiledSampler, float]:
    """Return this thread's compiled model for the key, compiling it on first use."""
    from bayescount.models.builder import build_model

    key = _compile_key(spec, design, how, config, template)
    cache = _cache()
    engine = cache.get(key)
    if engine is not None:
        cache.move_to_end(key)
        return engine, 0.0
    engine = CompiledSampler(build_model(spec, design, template, dict(how)), config)
    cache[key] = engine
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return engine, engine.compile_seconds


def compiled_reuse_possible(config: SamplerConfig, sample_fn: SampleFn | None) -> bool:
    """Whether jobs with ``config`` run on a re-used compiled nutpie model.

    Parameters
    ----------
    config : SamplerConfig
        The jobs' sampler settings.
    sample_fn : callable or None
        The jobs' sampling function; any function (a fake, a custom sampler) means
        the seam path.

    Returns
    -------
    bool
        ``True`` for nutpie with no sampling function and a diagonal mass matrix
        (the pointwise log-likelihood is computed after sampling, on any path).
    """
    return sample_fn is None and config.sampler == "nutpie" and config.mass_matrix == "diag"


# ------------------------------------------------------------- the worker side
def _encode(job: FitJob) -> tuple[Design, PreparedData, pd.Series | None]:
    """Return the job's design, encoded rows and (for a table with a time column) timestamps."""
    if isinstance(job.data, PreparedData):
        return job.design, job.data, None  # type: ignore[return-value]
    time_col = job.spec.schema.time
    if job.design is None:
        clean, design, prepared = prepare_training(job.spec, job.data)
    else:
        clean = validate_frame(job.data, job.spec.schema)
        design, prepared = job.design, job.design.transform(clean)
    return design, prepared, clean[time_col] if time_col is not None else None


@dataclass(frozen=True)
class _Task:
    """The function every worker runs on a job (picklable: module-level, plain fields)."""

    then: Then | None
    sample_fn: SampleFn | None
    thresholds: ConvergenceThresholds | None
    cores: int | None
    capture_warnings: bool = False

    def __call__(self, job: FitJob) -> FitResult:
        if not self.capture_warnings:
            return self._run(job)
        # On a worker process nobody sees a warning: record it for the caller.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self._run(job)
        seen = tuple(dict.fromkeys((w.category, str(w.message)) for w in caught))
        return dataclasses.replace(result, warnings=seen)

    def _run(self, job: FitJob) -> FitResult:
        from bayescount.models.parameterization import choose_parameterization

        design, prepared, times = _encode(job)
        how = (
            dict(job.parameterization)
            if job.parameterization is not None
            else choose_parameterization(job.spec, design, prepared)
        )
        seed = job.seed if job.seed is not None else job.config.random_seed
        config = dataclasses.replace(job.config, random_seed=seed)
        compile_seconds = 0.0
        start = time.perf_counter()
        if compiled_reuse_possible(config, self.sample_fn):
            engine, compile_seconds = _engine(
                job.spec, design, how, config, job.template or prepared
            )
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
            cores = config.cores or self.cores
            start = time.perf_counter()
            tree = engine.sample(
                data_updates(design, prepared, engine.compression), seed,
                None if cores is None else min(cores, config.chains),
            )
            _finish_tree(tree, job.spec, design, prepared,
                         log_likelihood=config.log_likelihood, times=times)
            fit = Fit(
                spec=job.spec,
                design=design,
                parameterization=how,
                tree=tree,
                sampler_config=config,
                convergence=check_convergence(tree, self.thresholds, how, emit_warning=False),
            )
            engine_name: Literal["compiled", "seam"] = "compiled"
        else:
            from bayescount.inference.sampling import run_sampler

            fit = fit_prepared(
                job.spec, design, prepared, config, parameterization=how,
                thresholds=self.thresholds, sample_fn=self.sample_fn or run_sampler,
                emit_warning=False, times=times,
            )
            engine_name = "seam"
        sample_seconds = time.perf_counter() - start
        value = fit if self.then is None else self.then(fit, job)
        return FitResult(
            key=job.key,
            value=value,
            engine=engine_name,
            compile_seconds=compile_seconds,
            sample_seconds=sample_seconds,
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )


# ---------------------------------------------------------------------- driver
def run_fits(
    jobs: Sequence[FitJob],
    *,
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    scheduler: str | None = None,
    max_workers: int | None = None,
    then: Then | None = None,
    sample_fn: SampleFn | None = None,
    thresholds: ConvergenceThresholds | None = None,
    description: str = "fits",
) -> list[FitResult]:
    """Fit every job through an executor; return one :class:`FitResult` per job, in order.

    Parameters
    ----------
    jobs : sequence of FitJob
        The fits.
    executor : str, JobExecutor, concurrent.futures.Executor, distributed.Client, optional
        ``"serial"`` (default), ``"processes"`` or ``"dask"``, or an open executor,
        pool or Dask client (see :func:`~bayescount.inference.executors.resolve_executor`).
        What is started for a name is closed before returning.
    scheduler : str, optional
        Dask scheduler address (``executor="dask"``; default the
        ``BAYESCOUNT_DASK_SCHEDULER`` environment variable, else a LocalCluster).
    max_workers : int, optional
        Most local worker processes.
    then : callable, optional
        ``then(fit, job)``, run on the worker; its result replaces the fit in
        :attr:`FitResult.value`. Must be picklable (a module-level function) for
        worker processes and Dask.
    sample_fn : callable, optional
        ``(pm.Model, SamplerConfig) -> DataTree``: sample every job through this seam
        (no compiled model is re-used). Default: nutpie jobs re-use a compiled model
        per worker, the others call :func:`~bayescount.inference.run_sampler`.
    thresholds : ConvergenceThresholds, optional
        Limits of each fit's convergence gate (no warning is issued here; the caller
        reports failed gates).
    description : str
        What the progress bar counts (:func:`bayescount.progress.progress`; shown for
        two jobs or more, in a terminal or a notebook, never under ``CI``).

    Warnings a job issues on a worker process (e.g. rows dropped while validating a
    table) are recorded there and issued again here, once per distinct message, so
    every executor warns alike.

    Returns
    -------
    list of FitResult

    Raises
    ------
    ExecutorError
        The executor could not start or lost its workers for good.
    BayescountError
        A job's own error (bad rows, a failed sampler), re-raised here.
    """
    jobs = list(jobs)
    if not jobs:
        return []
    with open_executor(executor, scheduler=scheduler, max_workers=max_workers) as ex:
        task = _Task(then=then, sample_fn=sample_fn, thresholds=thresholds,
                     cores=ex.cores_per_job(len(jobs)), capture_warnings=not ex.in_process)
        start = time.perf_counter()
        try:
            with progress(len(jobs), description) as advance:
                results = ex.map(task, jobs, on_result=advance)
        finally:
            if ex.in_process:
                clear_compiled_models()
        log.info("%d fit(s) on %s in %.1fs", len(jobs), ex, time.perf_counter() - start)
    for category, message in dict.fromkeys(w for r in results for w in r.warnings):
        warn(message, category)
    return results
