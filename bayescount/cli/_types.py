"""argparse types of the commands' non-numeric arguments.

Each one checks its argument's rule when the command line is parsed, so a bad value
is a one-line ``bayescount: error: argument --x: ...`` with exit code 2 before any
file is read. Most return the text unchanged (the command parses it again with the
library's own function); the check is the point.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from bayescount.exceptions import SpecError

__all__ = [
    "column",
    "column_list",
    "covariate_term",
    "duration",
    "incident",
    "label_list",
    "path",
    "scenario",
    "scheduler_address",
    "seasonality_spec",
    "slo_window",
    "text",
    "time_zone",
]


def _named(name: str) -> Callable[[Callable[[str], str]], Callable[[str], str]]:
    def wrap(parse: Callable[[str], str]) -> Callable[[str], str]:
        parse.__name__ = name
        return parse

    return wrap


def _from_spec_error(check: Callable[[str], object], value: str) -> None:
    """Run a library check; its SpecError becomes an argparse error."""
    try:
        check(value)
    except SpecError as err:
        raise argparse.ArgumentTypeError(str(err).rstrip(".")) from None


# ------------------------------------------------------------------ names and paths
@_named("text")
def text(value: str) -> str:
    """Accept any non-empty text (a label, a name).

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Blank text.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("expected a non-empty value")
    return value


@_named("path")
def path(value: str) -> str:
    """Accept a non-empty file path (whether it exists is checked when it is read).

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        An empty path.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("expected a file path, got an empty string")
    return value


@_named("scheduler address")
def scheduler_address(value: str) -> str:
    """Accept a Dask scheduler address: ``[protocol://]host:port``, no blanks.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        No ``host:port``, blanks, or a port outside 1..65535.
    """
    host_port = value.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not value or value != value.strip() or " " in value or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a scheduler address such as tcp://10.0.0.5:8786, got {value!r}"
        )
    if not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is not in 1..65535")
    return value


@_named("column")
def column(value: str) -> str:
    """Accept a column name: non-empty, no leading or trailing blanks.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Empty, or leading or trailing blanks.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("expected a column name, got an empty string")
    if value != value.strip():
        raise argparse.ArgumentTypeError(
            f"column name {value!r} starts or ends with a blank; write it without"
        )
    return value


@_named("covariate term")
def covariate_term(value: str) -> str:
    """Accept a covariate column or an interaction ``a:b`` of two distinct columns.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        More than two columns, an invalid column, or a column with itself.
    """
    parts = value.split(":")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(
            f"{value!r}: only two-way interactions 'a:b' are supported"
        )
    for part in parts:
        column(part)
    if len(parts) == 2 and parts[0] == parts[1]:
        raise argparse.ArgumentTypeError(f"{value!r} interacts a column with itself")
    return value


# ----------------------------------------------------------------------- time
@_named("time zone")
def time_zone(value: str) -> str:
    """Accept an IANA time zone name such as ``Europe/Paris``.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Not an IANA time zone name.
    """
    from bayescount.prep.timestamps import check_timezone

    _from_spec_error(check_timezone, value)
    return value


@_named("duration")
def duration(value: str) -> str:
    """Accept a positive duration such as ``7d``, ``1h`` or ``29d12h``.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Not a positive duration.
    """
    from bayescount.forecast.slo import parse_duration

    _from_spec_error(parse_duration, value)
    return value


@_named("SLO window")
def slo_window(value: str) -> str:
    """Accept a rolling window (``30d``, ``720h``) or ``calendar_month``.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Neither a positive duration nor ``calendar_month``.
    """
    from bayescount.forecast.slo import CALENDAR_MONTH

    return value if value == CALENDAR_MONTH else duration(value)


@_named("incident window")
def incident(value: str) -> str:
    """Accept ``START/END``: two timestamps, the start before the end.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        Not two timestamps, mixed time zones, or the start not before the end.
    """
    import pandas as pd

    start, sep, end = value.partition("/")
    how = f"{value!r}: write START/END timestamps, e.g. 2026-01-05T10:00/2026-01-05T12:00"
    if not sep:
        raise argparse.ArgumentTypeError(how)
    try:
        first, last = pd.Timestamp(start), pd.Timestamp(end)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(how) from None
    if first is pd.NaT or last is pd.NaT:
        raise argparse.ArgumentTypeError(f"{value!r}: START and END must both be timestamps")
    try:
        ordered = first < last
    except TypeError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give START and END both with a time zone or both without"
        ) from None
    if not ordered:
        raise argparse.ArgumentTypeError(f"{value!r}: the incident must start before it ends")
    return value


# ------------------------------------------------------------------ model specs
@_named("seasonality")
def seasonality_spec(value: str) -> str:
    """Accept ``daily``, ``daily:4,weekly``...: known names, positive orders, no repeats.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        An unknown name, an invalid order, or a repeated component.
    """
    from bayescount.prep.seasonality import parse_seasonality

    try:
        components = parse_seasonality(value)
    except SpecError as err:
        raise argparse.ArgumentTypeError(str(err).rstrip(".")) from None
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r} repeats a component")
    return value


@_named("scenario")
def scenario(value: str) -> str:
    """Accept ``traffic=K`` (K > 0), ``new_region=NAME,like=REGION``, ``nodes=N[,service=S]``.

    Parameters
    ----------
    value : str
        The command-line text.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        A traffic factor not > 0, nodes not a whole number >= 1, or any other invalid scenario.
    """
    from bayescount.forecast.scenarios import parse_scenario

    items = dict(part.partition("=")[::2] for part in value.split(","))
    items = {k.strip(): v.strip() for k, v in items.items()}
    if "traffic" in items:
        try:
            factor = float(items["traffic"])
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{value!r}: the traffic factor must be a number, e.g. traffic=1.3"
            ) from None
        if not (math.isfinite(factor) and factor > 0):
            raise argparse.ArgumentTypeError(
                f"{value!r}: the traffic factor must be > 0 (1.3 is 30% more traffic)"
            )
    if "nodes" in items:
        try:
            nodes = int(items["nodes"])
        except ValueError:
            nodes = 0
        if nodes < 1:
            raise argparse.ArgumentTypeError(
                f"{value!r}: nodes must be a whole number >= 1, e.g. nodes=8"
            )
    _from_spec_error(parse_scenario, value)
    return value


# ------------------------------------------------------------------ lists of names
_PROMETHEUS_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(value: str, what: str) -> list[str]:
    names = [name.strip() for name in value.split(",")] if value.strip() else []
    if not names or any(not name for name in names):
        raise argparse.ArgumentTypeError(
            f"{value!r} has an empty {what}; write {what}s separated by commas (region,service)"
        )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r} names a {what} twice")
    return names


def column_list(value: str) -> list[str]:
    """Distinct, non-empty column names separated by commas (``region,service``).

    Raises
    ------
    argparse.ArgumentTypeError
        On an empty name or a name given twice.
    """
    return _names(value, "column name")


column_list.__name__ = "column list"


def label_list(value: str) -> list[str]:
    """Distinct Prometheus label names separated by commas (``region,service``).

    Each name must match ``[a-zA-Z_][a-zA-Z0-9_]*`` (Prometheus' label-name rule).

    Raises
    ------
    argparse.ArgumentTypeError
        On an empty or invalid name, or a name given twice.
    """
    names = _names(value, "label name")
    bad = [name for name in names if not _PROMETHEUS_LABEL.match(name)]
    if bad:
        raise argparse.ArgumentTypeError(
            f"{', '.join(map(repr, bad))} is not a Prometheus label name "
            "(letters, digits and _, not starting with a digit)"
        )
    return names


label_list.__name__ = "label list"
