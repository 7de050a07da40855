"""Chunking over rows or draws bounds memory and changes no number.

Each test computes a result in small chunks and in one piece (or by the earlier,
unchunked recipe) on a small fake fit and requires them to be equal, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from fakefit_helpers import simulated_fake

from bayescount.checks import residual_diagnostics
from bayescount.checks.residuals import _posterior_mean_moments
from bayescount.inference import draws as draws_module
from bayescount.inference.draws import draw_subset, fitted_predictions
from bayescount.inference.fit import as_fit
from bayescount.inference.predictive_cdf import pit_bounds
from bayescount.plots.pit import randomised_pit


@pytest.fixture(scope="module", params=["poisson", "negative_binomial"])
def fake(request):
    model, frame, _ = simulated_fake(request.param, seed=3, rate=2e-3, n_windows=30,
                                     chains=2, draws=60)
    return as_fit(model)


def _unchunked_pit(fit, max_draws, random_seed):
    """The randomised PIT as computed before chunking: every row at once."""
    rng = np.random.default_rng(random_seed)
    prepared, _ = fit.training_rows()
    params = fit.predictive_parameters(prepared, rng=rng,
                                       posterior=draw_subset(fit.posterior, max_draws))

    def values(da):
        return None if da is None else da.stack(s=("chain", "draw")).transpose("s", ...).values

    y = fit.observed_counts()
    f_below, f_at, _ = pit_bounds(y, values(params.mu), values(params.alpha),
                                  values(params.psi))
    return np.clip(f_below + rng.random(y.size) * (f_at - f_below), 0.0, 1.0)


@pytest.mark.parametrize("chunk_size", [1, 7, 250])
def test_randomised_pit_is_the_same_in_any_chunks(fake, chunk_size):
    expected = _unchunked_pit(fake, 80, 5)
    got = randomised_pit(fake, max_draws=80, random_seed=5, chunk_size=chunk_size)
    assert fake.n_rows > chunk_size  # really chunked
    np.testing.assert_array_equal(got, expected)


def test_randomised_pit_refuses_a_bad_chunk_size(fake):
    from bayescount.exceptions import SpecError

    with pytest.raises(SpecError, match="chunk_size must be a positive integer, got 0"):
        randomised_pit(fake, chunk_size=0)


def test_residual_moments_are_the_same_in_any_chunks(fake):
    mean_1, var_1, _ = _posterior_mean_moments(fake, fake.n_rows)
    for chunk_size in (3, 64, None):
        mean, var, _ = _posterior_mean_moments(fake, chunk_size)
        np.testing.assert_array_equal(mean, mean_1)
        np.testing.assert_array_equal(var, var_1)
    default = residual_diagnostics(fake, by="service")
    one = residual_diagnostics(fake, by="service", chunk_size=fake.n_rows)
    assert default.to_dict() == one.to_dict()


def test_fitted_predictions_match_predict_block_by_block(fake, monkeypatch):
    """Each block is ``fit.with_posterior(block).predict(None, seed)``, number for number."""
    monkeypatch.setattr(draws_module, "BLOCK_ELEMENTS", 5 * fake.n_rows)
    blocks = list(fitted_predictions(fake, 100, 11))
    assert len(blocks) > 1
    posterior = draw_subset(fake.posterior, 100)
    seeds = np.random.SeedSequence(11)
    start = 0
    for block in blocks:
        n = block.draws.sizes["draw"]
        (seed,) = seeds.spawn(1)
        old = fake.with_posterior(posterior.isel(draw=slice(start, start + n))).predict(
            None, random_seed=int(seed.generate_state(1)[0]))
        np.testing.assert_array_equal(block.draws.values, old.draws.values)
        np.testing.assert_array_equal(block.params.mu.values, old.params.mu.values)
        assert block.rows.equals(old.rows)
        start += n
    assert start == posterior.sizes["draw"]
