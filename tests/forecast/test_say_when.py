"""Issue 12, kind 10: say when the budget runs out; a future from history; bounded memory."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from forecast_fakes import truth_fit
from test_burn_math import draws, observed
from test_forecast_cli import run

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError
from bayescount.forecast import ObservedSoFar, SLOSpec, forecast_burn, future_from_history
from bayescount.forecast.future import FutureDraws
from bayescount.testing import simulate_telemetry


# ------------------------------------------------------------------------- say when
def test_text_gives_the_horizon_the_median_and_the_interval():
    slo = SLOSpec(0.999, "30d")
    over = forecast_burn(draws([3, 5], [1000, 1000]), slo, observed(5, 10_000, "29d22h"))
    lines = over.describe()
    assert lines[1].startswith("P(budget exhausted by 2026-03-01 02:00) = 1.0000 (MC s.e. ")
    assert lines[2] == ("time to exhaustion: median 2026-03-01 02:00 (in 2 h); 90% interval "
                        "2026-03-01 02:00 to 2026-03-01 02:00 (to the end of a 1h window)")
    doc = json.loads(json.dumps(over.to_dict(), allow_nan=False))
    assert doc["p_exhaust_by"] == "2026-03-01T02:00:00"
    assert doc["exhaustion_time"] == {"q0.05": "2026-03-01T02:00:00",
                                      "q0.5": "2026-03-01T02:00:00",
                                      "q0.95": "2026-03-01T02:00:00"}
    never = forecast_burn(draws([0, 0], [1000, 1000]), slo, observed(0, 10_000, "29d22h"))
    assert never.describe()[2] == ("time to exhaustion: not exhausted by 2026-03-01 02:00 in "
                                   "any draw")
    assert never.to_dict()["exhaustion_time"]["q0.5"] is None


def test_interval_reaching_past_the_table_and_a_time_zone():
    slo = SLOSpec(0.99, "30d")
    times = pd.date_range("2026-01-07 10:00", periods=4, freq="1h", tz="UTC")
    rows = pd.DataFrame({"t": times})
    bad = np.zeros((2, 10, 4))
    bad[:, :6, 1] = 500  # 6 of 10 draws exhaust in the second hour, 4 never
    fd = FutureDraws(rows, bad, np.full(bad.shape, 1000.0), "t")
    fc = forecast_burn(fd, slo, ObservedSoFar(0, 10_000, "29d20h", times[0]))
    lines = fc.describe()
    assert "now 2026-01-07 10:00 UTC" in lines[0] and "no time zone" not in lines[0]
    assert lines[1].startswith("P(budget exhausted by 2026-01-07 14:00 UTC) = 0.6000")
    assert lines[2] == ("time to exhaustion: median 2026-01-07 12:00 UTC (in 2 h); 90% "
                        "interval 2026-01-07 12:00 UTC to after 2026-01-07 14:00 UTC (to the "
                        "end of a 1h window)")


# ------------------------------------------------------------- future from history
def _history():
    t = pd.date_range("2026-01-01", periods=24 * 14, freq="1h")
    frame = pd.DataFrame({"ts": np.tile(t, 2), "svc": np.repeat(["a", "b"], len(t)),
                          "req": np.tile(np.arange(len(t)) % 168, 2) * 10.0
                          + np.repeat([0.0, 1.0], len(t))})
    return t, frame


def test_future_from_history_repeats_the_week_and_keeps_dark_hours_dark():
    t, frame = _history()
    frame.loc[(frame["svc"] == "a") & (frame["ts"].dt.hour == 3), "req"] = 0.0
    frame = frame[~((frame["svc"] == "a") & (frame["ts"].dt.hour == 4))]  # dropped rows
    start = t[-1] + pd.Timedelta("1h")
    future = future_from_history(frame, start, start + pd.Timedelta(days=8), time="ts",
                                 exposure="req", groups=["svc"], scale=2.0)
    assert len(future) == 2 * 24 * 8 and list(future.columns) == ["ts", "svc", "req"]
    b = future[future["svc"] == "b"].set_index("ts")["req"]
    # Same hour of the week, both weeks equal here: 2 x (10 x hour-of-week + 1).
    hour_of_week = ((b.index - t[0]) / pd.Timedelta("1h")).astype(int) % 168
    np.testing.assert_allclose(b.to_numpy(), 2 * (10 * hour_of_week + 1))
    a = future[future["svc"] == "a"].set_index("ts")["req"]
    assert (a[a.index.hour.isin([3, 4])] == 0).all() and (a[a.index.hour == 5] > 0).all()
    assert "last 2 weeks" in future.attrs["pattern"]


def test_future_from_history_averages_the_cycles_and_falls_back_to_days():
    t = pd.date_range("2026-01-01", periods=24 * 3, freq="1h")
    frame = pd.DataFrame({"ts": t, "req": np.repeat([100.0, 200.0, 600.0], 24)})
    future = future_from_history(frame, t[-1] + pd.Timedelta("1h"),
                                 t[-1] + pd.Timedelta("25h"), time="ts", exposure="req",
                                 cycles=2)
    assert "last 2 days" in future.attrs["pattern"]
    assert (future["req"] == 400.0).all()  # the mean of the last two days
    with pytest.raises(DataError, match="at least one day"):
        future_from_history(frame.head(10), t[10], t[20], time="ts", exposure="req")
    with pytest.raises(ColumnNotFoundError, match=r"\['load'\]"):
        future_from_history(frame, t[-1], t[-1] + pd.Timedelta("5h"), time="ts",
                            exposure="req", covariates=["load"])
    with pytest.raises(SpecError, match="scale"):
        future_from_history(frame, t[-1], t[-1] + pd.Timedelta("5h"), time="ts",
                            exposure="req", scale=0)


@pytest.fixture(scope="module")
def week_fit(tmp_path_factory):
    """Eight days of hourly NB telemetry, fitted on its truth and saved."""
    tmp = tmp_path_factory.mktemp("week")
    sim = simulate_telemetry(1, 2, 2, 24 * 8, family="negative_binomial", alpha=20.0,
                             rate=1e-3, window="1h", seed=8)
    model = truth_fit(sim.frame, sim.truth)
    model.save(tmp / "fit.nc")
    now = sim.frame["timestamp"].max() + pd.Timedelta("1h")
    sofar = pd.DataFrame({"time": pd.date_range(end=now - pd.Timedelta("1h"), periods=48,
                                                freq="1h"), "total": 40_000.0, "bad": 40.0})
    sofar.to_csv(tmp / "sofar.csv", index=False)
    sim.frame.to_csv(tmp / "history.csv", index=False)
    return tmp, sim


def test_slo_future_from_history(week_fit):
    tmp, sim = week_fit
    base = ["slo", tmp / "fit.nc", "--objective", "0.999", "--window", "7d", "--observed",
            tmp / "sofar.csv"]
    code, out, err = run([*base, "--future-from-history", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["notes"][0].startswith("Future traffic built from history: mean of the same "
                                      "time of week over the last week")
    # 7 d window with 2 d elapsed: the table runs 5 d to the window end; every horizon covered.
    assert [b["horizon"] for b in doc["burn_rate"]] == ["1h", "6h", "1d", "3d"]
    assert doc["p_exhaust_by"] == doc["window_end"]
    # The node rates of the truth average ~1e-3 per request: burn ~1x a 99.9 % budget.
    assert doc["burn_rate"][3]["q0.5"] == pytest.approx(1.0, rel=0.35)
    code, out, err = run([*base, "--future-from-history", tmp / "history.csv", "--scale", "2"])
    assert code == 0, err
    assert "x 2" in out and "time to exhaustion: " in out
    code, out, err = run([*base, "--future-from-history", "--future", tmp / "history.csv"])
    assert code == 2 and "not both" in err
    code, out, err = run(base)
    assert code == 2 and "--future-from-history" in err


# ------------------------------------------------------------------------ memory
def test_memory_grows_with_the_horizon_not_with_rows_times_draws():
    """Before issue 12 the peak was ~4 arrays of rows x draws (834 MB for 4,592 rows)."""
    sim = simulate_telemetry(1, 4, 2, 48, family="negative_binomial", alpha=20.0,
                             window="1h", seed=9)
    model = truth_fit(sim.frame, sim.truth, draws=1000)  # 2 chains x 1000 draws
    start = sim.frame["timestamp"].max() + pd.Timedelta("1h")
    labels = sim.frame[["region", "service", "node"]].drop_duplicates()
    future = labels.merge(pd.DataFrame({"timestamp": pd.date_range(
        start, periods=24 * 28, freq="1h")}), how="cross").assign(requests=5000.0, load=0.0)
    rows_x_draws = len(future) * 2000 * 8
    tracemalloc.start()
    fc = forecast_burn(model, SLOSpec(0.999, "30d"), ObservedSoFar(0, 1e6, "2d", start),
                       future)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(future) == 5376 and fc.draws.sizes["time"] == 672
    assert peak < 0.8 * rows_x_draws, f"peak {peak / 2**20:.0f} MiB"
    with pytest.raises(SpecError, match="keep_rows=True"):
        fc.rollup(["service"])


def test_a_young_series_takes_its_mean_before_it_existed():
    t, frame = _history()
    young = pd.DataFrame({"ts": t[-48:], "svc": "new", "req": 50.0})
    start = t[-1] + pd.Timedelta("1h")
    future = future_from_history(pd.concat([frame, young]), start,
                                 start + pd.Timedelta(days=7), time="ts", exposure="req",
                                 groups=["svc"])
    assert set(future["svc"]) == {"a", "b", "new"}
    assert (future.loc[future["svc"] == "new", "req"] == 50.0).all()
