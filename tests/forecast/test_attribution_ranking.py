"""Postmortem attribution: excess events, P(rate rose), shrinkage-aware ranking."""

import numpy as np
import pandas as pd
import pytest
from forecast_fakes import truth_fit

from bayescount.exceptions import DataError, SpecError
from bayescount.forecast.attribution import (
    attribute_incident,
    excess_table,
    indicator_effect,
    mask_incident,
)
from bayescount.testing import simulate_telemetry

ROWS = pd.DataFrame({
    "service": ["tiny", "big", "big", "noisy"],
    "node": ["tiny-1", "big-1", "big-2", "noisy-1"],
})


def predicted_draws(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    tiny = rng.poisson(0.02, n)  # a node that almost never errs
    big = rng.poisson(rng.gamma(400, 2000 / 400, n))  # ~2000 +- 100
    big2 = rng.poisson(10, n)
    noisy = rng.negative_binomial(1.5, 1.5 / (1.5 + 2000), n)  # mean 2000, very wide
    return np.column_stack([tiny, big, big2, noisy])


def test_a_node_with_3_errors_does_not_outrank_a_service_with_3000():
    observed = np.array([3, 3000, 10, 2600])
    table = excess_table(observed, predicted_draws(), ROWS, ["service", "node"],
                         ci=0.9, min_probability=0.95)
    nodes = table[table["level"] == "node"].set_index("group")
    # The tiny node rose by a factor of ~150 and almost surely rose ...
    assert nodes.loc["tiny/tiny-1", "rate_ratio"] > 100
    assert nodes.loc["tiny/tiny-1", "p_rose"] > 0.99
    # ... but ranks below the big node, whose excess is ~1000 events.
    assert nodes.loc["big/big-1", "rank"] == 1
    assert nodes.loc["tiny/tiny-1", "rank"] == 2
    assert nodes.loc["big/big-1", "excess"] == pytest.approx(1000, abs=30)
    assert nodes.loc["tiny/tiny-1", "excess"] == pytest.approx(3, abs=0.05)
    # The noisy node has more excess (~600) than the tiny one, but its rise is not
    # credible (P ~ 0.6): it ranks after every significant group.
    assert nodes.loc["noisy/noisy-1", "excess"] > 500
    assert not nodes.loc["noisy/noisy-1", "significant"]
    assert nodes.loc["noisy/noisy-1", "rank"] > nodes.loc["tiny/tiny-1", "rank"]
    services = table[table["level"] == "service"].set_index("group")
    assert services.loc["big", "rank"] == 1 and services.loc["tiny", "rank"] == 2
    # Service totals are sums of draws, not of summaries.
    draws = predicted_draws()
    assert services.loc["big", "expected"] == pytest.approx(draws[:, 1:3].sum(1).mean())
    assert list(table["level"].unique()) == ["global", "service", "node"]


def test_excess_interval_and_mid_p():
    draws = np.repeat(np.arange(10), 100)[:, None]  # uniform on 0..9
    table = excess_table(np.array([5]), draws, pd.DataFrame({"g": ["a"]}), ["g"], ci=0.8)
    row = table[table["level"] == "g"].iloc[0]
    assert row["p_rose"] == pytest.approx(0.5 + 0.5 * 0.1)  # P(pred < 5) + 0.5 P(pred = 5)
    assert row["excess"] == pytest.approx(0.5)
    assert (row["excess_lower"], row["excess_upper"]) == pytest.approx((-3.0, 4.0), abs=1)
    with pytest.raises(SpecError, match="ci and min_probability"):
        excess_table(np.array([5]), draws, pd.DataFrame({"g": ["a"]}), ["g"], ci=1.5)


def test_mask_incident():
    frame = pd.DataFrame({"t": pd.date_range("2026-01-01", periods=6, freq="1h"), "y": range(6)})
    dropped = mask_incident(frame, "t", "2026-01-01 02:00", "2026-01-01 04:00")
    assert list(dropped["y"]) == [0, 1, 4, 5]
    flagged = mask_incident(frame, "t", "2026-01-01 02:00", "2026-01-01 04:00", how="flag")
    assert list(flagged["in_incident"]) == [False, False, True, True, False, False]
    assert "in_incident" not in frame
    with pytest.raises(DataError, match="start before it ends"):
        mask_incident(frame, "t", "2026-01-02", "2026-01-01")


def test_attribute_incident_finds_the_broken_service():
    sim = simulate_telemetry(2, 2, 2, 72, family="negative_binomial", alpha=30.0, beta=0.3,
                             seed=4)
    frame = sim.frame
    start = frame["timestamp"].min() + pd.Timedelta(hours=5)
    end = start + pd.Timedelta(minutes=30)
    baseline = truth_fit(mask_incident(frame, "timestamp", start, end), sim.truth,
                         covariates=["load"])
    broken = frame.copy()
    hit = (broken["service"] == "r1-s1") & broken["timestamp"].between(start, end,
                                                                       inclusive="left")
    broken.loc[hit, "errors"] *= 3
    result = attribute_incident(baseline, broken, start, end, covariates=["load"],
                                random_seed=1)
    services = result.top("service")
    assert services.iloc[0]["group"] == "r1/r1-s1"
    assert services.iloc[0]["p_rose"] > 0.999 and services.iloc[0]["significant"]
    assert services["significant"].sum() == 1
    assert result.top("region").iloc[0]["group"] == "r1"
    # The multiplicative effect per unit of load, back from the standardised scale.
    effect = result.effects.iloc[0]
    assert baseline.design_.encodings[0].scale != pytest.approx(1.0, abs=0.01)
    assert effect["median"] == pytest.approx(np.exp(0.3), rel=0.03)
    assert effect["lower"] < effect["median"] < effect["upper"]
    assert indicator_effect(baseline, "load")["p_increase"] == 1.0
    with pytest.raises(SpecError, match="No covariate term 'cpu'"):
        indicator_effect(baseline, "cpu")
    with pytest.raises(DataError, match="No rows"):
        attribute_incident(baseline, broken, "2020-01-01", "2020-01-02")


def test_attribution_marks_nothing_when_nothing_happened():
    """Issue 12, kind 8: 40 nodes of an incident window where nothing happened."""
    sim = simulate_telemetry(2, 4, 5, 48, family="negative_binomial", alpha=20.0, seed=12)
    model = truth_fit(sim.frame, sim.truth, noise=0.01, draws=500)
    start = sim.frame["timestamp"].min() + pd.Timedelta("2h")
    result = attribute_incident(model, sim.frame, start, start + pd.Timedelta("1h"),
                                random_seed=3)
    table = result.table
    assert len(table[table["level"] == "node"]) == 40
    assert (table["p_rose"] >= 0.95).sum() >= 1  # the unadjusted rule marks something
    assert not table["significant"].any()
    assert (table["p_adjusted"] >= table["p_value"] - 1e-12).all()
