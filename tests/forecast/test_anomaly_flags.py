"""Anomaly flags: mid-p tails, mixture intervals, the k-consecutive rule.

The analytic tails and quantiles themselves: ``tests/inference/test_predictive_cdf.py``.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from bayescount.exceptions import SpecError
from bayescount.forecast.anomalies import anomaly_table, detect_anomalies, run_lengths
from bayescount.inference.predict import PredictiveParameters

DIMS = ("chain", "draw", "obs")


def params(mu, alpha=None, psi=None, n_draws=100):
    shape = (2, n_draws // 2, len(mu))
    da = lambda v: xr.DataArray(np.broadcast_to(np.asarray(v, float), shape).copy(), dims=DIMS)  # noqa: E731
    return PredictiveParameters(da(mu), None if alpha is None else da(alpha),
                                None if psi is None else da(psi), np.ones(len(mu)))


def test_run_lengths_per_series_and_direction():
    direction = np.array([1, 1, 0, 1, -1, -1, 1, 1])
    series = np.array(["a", "a", "a", "a", "a", "b", "b", "b"])
    assert list(run_lengths(direction, series)) == [1, 2, 0, 1, 1, 1, 1, 2]


def spiky_series(seed=0):
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-01-01", periods=60, freq="1h")
    y = rng.poisson(10, size=60)
    y[20] = y[21] = 40  # two windows in a row far above
    y[35] = 45  # a single spike
    y[50] = y[51] = 0  # two in a row below the interval (its lower end is 3)
    return pd.DataFrame({"t": times, "y": y})


def test_k_consecutive_rule_on_injected_spikes():
    frame = spiky_series()
    p = params(np.full(len(frame), 10.0))
    table = anomaly_table(p, frame, frame["y"].to_numpy(), series=np.full(60, "s"), time="t",
                          level=0.99, consecutive=2)
    beyond = set(np.flatnonzero(table["direction"] != 0))
    assert {20, 21, 35} <= beyond
    assert table.loc[50, "lower"] == stats.poisson.ppf(0.005, 10) == 3
    assert list(np.flatnonzero(table["flag"])) == [21, 51]
    assert list(table.loc[[21, 51], "direction"]) == [1, -1]
    assert table.loc[21, "run_length"] == 2 and table.loc[35, "run_length"] == 1
    assert table.loc[20, "severity"] == pytest.approx(
        -np.log10(stats.poisson.sf(40, 10) + 0.5 * stats.poisson.pmf(40, 10)))
    single = anomaly_table(p, frame, frame["y"].to_numpy(), series=np.full(60, "s"), time="t",
                           level=0.99, consecutive=1)
    assert {20, 21, 35} <= set(np.flatnonzero(single["flag"]))
    with pytest.raises(SpecError, match="consecutive"):
        anomaly_table(p, frame, frame["y"].to_numpy(), series=np.full(60, "s"), consecutive=0)


def test_detect_anomalies_with_a_model_flags_the_injected_node(sim_nb, nb_truth_model):
    frame = sim_nb.frame.copy()
    node = "r1-s0-n1"
    late = frame["timestamp"] >= frame["timestamp"].max() - pd.Timedelta(minutes=20)
    hit = late & (frame["node"] == node)
    frame.loc[hit, "errors"] = frame.loc[hit, "errors"] * 4 + 30
    report = detect_anomalies(nb_truth_model, frame, prob=0.99, consecutive=2)
    alerts = report.alerts()
    assert len(alerts) >= 1
    top = alerts.sort_values("max_severity", ascending=False).iloc[0]
    assert top["series"] == f"r1/r1-s0/{node}" and top["direction"] == "high"
    assert top["windows"] == 5
    assert top["alert_at"] == frame.loc[hit, "timestamp"].sort_values().iloc[1]
    # Away from the injection, flags are rare (99 % interval, 2 in a row).
    others = report.flags()[report.flags()["series"] != f"r1/r1-s0/{node}"]
    assert len(others) <= 2
    assert report.to_dict()["n_flagged"] == int(report.table["flag"].sum())
