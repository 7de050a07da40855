"""Raw events (one row per request or error) into window counts, with DuckDB.

:func:`aggregate_events` reads a CSV or Parquet log with DuckDB's own readers
(``read_csv`` / ``read_parquet``, embedded, no server), so hundreds of millions of
events are scanned in a streaming, parallel query and never enter pandas; only the
aggregated table (one row per window and group) does.

The result
----------
One row per window and group: ``timestamp`` (the window's start, UTC), the ``by``
columns, ``exposure_name`` (events in the window) and, with ``error_when``,
``count_name`` (events of the window for which the expression is true).

* Windows are ``[start, start + step)`` aligned to UTC at the Unix epoch: a 5-minute
  window starts at :00, :05, ...; a 1-day window at 00:00 UTC. Times with a zone or
  offset are converted to UTC; times without one are taken as UTC.
* Every group seen anywhere in the file gets every window of the overall range, from
  the first window holding an event to the last: a window with no event of that group
  is a row with ``0`` events and ``0`` exposure (a fit predicts exactly 0 there),
  never a missing row.
* Labels are kept as written: CSV ``by`` columns are read as text (``007`` stays
  ``007``, ``NA`` stays ``NA``; only an empty cell is missing), as
  :func:`~bayescount.io.tables.read_table` does. An event without a label or a time is
  an error (the message counts them): a fit cannot place it.

The error expression
--------------------
``error_when`` is a **DuckDB SQL boolean expression** over the file's columns, e.g.
``status >= 500`` or ``status >= 500 OR timed_out``. It is evaluated by DuckDB on the
user's own file, on the user's machine, with the user's permissions: it is not
sandboxed (DuckDB functions can read other files), so do not pass expressions from
untrusted sources. It is checked before the scan: it may not contain ``;`` or SQL
comments, and it is compiled in ``SELECT (expr) FROM file LIMIT 0`` so a misspelt
column or a non-boolean expression is a one-line error naming the expression. An event
for which it is ``NULL`` (e.g. a missing status) is not counted as an error, and a
:class:`~bayescount.exceptions.DataWarning` says how many there were.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bayescount._warnings import warn
from bayescount.exceptions import (
    ColumnNotFoundError,
    DataError,
    DataWarning,
    MissingValueError,
    SpecError,
    TimestampError,
)
from bayescount.prep.durations import format_duration, parse_duration

__all__ = ["TIME_COLUMN", "aggregate_events"]

#: Name of the window-start column of the result (as ``bayescount pull`` writes it).
TIME_COLUMN = "timestamp"
_CSV = (".csv", ".csv.gz", ".tsv")
_PARQUET = (".parquet", ".pq")
_TIME_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS",
               "TIMESTAMP_S", "DATE")
_FORBIDDEN = re.compile(r";|--|/\*")


def _quote(name: str) -> str:
    """Quote a SQL identifier (so spaces, dots and reserved words are fine)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """Write a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _source(con, events: str | Path | pd.DataFrame, by: Sequence[str]) -> str:
    """Register the events as the view ``events``; return a description for messages."""
    if isinstance(events, pd.DataFrame):
        con.register("events_frame", events)
        con.execute("CREATE VIEW events AS SELECT * FROM events_frame")
        return "the events table"
    path = Path(events)
    name = path.name.lower()
    if not path.is_file():
        raise DataError(f"No such file: {path}.")
    if name.endswith(_PARQUET):
        reader = f"read_parquet({_literal(str(path))})"
    elif name.endswith(_CSV):
        reader = f"read_csv({_literal(str(path))}, header=true)"
    else:
        raise DataError(
            f"Cannot read {path}: unknown extension; use .csv, .csv.gz, .tsv, .parquet or .pq."
        )
    import duckdb

    try:
        con.execute(f"CREATE VIEW events AS SELECT * FROM {reader}")
        present = [c for c in by if c in _columns(con)]
        if name.endswith(_CSV) and present:
            # Labels as text exactly as written; only an empty cell is missing.
            types = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in present)
            reader = f"read_csv({_literal(str(path))}, header=true, types={{{types}}})"
            con.execute(f"CREATE OR REPLACE VIEW events AS SELECT * FROM {reader}")
    except duckdb.Error as err:
        raise DataError(f"Cannot read {path}: {_one_line(err)}") from err
    return str(path)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _columns(con) -> dict[str, str]:
    """``{column: DuckDB type}`` of the view ``events``."""
    return {row[0]: str(row[1]) for row in con.execute("DESCRIBE events").fetchall()}


def _check_names(columns: dict[str, str], time: str, by: Sequence[str], where: str) -> None:
    missing = [c for c in (time, *by) if c not in columns]
    if missing:
        raise ColumnNotFoundError(
            f"Column(s) {missing} not in {where}; it has {list(columns)}. Name them with "
            "--time and --by."
        )
    if len(set(by)) != len(by):
        raise SpecError(f"--by names a column twice: {list(by)}.")
    if time in by:
        raise SpecError(f"The time column {time!r} cannot also be a --by column.")


def _time_expression(con, columns: dict[str, str], time: str, where: str) -> str:
    """Return SQL for the event time as TIMESTAMPTZ, once every value is known to parse."""
    col = _quote(time)
    kind = columns[time]
    if kind in _TIME_TYPES or kind.startswith("TIMESTAMP"):
        return f"CAST({col} AS TIMESTAMPTZ)"
    if kind != "VARCHAR":
        raise TimestampError(
            f"Column {time!r} of {where} holds {kind} values, not times; give ISO 8601 "
            "timestamps (2026-01-05T10:00:00Z) or a timestamp column."
        )
    bad = con.execute(
        f"SELECT count(*), list({col}) FILTER (WHERE true)[1:3] FROM events "
        f"WHERE {col} IS NOT NULL AND TRY_CAST({col} AS TIMESTAMPTZ) IS NULL"
    ).fetchone()
    if bad[0]:
        raise TimestampError(
            f"Column {time!r} of {where}: {bad[0]} value(s) are not timestamps, e.g. "
            f"{bad[1]}; write ISO 8601 times such as 2026-01-05T10:00:00Z."
        )
    return f"CAST({col} AS TIMESTAMPTZ)"


def _check_expression(con, expression: str) -> str:
    """Compile ``expression`` on zero rows; return it parenthesised."""
    import duckdb

    if not expression.strip():
        raise SpecError("--error-when is empty; give a condition such as 'status >= 500'.")
    if _FORBIDDEN.search(expression):
        raise SpecError(
            f"--error-when {expression!r}: one SQL expression only; ';' and SQL comments "
            "('--', '/*') are not allowed."
        )
    try:
        kinds = con.execute(f"SELECT ({expression}) AS bad FROM events LIMIT 0").description
    except duckdb.Error as err:
        raise SpecError(
            f"--error-when {expression!r} is not a valid DuckDB SQL expression over the "
            f"events' columns: {_one_line(err)}"
        ) from err
    kind = str(kinds[0][1]) if kinds else ""
    if kind.upper() not in ("BOOLEAN", "BOOL"):
        raise SpecError(
            f"--error-when {expression!r} gives {kind} values, not true/false; write a "
            "condition such as 'status >= 500'."
        )
    return f"({expression})"


def aggregate_events(
    events: str | Path | pd.DataFrame,
    *,
    time: str,
    by: Sequence[str] = (),
    step: str | pd.Timedelta = "5m",
    error_when: str | None = None,
    exposure_name: str = "requests",
    count_name: str = "errors",
) -> pd.DataFrame:
    """Count events per UTC-aligned window and group, with DuckDB.

    Parameters
    ----------
    events : str, Path or pandas.DataFrame
        A CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) file
        with one row per event, read by DuckDB directly; or a DataFrame (small data,
        tests).
    time : str
        Column of event times: timestamps, or ISO 8601 text. Times with a zone are
        converted to UTC; naive times are taken as UTC.
    by : sequence of str
        Label columns; one series per combination. Empty: one series.
    step : str or pandas.Timedelta
        Window length (``"5m"``, ``"1h"``, ``"1d"``; at least one second). Windows
        are aligned to UTC at the Unix epoch.
    error_when : str, optional
        A DuckDB SQL boolean expression over the columns (``"status >= 500"``); the
        events for which it is true are counted in ``count_name``. See the module
        notes: it runs unsandboxed on the user's file.
    exposure_name, count_name : str
        Names of the result's columns of all events and of matching events.

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp`` (window start, ``datetime64[ns, UTC]``), the ``by``
        columns, ``exposure_name`` and (with ``error_when``) ``count_name``, both
        ``int64``; every known group in every window from the first to the last
        (windows without events: 0 and 0); sorted by ``timestamp`` then the labels.

    Raises
    ------
    DataError
        No such file, an unknown extension or an unreadable file.
    ColumnNotFoundError
        ``time`` or a ``by`` column is not in the file (the message lists its columns).
    TimestampError
        ``time`` holds values that are not times (the message shows a few).
    MissingValueError
        Events without a time or a label (the message counts them).
    SpecError
        A bad ``step``, ``error_when`` (not one boolean SQL expression over the
        columns) or clashing output names.
    """
    import duckdb

    by = [by] if isinstance(by, str) else list(by)
    width = parse_duration(step)
    micros = int(width / pd.Timedelta(microseconds=1))
    if width < pd.Timedelta(seconds=1) or width != pd.Timedelta(microseconds=micros):
        raise SpecError(f"step {step!r} must be at least one second.")
    outputs = [TIME_COLUMN, *by, exposure_name] + ([count_name] if error_when else [])
    clash = sorted({c for c in outputs if outputs.count(c) > 1})
    if clash:
        raise SpecError(
            f"Output column name(s) {clash} used twice: the result has {TIME_COLUMN!r}, the "
            "--by columns, --exposure-name and --count-name; rename one."
        )
    con = duckdb.connect(":memory:")
    where = str(events) if not isinstance(events, pd.DataFrame) else "the events table"
    try:
        con.execute("SET TimeZone = 'UTC'")
        where = _source(con, events, by)
        columns = _columns(con)
        _check_names(columns, time, by, where)
        stamp = _time_expression(con, columns, time, where)
        bad = _check_expression(con, error_when) if error_when else "NULL::BOOLEAN"
        return _aggregate(con, stamp, bad, by, micros, where, exposure_name,
                          count_name if error_when else None, error_when)
    except duckdb.Error as err:  # a value DuckDB cannot convert while scanning
        raise DataError(f"Cannot aggregate {where}: {_one_line(err)}") from err
    finally:
        con.close()


def _aggregate(con, stamp: str, bad: str, by: list[str], micros: int, where: str,
               exposure_name: str, count_name: str | None, expression: str | None
               ) -> pd.DataFrame:
    labels = [_quote(c) for c in by]
    keys = ", ".join(["w", *labels])
    # Floor to the window (DuckDB's % truncates towards zero, so fold negatives up).
    window = f"(e - (((e % {micros}) + {micros}) % {micros}))"
    con.execute(f"""
        CREATE TEMP TABLE agg AS
        SELECT {window} AS w{''.join(f', {c}' for c in labels)},
               count(*) AS n, count_if(bad) AS k, count_if(bad IS NULL) AS n_null
        FROM (SELECT epoch_us({stamp}) AS e{''.join(f', {c}' for c in labels)},
                     {bad} AS bad FROM events)
        GROUP BY ALL
    """)
    no_time, = con.execute("SELECT coalesce(sum(n), 0) FROM agg WHERE w IS NULL").fetchone()
    if no_time:
        raise MissingValueError(
            f"{no_time} event(s) of {where} have no time; drop or fill them first."
        )
    for col, q in zip(by, labels, strict=True):
        unlabelled, = con.execute(
            f"SELECT coalesce(sum(n), 0) FROM agg WHERE {q} IS NULL").fetchone()
        if unlabelled:
            raise MissingValueError(
                f"{unlabelled} event(s) of {where} have no {col!r} label; fill them (e.g. "
                "'unknown') or drop them first."
            )
    if count_name is not None:
        n_null, = con.execute("SELECT coalesce(sum(n_null), 0) FROM agg").fetchone()
        if n_null:
            warn(f"--error-when {expression!r} is NULL for {n_null} event(s) of {where}; "
                 "they were counted as events but not as errors.", DataWarning)
    groups = f"(SELECT DISTINCT {', '.join(labels)} FROM agg)" if by else "(SELECT 1)"
    out = con.execute(f"""
        WITH bounds AS (SELECT min(w) AS lo, max(w) AS hi FROM agg),
             grid AS (SELECT s.w{''.join(f', g.{c}' for c in labels)}
                      FROM bounds, generate_series(bounds.lo, bounds.hi, {micros}) AS s(w),
                           {groups} AS g)
        SELECT make_timestamp(grid.w) AS {_quote(TIME_COLUMN)}
               {''.join(f', grid.{c}' for c in labels)},
               coalesce(agg.n, 0)::BIGINT AS {_quote(exposure_name)}
               {f', coalesce(agg.k, 0)::BIGINT AS {_quote(count_name)}' if count_name else ''}
        FROM grid LEFT JOIN agg USING ({keys})
        ORDER BY {keys}
    """).df()
    out[TIME_COLUMN] = pd.to_datetime(out[TIME_COLUMN]).dt.tz_localize("UTC")
    for col in [exposure_name, *([count_name] if count_name else [])]:
        out[col] = out[col].astype("int64")
    out.attrs["step"] = format_duration(pd.Timedelta(microseconds=micros))
    return out.reset_index(drop=True)
