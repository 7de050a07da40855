"""Fixtures of the report tests: a fake fit (no NUTS) whose fleet has a service called
``<script>alert(1)</script>``, its held-out rows and decision inputs.

The fake fit's draws are the prior sampler's, pulled close to the pooled rate
(:func:`calm_sampler`): raw prior draws predict counts in the thousands, and every
distinct count is one more line of a rootogram, so the figures would take minutes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount.testing import prior_sampler, simulate_telemetry

LABEL = "<script>alert(1)</script>"
INCIDENT = ("2026-01-01T10:00", "2026-01-01T11:00")


@pytest.fixture(scope="session")
def fleet() -> dict[str, pd.DataFrame]:
    """Training rows (9 h of 15-min windows), holdout (3 h), future and incident tables."""
    frame = simulate_telemetry(2, 2, 2, 48, family="negative_binomial", rate=2e-3,
                               window="15min", seed=4).frame
    frame["timestamp"] = pd.Timestamp("2026-01-01") + (
        frame["timestamp"] - frame["timestamp"].min())
    first = sorted(frame["service"].unique())[0]
    frame["service"] = frame["service"].replace({first: LABEL})
    frame = frame.drop(columns=["load"])
    cut = pd.Timestamp("2026-01-01T09:00")
    train, holdout = frame[frame["timestamp"] < cut], frame[frame["timestamp"] >= cut]
    incident = holdout.copy()
    inside = (incident["timestamp"] >= INCIDENT[0]) & (incident["timestamp"] < INCIDENT[1])
    incident.loc[inside & (incident["service"] == LABEL), "errors"] *= 3
    return {"train": train.reset_index(drop=True), "holdout": holdout.reset_index(drop=True),
            "future": holdout.drop(columns="errors").reset_index(drop=True),
            "incident": incident.reset_index(drop=True)}


def calm_sampler(model, config) -> xr.DataTree:
    """:func:`prior_sampler`, then draws near the pooled rate: effects and sds x 0.2, alpha 20."""
    tree = prior_sampler(model, config)
    post = tree["posterior"].to_dataset()
    rng = np.random.default_rng(config.random_seed)
    y = model["y_obs"].get_value()
    exposure = model["exposure"].get_value()
    shape = post["intercept"].shape
    changes = {"intercept": (post["intercept"].dims, np.log(y.sum() / exposure.sum())
                             + 0.02 * rng.normal(size=shape))}
    for name in post.data_vars:
        if name.endswith(("_effect", "_sd", "_free")):
            changes[name] = post[name] * 0.2
    alpha = 20.0 * np.exp(0.05 * rng.normal(size=shape))
    changes["alpha"] = (post["intercept"].dims, alpha)
    changes["inv_sqrt_alpha"] = (post["intercept"].dims, 1 / np.sqrt(alpha))
    tree["posterior"] = xr.DataTree(post.assign(changes))
    return tree


@pytest.fixture(scope="session")
def report_fit(fleet, loose_thresholds):
    """A negative binomial region -> service -> node fit from prior draws (2 x 50)."""
    from bayescount import CountModel

    model = CountModel("errors", "requests", exposure_unit="requests", time="timestamp",
                       groups=["region", "service", "node"], family="negative_binomial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(fleet["train"], draws=50, chains=2, random_seed=3,
                  thresholds=loose_thresholds, sample_fn=calm_sampler)
    return model.fit_


@pytest.fixture(scope="session")
def all_inputs(fleet) -> dict:
    """Every optional input of ``bc.report``."""
    from bayescount import ObservedSoFar

    return {
        "holdout": fleet["holdout"],
        "slo": "0.99/7d",
        "observed": ObservedSoFar(bad=50.0, total=1e6, elapsed="2d"),
        "future": fleet["future"],
        "incident": "/".join(INCIDENT),
        "incident_data": fleet["incident"],
        "scenario": "traffic=1.3",
    }


@pytest.fixture(scope="session")
def full_html(report_fit, all_inputs, tmp_path_factory):
    """(result, text) of one HTML report with every section."""
    import bayescount as bc

    out = tmp_path_factory.mktemp("html") / "report.html"
    result = bc.report(report_fit, out=out, max_draws=100, **all_inputs)
    return result, out.read_text()


@pytest.fixture(scope="session")
def full_markdown(report_fit, all_inputs, tmp_path_factory):
    """(result, text) of one Markdown report with every section."""
    import bayescount as bc

    out = tmp_path_factory.mktemp("md") / "postmortem.md"
    result = bc.report(report_fit, out=out, max_draws=100, **all_inputs)
    return result, out.read_text()
