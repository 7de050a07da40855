"""Every typed result of bayescount.checks and bayescount.forecast behaves the same.

``to_frame()`` (a DataFrame), ``to_dict()`` (strict JSON: no NaN), ``plot()`` (a
matplotlib Figure) and ``_repr_html_()`` (group labels escaped). Each result is built
cheaply: from its dataclass fields, or with the fake sampler.
"""

from __future__ import annotations

import json

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescount.checks as checks
import bayescount.forecast as forecast
from bayescount.checks.compare import ComparisonRow
from bayescount.checks.coverage import CoverageRow
from bayescount.checks.ppc import PPCStatistic
from bayescount.checks.residuals import GroupCalibration, SeriesAutocorrelation
from bayescount.forecast.anomalies import anomaly_table
from bayescount.forecast.attribution import excess_table
from bayescount.forecast.capacity import capacity_table
from bayescount.forecast.future import FutureDraws
from bayescount.inference.convergence import ConvergenceReport
from bayescount.inference.predict import PredictiveParameters

matplotlib.use("Agg")

LABEL = "<script>alert(1)</script>"
NOW = pd.Timestamp("2026-05-01")


def _coverage():
    def row(scope, group, level, cov):
        n = 200 if np.isfinite(cov) else 0
        # lower / upper: the Wilson band around the observed coverage
        return CoverageRow(scope, group, level, n, int(np.nan_to_num(cov) * n), cov,
                           cov - 0.05, cov + 0.05, cov, 4.0, 12.0, 1.5)
    rows = (row("overall", None, 0.5, 0.52), row("overall", None, 0.9, 0.88),
            row("group", LABEL, 0.5, 0.4), row("group", LABEL, 0.9, float("nan")))
    return checks.CoverageReport(rows, (0.5, 0.9), by="service", n_draws=100, random_seed=0)


def _comparison():
    rows = (ComparisonRow(LABEL, 0, -100.0, 5.0, 0.0, 0.0, 3.0, 0.7, 0, 50),
            ComparisonRow("poisson", 1, -110.0, 6.0, 10.0, 3.0, 2.0, 0.3, 2, 50))
    return checks.Comparison(rows)


def _ppc():
    def stat(name, level, group, obs):
        return PPCStatistic(name, level, group, 30, obs, 1.0, 0.5, 1.5, 0.4, "ok",
                            0.8, 0.9)
    return checks.PPCReport(
        (stat("share_zeros", None, None, 0.6), stat("max", None, None, 12.0),
         stat("share_zeros", "service", LABEL, 0.7), stat("max", "service", LABEL, float("nan"))),
        by="service", n_draws=100, interval=0.9,
    )


def _residuals():
    cal = (GroupCalibration(None, None, 100, 50.0, 48.0, 1.04, 0.3, 1.1, 0.7, 0.8),
           GroupCalibration("service", LABEL, 40, 30.0, 20.0, 1.5, 2.2, 1.4, 0.03, 0.04))
    acf = (SeriesAutocorrelation(LABEL, 20, 0.1, 0.45, 0.6, 0.7),)
    return checks.ResidualDiagnostics(cal, 110.0, 98, 1.12, (0.6, 1.4), acf, "service", True)


def _model_check():
    conv = ConvergenceReport(1.01, 400.0, 350.0, 0, 1000, 0.0, 0.9, 7.0, ("intercept",),
                             ("intercept",))
    return checks.ModelCheck(_ppc(), _residuals(), conv)


def _sbc():
    u = pd.DataFrame(np.random.default_rng(0).uniform(0.01, 0.99, size=(40, 2)),
                     columns=["intercept", "alpha"])
    return checks.SBCReport(
        family="poisson", parameters=("intercept", "alpha"), ranks=(u * 101).astype(int), u=u,
        n_ranks=100, divergences=np.zeros(40, dtype=int), n_draws=400, skipped=0, alpha=0.01,
        compile_seconds=1.0, sample_seconds=10.0, prior_seconds=0.5, wall_seconds=12.0,
        random_seed=1,
    )


def _backtest(request):
    from bayescount import ConvergenceThresholds, CountModel, SamplerConfig
    from bayescount.checks.backtest import backtest
    from bayescount.testing import simulate_telemetry

    fleet = simulate_telemetry(2, 2, 1, 24, window="1h", daily_amplitude=0.5, seed=3).frame
    model = CountModel("errors", "requests", time="timestamp", groups=["region", "service"])
    return backtest(model, fleet, origins=2, horizon=2, config=SamplerConfig(draws=40, chains=2),
                    thresholds=ConvergenceThresholds(min_ess=10, max_rhat=1.2, min_bfmi=0.0),
                    executor="serial", random_seed=5,
                    sample_fn=request.getfixturevalue("fake_sampler"))


def _burn():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=30, freq="1h")})
    bad = rng.poisson(3.0, size=(2, 100, 30)).astype(float)
    fd = FutureDraws(rows, bad, np.full(bad.shape, 2000.0), "t")
    return forecast.forecast_burn(fd, forecast.SLOSpec(0.999, "30d", name="api"),
                                  forecast.ObservedSoFar(670, 700_000, "29d", NOW))


def _anomalies():
    y = np.random.default_rng(1).poisson(10, 40)
    y[10:13] = 40
    mu = xr.DataArray(np.full((2, 50, 40), 10.0), dims=("chain", "draw", "obs"))
    rows = pd.DataFrame({"t": pd.date_range(NOW, periods=40, freq="5min")})
    table = anomaly_table(PredictiveParameters(mu, None, None, np.ones(40)), rows, y,
                          series=np.full(40, LABEL), time="t")
    return forecast.AnomalyReport(table, 0.99, 2, "t")


def _draws():
    rows = pd.DataFrame({"svc": [LABEL, "b", "c"]})
    return rows, np.random.default_rng(2).poisson([5, 50, 500], size=(1000, 3))


def _attribution():
    rows, draws = _draws()
    table = excess_table(np.array([20, 55, 480]), draws, rows, ["svc"])
    return forecast.Attribution(table, NOW, NOW + pd.Timedelta(hours=1), 0.9, 0.95)


def _capacity():
    rows, draws = _draws()
    table = capacity_table(draws.astype(float), rows, ["svc"], per="total", threshold=600,
                           rng=np.random.default_rng(3))
    return forecast.CapacityForecast(table.assign(scenario="current"), 600, 0.05, "total")


BUILDERS = {
    "BacktestReport": (_backtest, False),
    "Comparison": (lambda r: _comparison(), True),
    "CoverageReport": (lambda r: _coverage(), True),
    "FamilySelection": (lambda r: checks.FamilySelection("poisson", "simplest", _comparison()),
                        True),
    "ModelCheck": (lambda r: _model_check(), True),
    "PPCReport": (lambda r: _ppc(), True),
    "ResidualDiagnostics": (lambda r: _residuals(), True),
    "SBCReport": (lambda r: _sbc(), False),
    "AnomalyReport": (lambda r: _anomalies(), True),
    "Attribution": (lambda r: _attribution(), True),
    "BurnForecast": (lambda r: _burn(), False),
    "CapacityForecast": (lambda r: _capacity(), True),
    "Decision": (lambda r: _burn().decision, False),
    "RuleResult": (lambda r: _burn().rules[0], False),
}


def test_every_exported_result_is_covered():
    """Each class of the two ``__all__`` lists with ``to_frame`` or ``to_dict`` is a result."""
    exported = {
        name for module in (checks, forecast) for name in module.__all__
        if isinstance(getattr(module, name), type)
        and any(hasattr(getattr(module, name), m) for m in ("to_frame", "plot", "_repr_html_"))
    }
    assert exported <= set(BUILDERS), sorted(exported - set(BUILDERS))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_result_has_frame_json_figure_and_escaped_html(name, request):
    build, has_labels = BUILDERS[name]
    result = build(request)
    cls = getattr(checks, name, None) or getattr(forecast, name)
    assert isinstance(result, cls)
    for method in ("to_frame", "to_dict", "plot", "_repr_html_"):
        assert callable(getattr(result, method, None)), f"{name}.{method}"
    assert isinstance(result.to_frame(), pd.DataFrame)
    assert len(result.to_frame()) > 0
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert json.loads(text)
    fig = result.plot()
    try:
        assert isinstance(fig, matplotlib.figure.Figure), type(fig)
        axes = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_title()]
        assert axes or fig.get_suptitle(), f"{name}.plot() has no title or axis label"
    finally:
        plt.close(fig)
    html = result._repr_html_()
    assert "<script>" not in html
    if has_labels:
        assert "&lt;script&gt;" in html, f"{name}: the group label is missing from the HTML"
    assert result.plot.__doc__ and "Figure" in result.plot.__doc__, f"{name}.plot docstring"


def _figure_problems(fig) -> list[str]:
    """What a reader would miss: a title, axis labels, a legend."""
    problems = []
    axes = [ax for ax in fig.axes if ax.has_data()]
    if not (fig.get_suptitle() or all(ax.get_title() for ax in axes)):
        problems.append("no title")
    for ax in axes:
        if not ax.get_xlabel():
            problems.append(f"no x label on {ax.get_title()!r}")
        shared = ax.get_shared_y_axes().get_siblings(ax)  # a shared axis labels the row
        if not any(a.get_ylabel() or any(t.get_text() for t in a.get_yticklabels())
                   for a in shared):
            problems.append(f"no y label on {ax.get_title()!r}")
    if not (fig.legends or any(ax.get_legend() for ax in fig.axes)):
        problems.append("no legend")
    return problems


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_figure_has_a_title_axis_labels_and_a_legend(name, request):
    build, _ = BUILDERS[name]
    fig = build(request).plot()
    try:
        assert _figure_problems(fig) == [], name
    finally:
        plt.close(fig)
