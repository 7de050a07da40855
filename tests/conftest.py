"""Shared fixtures: synthetic telemetry and a fake sampler for fits without NUTS.

``fake_sampler`` plugs into the sampler seam of :meth:`bayescount.CountModel.fit`
(``sample_fn=``): it draws the model's *prior* with ``pm.sample_prior_predictive``,
reshapes the draws into a ``(chain, draw)`` posterior and adds synthetic sample stats,
so fit files, prediction and reporting can be tested in a second instead of a fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from pytensor.compile.mode import Mode

from bayescount import ConvergenceThresholds
from bayescount.inference.sampling import SamplerConfig
from bayescount.testing import simulate_telemetry

#: Compile graphs with neither rewrites nor C code: the fake draws once, so compiling
#: fast matters more than running fast.
FAST = {"mode": Mode(linker="py", optimizer=None)}


def fake_tree(model: pm.Model, config: SamplerConfig) -> xr.DataTree:
    """Return a fit-shaped DataTree of ``model`` built from prior draws (no NUTS).

    The posterior holds ``config.chains * config.draws`` prior draws of every free
    variable and deterministic, reshaped to ``(chain, draw, ...)``; ``sample_stats``
    has no divergences, iid normal energy and a constant tree size; ``observed_data``
    and ``constant_data`` are the model's, as a real fit stores them.
    """
    chains, draws = config.chains, config.draws
    with model:
        prior = pm.sample_prior_predictive(
            draws=chains * draws, random_seed=config.random_seed, compile_kwargs=FAST
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
    return xr.DataTree.from_dict(
        {
            "posterior": posterior,
            "sample_stats": stats,
            "observed_data": prior["observed_data"].to_dataset(),
            "constant_data": prior["constant_data"].to_dataset(),
        }
    )


@pytest.fixture(scope="session")
def fake_sampler():
    """The fake sampling function, for ``CountModel.fit(..., sample_fn=fake_sampler)``."""
    return fake_tree


@pytest.fixture(scope="session")
def loose_thresholds() -> ConvergenceThresholds:
    """A convergence gate that tiny or fake fits pass (they are too short for the real one)."""
    return ConvergenceThresholds(max_rhat=1.5, min_ess=5.0, min_bfmi=0.0)


@pytest.fixture(scope="session")
def telemetry() -> pd.DataFrame:
    """Unbalanced region → service → node telemetry (144 rows) with a categorical tier.

    Columns: timestamp, region, service, node, load (numeric), tier ("hi"/"lo"),
    requests (exposure), errors (counts).
    """
    frame = simulate_telemetry(
        n_regions=2, n_services=3, n_nodes=2, n_windows=12, unbalanced=True, seed=3
    ).frame
    frame["tier"] = np.where(frame["load"] > 0, "hi", "lo")
    return frame


@pytest.fixture(scope="session")
def fake_fit(telemetry, fake_sampler, loose_thresholds):
    """A zero-inflated NB model with covariates, seasonality and dispersion by service,
    "fitted" by :func:`fake_tree` (2 chains x 50 prior draws)."""
    from bayescount import CountModel

    model = CountModel(
        "errors", "requests", time="timestamp", groups=["region", "service", "node"],
        covariates=["load", "tier", "load:tier"], seasonality="daily,weekly",
        family="zero_inflated_negative_binomial", dispersion_by="service",
    )
    return model.fit(
        telemetry, draws=50, chains=2, random_seed=5, thresholds=loose_thresholds,
        sample_fn=fake_sampler,
    )
