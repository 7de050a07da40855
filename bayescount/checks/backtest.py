"""Rolling-origin backtests: refit at each origin, score the windows after it.

:func:`backtest` cuts the data at ``origins`` forecast origins
(:func:`~bayescount.prep.splits.rolling_origins`: expanding training window,
``horizon`` grid steps held out after each origin), refits the model on each
training window and scores the held-out rows with the calibrated coverage of
:mod:`bayescount.checks.coverage` (randomised-PIT and inclusive coverage, CRPS,
interval score) and two point errors of the predictive mean:

``relative_mae``
    ``MAE(model) / MAE(naive baseline)``; below 1 beats the baseline. The baseline
    is exposure-adjusted: each series' rate (counts / exposure) is carried forward
    and multiplied by the held-out row's exposure. ``"seasonal_naive"`` carries the
    rate of the same phase one season earlier (the last training window ``k``
    seasons back, ``k = ceil(horizon / period)``), with the longest seasonal period
    of the spec that fits in the earliest training window; ``"mean"`` carries the
    series' mean training rate. ``"auto"`` (default) is seasonal naive for seasonal
    specs and the mean otherwise.
``scaled_mae``
    ``MAE(model) / mean(observed)`` (= sum |error| / sum counts, the WAPE); the
    scale-free error behind the target "relative MAE under 20% on stable series".

Both are reported overall, per horizon, per group and per origin.

The model is compiled once and re-used at every origin: the builder's data enter
through ``pm.Data`` containers, so nutpie's ``CompiledModel.with_data`` swaps in
each origin's training rows (the number of rows may change) without recompiling.
To keep the compiled graph valid across origins, the :class:`~bayescount.prep.Design`
is fitted once: group labels, covariate encodings and seasonality from the *full*
data (labels are not outcomes; a label with no training rows at an early origin is a
group without data, which the hierarchical prior handles), and the count-derived
constants (the pooled rate that centres the intercept prior, the reference
exposure) and the centred / non-centred choice from the *earliest* training window,
so no held-out count leaks into any fit.

Origins run in parallel on local processes (``spawn``); nutpie's compiled model
does not pickle, so each worker compiles once and re-uses it. Seeds are derived per
origin from the master seed (``numpy.random.SeedSequence(seed).spawn(origins)``),
so serial and parallel runs give identical numbers.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescount._warnings import warn
from bayescount.checks.coverage import (
    DEFAULT_LEVELS,
    CoverageReport,
    CoverageRow,
    RowScores,
    score_predictive,
    summarize_coverage,
)
from bayescount.exceptions import ColumnNotFoundError, ConvergenceWarning, SpecError
from bayescount.inference.compiled import CompiledSampler, data_updates
from bayescount.inference.convergence import (
    ConvergenceReport,
    ConvergenceThresholds,
    check_convergence,
)
from bayescount.inference.predict import predictive_parameters
from bayescount.inference.sampling import SamplerConfig
from bayescount.models.builder import build_model
from bayescount.models.parameterization import choose_parameterization
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.splits import HORIZON_COLUMN, TimeSplit, rolling_origins
from bayescount.prep.timegrid import TimeGrid
from bayescount.prep.validate import validate_frame
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure
    import pymc as pm

    from bayescount.count_model import CountModel

__all__ = [
    "BacktestReport",
    "OriginResult",
    "backtest",
]

log = logging.getLogger(__name__)

Baseline = Literal["auto", "seasonal_naive", "mean"]
SampleFn = Callable[["pm.Model", SamplerConfig], xr.DataTree]

#: Keys accepted in ``fit_kwargs`` (those of :meth:`CountModel.fit` that apply).
FIT_KEYS = ("draws", "tune", "chains", "cores", "sampler", "target_accept", "thresholds",
            "random_seed", "progressbar")


# ------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class _Setup:
    """What every origin shares (picklable, sent once per job)."""

    token: str
    spec: ModelSpec
    design: Design
    parameterization: dict[str, str]
    template: PreparedData
    config: SamplerConfig
    thresholds: ConvergenceThresholds
    levels: tuple[float, ...]


@dataclass(frozen=True)
class _Job:
    index: int
    train: PreparedData
    holdout: PreparedData
    sampler_seed: int
    score_seed: np.random.SeedSequence
    cores: int | None
    design: Design | None = None  # an origin's own design (latent level: its time grid)


@dataclass(frozen=True)
class _Outcome:
    index: int
    scores: RowScores
    mean: np.ndarray
    n_draws: int
    convergence: ConvergenceReport
    sample_seconds: float
    compile_seconds: float
    pid: int


_WORKER_ENGINES: dict[str, CompiledSampler] = {}


def _engine(setup: _Setup) -> tuple[CompiledSampler, float]:
    """Return this process's compiled model for ``setup``, compiling it on first use."""
    engine = _WORKER_ENGINES.get(setup.token)
    if engine is not None:
        return engine, 0.0
    model = build_model(setup.spec, setup.design, setup.template, setup.parameterization)
    engine = CompiledSampler(model, setup.config)
    _WORKER_ENGINES.clear()  # one backtest at a time per process
    _WORKER_ENGINES[setup.token] = engine
    return engine, engine.compile_seconds


def _run_job(setup: _Setup, job: _Job, sample_fn: SampleFn | None = None) -> _Outcome:
    """Fit one origin's training rows and score its holdout (runs in workers too)."""
    compile_seconds = 0.0
    design = job.design or setup.design
    start = time.perf_counter()
    if sample_fn is None:
        if job.design is None:
            engine, compile_seconds = _engine(setup)
        else:  # the latent states end at this origin: a graph of its own
            model = build_model(setup.spec, design, job.train, setup.parameterization)
            engine = CompiledSampler(model, setup.config)
            compile_seconds = engine.compile_seconds
        start = time.perf_counter()
        tree = engine.sample(data_updates(design, job.train), job.sampler_seed, job.cores)
    else:
        model = build_model(setup.spec, design, job.train, setup.parameterization)
        config = dataclasses.replace(setup.config, random_seed=job.sampler_seed)
        tree = sample_fn(model, config)
    sample_seconds = time.perf_counter() - start
    convergence = check_convergence(
        tree, setup.thresholds, setup.parameterization, emit_warning=False
    )
    posterior = tree["posterior"].to_dataset()
    rng = np.random.default_rng(job.score_seed)
    params = predictive_parameters(posterior, setup.spec, design, job.holdout, rng=rng)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    mu = params.mu.values.reshape(n_draws, -1)
    alpha = None if params.alpha is None else params.alpha.values.reshape(n_draws, -1)
    psi = None if params.psi is None else params.psi.values.reshape(n_draws, -1)
    scores = score_predictive(
        job.holdout.counts, mu, alpha, psi, levels=setup.levels, random_seed=rng
    )
    mean = (mu if psi is None else mu * psi).mean(axis=0)
    return _Outcome(job.index, scores, mean, n_draws, convergence, sample_seconds,
                    compile_seconds, os.getpid())


def _run_job_star(args: tuple[_Setup, _Job]) -> _Outcome:
    return _run_job(*args)


# --------------------------------------------------------------------- baseline
def _seasonal_period(spec: ModelSpec, step: pd.Timedelta, train_steps: int) -> int | None:
    """Longest seasonal period (in grid steps) of ``spec`` that fits the training window."""
    best = None
    for comp in spec.seasonality:
        steps = pd.Timedelta(days=comp.period_days) / step
        if abs(steps - round(steps)) < 1e-9 and 1 <= round(steps) <= train_steps:
            best = max(best or 0, int(round(steps)))
    return best


def _series_keys(frame: pd.DataFrame, groups: Sequence[str]) -> pd.Series:
    if not groups:
        return pd.Series("(all)", index=frame.index)
    return frame[list(groups)].astype(str).agg("\x1f".join, axis=1)


def _baseline(
    split: TimeSplit, spec: ModelSpec, period: int | None
) -> np.ndarray:
    """Exposure-adjusted naive forecast of each holdout row (see the module docstring)."""
    s = spec.schema
    train, hold = split.train, split.holdout
    e_train = train[s.exposure].to_numpy(float) if s.exposure else np.ones(len(train))
    e_hold = hold[s.exposure].to_numpy(float) if s.exposure else np.ones(len(hold))
    key_train, key_hold = _series_keys(train, s.groups), _series_keys(hold, s.groups)
    y_train = train[s.counts].to_numpy(float)
    sums = pd.DataFrame({"k": key_train.to_numpy(), "y": y_train, "e": e_train}).groupby("k").sum()
    pooled = y_train.sum() / e_train.sum()
    rate = key_hold.map(sums["y"] / sums["e"]).fillna(pooled).to_numpy(float)
    if period is not None:
        back = np.ceil(hold[HORIZON_COLUMN].to_numpy() / period).astype(np.int64) * period
        ref_time = hold[s.time] - back * split.step.to_timedelta64()
        lookup = pd.Series(
            y_train / e_train, index=pd.MultiIndex.from_arrays([key_train, train[s.time]])
        )
        lookup = lookup[~lookup.index.duplicated()]
        seasonal = lookup.reindex(pd.MultiIndex.from_arrays([key_hold, ref_time])).to_numpy(float)
        rate = np.where(np.isfinite(seasonal), seasonal, rate)
    return rate * e_hold


# ----------------------------------------------------------------------- report
@dataclass(frozen=True)
class OriginResult:
    """One refit of a backtest.

    Attributes
    ----------
    index : int
        0 for the earliest origin.
    origin : pandas.Timestamp
        Last training time step.
    n_train, n_holdout : int
        Rows fitted and scored.
    convergence : ConvergenceReport
        The convergence gate of this refit.
    sample_seconds, compile_seconds : float
        Sampling time, and compile time when this refit compiled the model (0 when it
        re-used a compiled model). With a ``sample_fn`` every refit builds and compiles
        its own model inside ``sample_seconds``.
    """

    index: int
    origin: pd.Timestamp
    n_train: int
    n_holdout: int
    convergence: ConvergenceReport
    sample_seconds: float
    compile_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the convergence report as a dict)."""
        return {
            "index": self.index,
            "origin": self.origin.isoformat(),
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "convergence": {k: json_safe(v) if not isinstance(v, (list, dict)) else v
                            for k, v in self.convergence.to_dict().items()},
            "sample_seconds": self.sample_seconds,
            "compile_seconds": self.compile_seconds,
        }


def _point_metrics(rows: pd.DataFrame, scope: str, labels: pd.Series | None) -> pd.DataFrame:
    err = (rows["observed"] - rows["mean"]).abs()
    base = (rows["observed"] - rows["baseline"]).abs()
    parts = pd.DataFrame({"err": err, "base": base, "y": rows["observed"].astype(float)})
    key = labels.astype(str) if labels is not None else pd.Series("(all)", index=rows.index)
    agg = parts.groupby(key.to_numpy(), sort=False).mean()
    out = pd.DataFrame(
        {
            "mae": agg["err"],
            "baseline_mae": agg["base"],
            "relative_mae": agg["err"] / agg["base"].where(agg["base"] > 0),
            "scaled_mae": agg["err"] / agg["y"].where(agg["y"] > 0),
        }
    )
    out.index = pd.MultiIndex.from_product([[scope], out.index], names=["scope", "group"])
    return out


@dataclass(frozen=True)
class BacktestReport:
    """Calibration and accuracy of a model refitted at rolling origins.

    Attributes
    ----------
    coverage : CoverageReport
        Coverage of all held-out rows, per ``by`` label and per horizon.
    origin_coverage : tuple of CoverageRow
        Coverage per origin (``scope == "origin"``, ``group`` = origin index).
    rows : pandas.DataFrame
        One row per held-out row and origin: ``origin`` (index), ``origin_time``,
        the time, group and ``horizon`` columns, ``observed``, ``mean`` (predictive
        mean), ``baseline``, ``pit`` and ``crps``.
    origins : tuple of OriginResult
        Per-refit convergence and timings.
    horizon : int
        Forecast windows after each origin.
    by : str or None
        Column of the per-group breakdown.
    baseline : str
        ``"seasonal_naive"`` or ``"mean"`` (with the period in ``baseline_period``).
    baseline_period : int or None
        Seasonal period of the baseline, in grid steps.
    random_seed : int
        The master seed (the generated entropy when none was given).
    workers : int
        Processes the refits ran on (1: serial, in this process).
    reused_compiled : bool
        Whether refits re-used a compiled model (nutpie ``with_data``).
    wall_seconds : float
        Elapsed time of the whole backtest.
    """

    coverage: CoverageReport
    origin_coverage: tuple[CoverageRow, ...]
    rows: pd.DataFrame
    origins: tuple[OriginResult, ...]
    horizon: int
    by: str | None
    baseline: str
    baseline_period: int | None
    random_seed: int
    workers: int
    reused_compiled: bool
    wall_seconds: float

    # -------------------------------------------------------------- numbers
    @property
    def compile_seconds(self) -> float:
        """Total time spent compiling (every worker's compile counted)."""
        return float(sum(o.compile_seconds for o in self.origins))

    @property
    def sample_seconds(self) -> float:
        """Total sampling time over the refits."""
        return float(sum(o.sample_seconds for o in self.origins))

    @property
    def converged(self) -> bool:
        """Whether every refit passed the convergence gate."""
        return all(o.convergence.passed for o in self.origins)

    def point_metrics(self) -> pd.DataFrame:
        """MAE, baseline MAE, ``relative_mae`` and ``scaled_mae`` per (scope, group)."""
        r = self.rows
        parts = [_point_metrics(r, "overall", None)]
        if self.by is not None:
            parts.append(_point_metrics(r, "group", r[self.by]))
        parts.append(_point_metrics(r, "horizon", r[HORIZON_COLUMN]))
        parts.append(_point_metrics(r, "origin", r["origin"]))
        return pd.concat(parts)

    def to_frame(self) -> pd.DataFrame:
        """Coverage and point errors per (scope, group, level).

        Scopes: ``overall``, ``group`` (labels of ``by``), ``horizon`` and ``origin``.
        Point errors do not depend on the level and repeat across levels.
        """
        cov = self.coverage.to_frame()
        extra = pd.DataFrame([dataclasses.asdict(r) for r in self.origin_coverage])
        extra["verdict"] = [r.verdict for r in self.origin_coverage]
        cov = pd.concat([cov, extra.set_index(["scope", "group", "level"])])
        points = self.point_metrics()
        joined = cov.reset_index().merge(
            points.reset_index(),
            on=["scope", "group"],
            how="left",
        )
        return joined.set_index(["scope", "group", "level"])

    def origins_frame(self) -> pd.DataFrame:
        """Per refit: origin time, rows, timings and the convergence gate's numbers."""
        return pd.DataFrame(
            [
                {
                    "origin": o.origin,
                    "n_train": o.n_train,
                    "n_holdout": o.n_holdout,
                    "sample_seconds": o.sample_seconds,
                    "compile_seconds": o.compile_seconds,
                    "divergences": o.convergence.divergences,
                    "max_rhat": o.convergence.max_rhat,
                    "min_ess_bulk": o.convergence.min_ess_bulk,
                    "converged": o.convergence.passed,
                }
                for o in self.origins
            ],
            index=pd.RangeIndex(len(self.origins), name="index"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: coverage, point errors, origins and timings."""
        points = self.point_metrics()

        def metrics(scope: str) -> dict[str, dict[str, Any]]:
            sub = points.loc[scope]
            return {
                str(g): {k: json_safe(float(v)) for k, v in row.items()}
                for g, row in sub.iterrows()
            }

        per_origin: dict[str, list[dict[str, Any]]] = {}
        for r in self.origin_coverage:
            d = r.to_dict()
            d.pop("scope")
            per_origin.setdefault(str(d.pop("group")), []).append(d)
        return {
            "coverage": self.coverage.to_dict(),
            "origin_coverage": per_origin,
            "point_metrics": {
                "overall": metrics("overall")["(all)"],
                "groups": metrics("group") if self.by is not None else {},
                "horizons": metrics("horizon"),
                "origins": metrics("origin"),
            },
            "origins": [o.to_dict() for o in self.origins],
            "horizon": self.horizon,
            "by": self.by,
            "baseline": self.baseline,
            "baseline_period": self.baseline_period,
            "random_seed": self.random_seed,
            "workers": self.workers,
            "reused_compiled": self.reused_compiled,
            "converged": self.converged,
            "timing": {
                "wall_seconds": self.wall_seconds,
                "compile_seconds": self.compile_seconds,
                "sample_seconds": self.sample_seconds,
            },
        }

    # --------------------------------------------------------------- display
    def __str__(self) -> str:
        m = self.point_metrics().loc[("overall", "(all)")]
        lines = [
            f"Backtest: {len(self.origins)} origin(s) x {self.horizon} step(s), "
            f"{len(self.rows)} held-out rows, {self.workers} worker(s), "
            f"{self.wall_seconds:.0f}s (compile {self.compile_seconds:.0f}s, "
            f"sampling {self.sample_seconds:.0f}s)",
        ]
        lines += str(self.coverage).splitlines()[1:]
        lines.append(
            f"  MAE {m['mae']:.4g}; relative to {self.baseline} baseline "
            f"{m['relative_mae']:.3f}; MAE / mean(observed) {m['scaled_mae']:.3f}"
        )
        failed = [o.index for o in self.origins if not o.convergence.passed]
        if failed:
            lines.append(f"  convergence gate failed at origin(s) {failed}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, *notes = str(self).splitlines()
        return html_block(head, self.to_frame(), [n.strip() for n in notes])

    def plot(self, ax=None) -> matplotlib.figure.Figure:
        """Coverage by horizon: one line per level, its 95% binomial band, the nominal."""
        import matplotlib.pyplot as plt

        frame = self.coverage.to_frame().loc["horizon"].reset_index()
        frame["h"] = frame["group"].astype(int)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        for i, (level, sub) in enumerate(frame.groupby("level")):
            sub = sub.sort_values("h")
            color = f"C{i}"
            ax.plot(sub["h"], sub["coverage"], marker="o", color=color, label=f"{level:.0%}")
            ax.fill_between(sub["h"], sub["lower"], sub["upper"], color=color, alpha=0.15)
            ax.axhline(level, color=color, linestyle="--", linewidth=0.8)
        ax.set_xlabel("horizon (time steps after the origin)")
        ax.set_ylabel("coverage (randomised PIT)")
        ax.set_ylim(0, 1.02)
        ax.set_title("Backtest coverage by horizon (dashed: nominal)")
        ax.legend(title="level", fontsize="small")
        return fig


# ---------------------------------------------------------------------- backtest
def _spec_of(model: CountModel | ModelSpec | Mapping[str, Any]) -> ModelSpec:
    from bayescount.count_model import CountModel

    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, CountModel):
        return model.spec
    if isinstance(model, Mapping):
        return CountModel(**model).spec
    raise SpecError(
        f"model must be a CountModel, a ModelSpec or a dict of CountModel arguments, got "
        f"{type(model).__name__}."
    )


def _config(fit_kwargs: Mapping[str, Any] | None) -> tuple[SamplerConfig, ConvergenceThresholds,
                                                            int | None]:
    kwargs = dict(fit_kwargs or {})
    unknown = sorted(set(kwargs) - set(FIT_KEYS))
    if unknown:
        raise SpecError(f"Unknown fit_kwargs {unknown}; valid keys are {list(FIT_KEYS)}.")
    thresholds = kwargs.pop("thresholds", None) or ConvergenceThresholds()
    seed = kwargs.pop("random_seed", None)
    kwargs.pop("progressbar", None)
    return SamplerConfig(**kwargs), thresholds, seed


def _shared_design(frame: pd.DataFrame, splits: list[TimeSplit], spec: ModelSpec) -> Design:
    """Labels and encodings of the full table; count constants of the earliest window.

    A latent level's time grid is the earliest window's; :func:`_origin_design` gives
    each origin its own.
    """
    full = spec.fit_design(frame)
    early = spec.fit_design(splits[0].train)
    return dataclasses.replace(
        full,
        pooled_log_rate=early.pooled_log_rate,
        reference_exposure=early.reference_exposure,
        time_grid=early.time_grid,
    )


def _origin_design(design: Design, split: TimeSplit, spec: ModelSpec) -> Design | None:
    """Return an origin's own design for a latent level, else ``None`` (shared design).

    The latent states end at the origin: held-out steps continue each draw's path,
    as :meth:`CountModel.predict` does, and no fit carries states that only the prior
    informs (they mix badly). The number of states differs by origin, so each origin
    compiles its own model.
    """
    if spec.latent is None:
        return None
    return dataclasses.replace(design, time_grid=TimeGrid.fit(split.train[spec.schema.time]))


def _workers(parallel: bool, max_workers: int | None, n_jobs: int) -> int:
    if not parallel:
        return 1
    limit = max_workers if max_workers is not None else (os.cpu_count() or 1)
    if limit < 1:
        raise SpecError(f"max_workers must be >= 1, got {max_workers}.")
    return max(1, min(limit, n_jobs))


def _run_all(setup: _Setup, jobs: list[_Job], workers: int,
             sample_fn: SampleFn | None) -> list[_Outcome]:
    if workers == 1:
        return [_run_job(setup, job, sample_fn) for job in jobs]
    if sample_fn is not None:
        args = [(setup, job, sample_fn) for job in jobs]
        fn = _run_job_with_fn
    else:
        args = [(setup, job) for job in jobs]
        fn = _run_job_star
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(fn, args))


def _run_job_with_fn(args: tuple[_Setup, _Job, SampleFn]) -> _Outcome:
    return _run_job(*args)


def backtest(
    model: CountModel | ModelSpec | Mapping[str, Any],
    data: pd.DataFrame,
    *,
    origins: int = 3,
    horizon: int = 1,
    stride: int | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    by: str | None = None,
    baseline: Baseline = "auto",
    parallel: bool = True,
    max_workers: int | None = None,
    random_seed: int | None = None,
    sample_fn: SampleFn | None = None,
) -> BacktestReport:
    """Refit a model at rolling origins and score each held-out horizon.

    Parameters
    ----------
    model : CountModel, ModelSpec or dict
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
    fit_kwargs : dict, optional
        ``draws``, ``tune``, ``chains``, ``cores``, ``sampler``, ``target_accept``,
        ``thresholds`` (a :class:`ConvergenceThresholds`) and ``random_seed`` (used
        when ``random_seed`` is not given), as for :meth:`CountModel.fit`.
    levels : sequence of float
        Central interval probabilities scored.
    by : str, optional
        Column for the per-group breakdown (default: the outermost group, if any).
    baseline : {"auto", "seasonal_naive", "mean"}
        Naive forecast behind ``relative_mae`` (see the module docstring).
    parallel : bool
        Run origins on local processes (default). Each worker compiles the model
        once; on a machine with few cores, or for few origins, ``parallel=False`` can
        be faster because it compiles only once in all. Workers are started with
        ``spawn``: a script that calls this needs the usual
        ``if __name__ == "__main__":`` guard (notebooks and the CLI need nothing).
    max_workers : int, optional
        Most processes (default: the CPU count, at most ``origins``).
    random_seed : int, optional
        Master seed; per-origin seeds are spawned from it, so the same seed gives
        identical numbers serially and in parallel.
    sample_fn : callable, optional
        ``(pm.Model, SamplerConfig) -> DataTree`` sampling function (the fit seam,
        e.g. :func:`bayescount.inference.run_sampler`); when given, every origin
        builds and compiles its own model instead of re-using one (nutpie only
        supports re-use).

    Returns
    -------
    BacktestReport

    Warns
    -----
    ConvergenceWarning
        When a refit fails the convergence gate (once, naming the origins).
    """
    start = time.perf_counter()
    spec = _spec_of(model)
    schema = spec.schema
    if schema.time is None:
        raise SpecError("A backtest needs the schema's time column (CountModel(time=...)).")
    config, thresholds, fit_seed = _config(fit_kwargs)
    if sample_fn is None and config.sampler != "nutpie":
        from bayescount.inference.sampling import run_sampler

        sample_fn = run_sampler
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
    design = _shared_design(frame, splits, spec)
    template = design.transform(splits[0].train)
    how = choose_parameterization(spec, design, template)

    period = None
    if baseline != "mean":
        steps = int((splits[0].origin - frame[schema.time].min()) / splits[0].step) + 1
        period = _seasonal_period(spec, splits[0].step, steps)
        if period is None and baseline == "seasonal_naive":
            raise SpecError(
                "baseline='seasonal_naive' needs a seasonality component whose period is a "
                "whole number of time steps and fits in the earliest training window; use "
                "baseline='mean'."
            )
    baseline_name = "seasonal_naive" if period is not None else "mean"

    seed_seq = np.random.SeedSequence(random_seed if random_seed is not None else fit_seed)
    workers = _workers(parallel, max_workers, len(splits))
    per_job_cores = config.cores or max(1, (os.cpu_count() or 1) // workers)
    setup = _Setup(
        token=uuid.uuid4().hex,
        spec=spec,
        design=design,
        parameterization=how,
        template=template,
        config=config,
        thresholds=thresholds,
        levels=tuple(float(x) for x in levels),
    )
    jobs = []
    for split, child in zip(splits, seed_seq.spawn(len(splits)), strict=True):
        sampler_seq, score_seq = child.spawn(2)
        own = _origin_design(design, split, spec)
        jobs.append(
            _Job(
                index=split.index,
                train=(own or design).transform(split.train),
                holdout=(own or design).transform(split.holdout),
                sampler_seed=int(sampler_seq.generate_state(1, np.uint32)[0]),
                score_seed=score_seq,
                cores=min(per_job_cores, config.chains),
                design=own,
            )
        )
    try:
        outcomes = _run_all(setup, jobs, workers, sample_fn)
    finally:
        _WORKER_ENGINES.pop(setup.token, None)
    return _assemble(
        splits, outcomes, spec, by, horizon, period, baseline_name, seed_seq, workers,
        sample_fn is None and spec.latent is None, time.perf_counter() - start,
    )


def _assemble(splits, outcomes, spec, by, horizon, period, baseline_name, seed_seq, workers,
              reused, elapsed) -> BacktestReport:
    schema = spec.schema
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
        part["baseline"] = _baseline(split, spec, period)
        part["pit"] = out.scores.pit
        part["crps"] = out.scores.crps
        frames.append(part)
    rows = pd.concat(frames, ignore_index=True)
    scores = RowScores.concat([o.scores for o in outcomes])
    n_draws = outcomes[0].n_draws
    seed_value = int(seed_seq.entropy) if isinstance(seed_seq.entropy, int) else 0
    coverage = summarize_coverage(
        scores,
        groups=None if by is None else rows[by].astype(str).to_numpy(),
        by=by,
        horizons=rows[HORIZON_COLUMN].to_numpy(),
        horizon=HORIZON_COLUMN,
        n_draws=n_draws,
        random_seed=seed_value,
    )
    per_origin = summarize_coverage(scores, groups=rows["origin"].to_numpy(), by="origin")
    origin_rows = tuple(dataclasses.replace(r, scope="origin") for r in per_origin.scope("group"))
    results = tuple(
        OriginResult(
            index=split.index,
            origin=split.origin,
            n_train=len(split.train),
            n_holdout=len(split.holdout),
            convergence=out.convergence,
            sample_seconds=out.sample_seconds,
            compile_seconds=out.compile_seconds,
        )
        for split, out in zip(splits, outcomes, strict=True)
    )
    failed = [r for r in results if not r.convergence.passed]
    if failed:
        first = failed[0].convergence.problems[0] if failed[0].convergence.problems else ""
        warn(
            f"The convergence gate failed at {len(failed)} of {len(results)} backtest origins "
            f"({[r.index for r in failed]}); e.g. origin {failed[0].index}: {first} Coverage "
            "of a refit that did not converge is not trustworthy.",
            ConvergenceWarning,
        )
    report = BacktestReport(
        coverage=coverage,
        origin_coverage=origin_rows,
        rows=rows,
        origins=results,
        horizon=horizon,
        by=by,
        baseline=baseline_name,
        baseline_period=period,
        random_seed=seed_value,
        workers=workers,
        reused_compiled=reused,
        wall_seconds=elapsed,
    )
    log.info("%s", report)
    return report
