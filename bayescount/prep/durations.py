"""Durations written as ``5m``, ``1h``, ``30d``, ``29d12h``: parsed and written back.

The one parser of durations: SLO windows, rule windows, data steps and aggregation
windows all read theirs with :func:`parse_duration`.
"""

from __future__ import annotations

import re

import pandas as pd

from bayescount.exceptions import SpecError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": "s", "m": "min", "h": "h", "d": "D", "w": "W"}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[smhdw])+$")


def parse_duration(text: str | pd.Timedelta) -> pd.Timedelta:
    """Parse ``"5m"``, ``"1h"``, ``"30d"``, ``"4w"``, ``"29d12h"`` into a Timedelta.

    Units: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks. Month,
    quarter and year (``M``, ``Q``, ``Y``) are calendar windows, not durations.
    """
    if isinstance(text, pd.Timedelta):
        value = text
    else:
        compact = str(text).replace(" ", "")
        if _DURATION.match(compact) is None:
            raise SpecError(
                f"Cannot read duration {text!r}: write numbers with units s, m, h, d, w "
                "(e.g. '5m', '1h', '30d', '29d12h'); use window='calendar_month' for "
                "calendar months."
            )
        value = sum(
            (pd.Timedelta(float(n), unit=_UNITS[u]) for n, u in _PART.findall(compact)),
            pd.Timedelta(0),
        )
    if value <= pd.Timedelta(0):
        raise SpecError(f"Duration {text!r} must be positive.")
    return value


def format_duration(value: pd.Timedelta) -> str:
    """Write a Timedelta compactly: ``"15min"``, ``"6h"``, ``"1d"``, ``"90s"``.

    Parameters
    ----------
    value : pandas.Timedelta
        The duration (whole seconds are shown).

    Returns
    -------
    str
        The largest of days, hours, minutes or seconds that divides it exactly.
    """
    seconds = int(round(pd.Timedelta(value).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
