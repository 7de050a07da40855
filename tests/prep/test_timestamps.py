"""Timestamps: explicit offsets are instants (UTC, said once); naive local times need a zone."""

from __future__ import annotations

from functools import partialmethod

import numpy as np
import pandas as pd
import pytest

from bayescount import CountModel, CountSchema, DataWarning, SpecError, validate_frame
from bayescount.exceptions import TimestampError
from bayescount.io import load_fit
from tests.clirun import run_cli

#: c17: one zone (Europe/London) across the October 2025 clock change, with offsets.
DST = [
    "2025-10-25T23:00:00+01:00",
    "2025-10-26T00:00:00+01:00",
    "2025-10-26T01:00:00+01:00",
    "2025-10-26T01:00:00+00:00",
    "2025-10-26T02:00:00+00:00",
    "2025-10-26T03:00:00+00:00",
]


def table(times, **extra) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({"timestamp": times, "requests": [1000] * n,
                         "errors": [5, 6, 4, 5, 7, 5][:n] + [3] * max(0, n - 6), **extra})


SCHEMA = CountSchema("errors", "requests", time="timestamp")


def test_offsets_across_a_clock_change_are_instants_in_utc_said_once():
    with pytest.warns(DataWarning, match=r"'timestamp' mixes 2 UTC offsets \(\+01:00 on rows "
                                         r"0: .*\+00:00 on rows 3: .*converted to UTC") as seen:
        out = validate_frame(table(DST), SCHEMA)
    assert len(seen) == 1
    expected = pd.date_range("2025-10-25 22:00", periods=6, freq="1h", tz="UTC")
    assert out["timestamp"].tolist() == expected.tolist()  # hourly, no duplicate hour


def test_naive_and_offset_values_mixed_are_still_refused():
    times = ["2025-10-26T00:00:00", *DST[1:]]
    with pytest.raises(TimestampError, match=r"mixes 1 naive timestamp .*row 0: "):
        validate_frame(table(times), SCHEMA)


def test_a_timezone_localises_naive_local_times():
    schema = CountSchema("errors", "requests", time="timestamp", timezone="Europe/Paris")
    out = validate_frame(table(["2025-07-01 12:00", "2025-12-01 12:00"]), schema)
    assert out["timestamp"].tolist() == [pd.Timestamp("2025-07-01 10:00", tz="UTC"),
                                         pd.Timestamp("2025-12-01 11:00", tz="UTC")]


def test_the_timezone_leaves_instants_alone():
    schema = CountSchema("errors", "requests", time="timestamp", timezone="America/New_York")
    out = validate_frame(table(["2025-07-01T12:00Z", "2025-07-01T13:00Z"]), schema)
    assert out["timestamp"].iloc[0] == pd.Timestamp("2025-07-01 12:00", tz="UTC")


def test_a_repeated_local_hour_is_refused_naming_its_rows():
    schema = CountSchema("errors", "requests", time="timestamp", timezone="Europe/London")
    times = ["2025-10-26 00:30", "2025-10-26 01:30", "2025-10-26 02:30"]
    with pytest.raises(TimestampError, match=r"1 local time that occurs twice in Europe/London "
                                             r".*\(row 1: 2025-10-26 01:30:00\).*UTC offset"):
        validate_frame(table(times), schema)


def test_a_skipped_local_hour_is_refused_naming_its_rows():
    schema = CountSchema("errors", "requests", time="timestamp", timezone="Europe/Paris")
    times = ["2025-03-30 01:30", "2025-03-30 02:30", "2025-03-30 02:45", "2025-03-30 03:30"]
    with pytest.raises(TimestampError, match=r"2 local times that never occur in Europe/Paris "
                                             r".*\(rows 1: 2025-03-30 02:30:00, 2: "):
        validate_frame(table(times), schema)


def test_an_unknown_zone_is_a_spec_error():
    with pytest.raises(SpecError, match="Unknown time zone 'Europe/Atlantis'"):
        CountSchema("errors", "requests", time="timestamp", timezone="Europe/Atlantis")


def test_the_zone_travels_with_the_fit_and_applies_to_new_rows(
    tmp_path, fake_sampler, loose_thresholds
):
    times = pd.date_range("2025-06-01", periods=48, freq="1h").strftime("%Y-%m-%d %H:%M")
    model = CountModel("errors", "requests", time="timestamp", seasonality="daily:2",
                       timezone="Europe/Paris")
    # 50 prior draws per chain: with 10, split R-hat of iid draws can pass 1.5 by chance
    model.fit(table(list(times)), draws=50, chains=2, random_seed=1, sample_fn=fake_sampler,
              thresholds=loose_thresholds)
    loaded = load_fit(model.save(tmp_path / "fit.nc"))
    assert loaded.schema.timezone == "Europe/Paris"
    naive = loaded.predict(table(["2025-06-03 12:00"]), random_seed=4).draws.values
    aware = loaded.predict(table(["2025-06-03T12:00+02:00"]), random_seed=4).draws.values
    utc = loaded.predict(table(["2025-06-03T12:00Z"]), random_seed=4).draws.values
    np.testing.assert_array_equal(naive, aware)
    assert not np.array_equal(naive, utc)


# ------------------------------------------------------------------------- CLI




@pytest.fixture
def fake_cli_fits(monkeypatch, fake_sampler, loose_thresholds):
    monkeypatch.setattr(
        CountModel, "fit",
        partialmethod(CountModel.fit, sample_fn=fake_sampler, thresholds=loose_thresholds),
    )


def test_cli_fits_c17_and_says_so_once(tmp_path, fake_cli_fits):
    csv = tmp_path / "c17.csv"
    table(DST).to_csv(csv, index=False)
    code, _, err = run_cli(["fit", csv, "--counts", "errors", "--exposure", "requests",
                            "--time", "timestamp", "--draws", 10, "--chains", 2, "--seed", 1,
                            "--out", tmp_path / "fit.nc"])
    assert code == 0, err
    assert err.count("converted to UTC") == 1


def test_cli_timezone_on_fit_and_predict(tmp_path, fake_cli_fits):
    csv = tmp_path / "local.csv"
    table(["2025-10-26 00:30", "2025-10-26 01:30", "2025-10-26 03:30"]).to_csv(csv, index=False)
    base = ["fit", csv, "--counts", "errors", "--exposure", "requests", "--time", "timestamp",
            "--draws", 10, "--chains", 2, "--out", tmp_path / "fit.nc"]
    code, _, err = run_cli([*base, "--timezone", "Europe/London"])
    assert code == 2 and "occurs twice in Europe/London" in err and "\n" == err[-1]
    assert len(err.splitlines()) == 1
    code, _, err = run_cli([*base, "--timezone", "Europe/Paris"])  # 01:30 is not ambiguous
    assert code == 0, err
    assert load_fit(tmp_path / "fit.nc").schema.timezone == "Europe/Paris"
    code, out, err = run_cli(["predict", tmp_path / "fit.nc", "--data", csv, "--json",
                              "--timezone", "Europe/London"])
    assert code == 2 and "occurs twice in Europe/London" in err
    code, _, err = run_cli([*base, "--timezone", "Mars/Olympus"])
    assert code == 2 and "argument --timezone: Unknown time zone 'Mars/Olympus'" in err
