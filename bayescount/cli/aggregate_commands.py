"""``aggregate``: raw events (one row per request) into window counts, with DuckDB.

EVENTS is a CSV or Parquet log, one row per event; the output has one row per window
and group (``timestamp``, the ``--by`` labels, the exposure and the error count), ready
for ``bayescount fit``. See :mod:`bayescount.io.aggregate` for the rules (UTC windows,
empty windows kept as zeros, the ``--error-when`` SQL expression).

Heavy imports (DuckDB, pandas) happen inside the handler, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse

from bayescount.cli._types import column, column_list, duration, path, text

__all__ = ["register"]

_FORMATS = (".csv", ".parquet", ".pq")


def _run_aggregate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bayescount.exceptions import OutputError
    from bayescount.io.aggregate import aggregate_events
    from bayescount.io.atomic import atomic_write, check_writable

    out = Path(args.out)
    if out.suffix.lower() not in _FORMATS:
        raise OutputError(f"--out {out}: unknown extension; use one of {list(_FORMATS)}.")
    check_writable(out)
    frame = aggregate_events(
        args.events, time=args.time, by=args.by, step=args.step, error_when=args.error_when,
        exposure_name=args.exposure_name, count_name=args.count_name,
    )
    if out.suffix.lower() == ".csv":
        stamps = "%Y-%m-%dT%H:%M:%SZ"
        atomic_write(out, lambda fh: frame.to_csv(fh, index=False, date_format=stamps))
    else:
        atomic_write(out, lambda fh: frame.to_parquet(fh, index=False))
    groups = len(frame.drop_duplicates(args.by)) if args.by else 1
    windows = frame["timestamp"].nunique()
    print(f"Wrote {len(frame)} rows ({windows} windows of {args.step} x {groups} groups, "
          f"{int(frame[args.exposure_name].sum())} events) to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``aggregate`` subcommand to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    agg = sub.add_parser(
        "aggregate",
        help="count raw events (one row per request) per UTC window and group, with DuckDB",
        description="Read a CSV/Parquet event log with DuckDB and write one row per window "
        "and group: timestamp (window start, UTC), the --by labels, the events (exposure) "
        "and the events matching --error-when (count). Windows of a known group without "
        "events are kept as 0 events, 0 exposure.",
    )
    agg.add_argument("events", type=path, metavar="EVENTS", help="CSV or Parquet event log")
    agg.add_argument("--time", required=True, type=column, metavar="COL",
                     help="column of event times (timestamps or ISO 8601 text)")
    agg.add_argument("--by", type=column_list, default=[], metavar="COL,COL",
                     help="label columns (one series per combination)")
    agg.add_argument("--step", type=duration, default="5m", metavar="D",
                     help="window length, aligned to UTC (default 5m)")
    agg.add_argument("--error-when", type=text, metavar="EXPR",
                     help="DuckDB SQL condition over the columns that marks an error, e.g. "
                     "'status >= 500' (evaluated by DuckDB on your file)")
    agg.add_argument("--exposure-name", type=column, default="requests", metavar="NAME",
                     help="name of the events column (default requests)")
    agg.add_argument("--count-name", type=column, default="errors", metavar="NAME",
                     help="name of the error-count column (default errors)")
    agg.add_argument("--out", required=True, type=path, metavar="PATH",
                     help="output .csv or .parquet")
    agg.set_defaults(handler=_run_aggregate)
