"""Coverage math on known distributions, and the coverage report of a (fake) fit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fakefit_helpers import fake_fit
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescount.checks.coverage import (
    coverage_from_cdf,
    coverage_report,
    score_predictive,
    summarize_coverage,
)
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.testing import simulate_telemetry

LEVELS = (0.5, 0.8, 0.9, 0.95)


def _nb_truth(n=3000, s=200, alpha=2.0, seed=0):
    """Per-draw parameters with posterior spread, and y drawn from that very mixture."""
    rng = np.random.default_rng(seed)
    centre = rng.gamma(2.0, 3.0, n)
    mu = centre * np.exp(rng.normal(0, 0.2, (s, n)))
    alpha_draws = alpha * np.exp(rng.normal(0, 0.1, (s, n)))
    pick = rng.integers(0, s, n)  # the draw that generates each row
    mu_i, a_i = mu[pick, np.arange(n)], alpha_draws[pick, np.arange(n)]
    y = rng.poisson(rng.gamma(a_i, mu_i / a_i))
    return y, mu, alpha_draws


def test_randomized_coverage_is_nominal_when_the_predictive_is_the_truth():
    y, mu, alpha = _nb_truth()
    report = summarize_coverage(score_predictive(y, mu, alpha, levels=LEVELS, random_seed=1))
    for row in report.overall:
        assert row.lower <= row.level <= row.upper, row
        assert row.verdict == "calibrated"
    assert report.calibrated
    # plain inclusive intervals of counts over-cover
    assert all(r.coverage_inclusive > r.level for r in report.overall)


def test_too_narrow_predictive_under_covers():
    y, mu, alpha = _nb_truth()
    narrow = summarize_coverage(score_predictive(y, mu, alpha * 100, random_seed=1))
    poisson = summarize_coverage(score_predictive(y, mu, None, random_seed=1))
    for report in (narrow, poisson):
        assert all(r.upper < r.level for r in report.overall)
        assert all(r.verdict == "under-covers" for r in report.overall)
        assert not report.calibrated
    right = summarize_coverage(score_predictive(y, mu, alpha, random_seed=1))
    # narrower intervals, worse interval score and CRPS
    for good, bad in zip(right.overall, poisson.overall, strict=True):
        assert bad.mean_width < good.mean_width
        assert bad.interval_score > good.interval_score
    assert poisson.crps > right.crps


def test_zero_inflated_truth_is_calibrated():
    rng = np.random.default_rng(5)
    n = 3000
    mu = rng.gamma(2, 2, n)
    psi = 0.7
    y = rng.poisson(mu) * (rng.random(n) < psi)
    scores = score_predictive(y, mu[None], None, np.full((1, n), psi), random_seed=2)
    assert summarize_coverage(scores).calibrated
    poisson = summarize_coverage(score_predictive(y, mu[None], random_seed=2))
    assert not poisson.calibrated


def test_coverage_from_cdf_hand_example():
    # F(1) = 0.3, F(2) = 0.6, V = 0.5: u = 0.45
    scores = coverage_from_cdf(
        y=[2], cdf_below=[0.3], cdf_at=[0.6], lower=[[2, 1]], upper=[[2, 3]],
        levels=[0.1, 0.2], uniforms=[0.5],
    )
    assert scores.pit[0] == pytest.approx(0.45)
    # level 0.1 covers u in (0.45, 0.55): strict, so not covered; 0.2 covers (0.4, 0.6)
    np.testing.assert_array_equal(scores.covered(), [[False, True]])
    np.testing.assert_array_equal(scores.covered_inclusive(), [[True, True]])
    np.testing.assert_array_equal(scores.width(), [[0, 2]])


@settings(max_examples=30, deadline=None)
@given(
    levels=st.lists(st.floats(0.05, 0.99), min_size=2, max_size=6, unique=True),
    log_mu=st.floats(-2, 5),
    log_alpha=st.floats(-1, 3),
    seed=st.integers(0, 2**16),
)
def test_coverage_is_monotone_in_level_and_inclusive_dominates(levels, log_mu, log_alpha, seed):
    rng = np.random.default_rng(seed)
    n = 60
    mu = np.exp(log_mu) * np.exp(rng.normal(0, 0.3, (20, n)))
    alpha = np.full_like(mu, np.exp(log_alpha))
    y = rng.poisson(np.exp(log_mu) * rng.gamma(1, 1, n))
    scores = score_predictive(y, mu, alpha, levels=levels, random_seed=seed, crps=False)
    covered, inclusive = scores.covered(), scores.covered_inclusive()
    # columns follow sorted(levels): nested intervals, per row
    assert np.all(np.diff(covered.astype(int), axis=1) >= 0)
    assert np.all(np.diff(inclusive.astype(int), axis=1) >= 0)
    assert np.all(inclusive | ~covered)  # randomised-covered implies inclusive-covered
    report = summarize_coverage(scores)
    cov = [r.coverage for r in report.overall]
    assert cov == sorted(cov)
    assert all(r.coverage_inclusive >= r.coverage for r in report.overall)


def test_levels_are_validated():
    with pytest.raises(SpecError, match="strictly between 0 and 1"):
        score_predictive([1], np.ones((2, 1)), levels=[0.5, 1.0])


# ------------------------------------------------------------------ coverage_report
@pytest.fixture(scope="module")
def split():
    sim = simulate_telemetry(family="negative_binomial", n_windows=60, rate=2e-3, alpha=3.0,
                             seed=3)
    f = sim.frame
    times = np.sort(f["timestamp"].unique())
    train = f[f["timestamp"] < times[40]]
    hold = f[f["timestamp"] >= times[40]].copy()
    hold["horizon"] = ((hold["timestamp"] - times[39]) / (times[1] - times[0])).astype(int)
    model = fake_fit(train, sim.truth, family="negative_binomial")
    return model, hold


def test_coverage_report_of_a_model_at_the_truth(split):
    model, hold = split
    report = coverage_report(model, hold, by="service", horizon="horizon", chunk_size=70)
    assert report.n_draws == 1000 and report.overall[0].n == len(hold)
    assert report.calibrated
    groups = {r.group for r in report.scope("group")}
    assert groups == set(hold["service"])
    assert {r.group for r in report.scope("horizon")} == {str(h) for h in range(1, 21)}
    assert sum(r.n for r in report.scope("group") if r.level == 0.5) == len(hold)
    doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert [d["level"] for d in doc["overall"]] == list(LEVELS)
    keys = {"level", "coverage", "coverage_inclusive", "n", "lower", "upper", "mean_width"}
    assert keys <= set(doc["overall"][0])
    assert set(doc["groups"]) == groups and keys <= set(doc["groups"]["r0-s0"][0])
    frame = report.to_frame()
    assert frame.loc[("overall", "(all)", 0.9), "n"] == len(hold)


def test_coverage_report_does_not_depend_on_chunking(split):
    model, hold = split
    a = coverage_report(model, hold, chunk_size=17, random_seed=4)
    b = coverage_report(model, hold, chunk_size=5000, random_seed=4)
    for ra, rb in zip(a.rows, b.rows, strict=True):
        assert (ra.covered, ra.coverage_inclusive, ra.mean_width) == (
            rb.covered, rb.coverage_inclusive, rb.mean_width
        )
        assert ra.crps == pytest.approx(rb.crps, rel=0.05)  # CRPS samples differ


def test_an_overconfident_model_under_covers_held_out_rows(split):
    _, hold = split
    sim = simulate_telemetry(family="negative_binomial", n_windows=60, rate=2e-3, alpha=3.0,
                             seed=3)
    train = sim.frame[sim.frame["timestamp"] < np.sort(sim.frame["timestamp"].unique())[40]]
    narrow = fake_fit(train, sim.truth, family="negative_binomial", model_alpha=300.0)
    report = coverage_report(narrow, hold)
    assert all(r.verdict == "under-covers" for r in report.overall)


def test_coverage_report_errors_name_the_column(split):
    model, hold = split
    with pytest.raises(ColumnNotFoundError, match="'tier'"):
        coverage_report(model, hold, by="tier")
    with pytest.raises(ColumnNotFoundError, match="counts column 'errors'"):
        coverage_report(model, hold.drop(columns="errors"))
    with pytest.raises(SpecError, match="chunk_size"):
        coverage_report(model, hold, chunk_size=0)


def test_unseen_labels_get_population_predictions(split):
    model, hold = split
    new = hold.head(50).assign(node="brand-new-node")
    report = coverage_report(model, pd.concat([hold, new]), by="node")
    assert "brand-new-node" in {r.group for r in report.scope("group")}
    # population-level intervals are wider than the node's own
    by_node = {(r.group, r.level): r.mean_width for r in report.scope("group")}
    assert by_node[("brand-new-node", 0.9)] > by_node[(hold["node"].iloc[0], 0.9)]
