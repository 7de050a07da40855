"""Simulation-based calibration (SBC) of a model builder and its sampler.

Talts et al. (2018): draw parameters ``theta_i`` from the prior, simulate data
``y_i`` from them, fit the model to ``y_i`` and record the rank of ``theta_i`` among
``L`` (thinned) posterior draws. If the builder, the sampler and the predictive code
agree, each rank is uniform on ``0..L``; a skewed rank histogram means a biased
posterior, a U shape an over-confident one, a hump an under-confident one.

:func:`sbc` draws ``simulations`` parameter sets and data sets at once with
``pm.sample_prior_predictive`` on the built model (same rows, exposures, groups and
covariates as the template table; only the counts are simulated), runs the fits
through the fitting driver (:func:`bayescount.inference.run_fits`; serially by
default, or on local processes or Dask), which compiles the model once per worker
with nutpie and refits it on each simulated data set by swapping the counts with
``CompiledModel.with_data``. Ranks are computed here, in simulation order, so every
executor gives identical numbers.

Uniformity is tested per parameter on the *randomised* normalised ranks
``u = (rank + V) / (L + 1)``, ``V ~ U(0, 1)``, which are exactly uniform on (0, 1)
under calibration: with arviz-stats' ``pot_c`` test (pointwise order-statistic
tests with a Cauchy combination, the default of ``arviz_plots.plot_ecdf_pit``)
and, for reference, a chi-square test on equal-width bins of ``u``. The model is
``calibrated`` when every parameter's ``pot_c`` p-value is at least
``alpha / n_parameters`` (Bonferroni).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pytensor.compile.mode import Mode

from bayescount._warnings import warn_deprecated
from bayescount.checks.sbc_report import SBCReport, normalized_ranks, rank_uniformity
from bayescount.exceptions import SpecError
from bayescount.inference.driver import FitJob, run_fits
from bayescount.inference.executors import JobExecutor, open_executor
from bayescount.inference.fit import Fit
from bayescount.inference.sampling import SamplerConfig
from bayescount.models.builder import build_model
from bayescount.models.spec import LATENT_KEY, ModelSpec, as_spec
from bayescount.prep.design import Design
from bayescount.prep.schema import MAX_COUNT
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    import distributed

__all__ = [
    "SBCReport",
    "default_parameters",
    "normalized_ranks",
    "rank_uniformity",
    "sbc",
    "sbc_latent_template",
    "sbc_template",
]

log = logging.getLogger(__name__)

#: Compile the one-off prior-predictive graph fast: it runs ``simulations`` times only.
_FAST = Mode(linker="py", optimizer=None)


# -------------------------------------------------------------------- ranks and tests
# ---------------------------------------------------------------------- the model
def sbc_template(
    n_regions: int = 3,
    n_services: int = 3,
    n_windows: int = 7,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Return a tiny nested table for SBC: ``region -> service``, exposure, one covariate.

    ``n_regions * n_services * n_windows`` rows (63 by default) with ``requests``
    (the exposure, 2,000-20,000), ``load`` (standard normal) and ``errors`` (about
    2-20 per row; only their total matters: it centres the intercept prior).
    """
    from bayescount.testing import simulate_telemetry

    sim = simulate_telemetry(n_regions, n_services, 1, n_windows, window="1h", seed=seed)
    return sim.frame.drop(columns="node")


def sbc_latent_template(
    n_series: int = 2, n_steps: int = 30, *, rate: float = 1e-3, seed: int = 0
) -> pd.DataFrame:
    """Return a tiny table for SBC of a latent level: ``n_series`` series on an hourly grid.

    ``n_series * n_steps`` rows (60 by default), one per ``service`` and hour of
    ``timestamp``, with ``requests`` (the exposure, 2,000-20,000) and ``errors``
    (about ``rate`` per request: 2-20 per row by default; only their total matters:
    it centres the intercept prior). Fit it with ``groups=["service"]`` and a latent
    level: one path per service, one row per state.
    """
    from bayescount.testing import simulate_telemetry

    sim = simulate_telemetry(1, n_series, 1, n_steps, rate=rate, window="1h", seed=seed)
    return sim.frame.drop(columns=["region", "node", "load"])


def default_parameters(spec: ModelSpec, design: Design) -> list[str]:
    """Scalars ranked by default: intercept, level sds, dispersion, a few effects.

    Indexed parameters are written ``name[label]`` (``name[label, step]`` for the
    latent level): the first covariate coefficient, the first label's effect of the
    two outermost levels and, with a latent level, ``latent_sd``, ``latent_rho`` and
    the first path's deviation at the middle step of the time grid.
    """
    names = ["intercept", *[f"{lvl.name}_sd" for lvl in design.levels]]
    if spec.is_negative_binomial and spec.dispersion_by is None:
        names.append("alpha")
    if spec.is_zero_inflated:
        names.append("psi")
    if design.covariate_terms:
        names.append(f"beta[{design.covariate_terms[0]}]")
    names += [f"{lvl.name}_effect[{lvl.labels[0]}]" for lvl in design.levels[:2]]
    if spec.latent is not None:
        middle = design.time_grid.length // 2
        level = spec.latent_level
        path = f"{design.level(level).labels[0]}, " if level else ""
        names += ["latent_sd", "latent_rho", f"latent[{path}{middle}]"]
    return names


def _select(ds: xr.Dataset, name: str) -> xr.DataArray:
    """``ds[name]``, or one element ``base[label]`` / ``base[label, label, ...]``.

    One label per non-draw dimension of ``base``, in order, matched to the string
    form of its coordinates (``latent[r0-s0, 15]``: path ``r0-s0``, time step 15).
    With several dimensions the labels are split at the last commas, so only the
    first may contain a comma.
    """
    base, _, inside = name.partition("[")
    if base not in ds:
        raise SpecError(f"Unknown parameter {name!r}; the model has {sorted(ds.data_vars)}.")
    da = ds[base]
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not inside:
        if dims:
            raise SpecError(f"{name!r} is not a scalar; name one element, e.g. '{base}[...]'.")
        return da
    inside = inside.removesuffix("]")
    labels = [inside] if len(dims) <= 1 else [
        part.strip() for part in inside.rsplit(",", len(dims) - 1)
    ]
    if len(labels) != len(dims):
        raise SpecError(f"{name!r}: name one label per dimension of {base!r} {dims}, "
                        f"separated by commas.")
    positions = {}
    for dim, label in zip(dims, labels, strict=True):
        values = da[dim].values
        found = np.flatnonzero(values.astype(str) == label)
        if not found.size:
            raise SpecError(f"{name!r}: no {dim} {label!r}; labels are {list(values)}.")
        positions[dim] = int(found[0])
    return da.isel(positions)


# ------------------------------------------------------------------------ report
# -------------------------------------------------------------------------- run
def _parameterization(spec: ModelSpec, design: Design) -> dict[str, str]:
    """Explicit choices of the spec, else non-centered (prior draws vary the data).

    A latent level left on ``"auto"`` is non-centered with normal innovations
    (``"ar1"``) and centered otherwise (``"ar1_laplace"`` has no non-centered form).
    """
    how = {
        lvl.name: spec.parameterization.get(lvl.name, "auto").replace("auto", "non_centered")
        for lvl in design.levels
    }
    if spec.latent is not None:
        asked = spec.parameterization.get(LATENT_KEY, "auto")
        if asked == "auto":
            asked = "non_centered" if spec.latent == "ar1" else "centered"
        how[LATENT_KEY] = asked
    return how


def _thin(values: np.ndarray, n: int) -> np.ndarray:
    """Keep ``n`` evenly spaced draws of the flattened ``(chain, draw)`` axis."""
    flat = values.reshape(-1)
    if n > flat.size:
        raise SpecError(f"thin_to={n} exceeds the {flat.size} posterior draws of a fit.")
    return flat[np.round(np.linspace(0, flat.size - 1, n)).astype(int)]


@dataclass(frozen=True)
class _Ranked:
    """What a worker needs to thin a fit's draws (travels in ``FitJob.extra``)."""

    names: tuple[str, ...]
    thin_to: int


def _thinned_draws(fit: Fit, job: FitJob) -> tuple[np.ndarray, int]:
    """Return the thinned draws of the ranked scalars and the divergences (on the worker)."""
    ranked: _Ranked = job.extra
    post = fit.posterior
    draws = np.stack([_thin(_select(post, name).values, ranked.thin_to) for name in ranked.names])
    return draws, int(fit.tree["sample_stats"]["diverging"].sum())


#: SBC's sampler settings unless ``config`` is given.
DEFAULT_CONFIG = SamplerConfig(draws=200, tune=200, chains=2, target_accept=0.9)


def _sbc_config(config: SamplerConfig | None, loose: dict[str, Any]) -> SamplerConfig:
    """Return the sampler settings, with the deprecated loose keywords folded in."""
    given = {k: v for k, v in loose.items() if v is not None}
    if not given:
        return config or DEFAULT_CONFIG
    warn_deprecated(
        f"sbc({', '.join(f'{k}=' for k in given)}) is deprecated and will be removed in the "
        "next release; pass config=SamplerConfig(draws=..., tune=..., chains=..., "
        "target_accept=...)."
    )
    if config is not None:
        raise SpecError(f"Pass config= or the deprecated {sorted(given)}, not both.")
    return dataclasses.replace(DEFAULT_CONFIG, **given)


def sbc(
    model: Any,
    data: pd.DataFrame,
    *,
    simulations: int = 100,
    config: SamplerConfig | None = None,
    thin_to: int = 100,
    parameters: Sequence[str] | None = None,
    alpha: float = 0.01,
    random_seed: int | None = None,
    executor: str | JobExecutor | concurrent.futures.Executor | distributed.Client | None = None,
    scheduler: str | None = None,
    max_workers: int | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    target_accept: float | None = None,
) -> SBCReport:
    """Run simulation-based calibration of ``model`` on the rows of ``data``.

    Parameters
    ----------
    model : CountModel, Fit, ModelSpec or dict
        The model (its specification), or :class:`~bayescount.CountModel` arguments.
        Levels left on ``"auto"`` parameterization are non-centered; so is an
        ``"ar1"`` latent level (``"ar1_laplace"`` is centered only).
    data : pandas.DataFrame
        Template rows: exposures, groups, covariates and times are kept, counts are
        simulated (the template's counts only centre the intercept prior). Keep it
        small: every simulation is a full NUTS fit (:func:`sbc_template`;
        :func:`sbc_latent_template` for a latent level).
    simulations : int
        Parameter draws from the prior, each simulated and fitted once.
    config : SamplerConfig, optional
        NUTS settings of each fit (default :data:`DEFAULT_CONFIG`: 2 chains x 200
        draws after 200 warm-up steps, target acceptance 0.9, since prior draws
        include hard geometries). Each fit re-uses one compiled nutpie model per
        worker when the sampler is nutpie.
    thin_to : int
        ``L``: posterior draws (evenly thinned from ``chains * draws``) each rank is
        computed against.
    parameters : sequence of str, optional
        Scalars to rank, ``name`` or ``name[label]``; default
        :func:`default_parameters`.
    alpha : float
        Family-wise level of the uniformity verdict.
    random_seed : int, optional
        Master seed of the prior draws, the fits and the rank randomisation (default:
        ``config.random_seed``). The same seed gives identical numbers on every
        executor.
    executor : {"serial", "processes", "dask"}, distributed.Client or executor, optional
        Where the fits run (default ``"serial"``: this process, one compile in all);
        see :func:`bayescount.checks.backtest.backtest`.
    scheduler : str, optional
        Address of a Dask scheduler (implies ``executor="dask"``).
    max_workers : int, optional
        Most local worker processes.
    draws, tune, chains, target_accept
        Deprecated (``FutureWarning``): use ``config``.

    Returns
    -------
    SBCReport

    Raises
    ------
    SpecError
        Too few simulations, ``alpha`` outside (0, 1), ``thin_to`` outside
        ``[10, draws * chains]`` or an unknown parameter name.
    """
    start = time.perf_counter()
    config = _sbc_config(config, {"draws": draws, "tune": tune, "chains": chains,
                                  "target_accept": target_accept})
    if not isinstance(simulations, int) or simulations < 10:
        raise SpecError(f"simulations must be an integer >= 10, got {simulations!r}.")
    if not 0 < alpha < 1:
        raise SpecError(f"alpha must lie in (0, 1), got {alpha!r}.")
    spec = as_spec(model)
    frame = validate_frame(data, spec.schema)
    design = spec.fit_design(frame)
    prepared = design.transform(frame)
    how = _parameterization(spec, design)
    # One observed term per row: the prior predictive simulates every row's count.
    built = build_model(spec, design, prepared, how, compress=False)
    names = list(parameters) if parameters is not None else default_parameters(spec, design)
    n_draws = config.draws * config.chains
    if thin_to > n_draws or thin_to < 10:
        raise SpecError(f"thin_to must lie in [10, draws * chains = {n_draws}], got {thin_to}.")

    seed_seq = np.random.SeedSequence(random_seed if random_seed is not None
                                      else config.random_seed)
    prior_seq, fit_seq, rank_seq = seed_seq.spawn(3)
    t0 = time.perf_counter()
    with built:
        prior_tree = pm.sample_prior_predictive(
            draws=simulations,
            random_seed=np.random.default_rng(prior_seq),
            compile_kwargs={"mode": _FAST},
        )
    prior = prior_tree["prior"].to_dataset().isel(chain=0)
    simulated = prior_tree["prior_predictive"]["y"].values[0]
    truth = np.column_stack([_select(prior, name).values for name in names])
    prior_seconds = time.perf_counter() - t0

    ranked = _Ranked(tuple(names), thin_to)
    jobs = [
        FitJob(
            spec=spec,
            data=dataclasses.replace(prepared, counts=simulated[i]),
            config=config,
            design=design,
            seed=int(child.generate_state(1, np.uint32)[0]),
            key=i,
            parameterization=how,
            template=prepared,
            extra=ranked,
        )
        for i, child in enumerate(fit_seq.spawn(simulations))
        if simulated[i].max() <= MAX_COUNT
    ]
    with open_executor(executor, scheduler=scheduler, max_workers=max_workers) as ex:
        results = run_fits(jobs, executor=ex, then=_thinned_draws, description="SBC replications")
    rng = np.random.default_rng(rank_seq)
    ranks, us = [], []
    for res in results:
        r, u = normalized_ranks(res.value[0], truth[res.key], rng)
        ranks.append(r)
        us.append(u)
    kept = [res.key for res in results]
    report = SBCReport(
        family=spec.family,
        parameters=tuple(names),
        ranks=pd.DataFrame(ranks, columns=names, index=pd.Index(kept, name="simulation")),
        u=pd.DataFrame(us, columns=names, index=pd.Index(kept, name="simulation")),
        n_ranks=thin_to,
        divergences=np.asarray([res.value[1] for res in results]),
        n_draws=n_draws,
        skipped=simulations - len(kept),
        alpha=alpha,
        compile_seconds=float(sum(res.compile_seconds for res in results)),
        sample_seconds=float(sum(res.sample_seconds for res in results)),
        prior_seconds=prior_seconds,
        wall_seconds=time.perf_counter() - start,
        random_seed=int(seed_seq.entropy),
    )
    log.info("%s", report)
    return report
