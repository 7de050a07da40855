"""Array math of the checks on hand-computed examples (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tsa.stattools import acf

from bayescount.checks._array import (
    count_statistics,
    crps_from_samples,
    interval_score,
    lag1_autocorrelation,
    mid_p_value,
    wilson_interval,
)


def test_count_statistics_hand_computed():
    stats = count_statistics(np.array([0, 0, 3, 1, 6]))
    # mean 2, sample variance (4 + 4 + 1 + 1 + 16) / 4 = 6.5
    assert stats == {
        "share_zeros": pytest.approx(0.4),
        "dispersion": pytest.approx(3.25),
        "max": 6.0,
        "q99": 6.0,
        "total": 10.0,
    }


def test_count_statistics_along_an_axis_and_all_zero_group():
    y = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 2, 0, 2]])
    stats = count_statistics(y, axis=1)
    np.testing.assert_allclose(stats["share_zeros"], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(stats["dispersion"], [0.0, 0.0, (4 / 3) / 1.0])
    np.testing.assert_allclose(stats["total"], [0, 4, 4])


def test_q99_is_an_observed_count_not_an_interpolation():
    y = np.arange(200)  # the 99th percentile by inverted CDF is the 198th value
    assert count_statistics(y)["q99"] == 197.0


def test_mid_p_value_splits_ties():
    t_rep = np.array([1, 2, 2, 3])
    assert mid_p_value(t_rep, 2) == pytest.approx(0.25 + 0.5 * 0.5)
    assert mid_p_value(t_rep, 0) == 1.0
    assert mid_p_value(t_rep, 5) == 0.0
    # vectorised: one observed value per column
    two = np.stack([t_rep, t_rep + 10], axis=1)
    np.testing.assert_allclose(mid_p_value(two, np.array([2, 12]), axis=0), [0.5, 0.5])


@pytest.mark.parametrize("k,n", [(0, 10), (7, 10), (900, 1000), (50, 50)])
def test_wilson_interval_matches_statsmodels(k, n):
    lo, hi = wilson_interval(k, n)
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose([lo, hi], ref, atol=1e-12)


@pytest.mark.parametrize("n", [7, 48, 50, 352, 1000])
def test_wilson_interval_holds_the_proportion_at_the_ends(n):
    # all covered: the band reaches exactly 1 (it came out 0.9999999999999999 for n = 48,
    # and a reliability plot's error bar k/n - upper was then negative and refused)
    lo, hi = wilson_interval([0, n], [n, n])
    assert lo[0] == 0.0 and hi[1] == 1.0
    assert lo[1] < 1.0 and hi[0] > 0.0
    assert np.isnan(wilson_interval(0, 0)).all()


def test_interval_score_hand_computed():
    # width 4; y below by 2 at level 0.8: + 2 / 0.2 * 2 = 20
    assert interval_score(1, 3, 7, 0.8) == pytest.approx(24.0)
    assert interval_score(5, 3, 7, 0.8) == pytest.approx(4.0)
    assert interval_score(9, 3, 7, 0.5) == pytest.approx(4 + 4 * 2)


def test_crps_from_samples_hand_computed_and_against_exact_poisson():
    # samples {0, 2}, y = 1: E|X - y| = 1, unbiased E|X - X'| = 2, CRPS = 0
    assert crps_from_samples(np.array([0, 2]), np.array(1)) == pytest.approx(0.0)
    # a point forecast: CRPS = absolute error
    assert crps_from_samples(np.array([[4.0]]), np.array([1.0]), axis=0) == pytest.approx(3.0)
    rng = np.random.default_rng(0)
    from scipy import stats

    mu, y = 4.0, 7
    k = np.arange(200)
    exact = np.sum((stats.poisson.cdf(k, mu) - (y <= k)) ** 2)
    est = crps_from_samples(rng.poisson(mu, size=(200_000, 1)), np.array([y]), axis=0)
    assert est[0] == pytest.approx(exact, rel=0.01)


def test_lag1_autocorrelation_hand_and_statsmodels():
    assert lag1_autocorrelation(np.array([1.0, 2, 3, 4])) == pytest.approx(1.25 / 5)
    x = np.random.default_rng(3).normal(size=50)
    assert lag1_autocorrelation(x) == pytest.approx(acf(x, nlags=1)[1])
    assert np.isnan(lag1_autocorrelation(np.array([1.0, 2.0])))
    assert np.isnan(lag1_autocorrelation(np.ones(5)))
