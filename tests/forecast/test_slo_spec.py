import pandas as pd
import pytest

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError
from bayescount.forecast.slo import ObservedSoFar, SLOSpec, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5m", pd.Timedelta(minutes=5)), ("1h", pd.Timedelta(hours=1)),
     ("30d", pd.Timedelta(days=30)), ("4w", pd.Timedelta(days=28)),
     ("90s", pd.Timedelta(seconds=90))],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "1M", "0d", "d30", "-1h"])
def test_parse_duration_rejects(text):
    with pytest.raises(SpecError):
        parse_duration(text)


@pytest.mark.parametrize("objective", [0, 1, 1.5, -0.1, float("nan"), "0.999"])
def test_objective_must_be_a_share(objective):
    with pytest.raises(SpecError, match="objective"):
        SLOSpec(objective)


def test_spec_numbers():
    slo = SLOSpec(0.999, "30d")
    assert slo.error_budget == pytest.approx(1e-3)
    assert slo.max_burn_rate == pytest.approx(1000)
    assert slo.window_bounds(pd.Timestamp("2026-02-01")) == (
        pd.Timestamp("2026-01-02"), pd.Timestamp("2026-02-01"))
    with pytest.raises(SpecError, match="occurrences"):
        SLOSpec(0.99, budgeting="timeslices")


def test_observed_from_series_uses_window_and_step():
    times = pd.date_range("2026-01-01", periods=10, freq="1h")
    frame = pd.DataFrame({"time": times.astype(str), "bad": range(10), "total": [100] * 10})
    obs = ObservedSoFar.from_frame(frame, SLOSpec(0.99, "6h"))
    # Window of 6 h ending one step after the last row: rows 4..9.
    assert obs.now == pd.Timestamp("2026-01-01 10:00")
    assert obs.bad == sum(range(4, 10))
    assert obs.total == 600
    assert obs.elapsed == pd.Timedelta(hours=6)
    assert len(obs.series) == 6


def test_observed_summary_row_and_good_column():
    frame = pd.DataFrame({"good": [990], "total": [1000], "elapsed": ["12d"],
                          "now": ["2026-01-13"]})
    obs = ObservedSoFar.from_frame(frame, SLOSpec(0.99))
    assert (obs.bad, obs.total) == (10, 1000)
    assert obs.elapsed == pd.Timedelta(days=12)
    assert obs.now == pd.Timestamp("2026-01-13")
    assert obs.series is None


def test_observed_errors_name_the_columns():
    with pytest.raises(ColumnNotFoundError, match="'total'"):
        ObservedSoFar.from_frame(pd.DataFrame({"bad": [1]}), SLOSpec(0.99))
    with pytest.raises(DataError, match="elapsed"):
        ObservedSoFar.from_frame(pd.DataFrame({"bad": [1, 2], "total": [5, 5]}), SLOSpec(0.99))
    with pytest.raises(DataError, match="bad <= total"):
        ObservedSoFar(bad=5, total=2, elapsed=pd.Timedelta(0))
