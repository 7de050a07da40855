"""Naive forecasts that a backtest's relative MAE compares the model with.

Exposure-adjusted: each series' rate (counts / exposure) is carried forward and
multiplied by the held-out row's exposure. The seasonal naive forecast carries the
rate of the same phase one season earlier (the last training window ``k`` seasons
back, ``k = ceil(horizon / period)``); the mean forecast carries the series' mean
training rate (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
3rd ed., section 5.2, "Some simple forecasting methods").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayescount.models.spec import ModelSpec
from bayescount.prep.splits import HORIZON_COLUMN, TimeSplit

__all__ = ["baseline_forecast", "seasonal_period"]


def seasonal_period(spec: ModelSpec, step: pd.Timedelta, train_steps: int) -> int | None:
    """Return the longest seasonal period of ``spec`` that fits the training window.

    Parameters
    ----------
    spec : ModelSpec
        The model; its seasonality components are the candidate periods.
    step : pandas.Timedelta
        The time grid's step.
    train_steps : int
        Grid steps of the (earliest) training window.

    Returns
    -------
    int or None
        The period in grid steps; ``None`` when no component is a whole number of
        steps that fits.
    """
    best = None
    for comp in spec.seasonality:
        steps = pd.Timedelta(days=comp.period_days) / step
        if abs(steps - round(steps)) < 1e-9 and 1 <= round(steps) <= train_steps:
            best = max(best or 0, int(round(steps)))
    return best


def _series_keys(frame: pd.DataFrame, groups: Sequence[str]) -> pd.Series:
    if not groups:
        return pd.Series("(all)", index=frame.index)
    return frame[list(groups)].astype(str).agg("\x1f".join, axis=1)


def baseline_forecast(
    split: TimeSplit, spec: ModelSpec, period: int | None
) -> np.ndarray:
    """Return the exposure-adjusted naive forecast of each held-out row (module docstring).

    Parameters
    ----------
    split : TimeSplit
        One origin's training and held-out rows (held-out rows carry ``horizon``).
    spec : ModelSpec
        The model (its schema names the counts, exposure, time and group columns).
    period : int or None
        Seasonal period in grid steps (:func:`seasonal_period`); ``None``: the mean
        forecast.

    Returns
    -------
    numpy.ndarray
        Dim ``holdout row``: forecast counts for each row's exposure. A series without
        training rows gets the pooled rate; a seasonal lookup that misses falls back to
        the series' mean rate.
    """
    s = spec.schema
    train, hold = split.train, split.holdout
    e_train = train[s.exposure].to_numpy(float) if s.exposure else np.ones(len(train))
    e_hold = hold[s.exposure].to_numpy(float) if s.exposure else np.ones(len(hold))
    key_train, key_hold = _series_keys(train, s.groups), _series_keys(hold, s.groups)
    y_train = train[s.counts].to_numpy(float)
    sums = pd.DataFrame({"k": key_train.to_numpy(), "y": y_train, "e": e_train}).groupby("k").sum()
    pooled = y_train.sum() / e_train.sum()
    rate = key_hold.map(sums["y"] / sums["e"]).fillna(pooled).to_numpy(float)
    if period is not None:
        back = np.ceil(hold[HORIZON_COLUMN].to_numpy() / period).astype(np.int64) * period
        ref_time = hold[s.time] - back * split.step.to_timedelta64()
        lookup = pd.Series(
            y_train / e_train, index=pd.MultiIndex.from_arrays([key_train, train[s.time]])
        )
        lookup = lookup[~lookup.index.duplicated()]
        seasonal = lookup.reindex(pd.MultiIndex.from_arrays([key_hold, ref_time])).to_numpy(float)
        rate = np.where(np.isfinite(seasonal), seasonal, rate)
    return rate * e_hold
