"""Unit tests of bayescount.prep.validate (fast: no sampling)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescount.exceptions import (
    ColumnNotFoundError,
    CountValueError,
    DataError,
    DataWarning,
    DuplicateRowError,
    ExposureError,
    MissingValueError,
    NestingError,
    TimestampError,
)
from bayescount.prep._cells import _format_rows
from bayescount.prep.schema import CountSchema
from bayescount.prep.validate import validate_frame

SCHEMA = CountSchema(
    counts="errors",
    exposure="requests",
    time="ts",
    groups=("service", "node"),
    covariates=("cpu", "tier", "cpu:tier"),
)


def make_frame() -> pd.DataFrame:
    """Return a small valid frame with a non-default index and an extra column."""
    return pd.DataFrame(
        {
            "errors": [1.0, 0.0, 3.0, 2.0, 5.0],
            "requests": [100, 50, 80, 120, 90],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 00:00",
                    "2024-01-01 01:00",
                    "2024-01-01 00:00",
                    "2024-01-01 01:00",
                    "2024-01-01 02:00",
                ]
            ),
            "service": ["api", "api", "db", "db", "db"],
            "node": [1, 1, 2, 2, 3],
            "cpu": [0.1, 0.2, 0.3, 0.4, 0.5],
            "tier": [True, False, True, True, False],
            "extra": ["x", "y", "z", "w", "v"],
        },
        index=[10, 11, 12, 13, 14],
    )


# --------------------------------------------------------------------------- happy path


def test_returns_only_schema_columns_with_canonical_dtypes():
    out = validate_frame(make_frame(), SCHEMA)
    assert list(out.columns) == ["errors", "requests", "ts", "service", "node", "cpu", "tier"]
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["errors"].dtype == np.int64
    assert out["errors"].tolist() == [1, 0, 3, 2, 5]
    assert out["requests"].dtype == np.float64
    assert out["ts"].dtype == "datetime64[ns]"
    assert out["cpu"].dtype == np.float64


def test_int_group_labels_become_str():
    out = validate_frame(make_frame(), SCHEMA)
    assert out["node"].tolist() == ["1", "1", "2", "2", "3"]
    assert all(type(v) is str for v in out["node"])
    assert pd.api.types.is_string_dtype(out["node"].dtype)


def test_whole_float_group_labels_lose_trailing_zero():
    df = make_frame().assign(node=[1.0, 1.0, 2.0, 2.0, 3.0])
    assert validate_frame(df, SCHEMA)["node"].tolist() == ["1", "1", "2", "2", "3"]


def test_bool_covariate_is_kept_as_labels():
    out = validate_frame(make_frame(), SCHEMA)
    assert out["tier"].tolist() == ["True", "False", "True", "True", "False"]


def test_categorical_and_string_covariates_are_labels():
    schema = CountSchema(counts="errors", exposure="requests", covariates=("zone", "kind"))
    df = make_frame().assign(
        zone=pd.Categorical(["eu", "us", "eu", "us", "eu"]), kind=[1, 2, 1, 2, 1]
    )
    df["kind"] = df["kind"].astype("category")
    out = validate_frame(df, schema)
    assert out["zone"].tolist() == ["eu", "us", "eu", "us", "eu"]
    assert out["kind"].tolist() == ["1", "2", "1", "2", "1"]


def test_object_column_of_numbers_is_numeric_covariate():
    schema = CountSchema(counts="errors", exposure="requests", covariates=("load",))
    df = make_frame().assign(load=pd.Series([1, 2.5, 3, 4, 5], dtype=object, index=range(10, 15)))
    out = validate_frame(df, schema)
    assert out["load"].dtype == np.float64
    assert out["load"].tolist() == [1.0, 2.5, 3.0, 4.0, 5.0]


def test_nullable_int_counts_accepted():
    df = make_frame().assign(errors=pd.array([1, 0, 3, 2, 5], dtype="Int64"))
    assert validate_frame(df, SCHEMA)["errors"].dtype == np.int64


def test_input_frame_is_not_mutated():
    df = make_frame().assign(ts=["2024-01-01T00:00+01:00"] * 2 + ["2024-01-01T01:00+01:00"] * 3)
    df.loc[11, ["errors", "requests"]] = 0  # a row that will be dropped
    df = df.assign(node=[1, 2, 3, 4, 5])
    before = df.copy(deep=True)
    with pytest.warns(DataWarning):
        out = validate_frame(df, SCHEMA)
    pd.testing.assert_frame_equal(df, before)
    assert out is not df
    out.loc[10, "cpu"] = 99.0
    pd.testing.assert_frame_equal(df, before)


def test_unsorted_time_is_kept_in_input_order():
    df = make_frame()
    df["ts"] = df["ts"].iloc[::-1].to_numpy()
    out = validate_frame(df, SCHEMA)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["ts"].tolist() == df["ts"].tolist()


def test_no_exposure_schema():
    schema = CountSchema(counts="errors", exposure=None, groups=("service",))
    out = validate_frame(make_frame(), schema)
    assert list(out.columns) == ["errors", "service"]


def test_duplicate_index_labels_are_kept():
    df = make_frame()
    df.index = [1, 1, 2, 2, 3]
    out = validate_frame(df, SCHEMA)
    assert list(out.index) == [1, 1, 2, 2, 3]
    assert out["errors"].tolist() == [1, 0, 3, 2, 5]


# --------------------------------------------------------------------------- columns


def test_missing_columns_are_listed_with_available_ones():
    df = make_frame().drop(columns=["errors", "cpu"]).rename(columns={"node": "host"})
    with pytest.raises(ColumnNotFoundError) as info:
        validate_frame(df, SCHEMA)
    msg = str(info.value)
    for name in ("'errors'", "'node'", "'cpu'"):
        assert name in msg
    assert "['extra', 'host', 'requests', 'service', 'tier', 'ts']" in msg


def test_repeated_column_is_refused():
    df = pd.concat([make_frame(), make_frame()[["errors"]]], axis=1)
    with pytest.raises(DataError, match="'errors' appears 2 times"):
        validate_frame(df, SCHEMA)


def test_empty_frame_is_refused():
    with pytest.raises(DataError, match="no rows"):
        validate_frame(make_frame().iloc[:0], SCHEMA)


def test_not_a_dataframe_is_a_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        validate_frame(make_frame().to_dict(), SCHEMA)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- counts


def test_negative_counts_message_matches_house_style():
    df = pd.DataFrame({"errors": [1, 2, 3, -1, 5, -2, -5], "requests": 1.0})
    df.index = [1, 2, 3, 4, 5, 17, 40]
    schema = CountSchema(counts="errors", exposure="requests")
    with pytest.raises(CountValueError) as info:
        validate_frame(df, schema)
    assert str(info.value) == (
        "Column 'errors' has 3 negative counts (rows 4: -1, 17: -2, 40: -5). "
        "Counts must be >= 0; fix or drop these rows."
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_counts(bad):
    df = make_frame()
    df.loc[12, "errors"] = bad
    with pytest.raises(
        CountValueError, match=rf"'errors'.*1 missing or non-finite count.*row 12: {bad}"
    ):
        validate_frame(df, SCHEMA)


def test_fractional_counts():
    df = make_frame()
    df.loc[13, "errors"] = 2.5
    with pytest.raises(
        CountValueError, match=r"'errors' has 1 non-integer count \(row 13: 2\.5\)"
    ):
        validate_frame(df, SCHEMA)


def test_string_counts_name_only_the_cell_that_is_not_a_number():
    df = make_frame().assign(errors=["1", "0", "x", "2", "5"])
    with pytest.raises(CountValueError) as info:
        validate_frame(df, SCHEMA)
    msg = str(info.value)
    assert "'errors' holds 1 non-numeric value" in msg and "row 12: 'x')" in msg


def test_object_counts_with_strings_name_the_string_rows():
    df = make_frame().assign(
        errors=pd.Series([1, 0, "three", 2, 5], dtype=object, index=range(10, 15))
    )
    with pytest.raises(
        CountValueError, match=r"1 non-numeric value \(dtype object; row 12: 'three'\)"
    ):
        validate_frame(df, SCHEMA)


def test_boolean_counts_are_refused():
    df = make_frame().assign(errors=[True, False, True, True, False])
    with pytest.raises(CountValueError, match="booleans"):
        validate_frame(df, SCHEMA)


def test_many_bad_rows_show_first_five():
    df = pd.DataFrame({"errors": [-1] * 8, "requests": 1.0})
    schema = CountSchema(counts="errors", exposure="requests")
    with pytest.raises(
        CountValueError,
        match=r"8 negative counts \(rows 0: -1, 1: -1, 2: -1, 3: -1, 4: -1 and 3 more\)",
    ):
        validate_frame(df, schema)


# --------------------------------------------------------------------------- exposure


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_exposure(bad):
    df = make_frame().astype({"requests": float})
    df.loc[11, "requests"] = bad
    with pytest.raises(
        ExposureError, match=rf"'requests'.*1 missing or non-finite exposure \(row 11: {bad}\)"
    ):
        validate_frame(df, SCHEMA)


def test_negative_exposure():
    df = make_frame()
    df.loc[14, "requests"] = -3
    with pytest.raises(ExposureError, match=r"'requests' has 1 negative exposure \(row 14: -3\)"):
        validate_frame(df, SCHEMA)


def test_zero_exposure_with_positive_count():
    df = make_frame()
    df.loc[12, "requests"] = 0
    with pytest.raises(ExposureError) as info:
        validate_frame(df, SCHEMA)
    msg = str(info.value)
    assert "'requests'" in msg and "positive count" in msg and "row 12: 3" in msg


def test_zero_exposure_zero_count_rows_are_dropped_with_warning():
    df = make_frame()
    df.loc[[11, 13], ["errors", "requests"]] = 0
    with pytest.warns(DataWarning, match=r"Dropped 2 rows .*rows 11, 13"):
        out = validate_frame(df, SCHEMA)
    assert list(out.index) == [10, 12, 14]
    assert out["errors"].tolist() == [1, 3, 5]


def test_dropped_rows_are_not_validated_further():
    df = make_frame()
    df.loc[11, ["errors", "requests"]] = 0
    df["cpu"] = df["cpu"].where(df.index != 11)  # NaN only on the dropped row
    with pytest.warns(DataWarning, match="Dropped 1 row "):
        out = validate_frame(df, SCHEMA)
    assert len(out) == 4


def test_all_rows_dropped_is_a_data_error():
    df = make_frame().assign(errors=0, requests=0)
    with pytest.raises(DataError, match="All 5 rows have zero exposure"):
        validate_frame(df, SCHEMA)


# --------------------------------------------------------------------------- time


def test_same_offset_strings_become_utc():
    df = make_frame().assign(
        ts=[
            "2024-01-01T00:00+01:00",
            "2024-01-01T01:00+01:00",
            "2024-01-01T00:00+01:00",
            "2024-01-01T01:00+01:00",
            "2024-01-01T02:00+01:00",
        ]
    )
    out = validate_frame(df, SCHEMA)
    assert str(out["ts"].dtype) == "datetime64[ns, UTC]"
    assert out["ts"].iloc[0] == pd.Timestamp("2023-12-31 23:00", tz="UTC")


def test_tz_aware_column_becomes_utc():
    df = make_frame()
    df["ts"] = df["ts"].dt.tz_localize("Europe/Paris")
    out = validate_frame(df, SCHEMA)
    assert str(out["ts"].dtype) == "datetime64[ns, UTC]"
    assert out["ts"].iloc[0] == pd.Timestamp("2023-12-31 23:00", tz="UTC")


def test_one_zone_with_dst_offsets_is_accepted():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    stamps = [dt.datetime(2024, m, 1, tzinfo=paris) for m in (1, 7, 1, 7, 8)]
    out = validate_frame(make_frame().assign(ts=stamps), SCHEMA)
    assert str(out["ts"].dtype) == "datetime64[ns, UTC]"
    assert out["ts"].iloc[1] == pd.Timestamp("2024-06-30 22:00", tz="UTC")


def test_naive_strings_stay_naive_ns():
    df = make_frame().assign(
        ts=["2024-01-01", "2024-01-01 01:00", "2024-01-01", "2024-01-01 01:00", "2024-01-02"]
    )
    out = validate_frame(df, SCHEMA)
    assert str(out["ts"].dtype) == "datetime64[ns]"
    assert out["ts"].iloc[1] == pd.Timestamp("2024-01-01 01:00")


def test_mixed_offsets_are_instants_converted_to_utc_with_one_warning():
    df = make_frame().assign(
        ts=[
            "2024-01-01T00:00+01:00",
            "2024-01-01T02:00+02:00",
            "2024-01-01T02:00+01:00",
            "2024-01-01T03:00+01:00",
            "2024-01-01T04:00+01:00",
        ]
    )
    with pytest.warns(DataWarning, match=r"'ts' mixes 2 UTC offsets \(\+01:00 on rows 10: .*"
                                         r"\+02:00 on row 11: .*converted to UTC") as caught:
        out = validate_frame(df, SCHEMA)
    assert len(caught) == 1
    assert out["ts"].iloc[1] == pd.Timestamp("2024-01-01 00:00", tz="UTC")


def test_naive_and_aware_mix_is_refused():
    df = make_frame().assign(
        ts=[
            "2024-01-01T00:00",
            "2024-01-01T01:00+02:00",
            "2024-01-01T00:00",
            "2024-01-01T01:00",
            "2024-01-01T02:00",
        ]
    )
    with pytest.raises(
        TimestampError, match=r"'ts' mixes 4 naive timestamps .*row 11: '2024-01-01T01:00\+02:00'"
    ):
        validate_frame(df, SCHEMA)


def test_naive_and_aware_timestamp_objects_are_refused():
    stamps = [pd.Timestamp("2024-01-01", tz="UTC")] + [
        pd.Timestamp(f"2024-01-0{d}") for d in range(2, 6)
    ]
    with pytest.raises(TimestampError, match="naive"):
        validate_frame(make_frame().assign(ts=stamps), SCHEMA)


def test_unparseable_timestamps_are_counted_and_shown():
    df = make_frame().assign(ts=["2024-01-01", "garbage", "2024-01-02", "nope", "2024-01-03"])
    with pytest.raises(
        TimestampError,
        match=r"'ts' has 2 unparseable timestamps \(rows 11: 'garbage', 13: 'nope'\)",
    ):
        validate_frame(df, SCHEMA)


def test_integer_timestamps_are_refused():
    df = make_frame().assign(ts=[1_700_000_000 + i for i in range(5)])
    with pytest.raises(TimestampError, match=r"'ts' holds numbers.*unit='s'"):
        validate_frame(df, SCHEMA)


def test_numbers_mixed_into_string_timestamps_are_refused():
    ts = pd.Series(["2024-01-01", 5, "2024-01-02", "2024-01-03", "2024-01-04"], dtype=object)
    with pytest.raises(TimestampError, match=r"row 11: 5\).*unit='s'"):
        validate_frame(make_frame().assign(ts=ts.to_numpy()), SCHEMA)


def test_missing_timestamps_are_refused():
    df = make_frame()
    df.loc[12, "ts"] = pd.NaT
    with pytest.raises(TimestampError, match=r"'ts' has 1 missing timestamp \(row 12: NaT\)"):
        validate_frame(df, SCHEMA)


# --------------------------------------------------------------------------- groups & covariates


@pytest.mark.parametrize("bad", [None, np.nan, "", "  "])
def test_missing_group_label(bad):
    df = make_frame().astype({"service": object})
    df.loc[13, "service"] = bad
    with pytest.raises(
        MissingValueError, match=r"Group column 'service' has 1 missing label \(row 13: "
    ):
        validate_frame(df, SCHEMA)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_numeric_covariate(bad):
    df = make_frame()
    df.loc[10, "cpu"] = bad
    with pytest.raises(
        MissingValueError, match=rf"'cpu' has 1 missing or non-finite value \(row 10: {bad}\)"
    ):
        validate_frame(df, SCHEMA)


def test_missing_string_covariate():
    df = make_frame().assign(tier=["gold", None, "gold", "silver", "silver"])
    with pytest.raises(
        MissingValueError, match=r"Covariate column 'tier' has 1 missing label \(row 11"
    ):
        validate_frame(df, SCHEMA)


def test_datetime_covariate_is_refused():
    schema = CountSchema(counts="errors", exposure="requests", covariates=("when",))
    df = make_frame().assign(when=make_frame()["ts"])
    with pytest.raises(DataError, match="'when'"):
        validate_frame(df, schema)


# --------------------------------------------------------------------------- duplicates


def test_duplicate_group_time_rows():
    df = make_frame()
    df.loc[11, "ts"] = df.loc[10, "ts"]
    with pytest.raises(DuplicateRowError) as info:
        validate_frame(df, SCHEMA)
    msg = str(info.value)
    assert "1 duplicated key over 2 rows" in msg
    assert "service='api', node='1', ts=2024-01-01 00:00:00 at rows 10, 11" in msg


def test_same_time_in_different_groups_is_not_a_duplicate():
    df = make_frame()
    df["ts"] = pd.Timestamp("2024-01-01")
    df["node"] = [1, 4, 2, 5, 3]
    assert len(validate_frame(df, SCHEMA)) == 5


def test_no_duplicate_check_without_time():
    schema = CountSchema(counts="errors", exposure="requests", groups=("service",))
    df = pd.concat([make_frame(), make_frame()])
    assert len(validate_frame(df, schema)) == 10


# --------------------------------------------------------------------------- nesting


def test_inner_label_under_two_parents():
    df = make_frame().assign(node=["n1", "n1", "n1", "n2", "n3"])
    with pytest.raises(NestingError) as info:
        validate_frame(df, SCHEMA)
    msg = str(info.value)
    assert "'node'" in msg and "'n1' under 'api', 'db'" in msg and "service/node" in msg


def test_three_level_nesting_checks_each_pair():
    schema = CountSchema(
        counts="errors", exposure="requests", groups=("region", "service", "node")
    )
    df = make_frame().assign(region=["eu", "eu", "us", "us", "eu"], node=["a", "b", "c", "d", "e"])
    with pytest.raises(NestingError, match=r"'service' has 1 label .*'db' under 'eu', 'us'"):
        validate_frame(df, schema)


def test_crossed_groups_skip_nesting_check():
    schema = CountSchema(
        counts="errors", exposure="requests", groups=("service", "node"), nesting="crossed"
    )
    df = make_frame().assign(node=["n1", "n1", "n1", "n2", "n3"])
    assert len(validate_frame(df, schema)) == 5


# --------------------------------------------------------------------------- prediction


def test_prediction_counts_optional():
    out = validate_frame(make_frame().drop(columns="errors"), SCHEMA, for_prediction=True)
    assert "errors" not in out.columns
    assert list(out.columns) == ["requests", "ts", "service", "node", "cpu", "tier"]


def test_prediction_counts_validated_when_present():
    df = make_frame()
    df.loc[10, "errors"] = -1
    with pytest.raises(CountValueError, match="row 10: -1"):
        validate_frame(df, SCHEMA, for_prediction=True)


def test_prediction_requires_exposure_column():
    df = make_frame().drop(columns=["errors", "requests"])
    with pytest.raises(ColumnNotFoundError, match="'requests'.*required for new rows"):
        validate_frame(df, SCHEMA, for_prediction=True)


def test_prediction_keeps_zero_exposure_rows_and_refuses_counts_on_them():
    """Issue 12, kind 7: zero traffic has zero expected events; new rows keep it."""
    df = make_frame()
    df.loc[12, ["errors", "requests"]] = 0
    out = validate_frame(df, SCHEMA, for_prediction=True)
    assert len(out) == 5 and out.loc[12, "requests"] == 0.0
    future = make_frame().drop(columns="errors")
    future.loc[[10, 12], "requests"] = 0
    assert list(validate_frame(future, SCHEMA, for_prediction=True)["requests"] == 0).count(
        True) == 2
    df.loc[12, "errors"] = 3
    with pytest.raises(ExposureError, match=r"'requests' has 1 zero exposure on rows with a "
                       r"positive count \('errors' on row 12: 3"):
        validate_frame(df, SCHEMA, for_prediction=True)


def test_prediction_skips_duplicate_and_nesting_checks():
    df = make_frame().drop(columns="errors").assign(node=["n1"] * 5)
    df["ts"] = pd.Timestamp("2024-01-01")
    assert len(validate_frame(df, SCHEMA, for_prediction=True)) == 5


# --------------------------------------------------------------------------- formatting


def test_format_rows():
    assert _format_rows([4], [-1]) == "row 4: -1"
    assert _format_rows(["a", "b"], [np.float64(2.5), "x"]) == "rows 'a': 2.5, 'b': 'x'"
    text = _format_rows(list(range(7)), [0] * 7, limit=3)
    assert text == "rows 0: 0, 1: 0, 2: 0 and 4 more"


def test_messages_are_data_errors_and_value_errors():
    df = make_frame()
    df.loc[10, "errors"] = -1
    with pytest.raises(ValueError, match=re.escape("row 10: -1")):
        validate_frame(df, SCHEMA)


# --------------------------------------------------------------------------- property


@st.composite
def valid_frames(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    counts = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
    as_float = draw(st.booleans())
    exposure = draw(st.lists(st.floats(0.001, 1e9, allow_nan=False), min_size=n, max_size=n))
    services = draw(st.lists(st.sampled_from(["api", "db", "web"]), min_size=n, max_size=n))
    nodes = [
        f"{s}-{k}"
        for s, k in zip(
            services, draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), strict=True
        )
    ]
    cpu = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(list(order), unit="min")
    labels = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n, unique=True))
    df = pd.DataFrame(
        {
            "errors": np.asarray(counts, dtype=float if as_float else np.int64),
            "requests": exposure,
            "ts": ts,
            "service": services,
            "node": nodes,
            "cpu": cpu,
            "tier": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        },
        index=labels,
    )
    return df, counts


@settings(max_examples=60, deadline=None)
@given(valid_frames())
def test_valid_frames_keep_rows_and_counts(frame_and_counts):
    df, counts = frame_and_counts
    before = df.copy(deep=True)
    out = validate_frame(df, SCHEMA)
    assert len(out) == len(df)
    assert out["errors"].tolist() == counts
    assert out.index.equals(df.index)
    pd.testing.assert_frame_equal(df, before)
