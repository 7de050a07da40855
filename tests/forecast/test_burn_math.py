"""Burn forecasts on hand-computed cases (deterministic draws, no model)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescount.forecast.burn import budget_consumed, burn_rate, forecast_burn
from bayescount.forecast.future import FutureDraws
from bayescount.forecast.slo import ObservedSoFar, SLOSpec
from bayescount.inference.predict import PredictiveParameters

NOW = pd.Timestamp("2026-03-01")


def draws(bad_per_window, total_per_window, n_draws=4, freq="1h"):
    """Deterministic draws: every draw has the same bad/total per window."""
    bad = np.asarray(bad_per_window, dtype=float)
    total = np.asarray(total_per_window, dtype=float)
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=len(bad), freq=freq), "total": total})
    shape = (2, n_draws // 2, len(bad))
    return FutureDraws(rows, np.broadcast_to(bad, shape).copy(),
                       np.broadcast_to(total, shape).copy(), "t")


def observed(bad, total, elapsed):
    return ObservedSoFar(bad, total, elapsed, NOW)


def test_consumed_and_time_to_exhaustion_hand_computed():
    slo = SLOSpec(0.999, "30d")
    # Budget of the window: 0.001 * (10_000 + 2_000) = 12 bad events.
    exact = forecast_burn(draws([3, 4], [1000, 1000]), slo, observed(5, 10_000, "29d22h"))
    assert exact.draws["consumed"].values == pytest.approx(1.0)
    assert exact.p_exhaust == 0.0  # exactly the budget is not exhausted
    over = forecast_burn(draws([3, 5], [1000, 1000]), slo, observed(5, 10_000, "29d22h"))
    assert over.draws["consumed"].values == pytest.approx(13 / 12)
    assert over.p_exhaust == 1.0
    # 5 + 3 = 8 <= 12 after the first hour; 5 + 8 = 13 > 12 at the end of the second.
    assert np.all(over.draws["tau_hours"].values == 2.0)
    tte = over.time_to_exhaustion().set_index("horizon")["p_exhausted_by"]
    assert tte["1h"] == 0.0 and tte["window_end"] == 1.0
    assert over.draws["burn_rate"].sel(horizon="1h").values == pytest.approx(3.0)
    assert over.budget_remaining()["q0.5"] == pytest.approx(-1 / 12)
    assert over.window_end == NOW + pd.Timedelta(hours=2)
    assert [n.split()[1] for n in over.notes] == ["6h", "1d", "3d"]  # not covered


def test_zero_errors_never_exhaust():
    slo = SLOSpec(0.9999, "28d")
    fc = forecast_burn(draws(np.zeros(72), np.full(72, 50.0)), slo,
                       observed(0, 1e6, "25d"))
    assert fc.p_exhaust == 0.0
    assert fc.p_exhaust_mc_se == 0.0
    assert np.all(np.isinf(fc.draws["tau_hours"].values))
    assert np.all(fc.draws["burn_rate"].values == 0.0)
    assert fc.decision.level == "none"
    assert fc.budget_remaining()["mean"] == 1.0


def test_errors_at_the_budget_rate_burn_exactly_one():
    slo = SLOSpec(0.999, "30d")
    total = np.full(96, 5000.0)
    fc = forecast_burn(draws(total * 0.001, total), slo, observed(80, 80_000, "26d"))
    for h in ("1h", "6h", "1d", "3d"):
        assert fc.draws["burn_rate"].sel(horizon=h).values == pytest.approx(1.0)
    assert fc.draws["consumed"].values == pytest.approx(1.0)
    assert fc.p_exhaust == 0.0


def test_burn_rate_and_budget_helpers():
    assert burn_rate(np.array([1, 2]), np.array([500, 500]), 0.001) == pytest.approx(3.0)
    assert burn_rate(np.array([0]), np.array([0]), 0.001) == 0.0
    assert budget_consumed(0, 0, 0, 0, 0.01) == 0.0
    assert budget_consumed(1, 0, 0, 0, 0.01) == np.inf
    assert budget_consumed(5, 1000, np.array([5, 15]), 1000, 0.01) == pytest.approx([0.5, 1.0])


def test_windows_after_the_window_end_feed_burn_rates_only():
    slo = SLOSpec(0.999, "30d")
    bad = [1] * 24 + [10] * 6
    fc = forecast_burn(draws(bad, [1000] * 30), slo, observed(0, 1000, "29d"))
    # 24 windows start before the window end and count towards the budget.
    assert fc.draws.sizes["time"] == 24
    assert fc.draws["consumed"].values == pytest.approx(24 / (0.001 * 25_000))
    # The forward burn over the next day uses the first 24 windows; 3d is not covered.
    assert fc.draws["burn_rate"].sel(horizon="1d").values == pytest.approx(1.0)
    assert "3d" not in fc.draws["horizon"].values
    assert fc.future.bad.shape[-1] == 30
    short = forecast_burn(draws([1] * 5, [1000] * 5), slo, observed(0, 1000, "20d"))
    assert any("before the window end" in n for n in short.notes)
    assert short.horizon_end == NOW + pd.Timedelta(hours=5)


def test_rows_before_now_are_ignored_and_no_window_is_an_error():
    slo = SLOSpec(0.999, "30d")
    late = ObservedSoFar(0, 1000, "29d", NOW + pd.Timedelta(hours=2))
    fc = forecast_burn(draws([5, 5, 1, 1], [1000] * 4), slo, late)
    assert fc.draws.sizes["time"] == 2
    assert any("2 future rows before" in n for n in fc.notes)
    from bayescount.exceptions import DataError

    with pytest.raises(DataError, match="No future window"):
        later = ObservedSoFar(0, 10, "1d", NOW + pd.Timedelta(hours=3))
        forecast_burn(draws([1], [10]), slo, later)


def test_exhausted_already_gives_tau_zero():
    fc = forecast_burn(draws([0, 0], [1000, 1000]), SLOSpec(0.99, "1d"),
                       observed(500, 10_000, "22h"))
    assert np.all(fc.draws["tau_hours"].values == 0.0)
    assert fc.p_exhaust == 1.0


def test_predictive_parameters_path_uses_exposure_as_total():
    mu = xr.DataArray(np.full((2, 500, 24), 2.0), dims=("chain", "draw", "obs"))
    params = PredictiveParameters(mu, None, None, np.full(24, 1000.0))
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=24, freq="1h")})
    fc = forecast_burn(params, SLOSpec(0.999, "30d"), observed(0, 10_000, "29d"), rows,
                       time="t", random_seed=3)
    # Future bad ~ Poisson(48); budget = 0.001 * 34_000 = 34: P(Poisson(48) > 34).
    from scipy import stats

    expected = stats.poisson.sf(34, 48)
    assert abs(fc.p_exhaust - expected) < 4 * fc.p_exhaust_mc_se + 1e-3
    assert 0 < fc.p_exhaust_mc_se < 0.02
    assert fc.draws["burn_rate"].sel(horizon="1d").mean() == pytest.approx(2.0, rel=0.03)


def test_rollup_of_burn_forecast_sums_draws():
    rows = pd.DataFrame({
        "t": np.repeat(pd.date_range(NOW, periods=3, freq="1h"), 2),
        "svc": ["a", "b"] * 3,
        "total": [100.0, 300.0] * 3,
    })
    rng = np.random.default_rng(0)
    bad = rng.poisson(1.0, size=(2, 50, 6)).astype(float)
    fd = FutureDraws(rows, bad, np.broadcast_to(rows["total"].to_numpy(), bad.shape).copy(), "t")
    fc = forecast_burn(fd, SLOSpec(0.99, "30d"), observed(0, 100, "29d21h"))
    table = fc.rollup(["svc"]).set_index("group")
    assert table.loc["a", "bad_mean"] == pytest.approx(bad[..., ::2].sum(-1).mean())
    assert table.loc["all", "bad_mean"] == pytest.approx(bad.sum(-1).mean())


@settings(max_examples=15, deadline=None)
@given(
    objective=st.floats(0.95, 0.99999),
    per_window=st.floats(1.0, 1e6),
    windows=st.integers(1, 48),
    elapsed_h=st.integers(0, 600),
)
def test_a_zero_error_rate_never_burns_budget(objective, per_window, windows, elapsed_h):
    fc = forecast_burn(draws(np.zeros(windows), np.full(windows, per_window)),
                       SLOSpec(objective, "30d"),
                       ObservedSoFar(0, per_window * 10, pd.Timedelta(hours=elapsed_h), NOW))
    assert fc.p_exhaust == 0.0
    assert np.all(fc.draws["burn_rate"].values == 0.0)
    assert np.all(fc.draws["consumed"].values == 0.0)
