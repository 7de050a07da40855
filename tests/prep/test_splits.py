import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError, TimestampError
from bayescount.prep.splits import infer_step, rolling_origins, split_by_time


def table(n_times=20, series=("a", "b"), freq="1h", drop=(), tz=None):
    times = pd.date_range("2026-01-05", periods=n_times, freq=freq, tz=tz)
    rows = [
        {"t": t, "node": s, "y": i}
        for i, t in enumerate(times)
        if i not in drop
        for s in series
    ]
    return pd.DataFrame(rows)


def test_rolling_origins_tile_the_end_without_leakage():
    frame = table(20)
    splits = rolling_origins(frame, "t", origins=3, horizon=4)
    step = pd.Timedelta("1h")
    assert [s.index for s in splits] == [0, 1, 2]
    # holdouts tile the last 12 steps: origins at positions 7, 11, 15
    start = frame["t"].min()
    assert [s.origin for s in splits] == [start + k * step for k in (7, 11, 15)]
    assert splits[-1].holdout["t"].max() == frame["t"].max()
    for s in splits:
        assert s.holdout["t"].min() > s.train["t"].max()
        assert s.train["t"].max() == s.origin
        assert s.train["t"].min() == start  # expanding window
        assert sorted(s.holdout["horizon"].unique()) == [1, 2, 3, 4]
        expected = ((s.holdout["t"] - s.origin) / step).astype(int)
        assert (s.holdout["horizon"] == expected).all()
        assert len(s.holdout) == 4 * 2  # both series at each step
        assert s.holdout["horizon"].dtype == np.int64
    assert [len(s.train) for s in splits] == [16, 24, 32]


def test_horizon_counts_grid_steps_not_rows_across_gaps():
    frame = table(12, drop=(9,))  # the step at position 9 is missing for every series
    (split,) = rolling_origins(frame, "t", origins=1, horizon=3)
    assert split.origin == frame["t"].min() + pd.Timedelta("8h")
    assert sorted(split.holdout["horizon"].unique()) == [2, 3]
    assert split.horizon == 3


def test_stride_allows_overlapping_holdouts():
    splits = rolling_origins(table(10), "t", origins=3, horizon=3, stride=1)
    origins = [s.origin for s in splits]
    assert np.all(np.diff(origins) == pd.Timedelta("1h"))
    assert splits[0].holdout["t"].max() > splits[1].origin  # overlap


def test_input_is_not_modified_and_index_kept():
    frame = table(10)
    before = frame.copy()
    (split,) = rolling_origins(frame, "t", origins=1, horizon=2)
    pd.testing.assert_frame_equal(frame, before)
    assert set(split.train.index) | set(split.holdout.index) == set(frame.index)
    assert not set(split.train.index) & set(split.holdout.index)


def test_too_short_data_say_what_is_needed():
    with pytest.raises(DataError, match="need more than 12 time steps.*span 10"):
        rolling_origins(table(10), "t", origins=4, horizon=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"origins": 0, "horizon": 1}, "origins"), ({"origins": 1, "horizon": 0}, "horizon"),
     ({"origins": 1, "horizon": 1, "stride": 0}, "stride")],
)
def test_bad_counts_of_steps_are_refused(kwargs, match):
    with pytest.raises(SpecError, match=match):
        rolling_origins(table(10), "t", **kwargs)


def test_irregular_grid_is_refused():
    frame = table(6)
    frame.loc[frame.index[-2:], "t"] += pd.Timedelta("30min")
    with pytest.raises(TimestampError, match="regular grid of step 0 days 00:30:00|not on a"):
        infer_step(frame["t"], "1h")
    with pytest.raises(TimestampError, match="not on a regular grid"):
        rolling_origins(frame, "t", origins=1, horizon=1, freq="1h")


def test_infer_step_is_the_smallest_gap():
    assert infer_step(table(5, freq="5min")["t"]) == pd.Timedelta("5min")
    with pytest.raises(TimestampError, match="1 distinct"):
        infer_step(table(1)["t"])


def test_split_by_time_cutoff_and_horizons():
    frame = table(10)
    cutoff = frame["t"].min() + pd.Timedelta("6h")
    split = split_by_time(frame, "t", cutoff)
    assert (split.train["t"] < cutoff).all() and (split.holdout["t"] >= cutoff).all()
    assert split.origin == cutoff - pd.Timedelta("1h") and split.cutoff == cutoff
    assert split.holdout["horizon"].min() == 1 and split.horizon == 4
    assert "holdout=8 rows" in repr(split)


def test_split_by_time_string_times_and_naive_cutoff_on_tz_column():
    frame = table(6, tz="UTC")
    split = split_by_time(frame, "t", "2026-01-05 03:00")
    assert len(split.holdout) == 6
    text = frame.assign(t=frame["t"].dt.strftime("%Y-%m-%d %H:%M"))
    assert len(split_by_time(text, "t", "2026-01-05 03:00").train) == 6


@pytest.mark.parametrize("cutoff", ["2026-01-01", "2026-02-01"])
def test_split_by_time_refuses_an_empty_side(cutoff):
    with pytest.raises(DataError, match="choose a time between"):
        split_by_time(table(5), "t", cutoff)


def test_missing_column_and_existing_horizon_column():
    with pytest.raises(ColumnNotFoundError, match="'when' not found"):
        split_by_time(table(5), "when", "2026-01-05 02:00")
    with pytest.raises(DataError, match="already have a 'horizon'"):
        rolling_origins(table(5).assign(horizon=1), "t", origins=1, horizon=1)


@settings(max_examples=60, deadline=None)
@given(
    n_times=st.integers(4, 40),
    origins=st.integers(1, 4),
    horizon=st.integers(1, 5),
    stride=st.integers(1, 5),
    drop=st.sets(st.integers(0, 39), max_size=5),
)
def test_property_no_leakage_and_horizons_in_range(n_times, origins, horizon, stride, drop):
    frame = table(n_times, series=("a",), drop={d for d in drop if 0 < d < n_times - 1})
    try:
        splits = rolling_origins(frame, "t", origins=origins, horizon=horizon, stride=stride)
    except DataError:
        return  # too short or a holdout fell into a gap: refused, not silently wrong
    assert len(splits) == origins
    for s in splits:
        assert s.holdout["t"].min() > s.train["t"].max()
        assert s.holdout["horizon"].between(1, horizon).all()
        assert len(s.train) + len(s.holdout) <= len(frame)
