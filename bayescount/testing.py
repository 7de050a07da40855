"""Synthetic telemetry with known truth, and a fake sampler, for tests and benchmarks.

:func:`simulate_telemetry` makes a count table with known parameters;
:func:`prior_sampler` plugs into the sampler seam (``sample_fn=``) of
:meth:`CountModel.fit <bayescount.CountModel.fit>`, backtests and the fitting driver
and returns a fit-shaped DataTree in about a second, without NUTS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescount.inference.predict import draw_counts

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

    from bayescount.inference.sampling import SamplerConfig

__all__ = ["SimulatedTelemetry", "prior_sampler", "simulate_telemetry"]


def prior_sampler(model: pm.Model, config: SamplerConfig) -> xr.DataTree:
    """Return a fit-shaped DataTree of ``model`` built from prior draws (no NUTS).

    The posterior holds ``config.chains * config.draws`` prior draws of every free
    variable and deterministic, reshaped to ``(chain, draw, ...)``; ``sample_stats``
    has no divergences, iid normal energy and a constant tree size; ``observed_data``
    and ``constant_data`` are the model's, as a real fit stores them. The same
    ``config.random_seed`` gives the same tree. A module-level function, so worker
    processes and Dask workers can run it.

    Parameters
    ----------
    model : pymc.Model
        The built model.
    config : SamplerConfig
        ``chains``, ``draws`` and ``random_seed`` are used.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` and ``sample_stats``, plus the model's ``observed_data``
        and ``constant_data`` when it has them (a fit replaces both with its rows).
    """
    import warnings

    import pymc as pm
    import xarray as xr
    from pytensor.compile.mode import Mode

    chains, draws = config.chains, config.draws
    with model, warnings.catch_warnings():
        # A compressed likelihood is a potential: the prior draws are what is wanted.
        warnings.filterwarnings("ignore", message=".*[Pp]otential", category=UserWarning)
        prior = pm.sample_prior_predictive(
            draws=chains * draws, random_seed=config.random_seed,
            # no rewrites and no C code: the graph runs once, so compiling fast matters
            compile_kwargs={"mode": Mode(linker="py", optimizer=None)},
        )
    flat = prior["prior"].to_dataset().isel(chain=0, drop=True)
    posterior = xr.Dataset(
        {
            name: (
                ("chain", "draw", *da.dims[1:]),
                da.values.reshape(chains, draws, *da.shape[1:]),
            )
            for name, da in flat.data_vars.items()
        },
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(draws),
            **{k: v for k, v in flat.coords.items() if k != "draw"},
        },
    )
    rng = np.random.default_rng(config.random_seed)
    shape = (chains, draws)
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.zeros(shape, dtype=bool)),
            "maxdepth_reached": (("chain", "draw"), np.zeros(shape, dtype=bool)),
            "energy": (("chain", "draw"), rng.normal(size=shape)),
            "n_steps": (("chain", "draw"), np.full(shape, 7.0)),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
    )
    groups = {"posterior": posterior, "sample_stats": stats}
    for name in ("observed_data", "constant_data"):
        if name in prior.children:
            groups[name] = prior[name].to_dataset()
    return xr.DataTree.from_dict(groups)


@dataclass(frozen=True)
class SimulatedTelemetry:
    """A simulated count table and the parameters that generated it."""

    frame: pd.DataFrame
    truth: dict[str, object] = field(default_factory=dict)


def _zero_sum_within(values: np.ndarray, parent: np.ndarray) -> np.ndarray:
    means = np.bincount(parent, weights=values) / np.bincount(parent)
    return values - means[parent]


def simulate_telemetry(
    n_regions: int = 2,
    n_services: int = 3,
    n_nodes: int = 2,
    n_windows: int = 48,
    *,
    family: str = "poisson",
    rate: float = 1e-3,
    sd: tuple[float, float, float] = (0.4, 0.3, 0.2),
    alpha: float = 5.0,
    psi: float = 0.8,
    daily_amplitude: float = 0.0,
    beta: float = 0.0,
    window: str = "5min",
    unbalanced: bool = False,
    seed: int = 0,
) -> SimulatedTelemetry:
    """Simulate errors per window of a region → service → node fleet.

    Group effects sum to zero within each parent (the model's convention), so the
    true intercept is ``log(rate)``. ``unbalanced=True`` gives services 1 to
    ``2 * n_nodes`` nodes. A numeric covariate ``load`` (standard normal) enters with
    coefficient ``beta``; ``daily_amplitude`` adds ``a * sin(2 pi t / 1 day)``.
    Counts are drawn by :func:`bayescount.inference.predict.draw_counts` (NB2 as a
    gamma–Poisson mixture, PyMC's zero-inflation convention).

    Parameters
    ----------
    n_regions, n_services, n_nodes : int
        Regions, services per region and nodes per service (``unbalanced``: 1 to
        ``2 * n_nodes`` per service).
    n_windows : int
        Windows per node, starting 2026-01-05 (naive timestamps).
    family : str
        One of :data:`~bayescount.models.FAMILIES`.
    rate : float
        Errors per request at the population level (events per exposure unit).
    sd : tuple of float
        Standard deviations of the region, service and node effects (log-rate scale).
    alpha : float
        NB2 shape (negative binomial families).
    psi : float
        Probability of the count part (zero-inflated families).
    daily_amplitude : float
        Amplitude of the daily sine on the log rate.
    beta : float
        Coefficient of ``load`` on the log rate.
    window : str
        Window length, a pandas frequency (``"5min"``).
    unbalanced : bool
        Vary the number of nodes per service.
    seed : int
        Seed of every draw.

    Returns
    -------
    SimulatedTelemetry
        ``frame`` with columns ``timestamp``, ``region``, ``service``, ``node``,
        ``load``, ``requests`` (exposure, 2,000 to 20,000 per window) and ``errors``
        (counts per window); ``truth`` with the true parameters and effects.
    """
    rng = np.random.default_rng(seed)
    regions = [f"r{i}" for i in range(n_regions)]
    services, service_parent, nodes, node_parent = [], [], [], []
    for r in range(n_regions):
        for s in range(n_services):
            services.append(f"r{r}-s{s}")
            service_parent.append(r)
            k = int(rng.integers(1, 2 * n_nodes + 1)) if unbalanced else n_nodes
            for n in range(k):
                nodes.append(f"r{r}-s{s}-n{n}")
                node_parent.append(len(services) - 1)
    sp, np_ = np.array(service_parent), np.array(node_parent)
    eff_r = rng.normal(0, sd[0], n_regions)
    eff_r -= eff_r.mean()
    eff_s = _zero_sum_within(rng.normal(0, sd[1], len(services)), sp)
    eff_n = _zero_sum_within(rng.normal(0, sd[2], len(nodes)), np_)
    times = pd.date_range("2026-01-05", periods=n_windows, freq=window)
    node_idx = np.repeat(np.arange(len(nodes)), n_windows)
    t = np.tile(times, len(nodes))
    service_idx = np_[node_idx]
    region_idx = sp[service_idx]
    requests = rng.integers(2_000, 20_000, len(node_idx)).astype(float)
    load = rng.normal(size=len(node_idx))
    days = (t - np.datetime64("1970-01-01")) / np.timedelta64(1, "D")
    eta = (
        np.log(rate)
        + eff_r[region_idx]
        + eff_s[service_idx]
        + eff_n[node_idx]
        + beta * load
        + daily_amplitude * np.sin(2 * np.pi * days)
    )
    mu = requests * np.exp(eta)
    y = draw_counts(
        mu,
        alpha if family.endswith("negative_binomial") else None,
        psi if family.startswith("zero_inflated") else None,
        rng,
    )
    frame = pd.DataFrame(
        {
            "timestamp": t,
            "region": np.array(regions)[region_idx],
            "service": np.array(services)[service_idx],
            "node": np.array(nodes)[node_idx],
            "load": load,
            "requests": requests,
            "errors": y.astype(np.int64),
        }
    )
    truth = {
        "intercept": float(np.log(rate)),
        "region_sd": sd[0],
        "service_sd": sd[1],
        "node_sd": sd[2],
        "region_effect": dict(zip(regions, eff_r, strict=True)),
        "service_effect": dict(zip(services, eff_s, strict=True)),
        "node_effect": dict(zip(nodes, eff_n, strict=True)),
        "beta": beta,
        "alpha": alpha,
        "psi": psi,
    }
    return SimulatedTelemetry(frame, truth)
