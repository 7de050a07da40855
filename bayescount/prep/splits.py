"""Train / holdout splits by time, and rolling forecast origins.

A count table is a set of series (one per combination of group labels) observed on a
shared regular time grid: every timestamp is ``start + i * step`` for an integer
``i`` (gaps are allowed, off-grid timestamps are not). A split cuts the grid at an
*origin* -- the last training time step -- and labels each held-out row with its
``horizon``: the number of grid steps between the origin and the row's time, so
``horizon == 1`` is the first window after the training data.

:func:`rolling_origins` places ``origins`` such cuts on the grid, each with an
expanding training window (all data up to the origin) and ``horizon`` forecast
windows after it; the last origin's holdout ends at the last time step.

Pure pandas; nothing here imports PyMC.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError, TimestampError

__all__ = ["HORIZON_COLUMN", "TimeSplit", "infer_step", "rolling_origins", "split_by_time"]

#: Column added to holdout rows: grid steps after the origin (1, 2, ...).
HORIZON_COLUMN = "horizon"


@dataclass(frozen=True)
class TimeSplit:
    """One cut of a table by time.

    Attributes
    ----------
    train : pandas.DataFrame
        Rows with time ``<= origin`` (the input's index and columns).
    holdout : pandas.DataFrame
        Rows after the origin, with an extra int64 ``horizon`` column (grid steps
        after the origin, 1 for the first window).
    origin : pandas.Timestamp
        The last time step of the training window.
    step : pandas.Timedelta
        The grid step of the time column.
    index : int
        Position of this split among rolling origins (0 = earliest).
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    origin: pd.Timestamp
    step: pd.Timedelta
    index: int = 0

    @property
    def cutoff(self) -> pd.Timestamp:
        """The first forecast time step, ``origin + step``."""
        return self.origin + self.step

    @property
    def horizon(self) -> int:
        """The largest horizon among the holdout rows."""
        return int(self.holdout[HORIZON_COLUMN].max()) if len(self.holdout) else 0

    def __repr__(self) -> str:
        return (
            f"TimeSplit(index={self.index}, origin={self.origin}, step={self.step}, "
            f"train={len(self.train)} rows, holdout={len(self.holdout)} rows, "
            f"horizon 1..{self.horizon})"
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self))}</p>"


def _times(frame: pd.DataFrame, time_col: str) -> pd.Series:
    """Return the time column as datetimes, or raise an error naming the column and fix."""
    if time_col not in frame.columns:
        raise ColumnNotFoundError(
            f"Time column {time_col!r} not found. Available columns: "
            f"{sorted(map(str, frame.columns))}."
        )
    times = frame[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        try:
            times = pd.to_datetime(times)
        except (ValueError, TypeError) as err:
            raise TimestampError(
                f"Time column {time_col!r} (dtype {frame[time_col].dtype}) cannot be parsed as "
                f"timestamps: {err}. Convert it with pd.to_datetime first."
            ) from None
    if times.isna().any():
        bad = list(frame.index[times.isna().to_numpy()][:5])
        raise TimestampError(
            f"Time column {time_col!r} has {int(times.isna().sum())} missing timestamps "
            f"(rows {bad}). Fill or drop them before splitting."
        )
    return times


def infer_step(times: pd.Series | pd.DatetimeIndex, freq: str | pd.Timedelta | None = None):
    """Return the grid step of ``times``: the smallest gap between distinct timestamps.

    Parameters
    ----------
    times : pandas.Series or DatetimeIndex
        Timestamps, repeated across series and in any order.
    freq : str or Timedelta, optional
        The step to use (``"5min"``, ``"1h"``); inferred when omitted.

    Returns
    -------
    pandas.Timedelta

    Raises
    ------
    TimestampError
        Fewer than two distinct timestamps, or a gap that is not a whole number of
        steps (the grid is irregular).
    """
    uniq = pd.DatetimeIndex(pd.unique(pd.Series(times))).sort_values().as_unit("ns")
    if len(uniq) < 2 and freq is None:
        raise TimestampError(
            f"Cannot infer a time step from {len(uniq)} distinct timestamp(s); pass freq=."
        )
    gaps = np.diff(uniq.asi8)
    if freq is not None:
        try:
            step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        except (ValueError, TypeError):
            raise SpecError(f"freq={freq!r} is not a fixed time step such as '5min'.") from None
    else:
        step = pd.Timedelta(int(gaps.min()), unit="ns")
    if step <= pd.Timedelta(0):
        raise SpecError(f"The time step must be positive, got {step}.")
    off = np.flatnonzero(gaps % (step // pd.Timedelta(1, unit="ns")) != 0)
    if off.size:
        i = off[0]
        raise TimestampError(
            f"Timestamps are not on a regular grid of step {step}: {uniq[i]} -> {uniq[i + 1]} "
            f"is {pd.Timedelta(int(gaps[i]), unit='ns')} ({off.size} such gap(s)). Resample "
            "the data to a regular window first (e.g. floor timestamps to the window)."
        )
    return step


def _check_horizon_free(frame: pd.DataFrame) -> None:
    if HORIZON_COLUMN in frame.columns:
        raise DataError(
            f"The data already have a {HORIZON_COLUMN!r} column, which a split adds to the "
            "holdout rows; rename it first."
        )


def _split(
    frame: pd.DataFrame, times: pd.Series, origin: pd.Timestamp, end: pd.Timestamp | None,
    step: pd.Timedelta, index: int,
) -> TimeSplit:
    in_train = (times <= origin).to_numpy()
    after = (times > origin).to_numpy()
    if end is not None:
        after = after & (times <= end).to_numpy()
    holdout = frame.loc[after].copy()
    holdout[HORIZON_COLUMN] = ((times[after] - origin) // step).to_numpy(dtype=np.int64)
    return TimeSplit(frame.loc[in_train].copy(), holdout, pd.Timestamp(origin), step, index)


def _as_timestamp(value, times: pd.Series, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise TimestampError(f"{what}={value!r} is not a timestamp.") from None
    tz = getattr(times.dt, "tz", None)
    if tz is not None and ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    elif tz is None and ts.tzinfo is not None:
        raise TimestampError(
            f"{what}={value!r} has a time zone but the time column has none; drop it."
        )
    return ts


def split_by_time(
    frame: pd.DataFrame,
    time_col: str,
    cutoff,
    *,
    freq: str | pd.Timedelta | None = None,
) -> TimeSplit:
    """Split ``frame`` into rows before ``cutoff`` (training) and from ``cutoff`` on.

    Parameters
    ----------
    frame : pandas.DataFrame
        A count table with a time column on a regular grid (several series may share
        it). Not modified.
    time_col : str
        The time column.
    cutoff : str or Timestamp
        First held-out time: training rows have ``time < cutoff``, holdout rows
        ``time >= cutoff``. A naive cutoff takes the time zone of the column.
    freq : str or Timedelta, optional
        Grid step (inferred from the data when omitted).

    Returns
    -------
    TimeSplit
        ``origin`` is the last training time; holdout horizons count grid steps from it.

    Raises
    ------
    DataError
        When either side would be empty.
    """
    _check_horizon_free(frame)
    times = _times(frame, time_col)
    step = infer_step(times, freq)
    cut = _as_timestamp(cutoff, times, "cutoff")
    before = times[times < cut]
    if before.empty or (times >= cut).sum() == 0:
        raise DataError(
            f"cutoff {cut} leaves {len(before)} training and {int((times >= cut).sum())} "
            f"holdout rows; choose a time between {times.min()} and {times.max()}."
        )
    return _split(frame, times, before.max(), None, step, 0)


def rolling_origins(
    frame: pd.DataFrame,
    time_col: str,
    *,
    origins: int,
    horizon: int,
    stride: int | None = None,
    min_train: int = 1,
    freq: str | pd.Timedelta | None = None,
) -> tuple[TimeSplit, ...]:
    """Cut the data at rolling forecast origins with an expanding training window.

    Origin ``j`` (0 = earliest) trains on every row up to its origin time and holds
    out the rows of the ``horizon`` grid steps after it. Origins are ``stride`` steps
    apart (default ``horizon``: holdouts tile the end of the data without overlap)
    and the last origin's holdout ends at the last time step.

    Parameters
    ----------
    frame : pandas.DataFrame
        A count table with a time column on a regular grid. Not modified.
    time_col : str
        The time column.
    origins : int
        Number of origins (refits), at least 1.
    horizon : int
        Forecast windows (grid steps) after each origin, at least 1.
    stride : int, optional
        Grid steps between consecutive origins (default ``horizon``).
    min_train : int
        Grid steps the earliest training window must span at least.
    freq : str or Timedelta, optional
        Grid step (inferred when omitted).

    Returns
    -------
    tuple of TimeSplit
        Earliest origin first. Every holdout time is later than every training time
        of its split, and holdout ``horizon`` values lie in ``1..horizon``.

    Raises
    ------
    DataError
        When the data are too short for the origins asked for.
    """
    for name, value, low in (("origins", origins, 1), ("horizon", horizon, 1),
                             ("min_train", min_train, 1)):
        if not isinstance(value, int | np.integer) or value < low:
            raise SpecError(f"{name} must be an integer >= {low}, got {value!r}.")
    stride = horizon if stride is None else stride
    if not isinstance(stride, int | np.integer) or stride < 1:
        raise SpecError(f"stride must be an integer >= 1, got {stride!r}.")
    _check_horizon_free(frame)
    times = _times(frame, time_col)
    step = infer_step(times, freq)
    start, last = times.min(), times.max()
    n_steps = int((last - start) / step) + 1
    first_origin = n_steps - 1 - horizon - (origins - 1) * stride  # grid position
    if first_origin + 1 < min_train:
        raise DataError(
            f"{origins} origin(s) x stride {stride} with horizon {horizon} need more than "
            f"{(origins - 1) * stride + horizon + min_train - 1} time steps of {step}, but "
            f"the data span {n_steps} ({start} to {last}). Use fewer origins, a shorter "
            "horizon or stride, or more data."
        )
    splits = []
    for j in range(origins):
        pos = first_origin + j * stride
        origin = start + pos * step
        split = _split(frame, times, origin, origin + horizon * step, step, j)
        if split.train.empty or split.holdout.empty:
            raise DataError(
                f"Origin {j} at {origin} has {len(split.train)} training and "
                f"{len(split.holdout)} holdout rows (gaps in the data?). Use fewer origins or "
                "a longer horizon."
            )
        splits.append(split)
    return tuple(splits)
