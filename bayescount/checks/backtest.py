"""Rolling-origin backtests: refit at each origin, score the windows after it.

:func:`backtest` cuts the data at ``origins`` forecast origins
(:func:`~bayescount.prep.splits.rolling_origins`: expanding training window,
``horizon`` grid steps held out after each origin), refits the model on each
training window and scores the held-out rows with the calibrated coverage of
:mod:`bayescount.checks.coverage` (randomised-PIT and inclusive coverage, CRPS,
interval score) and two point errors of the predictive mean:

``relative_mae``
    ``MAE(model) / MAE(naive baseline)``; below 1 beats the baseline. The baseline
    is exposure-adjusted (:mod:`bayescount.checks._baselines`): each series' rate
    (counts / exposure) is carried forward and multiplied by the held-out row's
    exposure. ``"seasonal_naive"`` carries the rate of the same phase one season
    earlier, with the longest seasonal period of the spec that fits in the earliest
    training window; ``"mean"`` carries the series' mean training rate. ``"auto"``
    (default) is seasonal naive for seasonal specs and the mean otherwise.
``scaled_mae``
    ``MAE(model) / mean(observed)`` (= sum |error| / sum counts, the WAPE); the
    scale-free error behind the target "relative MAE under 20% on stable series".

Both are reported overall, per horizon, per group and per origin.

The refits go through the fitting driver (:func:`bayescount.inference.run_fits`):
on local processes by default, in this process, or on a Dask cluster. The model is
compiled once per worker and re-used at every origin it fits: the builder's data
enter through ``pm.Data`` containers, so nutpie's ``CompiledModel.with_data`` swaps
in each origin's training rows without recompiling; one design serves every origin
(:mod:`bayescount.checks._backtest_jobs`). Each origin is scored on the worker, so
only the scores travel back. Seeds are derived per origin from the master seed
(``numpy.random.SeedSequence(seed).spawn(origins)``), so every executor gives
identical numbers.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescount._warnings import renamed_keywords, warn, warn_deprecated
from bayescount.checks._backtest_jobs import (
    OriginOutcome,
    origin_jobs,
    score_origin,
    shared_design,
)
from bayescount.checks._baselines import baseline_forecast, seasonal_period
from bayescount.checks._options import from_fit_kwargs
from bayescount.checks.backtest_report import BacktestReport, OriginResult
from bayescount.checks.coverage import DEFAULT_LEVELS, RowScores, summarize_coverage
from bayescount.exceptions import ColumnNotFoundError, ConvergenceWarning, SpecError
from bayescount.inference.convergence import ConvergenceThresholds
from bayescount.inference.driver import FitResult, compiled_reuse_possible, run_fits
from bayescount.inference.executors import JobExecutor, open_executor
from bayescount.inference.sampling import SamplerConfig
from bayescount.models.parameterization import choose_parameterization
from bayescount.models.spec import ModelSpec, as_spec
from bayescount.prep.splits import HORIZON_COLUMN, TimeSplit, rolling_origins
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    import distributed
    import pymc as pm

__all__ = [
    "BacktestReport",
    "OriginResult",
    "backtest",
]

log = logging.getLogger(__name__)

Baseline = Literal["auto", "seasonal_naive", "mean"]
SampleFn = Callable[["pm.Model", SamplerConfig], xr.DataTree]

#: Keys accepted in the deprecated ``fit_kwargs``.
FIT_KEYS = ("draws", "tune", "chains", "cores", "sampler", "target_accept", "thresholds",
            "random_seed", "progressbar")


def _executor_of(
    executor: Any, parallel: bool | None
) -> str | JobExecutor | concurrent.futures.Executor | distributed.Client | None:
    """Return the executor, with the deprecated ``parallel`` flag mapped onto it."""
    if parallel is None:
        return executor
    warn_deprecated(
        "parallel= is deprecated and will be removed in the next release; pass "
        "executor='processes' (parallel=True) or executor='serial' (parallel=False)."
    )
    if executor is not None:
        raise SpecError("Pass executor= or the deprecated parallel=, not both.")
    return "processes" if parallel else "serial"


@renamed_keywords(levels="probs")
def backtest(
    model: Any,
    data: pd.DataFrame,
    *,
    origins: int = 3,
    horizon: int = 1,
    stride: int | None = None,
    config: SamplerConfig | None = None,
    thresholds: ConvergenceThresholds | None = None,
    probs: Sequence[float] = DEFAULT_LEVELS,
    by: str | None = None,
    baseline: Baseline = "auto",
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    scheduler: str | None = None,
    max_workers: int | None = None,
    random_seed: int | None = None,
    sample_fn: SampleFn | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    parallel: bool | None = None,
) -> BacktestReport:
    """Refit a model at rolling origins and score each held-out horizon.

    Parameters
    ----------
    model : CountModel, Fit, ModelSpec or dict
        The model to refit (only its specification is used; a fitted model is not
        modified), or the keyword arguments of :class:`~bayescount.CountModel`.
        The schema needs a time column.
    data : pandas.DataFrame
        The whole count table; validated like :meth:`CountModel.fit` does.
    origins : int
        Number of forecast origins (refits).
    horizon : int
        Grid steps (windows) forecast after each origin; scored as horizons 1..H.
    stride : int, optional
        Grid steps between origins (default ``horizon``).
    config : SamplerConfig, optional
        How to run NUTS at every refit (default ``SamplerConfig()``); its
        ``random_seed`` is the master seed when ``random_seed`` is not given.
    thresholds : ConvergenceThresholds, optional
        Limits of each refit's convergence gate.
    probs : sequence of float
        Central interval probabilities scored (``levels=`` is the old name, deprecated).
    by : str, optional
        Column for the per-group breakdown (default: the outermost group, if any).
    baseline : {"auto", "seasonal_naive", "mean"}
        Naive forecast behind ``relative_mae`` (see the module docstring).
    executor : {"processes", "serial", "dask"}, distributed.Client or executor, optional
        Where the refits run (default ``"processes"``: local worker processes, each
        compiling the model once; see :mod:`bayescount.inference.executors`). On a
        machine with few cores, or for few origins, ``"serial"`` can be faster
        because it compiles only once in all. ``"dask"`` uses the scheduler at
        ``scheduler`` (or ``BAYESCOUNT_DASK_SCHEDULER``), else a LocalCluster started
        and closed here. Local processes are started with ``spawn``: a script that
        calls this needs the usual ``if __name__ == "__main__":`` guard.
    scheduler : str, optional
        Address of a Dask scheduler (implies ``executor="dask"``).
    max_workers : int, optional
        Most local worker processes (default: the CPU count, at most ``origins``).
    random_seed : int, optional
        Master seed; per-origin seeds are spawned from it, so the same seed gives
        identical numbers on every executor.
    sample_fn : callable, optional
        ``(pm.Model, SamplerConfig) -> DataTree`` sampling function (the fit seam,
        e.g. :func:`bayescount.inference.run_sampler`); when given, every origin
        builds and compiles its own model instead of re-using one (nutpie only
        supports re-use).
    fit_kwargs : dict, optional
        Deprecated (``FutureWarning``): ``draws``, ``tune``, ``chains``, ``cores``,
        ``sampler``, ``target_accept``, ``thresholds`` and ``random_seed``; use
        ``config`` and ``thresholds``.
    parallel : bool, optional
        Deprecated (``FutureWarning``): ``executor="processes"`` / ``"serial"``.

    Returns
    -------
    BacktestReport

    Raises
    ------
    SpecError
        No time column, an invalid option, or a seasonal baseline without a season
        that fits the earliest training window.
    ColumnNotFoundError
        ``by`` is not a column.
    ExecutorError
        The executor could not start or lost its workers for good.

    Warns
    -----
    ConvergenceWarning
        When a refit fails the convergence gate (once, naming the origins).
    """
    start = time.perf_counter()
    config, thresholds, _ = from_fit_kwargs(fit_kwargs, config, thresholds, allowed=FIT_KEYS)
    executor = _executor_of(executor, parallel)
    config = config or SamplerConfig()
    spec = as_spec(model)
    schema = spec.schema
    if schema.time is None:
        raise SpecError("A backtest needs the schema's time column (CountModel(time=...)).")
    if baseline not in ("auto", "seasonal_naive", "mean"):
        raise SpecError(f"baseline must be 'auto', 'seasonal_naive' or 'mean', got {baseline!r}.")
    frame = validate_frame(data, schema)
    if by is None and schema.groups:
        by = schema.groups[0]
    if by is not None and by not in frame.columns:
        raise ColumnNotFoundError(
            f"by={by!r} is not a column of the data; columns: {sorted(map(str, frame.columns))}."
        )
    splits = rolling_origins(frame, schema.time, origins=origins, horizon=horizon, stride=stride)
    design = shared_design(frame, splits, spec)
    how = choose_parameterization(spec, design, design.transform(splits[0].train))

    period = None
    if baseline != "mean":
        steps = int((splits[0].origin - frame[schema.time].min()) / splits[0].step) + 1
        period = seasonal_period(spec, splits[0].step, steps)
        if period is None and baseline == "seasonal_naive":
            raise SpecError(
                "baseline='seasonal_naive' needs a seasonality component whose period is a "
                "whole number of time steps and fits in the earliest training window; use "
                "baseline='mean'."
            )
    baseline_name = "seasonal_naive" if period is not None else "mean"

    seed_seq = np.random.SeedSequence(random_seed if random_seed is not None
                                      else config.random_seed)
    jobs = origin_jobs(spec, design, splits, how, config, seed_seq,
                       tuple(float(x) for x in probs))
    with open_executor(executor, scheduler=scheduler, max_workers=max_workers,
                       default="processes") as ex:
        results = run_fits(jobs, executor=ex, then=score_origin, sample_fn=sample_fn,
                           thresholds=thresholds, description="backtest refits")
        workers, executor_name = ex.workers, ex.name
    reused = compiled_reuse_possible(config, sample_fn) and spec.latent is None
    return _assemble(
        splits, results, spec, by, horizon, period, baseline_name, seed_seq,
        workers=max(workers, 1), executor=executor_name, reused=reused,
        elapsed=time.perf_counter() - start,
    )


def _assemble(
    splits: list[TimeSplit], results: list[FitResult], spec: ModelSpec, by: str | None,
    horizon: int, period: int | None, baseline_name: str, seed_seq: np.random.SeedSequence,
    *, workers: int, executor: str, reused: bool, elapsed: float,
) -> BacktestReport:
    schema = spec.schema
    outcomes: list[OriginOutcome] = [r.value for r in results]
    frames = []
    for split, out in zip(splits, outcomes, strict=True):
        hold = split.holdout
        cols = [c for c in (schema.time, *schema.groups, HORIZON_COLUMN) if c is not None]
        if by is not None and by not in cols:
            cols.append(by)
        part = hold[cols].copy()
        part.insert(0, "origin_time", split.origin)
        part.insert(0, "origin", split.index)
        if schema.exposure:
            part[schema.exposure] = hold[schema.exposure].to_numpy()
        part["observed"] = out.scores.y
        part["mean"] = out.mean
        part["baseline"] = baseline_forecast(split, spec, period)
        part["pit"] = out.scores.pit
        part["crps"] = out.scores.crps
        frames.append(part)
    rows = pd.concat(frames, ignore_index=True)
    scores = RowScores.concat([o.scores for o in outcomes])
    seed_value = int(seed_seq.entropy) if isinstance(seed_seq.entropy, int) else 0
    coverage = summarize_coverage(
        scores,
        groups=None if by is None else rows[by].astype(str).to_numpy(),
        by=by,
        horizons=rows[HORIZON_COLUMN].to_numpy(),
        horizon=HORIZON_COLUMN,
        n_draws=outcomes[0].n_draws,
        random_seed=seed_value,
    )
    per_origin = summarize_coverage(scores, groups=rows["origin"].to_numpy(), by="origin")
    origin_rows = tuple(dataclasses.replace(r, scope="origin") for r in per_origin.scope("group"))
    origin_results = tuple(
        OriginResult(
            index=split.index,
            origin=split.origin,
            n_train=len(split.train),
            n_holdout=len(split.holdout),
            convergence=out.convergence,
            sample_seconds=res.sample_seconds,
            compile_seconds=res.compile_seconds,
        )
        for split, out, res in zip(splits, outcomes, results, strict=True)
    )
    failed = [r for r in origin_results if not r.convergence.passed]
    if failed:
        first = failed[0].convergence.problems[0] if failed[0].convergence.problems else ""
        warn(
            f"The convergence gate failed at {len(failed)} of {len(origin_results)} backtest "
            f"origins ({[r.index for r in failed]}); e.g. origin {failed[0].index}: {first} "
            "Coverage of a refit that did not converge is not trustworthy.",
            ConvergenceWarning,
        )
    report = BacktestReport(
        coverage=coverage,
        origin_coverage=origin_rows,
        rows=rows,
        origins=origin_results,
        horizon=horizon,
        by=by,
        baseline=baseline_name,
        baseline_period=period,
        random_seed=seed_value,
        workers=workers,
        reused_compiled=reused,
        wall_seconds=elapsed,
        executor=executor,
    )
    log.info("%s", report)
    return report
