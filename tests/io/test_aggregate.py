"""Raw events -> window counts with DuckDB, checked against a pandas reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayescount.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    MissingValueError,
    SpecError,
    TimestampError,
)
from bayescount.io.aggregate import aggregate_events
from tests.clirun import run_cli

#: Labels that a careless reader would turn into numbers, NaN or something else.
ODD = ["007", "NA", "1e3", "a b", "ünï,cödé", 'quo"te', "null", "-0"]


def events(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05T10:00:00Z").value // 1000
    micros = start + rng.integers(-3_600_000_000, 7_200_000_000, n)  # 3 h around
    frame = pd.DataFrame({
        "ts": pd.to_datetime(micros, unit="us", utc=True),
        "region": rng.choice(ODD[:5], n),
        "service": rng.choice(ODD[5:], n),
        "status": rng.choice([200, 200, 200, 404, 500, 503], n),
    })
    # one group that only appears once: all its other windows must be zeros
    frame.loc[0, ["region", "service"]] = ["lonely", "one"]
    return frame


def reference(frame: pd.DataFrame, by: list[str], step: str, error) -> pd.DataFrame:
    """The same aggregation in plain pandas (floor to the window, count, fill the grid)."""
    width = pd.Timedelta(step)
    window = frame["ts"].dt.floor(width)
    frame = frame.assign(timestamp=window, bad=error(frame))
    counts = frame.groupby(["timestamp", *by]).agg(requests=("bad", "size"),
                                                    errors=("bad", "sum"))
    grid = pd.date_range(window.min(), window.max(), freq=width)
    groups = frame[by].drop_duplicates()
    full = groups.merge(pd.DataFrame({"timestamp": grid}), how="cross")
    out = full.merge(counts.reset_index(), on=["timestamp", *by], how="left").fillna(0)
    out[["requests", "errors"]] = out[["requests", "errors"]].astype("int64")
    return out[["timestamp", *by, "requests", "errors"]].sort_values(
        ["timestamp", *by]).reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "frame"])
@pytest.mark.parametrize("step", ["5m", "1h"])
def test_matches_pandas_reference_exactly(tmp_path, fmt, step):
    frame = events()
    if fmt == "csv":
        source = tmp_path / "events.csv"
        frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).to_csv(
            source, index=False)
    elif fmt == "parquet":
        source = tmp_path / "events.parquet"
        frame.to_parquet(source)
    else:
        source = frame
    got = aggregate_events(source, time="ts", by=["region", "service"], step=step,
                           error_when="status >= 500")
    want = reference(frame, ["region", "service"], step, lambda f: f["status"] >= 500)
    got["timestamp"] = got["timestamp"].dt.as_unit("ns")
    want["timestamp"] = want["timestamp"].dt.as_unit("ns")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["requests"].sum() == len(frame)
    lonely = got[got["region"] == "lonely"]
    assert lonely["requests"].sum() == 1 and len(lonely) == got["timestamp"].nunique()
    assert set(got["region"]) == set(ODD[:5]) | {"lonely"}  # labels exactly as written


def test_windows_are_aligned_to_utc_and_offsets_converted(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("ts,region\n"
                      "2026-01-05T10:59:59+01:00,x\n"   # 09:59:59 UTC
                      "2026-01-05T10:00:00Z,x\n"
                      "2026-01-05T11:29:00,x\n"          # naive: taken as UTC
                      "2026-01-05T12:00:00Z,y\n")
    got = aggregate_events(source, time="ts", by=["region"], step="1h")
    x = got[got["region"] == "x"].set_index("timestamp")["requests"]
    assert x[pd.Timestamp("2026-01-05T09:00Z")] == 1
    assert x[pd.Timestamp("2026-01-05T10:00Z")] == 1
    assert x[pd.Timestamp("2026-01-05T11:00Z")] == 1
    y = got[got["region"] == "y"].set_index("timestamp")["requests"]
    assert y.tolist() == [0, 0, 0, 1]  # a known group gets every window, zeros included
    assert "errors" not in got  # no --error-when, no count column
    # a 7-minute step is aligned at the epoch, not at the first event
    seven = aggregate_events(source, time="ts", step="7m")
    assert all(int(t.timestamp()) % 420 == 0 for t in seven["timestamp"])
    early = tmp_path / "early.csv"  # before the epoch: floored, not truncated towards 0
    early.write_text("ts\n1969-12-31T23:59:30Z\n1970-01-01T00:00:30Z\n")
    got = aggregate_events(early, time="ts", step="1m")
    assert got["timestamp"].tolist() == [pd.Timestamp("1969-12-31T23:59Z"),
                                         pd.Timestamp("1970-01-01T00:00Z")]


def test_bad_inputs_have_clear_errors(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("ts,region,status\n2026-01-05T10:00:00Z,x,500\nyesterday,x,200\n")
    with pytest.raises(TimestampError, match=r"'ts'.*1 value.*yesterday"):
        aggregate_events(source, time="ts")
    good = tmp_path / "g.csv"
    good.write_text("ts,region,status\n2026-01-05T10:00:00Z,x,500\n2026-01-05T10:01:00Z,,\n")
    with pytest.raises(ColumnNotFoundError, match=r"\['zone'\].*'region'"):
        aggregate_events(good, time="ts", by=["zone"])
    with pytest.raises(SpecError, match=r"'stauts >= 500'.*stauts"):
        aggregate_events(good, time="ts", error_when="stauts >= 500")
    with pytest.raises(SpecError, match="BIGINT values, not true/false"):
        aggregate_events(good, time="ts", error_when="status + 1")
    with pytest.raises(SpecError, match="';'"):
        aggregate_events(good, time="ts", error_when="status > 1; DROP TABLE events")
    with pytest.raises(MissingValueError, match=r"1 event\(s\).*no 'region' label"):
        aggregate_events(good, time="ts", by=["region"])
    with pytest.raises(DataWarning, match=r"NULL for 1 event"):
        aggregate_events(good, time="ts", error_when="status >= 500")
    with pytest.raises(TimestampError, match="BIGINT values, not times"):
        aggregate_events(good, time="status")
    with pytest.raises(SpecError, match="used twice"):
        aggregate_events(good, time="ts", by=["region"], exposure_name="region")
    with pytest.raises(DataError, match="No such file"):
        aggregate_events(tmp_path / "none.csv", time="ts")
    with pytest.raises(DataError, match="unknown extension"):
        aggregate_events(good.rename(tmp_path / "g.txt"), time="ts")


def test_null_expression_counts_as_event_not_error(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("ts,status\n2026-01-05T10:00:00Z,500\n2026-01-05T10:01:00Z,\n")
    with pytest.warns(DataWarning, match="NULL for 1 event"):
        got = aggregate_events(source, time="ts", error_when="status >= 500")
    assert got[["requests", "errors"]].values.tolist() == [[2, 1]]




def test_cli_writes_counts_that_read_back(tmp_path):
    from bayescount.io import read_table

    frame = events(500)
    source = tmp_path / "events.parquet"
    frame.to_parquet(source)
    out = tmp_path / "counts.csv"
    code, stdout, stderr = run_cli(["aggregate", source, "--time", "ts", "--by",
                                    "region,service", "--step", "30m", "--error-when",
                                    "status >= 500", "--out", out])
    assert code == 0, stderr
    assert "Wrote" in stdout
    back = read_table(out, text_columns=["region", "service"])
    want = reference(frame, ["region", "service"], "30m", lambda f: f["status"] >= 500)
    assert back[["requests", "errors"]].values.tolist() == \
        want[["requests", "errors"]].values.tolist()
    assert back["region"].tolist() == want["region"].tolist()
    assert back["timestamp"].iloc[0] == want["timestamp"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")

    code, _, stderr = run_cli(["aggregate", source, "--time", "ts", "--error-when",
                               "nope > 1", "--out", out])
    assert code == 2
    assert stderr.startswith("bayescount: error: --error-when 'nope > 1'")
    assert stderr.count("\n") == 1
    code, _, stderr = run_cli(["aggregate", source, "--time", "ts", "--out", tmp_path / "x.txt"])
    assert code == 2 and "unknown extension" in stderr
