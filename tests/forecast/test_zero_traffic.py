"""Issue 12, kind 7: future windows with zero exposure have zero expected events.

Every entry point that reads a future (or observed) table keeps them: ``slo`` and
``forecast_burn``, ``predict``, ``capacity``, ``anomalies``, ``attribute``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecast_fakes import truth_fit
from test_forecast_cli import run

from bayescount.exceptions import ExposureError
from bayescount.forecast import (
    ObservedSoFar,
    SLOSpec,
    attribute_incident,
    detect_anomalies,
    forecast_burn,
    forecast_capacity,
)
from bayescount.testing import simulate_telemetry


@pytest.fixture(scope="module")
def hourly():
    """An hourly NB fleet fitted on its truth, and the next two days with dark nights."""
    sim = simulate_telemetry(1, 2, 2, 48, family="negative_binomial", alpha=20.0,
                             window="1h", seed=21)
    model = truth_fit(sim.frame, sim.truth)
    last = sim.frame[sim.frame["timestamp"] >= sim.frame["timestamp"].max()
                     - pd.Timedelta("47h")]
    future = last.drop(columns="errors").assign(
        timestamp=last["timestamp"] + pd.Timedelta("48h"))
    night = future["timestamp"].dt.hour.between(1, 5)
    future.loc[night, "requests"] = 0.0
    return sim, model, future, night.to_numpy()


def test_forecast_burn_keeps_zero_traffic_windows_and_every_horizon(hourly):
    sim, model, future, night = hourly
    now = future["timestamp"].min()
    fc = forecast_burn(model, SLOSpec(0.99, "30d"), ObservedSoFar(0, 1e6, "20d", now),
                       future, random_seed=2, keep_rows=True)
    assert np.all(fc.future.bad[..., night] == 0)
    assert np.all(fc.future.total[..., night] == 0)
    # The dark nights do not break the table: 1h, 6h, 1d are all forecast, no gap note.
    assert list(fc.draws["horizon"].values) == ["1h", "6h", "1d"]
    assert not any("gap" in n for n in fc.notes)
    # The 6 h burn is that of the lit hours only (00:00 here; 01-05 are dark).
    lit = fc.future.rows["timestamp"] < now + pd.Timedelta("6h")
    bad = fc.future.bad[..., lit.to_numpy()].sum(-1)
    total = fc.future.total[..., lit.to_numpy()].sum(-1)
    assert fc.draws["burn_rate"].sel(horizon="6h").values == pytest.approx(
        bad / total / 0.01)


def test_predict_capacity_anomalies_attribute_accept_zero_exposure(hourly):
    sim, model, future, night = hourly
    pred = model.predict(future, random_seed=1)
    assert np.all(pred.draws.values[..., night] == 0) and len(pred.rows) == len(future)
    cap = forecast_capacity(model, future, per="total", threshold=1e9).table
    assert (cap["p_exceed"] == 0).all() and np.isfinite(cap["mean"]).all()
    observed = future.assign(errors=np.where(night, 0, 5))
    report = detect_anomalies(model, observed, prob=0.99)
    dark = report.table[report.table["requests"] == 0]
    assert len(dark) == night.sum()
    assert (dark["expected"] == 0).all() and (dark["upper"] == 0).all()
    assert (dark["direction"] == 0).all() and (dark["p_upper"] == 0.5).all()
    start, end = future["timestamp"].min(), future["timestamp"].min() + pd.Timedelta("6h")
    att = attribute_incident(model, observed, start, end)
    assert att.table.loc[att.table["level"] == "global", "observed"].item() == 5 * 4
    with pytest.raises(ExposureError, match="40 zero exposures on rows with a positive count"):
        detect_anomalies(model, future.assign(errors=np.where(night, 3, 5)))


def test_slo_command_accepts_a_future_with_dark_nights(hourly, tmp_path):
    sim, model, future, night = hourly
    model.save(tmp_path / "fit.nc")
    future.to_csv(tmp_path / "future.csv", index=False)
    now = future["timestamp"].min()
    times = pd.date_range(end=now - pd.Timedelta("5min"), periods=72, freq="5min")
    pd.DataFrame({"time": times, "total": 333, "bad": 1}).to_csv(tmp_path / "sofar.csv",
                                                                 index=False)
    code, out, err = run(["slo", tmp_path / "fit.nc", "--objective", "0.99", "--window", "30d",
                          "--observed", tmp_path / "sofar.csv", "--future",
                          tmp_path / "future.csv", "--json"])
    assert code == 0, err
    import json

    payload = json.loads(out)
    assert [b["horizon"] for b in payload["burn_rate"]] == ["1h", "6h", "1d"]
    code, out, err = run(["predict", tmp_path / "fit.nc", "--data", tmp_path / "future.csv",
                          "--json"])
    assert code == 0, err
    rows = pd.DataFrame(json.loads(out))
    assert (rows.loc[night, "mean"] == 0).all() and (rows.loc[~night, "mean"] > 0).all()


def test_streamed_and_row_level_forecasts_agree_on_dark_nights(hourly):
    sim, model, future, night = hourly
    now = future["timestamp"].min()
    args = (model, SLOSpec(0.99, "30d"), ObservedSoFar(0, 1e6, "20d", now), future)
    streamed, rows = forecast_burn(*args), forecast_burn(*args, keep_rows=True)
    assert streamed.future is None
    dark = np.isin(streamed.draws["time"].values, future.loc[night, "timestamp"].values)
    assert dark.sum() == 10
    increments = np.diff(streamed.draws["cumulative_consumed"].values, axis=-1)
    assert np.all(increments[..., dark[1:]] == 0)  # nothing is consumed in a dark hour
    means = [float(fc.draws["burn_rate"].sel(horizon="1d").mean()) for fc in (streamed, rows)]
    assert means[0] == pytest.approx(means[1], rel=0.05)
