"""Fits of a compressed Poisson likelihood: same posterior, per-row data and log-likelihood."""

import dataclasses

import numpy as np
import pytest
from arviz_stats import ess

from bayescount import CountModel
from bayescount.inference import SamplerConfig, predictive_parameters, run_sampler
from bayescount.inference.loglik import count_logpmf
from bayescount.models import build_model

pytestmark = pytest.mark.fit

OPTIONS = {"groups": ["region", "service", "node"], "time": "timestamp",
           "seasonality": "daily", "family": "poisson"}


@pytest.mark.slow
def test_compressed_and_per_row_models_sample_the_same_posterior(telemetry):
    cm = CountModel("errors", "requests", **OPTIONS)
    design, prepared = cm.prepare(telemetry)
    how = {lvl.name: "non_centered" for lvl in design.levels}
    config = SamplerConfig(draws=600, tune=600, chains=2, random_seed=5, progressbar=False)
    names = ["intercept", "region_sd", "service_sd", "node_sd", "fourier"]
    post = {
        compress: run_sampler(build_model(cm.spec, design, prepared, how, compress=compress),
                              config)["posterior"].to_dataset()[names]
        for compress in (True, False)
    }
    sample = ("chain", "draw")
    ess_of = {compress: ess(post[compress]) for compress in post}
    for name in names:
        # Difference of the two means against its Monte Carlo standard error.
        var = {c: post[c][name].var(sample).values / ess_of[c][name].values for c in post}
        diff = post[True][name].mean(sample).values - post[False][name].mean(sample).values
        z = np.abs(diff) / np.sqrt(var[True] + var[False])
        assert np.all(z < 4.5), (name, z)


def test_a_compressed_fit_stores_its_rows_and_their_log_likelihood(telemetry, loose_thresholds):
    # What is stored is the subject, not convergence: the fixture's two regions make a
    # funnel in region_sd that diverges now and then at the default step size.
    thresholds = dataclasses.replace(loose_thresholds, max_divergences=10**6)
    cm = CountModel("errors", "requests", **OPTIONS).fit(
        telemetry, draws=100, tune=200, chains=2, random_seed=1, log_likelihood=True,
        progressbar=False, thresholds=thresholds,
    )
    fit = cm.fit_
    assert "y_loglik" not in fit.posterior  # the potential is not a stored variable
    np.testing.assert_array_equal(fit.observed_counts(), telemetry["errors"].to_numpy())
    const = fit.tree["constant_data"]
    assert const["exposure"].dims == ("obs",) and "exposure_grid" not in const
    loglik = fit.tree["log_likelihood"]["y"]
    assert loglik.dims == ("chain", "draw", "obs") and loglik.shape == (2, 100, len(telemetry))
    prepared, _ = fit.training_rows()
    params = predictive_parameters(fit.posterior, fit.spec, fit.design, prepared,
                                   rng=np.random.default_rng(0))
    np.testing.assert_allclose(
        loglik.values, count_logpmf(prepared.counts, params.mu.values), rtol=1e-12
    )
    # Each row's cell: the (node, timestamp) of the dense groups x times grid.
    cells = fit.row_cells
    assert cells.shape == (len(telemetry),) and len(np.unique(cells)) == len(telemetry)
    # Summed over rows it is the Poisson log density of the draws: finite, below 0.
    assert np.all(np.isfinite(loglik.values)) and np.all(loglik.sum("obs") < 0)
