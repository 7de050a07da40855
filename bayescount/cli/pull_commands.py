"""``pull prometheus``: window counts from a Prometheus server into a CSV/Parquet table.

The table has one row per window and group (``timestamp``, the ``--by`` labels, one
column per ``--counts``/``--exposure`` NAME) and feeds ``bayescount fit`` directly.
Credentials come from the environment (``BAYESCOUNT_PROMETHEUS_TOKEN``, or
``BAYESCOUNT_PROMETHEUS_USER`` and ``BAYESCOUNT_PROMETHEUS_PASSWORD``) or from
``--token-file``, never from a command-line value.

Only the standard library and the argument types are imported here; httpx, pandas
and the reader are imported when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
import sys

from bayescount.cli._shared import int_at_least, number_in
from bayescount.cli._types import label_list, path

__all__ = ["register"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")
_FORMATS = (".csv", ".parquet", ".pq")


def _named_selector(value: str) -> tuple[str, str]:
    name, sep, selector = value.partition("=")
    if not sep or not _NAME.match(name) or not selector.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=SELECTOR such as errors='app_errors_total{{job=\"api\"}}', "
            f"got {value!r}"
        )
    return name.strip(), selector.strip()


_named_selector.__name__ = "NAME=SELECTOR"


def _rfc3339(value: str) -> str:
    try:
        stamp = _dt.datetime.fromisoformat(value.strip())
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time with a zone such as 2026-01-05T00:00:00Z, got {value!r}"
        )
    return value.strip()


_rfc3339.__name__ = "RFC 3339 time"


def _duration(value: str) -> str:
    if not _DURATION.match(value) or not any(int(n) for n in re.findall(r"\d+", value)):
        raise argparse.ArgumentTypeError(
            f"expected a positive Prometheus duration such as 15s, 5m or 1h30m, got {value!r}"
        )
    return value


_duration.__name__ = "Prometheus duration"


def _url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if scheme not in ("http", "https") or not sep or not rest.strip("/") or " " in value:
        raise argparse.ArgumentTypeError(
            f"expected an http(s) URL such as http://localhost:9090, got {value!r}"
        )
    return value


_url.__name__ = "URL"


def _table_path(value: str) -> str:
    if not value.lower().endswith(_FORMATS):
        raise argparse.ArgumentTypeError(
            f"expected a .csv or .parquet file, got {value!r}"
        )
    return path(value)


_table_path.__name__ = "table path"


def _collect(pairs: list[tuple[str, str]] | None, option: str) -> dict[str, str]:
    from bayescount.exceptions import SpecError

    out: dict[str, str] = {}
    for name, selector in pairs or []:
        if name in out:
            raise SpecError(f"{option} names {name!r} twice: give each NAME once.")
        out[name] = selector
    return out


def _pull_prometheus(args: argparse.Namespace) -> int:
    from bayescount.io.atomic import atomic_write, check_writable
    from bayescount.io.prometheus import read_prometheus

    out = check_writable(args.out)
    progress = None
    if args.progress:
        def progress(done: int, total: int) -> None:
            print(f"\rbayescount: read {done}/{total} windows", end="", file=sys.stderr)

    frame = read_prometheus(
        args.url,
        _collect(args.counts, "--counts"),
        _collect(args.exposure, "--exposure") or None,
        by=args.by or [],
        start=args.start,
        end=args.end,
        step=args.step,
        method=args.method,
        chunk=args.chunk,
        keep_missing=args.keep_missing,
        timeout=args.timeout,
        retries=args.retries,
        token_file=args.token_file,
        verify=not args.insecure,
        ca_file=args.ca_file,
        on_chunk=progress,
    )
    if args.progress:
        print(file=sys.stderr)
    if out.suffix.lower() == ".csv":
        def write(fh) -> None:
            frame.to_csv(fh, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    else:
        def write(fh) -> None:
            frame.to_parquet(fh, index=False)
    atomic_write(out, write)
    groups = frame[args.by].drop_duplicates().shape[0] if args.by and len(frame) else 1
    print(f"Wrote {len(frame)} rows ({groups} group{'s' * (groups != 1)}, "
          f"{'exact counts' if args.method == 'exact' else 'increase() estimates'}) "
          f"to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``pull`` command (``pull prometheus``) to ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``bayescount`` parser; changed in place.
    """
    pull = sub.add_parser(
        "pull",
        help="read window counts from a monitoring system into a table for 'fit'",
        description="Read window counts from a monitoring system into a CSV/Parquet table "
        "that 'bayescount fit' reads.",
    )
    sources = pull.add_subparsers(dest="source", required=True, parser_class=type(pull))
    p = sources.add_parser(
        "prometheus",
        help="exact per-window counter increments from a Prometheus server",
        description="Read counter series from Prometheus and write one row per window and "
        "group: timestamp (window start, UTC), the --by labels, one column per NAME. "
        "Counts are exact by default (summed increments of the raw samples, resets "
        "handled); a window where a series has no samples is left out, never zero. "
        "Credentials: BAYESCOUNT_PROMETHEUS_TOKEN, or BAYESCOUNT_PROMETHEUS_USER and "
        "BAYESCOUNT_PROMETHEUS_PASSWORD, or --token-file; never a command-line value.",
    )
    p.add_argument("--url", required=True, type=_url, metavar="URL",
                   help="the server's base URL, e.g. http://localhost:9090")
    p.add_argument("--counts", required=True, action="append", type=_named_selector,
                   metavar="NAME=SELECTOR",
                   help="output column and counter selector, e.g. "
                   "errors='app_errors_total{job=\"api\"}'; repeatable")
    p.add_argument("--exposure", action="append", type=_named_selector,
                   metavar="NAME=SELECTOR",
                   help="exposure column and counter selector, e.g. "
                   "requests=app_requests_total")
    p.add_argument("--by", type=label_list, metavar="LABEL,LABEL",
                   help="labels to group by; series are summed over the others")
    p.add_argument("--start", required=True, type=_rfc3339, metavar="RFC3339",
                   help="first window's start, e.g. 2026-01-05T00:00:00Z")
    p.add_argument("--end", required=True, type=_rfc3339, metavar="RFC3339",
                   help="last window's end (a whole number of steps after --start)")
    p.add_argument("--step", required=True, type=_duration, metavar="DURATION",
                   help="window length, e.g. 5m")
    p.add_argument("--method", choices=("exact", "increase"), default="exact",
                   help="exact (default): integer counts from raw samples; increase: "
                   "Prometheus's increase(), extrapolated, non-integer")
    p.add_argument("--out", required=True, type=_table_path, metavar="TABLE",
                   help="output .csv or .parquet file (written atomically)")
    limits = p.add_argument_group("requests")
    limits.add_argument("--chunk", type=_duration, metavar="DURATION", default=None,
                        help="time range of one request (default 6h; halved by itself "
                        "when the server reports too many samples)")
    limits.add_argument("--timeout", type=number_in(0, 3600, closed_low=False), default=30.0,
                        metavar="SECONDS", help="seconds to wait for each answer (30)")
    limits.add_argument("--retries", type=int_at_least(0), default=3, metavar="N",
                        help="retries after 503/429/502/504 or a timeout, with backoff (3)")
    limits.add_argument("--keep-missing", action="store_true",
                        help="write missing windows as empty cells instead of leaving "
                        "them out")
    limits.add_argument("--progress", action="store_true", help="show progress on stderr")
    security = p.add_argument_group("authentication and TLS")
    security.add_argument("--token-file", type=path, metavar="FILE",
                          help="file holding a bearer token")
    security.add_argument("--ca-file", type=path, metavar="PEM",
                          help="CA certificate(s) that signed the server's certificate")
    security.add_argument("--insecure", action="store_true",
                          help="do not verify the server's TLS certificate (test servers only)")
    p.set_defaults(handler=_pull_prometheus)
