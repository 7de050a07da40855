"""Typed results: JSON-safe ``to_dict``, ``to_frame``, ``_repr_html_`` and ``plot``."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescount.forecast._results import json_safe
from bayescount.forecast.anomalies import AnomalyReport, anomaly_table
from bayescount.forecast.attribution import Attribution, excess_table
from bayescount.forecast.burn import forecast_burn
from bayescount.forecast.capacity import CapacityForecast, capacity_table
from bayescount.forecast.future import FutureDraws
from bayescount.forecast.slo import ObservedSoFar, SLOSpec
from bayescount.inference.predict import PredictiveParameters

matplotlib.use("Agg")
NOW = pd.Timestamp("2026-05-01")


@pytest.fixture(scope="module")
def burn():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=30, freq="1h")})
    bad = rng.poisson(3.0, size=(2, 100, 30)).astype(float)
    fd = FutureDraws(rows, bad, np.full(bad.shape, 2000.0), "t")
    return forecast_burn(fd, SLOSpec(0.999, "30d", name="api"),
                         ObservedSoFar(670, 700_000, "29d", NOW))


def test_burn_forecast_dict_is_strict_json(burn):
    text = json.dumps(burn.to_dict(), allow_nan=False)
    payload = json.loads(text)
    assert payload["time_to_exhaustion"]["hours_quantiles"]["q0.05"] is not None
    assert payload["budget_remaining"]["mean"] == pytest.approx(burn.budget_remaining()["mean"])
    assert payload["now"] == "2026-05-01T00:00:00"
    frame = burn.to_frame()
    assert list(frame["horizon"]) == ["1h", "6h", "1d", "3d", "window_end"]
    assert "P(budget exhausted by" in burn._repr_html_()


def test_burn_plot_is_a_fan_chart(burn):
    fig = burn.plot()
    ax = fig.axes[0]
    assert len(ax.collections) >= 3  # two bands and the "so far" point
    assert any(np.allclose(line.get_ydata(), 1.0) for line in ax.lines)  # exhaustion line
    assert "P(exhaust)" in ax.get_title()


def test_json_safe_values():
    out = json_safe({"a": np.float64(np.inf), "b": np.int64(3), "c": pd.Timedelta(hours=2),
                     "d": [np.nan, 1.5], "e": pd.DataFrame({"x": [1]}), "f": pd.NaT})
    assert out == {"a": None, "b": 3, "c": 2.0, "d": [None, 1.5], "e": [{"x": 1}], "f": None}


def test_anomaly_report_outputs():
    rng = np.random.default_rng(1)
    y = rng.poisson(10, 40)
    y[10:13] = 40
    mu = xr.DataArray(np.full((2, 50, 40), 10.0), dims=("chain", "draw", "obs"))
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=40, freq="5min")})
    table = anomaly_table(PredictiveParameters(mu, None, None, np.ones(40)), rows, y,
                          series=np.full(40, "svc"), time="t")
    report = AnomalyReport(table, 0.99, 2, "t")
    alerts = report.alerts()
    assert len(alerts) == 1 and alerts.iloc[0]["windows"] == 3
    assert alerts.iloc[0]["alert_at"] == rows["t"][11]
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["n_flagged"] == 2 and payload["alerts"][0]["direction"] == "high"
    ax = report.plot().axes[0]
    assert ax.get_title() == "svc: 2 flagged windows"
    assert "1 alerts" in report._repr_html_()


def test_attribution_and_capacity_outputs():
    rows = pd.DataFrame({"svc": ["a", "b", "c"]})
    draws = np.random.default_rng(2).poisson([5, 50, 500], size=(1000, 3))
    table = excess_table(np.array([20, 55, 480]), draws, rows, ["svc"])
    att = Attribution(table, NOW, NOW + pd.Timedelta(hours=1), 0.9, 0.95)
    payload = json.loads(json.dumps(att.to_dict(), allow_nan=False))
    assert len(payload["groups"]) == 4
    ax = att.plot(level="svc").axes[0]
    assert len(ax.patches) == 3
    assert [t.get_text().split()[0] for t in ax.get_yticklabels()] == ["a", "b", "c"]
    cap_table = capacity_table(draws.astype(float), rows, ["svc"], per="total", threshold=600,
                               rng=np.random.default_rng(3))
    cap = CapacityForecast(cap_table.assign(scenario="current"), 600, 0.05, "total")
    payload = json.loads(json.dumps(cap.to_dict(), allow_nan=False))
    assert payload["threshold"] == 600 and len(payload["groups"]) == 4
    ax = cap.plot(level="svc").axes[0]
    assert ax.get_xlabel().startswith("total count")
    assert "threshold 600" in cap._repr_html_()
