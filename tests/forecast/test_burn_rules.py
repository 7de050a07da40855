"""Multiwindow multi-burn-rate rules: thresholds, the Sloth check, the forecast check."""

import numpy as np
import pandas as pd
import pytest

from bayescount.exceptions import SpecError
from bayescount.forecast.burn import forecast_burn
from bayescount.forecast.burn_rules import (
    DEFAULT_MIN_BAD_EVENTS,
    BurnRule,
    RuleWarning,
    check_forecast,
    check_observed,
    decide,
    seed_rules,
    sre_workbook_rules,
    usable_rules,
    window_shares,
)
from bayescount.forecast.future import FutureDraws
from bayescount.forecast.slo import ObservedSoFar, SLOSpec

NOW = pd.Timestamp("2026-03-01")


def test_workbook_factors_30d():
    rules = sre_workbook_rules(SLOSpec(0.999, "30d"))
    assert [r.factor for r in rules] == pytest.approx([14.4, 6.0, 3.0, 1.0])
    assert [(r.severity, r.long_window, r.short_window) for r in rules] == [
        ("page", "1h", "5m"), ("page", "6h", "30m"), ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h")]


def test_workbook_factors_scale_with_window_length():
    assert [r.factor for r in sre_workbook_rules(SLOSpec(0.999, "28d"))] == pytest.approx(
        [13.44, 5.6, 2.8, 2.8 / 3])
    # A calendar month: February 2026 has 28 days.
    feb = sre_workbook_rules(SLOSpec(0.999, "calendar_month"), pd.Timestamp("2026-02-10"))
    assert feb[0].factor == pytest.approx(13.44)


def series(bad_last_hour, total_per_window=1000, bad_last_5m=None, hours=3):
    """5-minute windows ending at NOW; errors only in the last hour."""
    times = pd.date_range(end=NOW - pd.Timedelta(minutes=5), periods=12 * hours, freq="5min")
    bad = np.zeros(len(times))
    bad[-12:] = bad_last_hour / 12
    if bad_last_5m is not None:
        bad[-1] = bad_last_5m
    return pd.DataFrame({"time": times, "bad": bad, "total": float(total_per_window)})


def test_observed_rule_needs_long_and_short_window():
    slo = SLOSpec(0.999, "30d")
    page_1h = sre_workbook_rules(slo)[:1]
    # 2 % errors over the last hour: burn 20x > 14.4x in both the 1h and 5m windows.
    fired = check_observed(series(240), slo, page_1h, now=NOW)[0]
    assert fired.fired and fired.long_burn == pytest.approx(20.0)
    assert fired.short_burn == pytest.approx(20.0)
    # Same hour, but the last 5 minutes recovered: the short window resets the alert.
    recovered = check_observed(series(240, bad_last_5m=0), slo, page_1h, now=NOW)[0]
    assert recovered.long_burn > 14.4 and recovered.short_burn == 0.0
    assert not recovered.fired
    # 1 % errors: burn 10x < 14.4x.
    assert not check_observed(series(120), slo, page_1h, now=NOW)[0].fired


def test_low_traffic_one_error_in_ten_requests_does_not_page():
    slo = SLOSpec(0.999, "30d")
    quiet = series(0, total_per_window=10 / 12)
    quiet.loc[quiet.index[-1], "bad"] = 1  # one error in the last 5 min, 10 requests an hour
    rules = sre_workbook_rules(slo)[:1]
    result = check_observed(quiet, slo, rules, now=NOW)[0]
    assert result.long_burn == pytest.approx(100.0)  # 1 / 10 / 0.001
    assert not result.fired and "not enough evidence" in result.reason
    assert check_observed(quiet, slo, rules, now=NOW, min_bad_events=1)[0].fired
    assert DEFAULT_MIN_BAD_EVENTS == 5


def test_rule_that_can_never_fire_warns():
    slo = SLOSpec(0.9, "30d")  # burn is at most 10x: the 14.4x rule can never fire
    with pytest.warns(RuleWarning, match="page-1h-5m .*can never fire"):
        able = usable_rules(slo, sre_workbook_rules(slo))
    assert able == {"page-1h-5m": False, "page-6h-30m": True, "ticket-1d-2h": True,
                    "ticket-3d-6h": True}
    everything_bad = series(0, total_per_window=100).assign(bad=100.0)
    results = check_observed(everything_bad, slo, sre_workbook_rules(slo), now=NOW, able=able)
    assert [r.fired for r in results] == [False, True, True, True]


def test_forecast_rule_is_a_probability():
    slo = SLOSpec(0.999, "30d")
    rule = BurnRule("p", "page", "1h", 14.4)
    burn = {"1h": np.array([20.0, 20.0, 20.0, 1.0])}
    bad = {"1h": np.array([30.0, 30.0, 3.0, 1.0])}  # one 20x draw has only 3 bad events
    res = check_forecast(burn, bad, slo, [rule], min_probability=0.5)[0]
    assert res.probability == 0.5 and res.fired
    assert not check_forecast(burn, bad, slo, [rule], min_probability=0.6)[0].fired
    missing = check_forecast({}, {}, slo, [rule])[0]
    assert not missing.fired and "does not cover" in missing.reason


def test_decide_prefers_page_over_ticket():
    slo = SLOSpec(0.999, "30d")
    ticket = BurnRule("t", "ticket", "1d", 1.5)
    page = BurnRule("p", "page", "1d", 2.0)
    burn = {"1d": np.full(10, 1.8)}
    bad = {"1d": np.full(10, 50.0)}
    results = check_forecast(burn, bad, slo, [ticket, page])
    decision = decide(results)
    assert (decision.level, decision.rule) == ("ticket", "t")
    results = check_forecast({"1d": np.full(10, 2.5)}, bad, slo, [ticket, page])
    assert decide(results).level == "page" and decide(results).rule == "p"
    assert decide([]).level == "none"


def _flat_future(ratio, total=2000.0, hours=80):
    times = pd.date_range(NOW, periods=hours, freq="1h")
    rows = pd.DataFrame({"t": times, "total": total})
    rng = np.random.default_rng(1)
    bad = rng.poisson(ratio * total, size=(2, 200, hours)).astype(float)
    return FutureDraws(rows, bad, np.full(bad.shape, total), "t")


def test_seed_rules_page_at_2x_and_ticket_at_1_5x_within_a_day():
    slo = SLOSpec(0.999, "30d")
    obs = ObservedSoFar(0, 1e6, "20d", NOW)
    page = forecast_burn(_flat_future(0.0025), slo, obs, rules=seed_rules())
    assert page.decision.level == "page" and page.decision.rule == "forecast-1d-2x"
    ticket = forecast_burn(_flat_future(0.0017), slo, obs, rules=seed_rules())
    assert ticket.decision.level == "ticket" and ticket.decision.rule == "forecast-1d-1.5x"
    calm = forecast_burn(_flat_future(0.001), slo, obs, rules=seed_rules())
    assert calm.decision.level == "none"


def test_default_rules_in_a_forecast_with_observed_series():
    slo = SLOSpec(0.999, "30d")
    hist = series(240)
    obs = ObservedSoFar(float(hist["bad"].sum()), float(hist["total"].sum()), "3h", NOW, hist)
    fc = forecast_burn(_flat_future(0.0005), slo, obs)
    kinds = [(r.kind, r.rule) for r in fc.rules]
    assert ("observed", "page-1h-5m") in kinds and ("forecast", "forecast-1d-2x") in kinds
    assert fc.decision.level == "page" and fc.decision.rule == "page-1h-5m"
    assert "observed rule" in fc.decision.reason


# ----------------------------------------------- windows against the data's step (issue 12)
def _incident_rows(freq: str) -> pd.DataFrame:
    """6 h of rows ending at NOW: 0.5 % errors, then 20 % in the last hour (20x a 1 % budget)."""
    times = pd.date_range(end=NOW - pd.Timedelta(freq), periods=int(pd.Timedelta("6h")
                                                                     / pd.Timedelta(freq)),
                          freq=freq)
    total = 1000.0 * pd.Timedelta(freq) / pd.Timedelta("15min")
    ratio = np.where(times >= NOW - pd.Timedelta("1h"), 0.2, 0.005)
    return pd.DataFrame({"time": times, "bad": ratio * total, "total": total})


@pytest.mark.parametrize("freq", ["5min", "15min"])
def test_the_same_incident_pages_with_5_and_15_minute_rows(freq):
    slo = SLOSpec(0.99, "30d")
    rows = _incident_rows(freq)
    obs = ObservedSoFar.from_frame(rows, slo)
    (page,) = check_observed(obs.series, slo, sre_workbook_rules(slo)[:1], now=obs.now)
    assert page.evaluable and page.fired
    assert page.long_burn == pytest.approx(20.0) and page.short_burn == pytest.approx(20.0)
    if freq == "15min":
        assert "5m window read pro rata from the last 15min row" in page.reason
    decision = decide(check_observed(obs.series, slo, sre_workbook_rules(slo), now=obs.now))
    assert (decision.level, decision.rule) == ("page", "page-1h-5m")


def test_window_shares_are_pro_rata():
    starts = pd.date_range("2026-01-05 23:00", periods=4, freq="15min")
    share = window_shares(starts, pd.Timedelta("15min"), pd.Timestamp("2026-01-05 23:55"),
                          pd.Timestamp("2026-01-06"))
    assert share == pytest.approx([0, 0, 0, 1 / 3])
    # A 1 d window ending half-way through a 5 h row takes half of it.
    starts = pd.date_range("2026-01-01", periods=6, freq="5h")
    share = window_shares(starts, pd.Timedelta("5h"), pd.Timestamp("2026-01-01"),
                          pd.Timestamp("2026-01-01 22:30"))
    assert share == pytest.approx([1, 1, 1, 1, 0.5, 0])


def test_six_hour_rows_cannot_resolve_a_one_hour_window():
    slo = SLOSpec(0.99, "30d")
    times = pd.date_range(end=NOW - pd.Timedelta("6h"), periods=12, freq="6h")
    rows = pd.DataFrame({"time": times, "bad": 50_000.0, "total": 100_000.0})  # 50x
    results = {r.rule: r for r in check_observed(rows, slo, sre_workbook_rules(slo), now=NOW)}
    one_hour = results["page-1h-5m"]
    assert not one_hour.evaluable and not one_hour.fired
    assert np.isnan(one_hour.long_burn) and np.isnan(one_hour.short_burn)
    assert one_hour.reason == ("not evaluable: the 1h window is shorter than the data's 6h "
                               "rows; give rows of 1h or less")
    six_hour = results["page-6h-30m"]
    assert six_hour.evaluable and six_hour.fired
    assert six_hour.long_burn == pytest.approx(50.0) and "pro rata" in six_hour.reason
    assert decide(list(results.values())).rule == "page-6h-30m"


def test_a_window_no_row_overlaps_is_not_evaluable_rather_than_0x():
    slo = SLOSpec(0.99, "30d")
    rows = _incident_rows("5min")
    later = NOW + pd.Timedelta("2h")  # the series stopped two hours ago
    (page,) = check_observed(rows, slo, sre_workbook_rules(slo)[:1], now=later)
    assert not page.evaluable and not page.fired and np.isnan(page.short_burn)
    assert "no observed row overlaps the 1h" in page.reason


def _future_rows(freq, n, bad, total=1000.0):
    times = pd.date_range(NOW, periods=n, freq=freq)
    rows = pd.DataFrame({"t": times})
    b = np.broadcast_to(np.asarray(bad, dtype=float), (2, 10, n)).copy()
    return FutureDraws(rows, b, np.full(b.shape, total), "t")


def test_forecast_horizons_shorter_than_the_future_rows_are_not_forecast():
    slo = SLOSpec(0.99, "30d")
    fd = _future_rows("6h", 12, np.arange(12))
    fc = forecast_burn(fd, slo, ObservedSoFar(0, 1e6, "10d", NOW))
    assert list(fc.draws["horizon"].values) == ["6h", "1d", "3d"]
    assert "Horizon 1h is shorter than the future rows (6h); not forecast." in fc.notes
    rules = {r.rule: r for r in fc.rules}
    assert not rules["page-1h-5m"].evaluable and "shorter than the future rows" in rules[
        "page-1h-5m"].reason
    tte = fc.time_to_exhaustion().set_index("horizon")["p_exhausted_by"]
    assert np.isnan(tte["1h"]) and not np.isnan(tte["6h"])
    # 1 d = rows 0..3: (0 + 1 + 2 + 3) bad of 4000 over a 1 % budget.
    assert fc.draws["burn_rate"].sel(horizon="1d").values == pytest.approx(6 / 4000 / 0.01)


def test_forecast_horizons_take_the_last_row_pro_rata():
    slo = SLOSpec(0.99, "30d")
    fd = _future_rows("5h", 10, np.arange(10))
    fc = forecast_burn(fd, slo, ObservedSoFar(0, 1e6, "10d", NOW))
    # 1 d = rows 0..3 whole (20 h) and 4/5 of row 4.
    bad = 0 + 1 + 2 + 3 + 0.8 * 4
    assert fc.draws["bad_events"].sel(horizon="1d").values == pytest.approx(bad)
    assert fc.draws["burn_rate"].sel(horizon="1d").values == pytest.approx(
        bad / 4800 / 0.01)


def test_burn_rate_is_the_error_ratio_over_the_budget():
    from bayescount.forecast.burn_draws import burn_rate as draws_burn_rate
    from bayescount.forecast.slo import burn_rate

    assert draws_burn_rate is burn_rate
    # 10 bad of 1,000 against a 99.9 % objective: ratio 0.01 / budget 0.001 = 10x.
    assert float(burn_rate(10.0, 1000.0, 0.001, axis=None)) == pytest.approx(10.0)
    draws = np.array([[[1.0, 3.0], [0.0, 0.0]]])  # (chain, draw, time)
    totals = np.array([[[100.0, 100.0], [0.0, 0.0]]])
    out = burn_rate(draws, totals, 0.01)
    np.testing.assert_allclose(out, [[2.0, 0.0]])  # no traffic burns nothing
    with pytest.raises(SpecError, match="error_budget"):
        burn_rate(1.0, 10.0, 0.0)
