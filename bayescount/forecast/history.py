"""A future traffic table built from the recent past: the last weeks' pattern, repeated.

The hardest input of an SLO forecast is the table of future windows and their
traffic. :func:`future_from_history` builds it from history rows (the fit's own
training rows, or any table with the time, group and exposure columns):

* **pattern period** ``P``: one week when the history spans at least a week (so
  weekends look like weekends), else one day; less than a day of history is refused;
* each future window ``t`` of each series (a group combination seen in the last period
  of the history) takes the **mean exposure of the same time of week (or day) over the
  last ``cycles`` periods** that the history holds, ``t - k P`` for the ``k`` that
  reach back into the history (fewer when the history is shorter). A window missing
  between a series' first and last rows (a row the fit dropped for zero traffic, a
  series that was down) counts as zero traffic, so dark nights stay dark; a phase from
  before a young series' first row takes that series' mean exposure;
* the result is **scaled** by ``scale`` (e.g. 1.2 for 20 % growth) and runs on the
  history's step from ``start`` to ``end``.

Numeric covariate columns present in the history are averaged the same way; other
covariates take the most recent period's value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError
from bayescount.forecast.slo import format_duration

__all__ = ["future_from_history"]

_WEEK, _DAY = pd.Timedelta(days=7), pd.Timedelta(days=1)


def _period(span: pd.Timedelta) -> pd.Timedelta:
    if span >= _WEEK:
        return _WEEK
    if span >= _DAY:
        return _DAY
    raise DataError(
        f"The history spans {format_duration(span)}; repeating a traffic pattern needs at "
        "least one day of rows (one week to repeat weekdays and weekends)."
    )


def future_from_history(
    history: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    *,
    time: str,
    exposure: str,
    groups: Sequence[str] = (),
    covariates: Sequence[str] = (),
    cycles: int = 2,
    scale: float = 1.0,
    step: pd.Timedelta | str | None = None,
) -> pd.DataFrame:
    """Build future windows ``[start, end)`` by repeating the history's traffic pattern.

    Parameters
    ----------
    history : pandas.DataFrame
        Past rows with ``time`` (window starts), the ``groups`` columns and
        ``exposure`` (e.g. requests per window).
    start, end : timestamp-like
        The future windows start at ``start`` and before ``end``.
    time, exposure : str
        Column names.
    groups : sequence of str
        Group columns; one future series per combination seen in the last period.
    covariates : sequence of str
        Covariate columns to carry into the future (numeric: averaged like the
        exposure; other kinds: the most recent period's value).
    cycles : int
        Periods (weeks, or days) averaged; fewer when the history is shorter.
    scale : float
        Multiplier of the exposure (``1.2``: 20 % more traffic).
    step : pandas.Timedelta or str, optional
        Window length; default the median spacing of the history's times.

    Returns
    -------
    pandas.DataFrame
        One row per future window and series: ``time``, ``groups``, ``exposure`` and
        ``covariates``, sorted by time then series; ``attrs["pattern"]`` describes the
        period, cycles and step used.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing from the history.
    DataError
        Less than a day of history, or no window between ``start`` and ``end``.
    SpecError
        ``cycles`` < 1 or ``scale`` not a positive number.
    """
    if int(cycles) != cycles or cycles < 1:
        raise SpecError(f"cycles must be a positive integer, got {cycles!r}.")
    if not np.isfinite(scale) or scale <= 0:
        raise SpecError(f"scale must be a positive number, got {scale!r}.")
    needed = [time, exposure, *groups, *covariates]
    missing = [c for c in needed if c not in history]
    if missing:
        raise ColumnNotFoundError(
            f"Column(s) {missing} not in the history table; it has {list(history.columns)}. "
            "The future table is built from the time, group, exposure and covariate columns."
        )
    frame = history[needed].copy()
    frame[time] = pd.to_datetime(frame[time])
    stamps = pd.DatetimeIndex(frame[time].unique()).sort_values()
    if step is None:
        step = pd.Series(stamps).diff().median() if len(stamps) > 1 else pd.NaT
    step = pd.Timedelta(step)
    if pd.isna(step) or step <= pd.Timedelta(0):
        raise DataError("The history needs at least two window starts to know its step.")
    span = stamps[-1] + step - stamps[0]
    period = _period(span)
    cycles = int(min(cycles, max(1, span // period)))
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    times = pd.date_range(start, end, freq=step, inclusive="left")
    if not len(times):
        raise DataError(f"No window of {format_duration(step)} fits in [{start}, {end}).")

    keys = list(groups)
    recent = frame[frame[time] > stamps[-1] - period]
    series = (recent[keys].drop_duplicates().reset_index(drop=True) if keys
              else pd.DataFrame(index=[0]))
    grid = pd.date_range(stamps[0], stamps[-1], freq=step)
    numeric = [c for c in [exposure, *covariates]
               if pd.api.types.is_numeric_dtype(frame[c])]
    other = [c for c in covariates if c not in numeric]

    # Same time of week (day) in the most recent periods the history holds.
    last = stamps[-1]
    k0 = np.maximum(1, np.ceil(np.asarray((times - last) / period, dtype=float)).astype(int))
    offsets = np.arange(cycles)
    sources = times.values[:, None] - (k0[:, None] + offsets[None, :]) * period.to_timedelta64()
    flat = pd.DatetimeIndex(sources.ravel())
    pos = grid.get_indexer(flat, method="pad", tolerance=step - pd.Timedelta(1, "ns"))
    inside = (pos >= 0) & (flat >= stamps[0]) & (flat <= last)

    out = []
    for _, key in series.iterrows():
        part = frame
        for col in keys:
            part = part[part[col] == key[col]]
        block = {time: times}
        block.update({col: key[col] for col in keys})
        alive = inside & (flat >= part[time].min()) & (flat <= part[time].max())
        part = part.groupby(time)[numeric + other].last().reindex(grid)
        for col in numeric:
            values = part[col].to_numpy(float)
            fallback = float(np.nanmean(values))  # a phase from before the series existed
            if col == exposure:  # a window the series' history lacks had no traffic
                values = np.nan_to_num(values)
            picked = np.where(alive, values[np.where(pos >= 0, pos, 0)], np.nan)
            picked = picked.reshape(len(times), cycles)
            seen = np.isfinite(picked).sum(axis=1)
            block[col] = np.where(seen > 0, np.nansum(picked, axis=1) / np.maximum(seen, 1),
                                  fallback)
        for col in other:
            values = part[col].ffill().bfill().to_numpy(object)
            block[col] = values[np.where(pos >= 0, pos, 0)].reshape(len(times), cycles)[:, 0]
        out.append(pd.DataFrame(block))
    result = pd.concat(out, ignore_index=True)
    result[exposure] = np.nan_to_num(result[exposure].to_numpy(float)) * scale
    result = result.sort_values([time, *keys], kind="stable").reset_index(drop=True)
    result = result[[time, *keys, exposure, *covariates]]
    unit = "week" if period == _WEEK else "day"
    last_cycles = f"last {unit}" if cycles == 1 else f"last {cycles} {unit}s"
    result.attrs["pattern"] = (
        f"mean of the same time of {unit} over the {last_cycles} of history (step "
        f"{format_duration(step)}), x {scale:g}"
    )
    return result
