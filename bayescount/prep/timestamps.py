"""Parse a time column: ISO strings, datetimes, explicit offsets, and local wall-clock times.

* Values with a time zone or an explicit UTC offset are unambiguous instants. They
  are converted to UTC; when they carry *different* offsets (one local zone across a
  daylight-saving change: ``01:00+01:00`` then ``01:00+00:00``) a
  :class:`~bayescount.exceptions.DataWarning` says so, once per column.
* Naive values (no zone, no offset) are kept naive, unless the schema names the
  ``timezone`` they were written in: they are then localised to that zone and
  converted to UTC. A wall-clock time that occurs twice (the repeated hour when
  clocks go back) or never (the hour skipped when they go forward) is refused with a
  :class:`~bayescount.exceptions.TimestampError` naming the rows.
* A column mixing naive and zoned values is refused.

Pure pandas/numpy.
"""

from __future__ import annotations

import datetime as _dt
import warnings
import zoneinfo
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from bayescount._warnings import warn
from bayescount.exceptions import DataWarning, SpecError, TimestampError
from bayescount.prep._cells import LIMIT, _is_real_number, _missing_mask, _plural, _rows

__all__ = ["check_timezone", "parse_time_column"]

# Object columns whose values infer as one of these are parsed by pandas in one go.
_DATETIME_LIKE = frozenset({"string", "datetime", "datetime64", "date"})


def check_timezone(zone: str) -> str:
    """Return ``zone`` if it names an IANA time zone (``"Europe/Paris"``, ``"UTC"``).

    Parameters
    ----------
    zone : str
        The time zone name, checked with :class:`zoneinfo.ZoneInfo`.

    Returns
    -------
    str
        ``zone`` unchanged.

    Raises
    ------
    SpecError
        ``zone`` is not a time zone name.
    """
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise SpecError(
            f"Unknown time zone {zone!r}: give an IANA name such as 'Europe/Paris', "
            "'America/New_York' or 'UTC'."
        ) from None
    return zone


# ------------------------------------------------------------------------ parsing
def _parse_one(value: Any) -> pd.Timestamp | None:
    """Parse one timestamp-like value, or return None when it is not one."""
    if not isinstance(value, (str, _dt.date, np.datetime64)):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if stamp is pd.NaT else stamp


def _offset(stamp: pd.Timestamp) -> str:
    """``"+01:00"`` for a stamp's UTC offset at its own instant."""
    minutes = int(stamp.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _parse_elementwise(series: pd.Series, name: str, index: pd.Index) -> pd.Series:
    """Parse value by value: slow, but finds bad values and mixed time zones."""
    values = series.to_numpy(dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        stamps = [_parse_one(v) for v in values]
    bad = np.array([s is None for s in stamps], dtype=bool)
    if bad.any():
        numbers_seen = any(_is_real_number(v) for v in values[bad])
        hint = (
            " Numbers are not accepted as timestamps: convert epoch values with "
            f"pd.to_datetime(data[{name!r}], unit='s') first."
            if numbers_seen
            else ""
        )
        raise TimestampError(
            f"Column {name!r} has {_plural(int(bad.sum()), 'unparseable timestamp')} "
            f"({_rows(index, series, bad)}). Use ISO 8601 strings such as "
            "'2024-01-31T12:00:00Z' or datetime values; pd.to_datetime(data"
            f"[{name!r}], format=...) shows where parsing fails.{hint}"
        )
    good: list[pd.Timestamp] = [stamp for stamp in stamps if stamp is not None]
    naive = np.array([stamp.tzinfo is None for stamp in good], dtype=bool)
    if naive.any() and not naive.all():
        raise TimestampError(
            f"Column {name!r} mixes {_plural(int(naive.sum()), 'naive timestamp')} (no time "
            f"zone or offset; {_rows(index, series, naive)}) with "
            f"{_plural(int((~naive).sum()), 'time-zone-aware one')} "
            f"({_rows(index, series, ~naive)}). Make them consistent: give every value an "
            "offset (e.g. 2025-10-26T01:00:00+01:00) or a zone, or none of them (then name "
            "their zone with timezone= / --timezone)."
        )
    if naive.all():
        try:
            parsed = pd.DatetimeIndex(good)
        except (ValueError, TypeError, OverflowError) as exc:
            raise TimestampError(
                f"Column {name!r}: the timestamps parse one by one but cannot be combined "
                f"({exc}). Convert them with pd.to_datetime(data[{name!r}]) first."
            ) from exc
        return pd.Series(parsed, index=series.index, name=name)
    offsets: dict[str, list[int]] = {}
    for pos, stamp in enumerate(good):
        offsets.setdefault(_offset(stamp), []).append(pos)
    utc = pd.DatetimeIndex([stamp.tz_convert("UTC") for stamp in good])
    if len(offsets) > 1:
        parts = []
        for offset, positions in list(offsets.items())[:LIMIT]:
            mask = np.zeros(len(series), dtype=bool)
            mask[positions] = True
            parts.append(f"{offset} on {_rows(index, series, mask)}")
        warn(
            f"Column {name!r} mixes {len(offsets)} UTC offsets ({'; '.join(parts)}), as one "
            "local clock does across a daylight-saving change. Each value is an unambiguous "
            "instant, so all were converted to UTC.",
            DataWarning,
        )
    return pd.Series(utc, index=series.index, name=name)


def _parse_strings(series: pd.Series, name: str, index: pd.Index) -> pd.Series:
    """Parse an object/string column of timestamps."""
    missing = _missing_mask(series)
    if missing.any():
        raise TimestampError(
            f"Column {name!r} has {_plural(int(missing.sum()), 'missing timestamp')} "
            f"({_rows(index, series, missing)}). Every row needs a "
            "timestamp; fill or drop these rows."
        )
    inferred = ptypes.infer_dtype(series, skipna=False)
    if inferred in _DATETIME_LIKE:
        attempts: list[dict[str, Any]] = [{}]
        if inferred == "string":
            attempts.append({"format": "ISO8601"})
        for kwargs in attempts:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    return pd.to_datetime(series, **kwargs)
            except (ValueError, TypeError, OverflowError):
                continue
    return _parse_elementwise(series, name, index)


# --------------------------------------------------------------------- localising
def _localize(parsed: pd.Series, zone: str, name: str, index: pd.Index) -> pd.Series:
    """Localise naive wall-clock times to ``zone``; refuse repeated and skipped ones."""
    ambiguous = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    skipped = parsed.dt.tz_localize(
        zone, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="NaT"
    )
    for bad, what, fix in (
        (
            ambiguous.isna().to_numpy(dtype=bool),
            "{occur} twice in {zone} (the hour repeated when clocks go back)",
            "write these rows with their UTC offset (e.g. 01:30+01:00 and 01:30+00:00) or "
            "in UTC",
        ),
        (
            skipped.isna().to_numpy(dtype=bool),
            "never {occur} in {zone} (the hour skipped when clocks go forward)",
            "check the source of these rows; they cannot be local times in this zone",
        ),
    ):
        if bad.any():
            n = int(bad.sum())
            raise TimestampError(
                f"Column {name!r} has {_plural(n, 'local time')} that "
                f"{what.format(zone=zone, occur='occurs' if n == 1 else 'occur')} "
                f"({_rows(index, parsed, bad)}), so the instant "
                f"{'it means' if n == 1 else 'they mean'} is unknown; {fix}."
            )
    return ambiguous.dt.tz_convert("UTC")


def parse_time_column(
    series: pd.Series, name: str, index: pd.Index, timezone: str | None = None
) -> pd.Series:
    """Return a time column as ``datetime64[ns]`` (naive) or ``datetime64[ns, UTC]``.

    Parameters
    ----------
    series : pandas.Series
        The raw column (strings, datetimes, Timestamps; positional index).
    name : str
        Column name, for messages.
    index : pandas.Index
        The caller's row labels, for messages.
    timezone : str, optional
        IANA zone of naive values; they are localised to it and converted to UTC.

    Raises
    ------
    TimestampError
        Missing, numeric or unparseable values; naive and zoned values mixed; local
        times repeated or skipped in ``timezone``; timestamps out of range.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype):
        parsed = series
    elif ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype):
        raise TimestampError(
            f"Column {name!r} holds numbers (dtype {dtype}), not timestamps. Convert epoch "
            f"values first, e.g. pd.to_datetime(data[{name!r}], unit='s'), or pass "
            "datetime values or ISO 8601 strings."
        )
    elif ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype):
        parsed = _parse_strings(series, name, index)
    else:
        raise TimestampError(
            f"Column {name!r} has dtype {dtype}, which is not a timestamp. Convert it with "
            f"pd.to_datetime(data[{name!r}]) first."
        )
    missing = parsed.isna().to_numpy(dtype=bool)
    if missing.any():
        raise TimestampError(
            f"Column {name!r} has {_plural(int(missing.sum()), 'missing timestamp')} "
            f"({_rows(index, series, missing)}). Every row needs a "
            "timestamp; fill or drop these rows."
        )
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert("UTC")
    elif timezone is not None:
        parsed = _localize(parsed, timezone, name, index)
    naive = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    out_of_range = ((naive < pd.Timestamp.min) | (naive > pd.Timestamp.max)).to_numpy(dtype=bool)
    if out_of_range.any():
        raise TimestampError(
            f"Column {name!r} has {_plural(int(out_of_range.sum()), 'timestamp')} outside "
            f"{pd.Timestamp.min.year}-{pd.Timestamp.max.year} "
            f"({_rows(index, parsed, out_of_range)}). Fix these rows."
        )
    return parsed.dt.as_unit("ns").rename(name)
