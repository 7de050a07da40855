"""Shared fixtures: synthetic telemetry and a fake sampler for fits without NUTS.

``fake_sampler`` plugs into the sampler seam of :meth:`bayescount.CountModel.fit`
(``sample_fn=``): it draws the model's *prior* with ``pm.sample_prior_predictive``,
reshapes the draws into a ``(chain, draw)`` posterior and adds synthetic sample stats,
so fit files, prediction and reporting can be tested in a second instead of a fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayescount import ConvergenceThresholds
from bayescount.testing import prior_sampler, simulate_telemetry

#: The fake sampler (moved to :func:`bayescount.testing.prior_sampler`, where worker
#: processes and Dask workers can import it).
fake_tree = prior_sampler


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
