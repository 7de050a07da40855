"""Calibration of P(exhaust) on simulation where the model is true (no MCMC).

Each trial has its own posterior of the error rate, Gamma(shape a, mean r). The truth is
a draw from that posterior and the future bad events are Poisson given the truth; the
forecast is built from hand-made PredictiveParameters with the posterior draws. Among
trials forecast at p ~ 0.3 the budget must run out ~30 % of the time.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount.forecast.burn import forecast_burn
from bayescount.forecast.burn_rules import seed_rules
from bayescount.forecast.slo import ObservedSoFar, SLOSpec
from bayescount.inference.predict import PredictiveParameters

N_TRIALS = 1200
HOURS = 24
REQUESTS = 1000.0


@pytest.mark.slow
def test_p_exhaust_is_calibrated():
    rng = np.random.default_rng(2026)
    slo = SLOSpec(0.999, "30d")
    now = pd.Timestamp("2026-04-01")
    rows = pd.DataFrame({"t": pd.date_range(now, periods=HOURS, freq="1h")})
    exposure = np.full(HOURS, REQUESTS)
    total_so_far = 29 * 24 * REQUESTS
    bad_so_far = 700.0  # budget of the window: 0.001 * 720_000 = 720
    observed = ObservedSoFar(bad_so_far, total_so_far, "29d", now)
    forecasts, outcomes = [], []
    for _ in range(N_TRIALS):
        shape = rng.uniform(5, 100)
        mean_rate = rng.uniform(0.4e-3, 1.3e-3)
        rates = rng.gamma(shape, mean_rate / shape, size=(2, 200, 1))
        mu = xr.DataArray(rates * exposure, dims=("chain", "draw", "obs"))
        fc = forecast_burn(PredictiveParameters(mu, None, None, exposure), slo, observed,
                           rows, time="t", rules=seed_rules(), random_seed=int(rng.integers(1e9)))
        truth = rng.gamma(shape, mean_rate / shape)
        actual_bad = rng.poisson(truth * REQUESTS * HOURS)
        forecasts.append(fc.p_exhaust)
        budget = 0.001 * (total_so_far + REQUESTS * HOURS)
        outcomes.append((bad_so_far + actual_bad) / budget > 1)
    p, hit = np.array(forecasts), np.array(outcomes, dtype=float)
    around = (p > 0.2) & (p < 0.4)
    assert around.sum() > 100
    se = np.sqrt(p[around].mean() * (1 - p[around].mean()) / around.sum())
    assert abs(hit[around].mean() - p[around].mean()) < 3 * se
    # And across the whole range, binned by forecast decile.
    for lo in np.arange(0.0, 1.0, 0.2):
        sel = (p >= lo) & (p < lo + 0.2)
        if sel.sum() >= 50:
            se = np.sqrt(max(p[sel].mean() * (1 - p[sel].mean()), 0.01) / sel.sum())
            assert abs(hit[sel].mean() - p[sel].mean()) < 3.5 * se, lo
    # Sharpness: the forecast separates outcomes (Brier well below the climatology).
    assert np.mean((p - hit) ** 2) < 0.7 * hit.mean() * (1 - hit.mean())
