"""Predictive CDFs, tails and integer quantiles of count mixtures against scipy and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bayescount.inference import predictive_cdf
from bayescount.inference.predict import PredictiveParameters, sample_counts
from bayescount.inference.predictive_cdf import (
    count_cdf,
    family_moments,
    mixture_cdf,
    mixture_mean,
    mixture_moments,
    mixture_quantile,
    mixture_quantiles,
    mixture_sf_pmf,
    pit_bounds,
    thin,
)

TAUS = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975]


def _params(n, seed=0):
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.uniform(-3, 9, n))  # 0.05 to 8000: both search paths
    alpha = np.exp(rng.uniform(-1.5, 4, n))
    psi = rng.uniform(0.4, 1.0, n)
    return mu, alpha, psi


def test_count_cdf_matches_scipy():
    mu, alpha, psi = _params(500)
    k = np.random.default_rng(1).poisson(mu)
    np.testing.assert_allclose(count_cdf(k, mu), stats.poisson.cdf(k, mu), rtol=1e-10)
    np.testing.assert_allclose(
        count_cdf(k, mu, alpha), stats.nbinom.cdf(k, alpha, alpha / (alpha + mu)), rtol=1e-9
    )
    zi = count_cdf(k, mu, alpha, psi)
    np.testing.assert_allclose(
        zi, (1 - psi) + psi * stats.nbinom.cdf(k, alpha, alpha / (alpha + mu)), rtol=1e-9
    )
    assert np.all(count_cdf(-1, mu, alpha, psi) == 0)


def test_family_moments():
    mean, var = family_moments(np.array(4.0), np.array(2.0), np.array(0.5))
    # count part var 4 + 16 / 2 = 12; ZI: 0.5 * 12 + 0.25 * 16 = 10
    assert (mean, var) == (2.0, 10.0)
    m, v = mixture_moments(np.array([[1.0], [3.0]]))  # Poisson(1) / Poisson(3) mixture
    assert (m[0], v[0]) == (2.0, 2.0 + 1.0)


@pytest.mark.parametrize("family", ["poisson", "nb", "zip", "zinb"])
@pytest.mark.parametrize("max_walk", [1024, 0], ids=["walk", "bisect"])
def test_single_draw_quantiles_equal_scipy_ppf(family, max_walk):
    mu, alpha, psi = _params(400, seed=2)
    a = alpha if family in ("nb", "zinb") else None
    p = psi if family.startswith("zi") else None
    q = mixture_quantiles(TAUS, mu[None], None if a is None else a[None],
                          None if p is None else p[None], max_walk=max_walk)
    dist = stats.poisson(mu) if a is None else stats.nbinom(a, a / (a + mu))
    tau = np.array(TAUS)[:, None]
    if p is None:
        ref = dist.ppf(tau)
    else:  # (1 - psi) + psi G(k) >= tau  <=>  G(k) >= (tau - 1 + psi) / psi
        inner = (tau - 1 + p) / p
        ref = np.where(inner <= 0, 0, dist.ppf(np.clip(inner, 1e-300, 1)))
    np.testing.assert_array_equal(q, ref)


def _brute_quantiles(taus, mu, alpha, psi):
    out = np.zeros((len(taus), mu.shape[1]), dtype=int)
    mean, var = mixture_moments(mu, alpha, psi)
    for i in range(mu.shape[1]):
        k = np.arange(0, int(mean[i] + 10 * np.sqrt(var[i])) + 2)  # F reaches 0.99 earlier
        col = slice(i, i + 1)
        f = count_cdf(k[None], mu[:, col], None if alpha is None else alpha[:, col],
                      None if psi is None else psi[:, col]).mean(0)
        out[:, i] = [np.argmax(f >= t) for t in taus]
    return out


@pytest.mark.parametrize("max_walk", [1024, 0], ids=["walk", "bisect"])
def test_mixture_quantiles_and_pit_bounds_equal_brute_force(max_walk):
    rng = np.random.default_rng(4)
    n, s = 30, 40
    centre = np.exp(rng.uniform(-2, 6, n))
    mu = centre * np.exp(rng.normal(0, 0.4, (s, n)))
    alpha = np.exp(rng.normal(1, 0.5, (s, n)))
    psi = rng.uniform(0.6, 1, (s, n))
    y = rng.poisson(centre * rng.uniform(0.2, 3, n))  # outliers on both sides too
    f_below, f_at, q = pit_bounds(y, mu, alpha, psi, taus=TAUS, max_walk=max_walk)
    np.testing.assert_array_equal(q, _brute_quantiles(TAUS, mu, alpha, psi))
    np.testing.assert_allclose(f_below, mixture_cdf(y - 1, mu, alpha, psi), atol=1e-12)
    np.testing.assert_allclose(f_at, mixture_cdf(y, mu, alpha, psi), atol=1e-12)


@pytest.mark.parametrize("family", ["poisson", "nb", "zip", "zinb"])
def test_pit_bounds_without_quantiles_equal_two_scipy_cdfs(family):
    # F(y - 1) comes from F(y) less the pmf: check it against scipy's own CDF at y - 1,
    # including y = 0, far tails on both sides and counts in the thousands.
    rng = np.random.default_rng(8)
    n, s = 60, 25
    centre = np.exp(rng.uniform(-3, 8, n))
    mu = centre * np.exp(rng.normal(0, 0.3, (s, n)))
    alpha = np.exp(rng.normal(1, 0.5, (s, n))) if family in ("nb", "zinb") else None
    psi = rng.uniform(0.5, 1, (s, n)) if family.startswith("zi") else None
    y = rng.poisson(centre * rng.uniform(0.1, 4, n))
    y[:5] = 0
    if alpha is None:
        part = [stats.poisson.cdf(y + d, mu) for d in (-1, 0)]
    else:
        part = [stats.nbinom.cdf(y + d, alpha, alpha / (alpha + mu)) for d in (-1, 0)]
    if psi is not None:
        below, at = part
        part = [np.where(y == 0, 0.0, (1 - psi) + psi * below), (1 - psi) + psi * at]
    f_below, f_at, q = pit_bounds(y, mu, alpha, psi)
    assert q.shape == (0, n)
    np.testing.assert_allclose(f_at, part[1].mean(axis=0), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(f_below, part[0].mean(axis=0), rtol=1e-9, atol=1e-13)
    assert np.all(f_below[:5] == 0.0) and np.all(f_below <= f_at)


def test_draws_axis_and_row_shape_are_respected():
    mu, alpha, _ = _params(12, seed=5)
    draws = mu[:, None] * np.linspace(0.8, 1.2, 7)[None, :]  # rows first, draws last
    q_last = mixture_quantiles([0.1, 0.9], draws.reshape(3, 4, 7), axis=-1)
    q_first = mixture_quantiles([0.1, 0.9], draws.T)
    assert q_last.shape == (2, 3, 4)
    np.testing.assert_array_equal(q_last.reshape(2, -1), q_first)


def test_invalid_probabilities_are_refused():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        mixture_quantiles([0.0, 0.5], np.ones((2, 3)))


@settings(max_examples=40, deadline=None)
@given(
    log_mu=st.lists(st.floats(-3, 7), min_size=1, max_size=6),
    log_alpha=st.floats(-1, 4),
    taus=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=5, unique=True),
)
def test_quantile_is_the_smallest_k_with_cdf_at_least_tau(log_mu, log_alpha, taus):
    mu = np.exp(np.array(log_mu))[None, :] * np.array([[0.7], [1.0], [1.5]])
    alpha = np.full_like(mu, np.exp(log_alpha))
    q = mixture_quantiles(taus, mu, alpha)
    for j, tau in enumerate(taus):
        assert np.all(mixture_cdf(q[j], mu, alpha) >= tau)
        assert np.all(mixture_cdf(q[j] - 1, mu, alpha) < tau)
    order = np.argsort(taus)
    assert np.all(np.diff(q[order], axis=0) >= 0)


# ------------------------------------------------------- on PredictiveParameters
DIMS = ("chain", "draw", "obs")


def _predictive(mu, alpha=None, psi=None):
    """``PredictiveParameters`` of draws-first ``(S, n)`` arrays, two chains."""
    def da(a):
        a = np.asarray(a, dtype=float)
        return None if a.ndim == 0 else xr.DataArray(a.reshape(2, -1, a.shape[-1]), dims=DIMS)

    return PredictiveParameters(da(mu), None if alpha is None else da(alpha),
                                None if psi is None else da(psi), np.ones(np.shape(mu)[-1]))


def test_mid_p_matches_scipy_for_a_point_posterior():
    p = _predictive(np.broadcast_to([10.0, 10.0, 0.5], (100, 3)))
    sf, pmf = mixture_sf_pmf(p, np.array([10, 20, 0]))
    assert sf == pytest.approx(stats.poisson.sf([10, 20, 0], [10, 10, 0.5]))
    assert pmf == pytest.approx(stats.poisson.pmf([10, 20, 0], [10, 10, 0.5]))
    assert mixture_quantile(p, 0.995) == pytest.approx(stats.poisson.ppf(0.995, [10, 10, 0.5]))


@pytest.mark.parametrize(("alpha", "psi"), [(3.0, None), (None, 0.6), (2.0, 0.7)])
def test_mixture_tails_match_predictive_draws(alpha, psi):
    rng = np.random.default_rng(5)
    mu = rng.gamma(20, 0.5, size=(4000, 1))  # posterior spread of the mean
    p = _predictive(mu, None if alpha is None else np.full_like(mu, alpha),
                    None if psi is None else np.full_like(mu, psi))
    y = sample_counts(p, rng).values.ravel()
    for value in (0, 5, 12, 25):
        sf, pmf = mixture_sf_pmf(p, np.array([value]))
        assert sf[0] == pytest.approx(np.mean(y > value), abs=0.012)
        assert pmf[0] == pytest.approx(np.mean(y == value), abs=0.012)
    q = mixture_quantile(p, 0.9)[0]
    assert np.mean(y <= q) >= 0.9 - 0.01 and np.mean(y <= q - 1) < 0.9 + 0.01


def test_parameter_functions_agree_with_the_array_functions(monkeypatch):
    mu, alpha, psi = _params(50, seed=7)
    spread = np.exp(np.random.default_rng(8).normal(0, 0.3, (40, 1)))
    mu, alpha, psi = mu * spread, np.broadcast_to(alpha, (40, 50)), np.broadcast_to(psi, (40, 50))
    p = _predictive(mu, alpha, psi)
    monkeypatch.setattr(predictive_cdf, "_CHUNK_CELLS", 40 * 7)  # chunks of 7 rows / draws
    for tau in (0.005, 0.5, 0.995):
        q = mixture_quantile(p, tau)
        assert q.dtype == float
        np.testing.assert_array_equal(q, mixture_quantiles([tau], mu, alpha, psi)[0])
    y = np.random.default_rng(9).poisson(mu.mean(axis=0))
    sf, pmf = mixture_sf_pmf(p, y)
    np.testing.assert_allclose(1 - sf, mixture_cdf(y, mu, alpha, psi), atol=1e-12)
    np.testing.assert_allclose(pmf, mixture_cdf(y, mu, alpha, psi)
                               - mixture_cdf(y - 1, mu, alpha, psi), atol=1e-12)
    np.testing.assert_allclose(mixture_mean(p), mixture_moments(mu, alpha, psi)[0], rtol=1e-14)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        mixture_quantile(p, 1.0)


def test_thin_keeps_evenly_spaced_draws_and_the_exposure():
    mu, alpha, _ = _params(3)
    p = _predictive(np.broadcast_to(mu, (10, 3)), np.broadcast_to(alpha, (10, 3)))
    assert thin(p, None) is p and thin(p, 10) is p
    cut = thin(p, 4)
    assert cut.mu.sizes["draw"] == 2 and cut.alpha.sizes["draw"] == 2 and cut.psi is None
    assert cut.exposure is p.exposure
