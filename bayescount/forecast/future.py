"""Predictive draws of bad and total events over future windows.

Future traffic comes from one of two places:

* a **scenario**: the future table carries the model's exposure column (requests per
  window), e.g. last week's traffic scaled by :func:`scale_traffic`; totals are fixed;
* a **traffic forecast**: a second fitted :class:`~bayescount.CountModel` whose counts are
  requests and whose exposure is the window length. Its predictive draws become the
  future totals, draw by draw, and the error model's mean (and, when the dispersion
  scales with exposure, its shape) is scaled by each draw's requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.forecast._results import DEFAULT_SEED
from bayescount.forecast.predictive import row_parameters
from bayescount.forecast.rollup import sum_by_codes
from bayescount.forecast.slo import parse_duration
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import (
    PredictiveParameters,
    sample_counts,
)
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["FutureDraws", "TimeSums", "future_draws", "future_time_sums", "scale_traffic"]

#: Counts (draws x rows) drawn at once by :func:`future_time_sums`.
CHUNK_CELLS = 1_000_000


@dataclass(frozen=True)
class FutureDraws:
    """Joint predictive draws of bad and total events for future rows.

    Attributes
    ----------
    rows : pandas.DataFrame
        The future rows, in order (``obs`` i is ``rows.iloc[i]``).
    bad : numpy.ndarray
        ``(chain, draw, obs)`` predicted bad events.
    total : numpy.ndarray
        ``(chain, draw, obs)`` total events (the same in every draw for a scenario).
    time : str
        The time column of ``rows`` (window starts).
    """

    rows: pd.DataFrame
    bad: np.ndarray
    total: np.ndarray
    time: str

    def __post_init__(self) -> None:
        if self.bad.shape != self.total.shape or self.bad.ndim != 3:
            raise SpecError(
                f"bad {self.bad.shape} and total {self.total.shape} must both be "
                "(chain, draw, obs) arrays of one shape."
            )
        if self.bad.shape[-1] != len(self.rows):
            raise SpecError(f"{self.bad.shape[-1]} draws columns for {len(self.rows)} rows.")
        if self.time not in self.rows:
            raise ColumnNotFoundError(
                f"Time column {self.time!r} not in the future rows {list(self.rows.columns)}."
            )

    @classmethod
    def from_parameters(
        cls,
        params: PredictiveParameters,
        rows: pd.DataFrame,
        *,
        time: str,
        total: str,
        rng: np.random.Generator,
    ) -> FutureDraws:
        """Draw bad events from (possibly hand-built) predictive parameters.

        ``rows[total]`` holds each row's total events (the exposure of ``params``).
        """
        bad = sample_counts(params, rng).values
        totals = np.broadcast_to(rows[total].to_numpy(float), bad.shape)
        return cls(rows.reset_index(drop=True), bad, np.array(totals), time)


def scale_traffic(
    frame: pd.DataFrame,
    factor: float,
    shift: str | pd.Timedelta | None = None,
    *,
    exposure: str = "requests",
    time: str = "timestamp",
) -> pd.DataFrame:
    """Return ``frame`` with ``exposure`` times ``factor`` and ``time`` moved by ``shift``.

    ``scale_traffic(last_week, 1.3, shift="7d")`` is next week with 30 % more traffic.
    The input is not modified.
    """
    if not np.isfinite(factor) or factor <= 0:
        raise SpecError(f"factor must be a positive number, got {factor!r}.")
    missing = [c for c in (exposure, time if shift is not None else None) if c and c not in frame]
    if missing:
        raise ColumnNotFoundError(
            f"Column(s) {missing} not in the traffic table; it has {list(frame.columns)}."
        )
    out = frame.copy()
    out[exposure] = out[exposure].astype(float) * factor
    if shift is not None:
        out[time] = pd.to_datetime(out[time]) + parse_duration(shift)
    return out


def future_draws(
    model: Fit,
    future: pd.DataFrame,
    *,
    traffic_model: Fit | None = None,
    time: str | None = None,
    random_seed: int | None = DEFAULT_SEED,
) -> FutureDraws:
    """Draw bad (and, with ``traffic_model``, total) events for ``future``'s rows.

    Parameters
    ----------
    model : Fit
        Fitted error-count model whose exposure is requests.
    future : pandas.DataFrame
        One row per future window (and group): time, group columns, and either the
        error model's exposure column (a scenario) or the traffic model's exposure
        column (window length) when ``traffic_model`` is given.
    traffic_model : Fit, optional
        Fitted request-count model (counts = requests, exposure = window length).
    time : str, optional
        Time column; default the error model's.
    random_seed : int or None
        Seed of the predictive draws (default 0: reproducible); ``None`` for a fresh one.

    Returns
    -------
    FutureDraws
        ``(chain, draw, obs)`` draws of bad and total events per future row.

    Raises
    ------
    ColumnNotFoundError
        The future table has no time column.
    SpecError
        The error model has no exposure.
    """
    time = time or model.schema.time
    if time is None or time not in future:
        raise ColumnNotFoundError(
            f"The future table needs a time column (window starts); got time={time!r} and "
            f"columns {list(future.columns)}. Pass time= or fit the model with a time column."
        )
    rng = np.random.default_rng(random_seed)
    exposure = model.schema.exposure
    if exposure is None:
        raise SpecError("The error model has no exposure: fit it with requests as exposure.")
    if traffic_model is None:
        params, rows = row_parameters(model, future, rng=rng)
        rows = rows.reset_index(drop=True)
        return FutureDraws.from_parameters(params, rows, time=time, total=exposure, rng=rng)
    t_params, rows = row_parameters(traffic_model, future, rng=rng)
    requests = sample_counts(t_params, rng).values.reshape(-1, len(rows)).astype(float)
    unit = rows.assign(**{exposure: 1.0})
    params, _ = row_parameters(model, unit, rng=rng)
    shape = params.mu.shape
    n_samples = shape[0] * shape[1]
    if requests.shape[0] != n_samples:
        pick = rng.choice(requests.shape[0], n_samples, replace=requests.shape[0] < n_samples)
        requests = requests[pick]
    requests = requests.reshape(shape)
    alpha = params.alpha
    if alpha is not None and model.spec.dispersion_scales_with_exposure:
        alpha = alpha * np.maximum(requests, 1e-9)
    scaled = PredictiveParameters(params.mu * requests, alpha, params.psi, requests)
    bad = sample_counts(scaled, rng).values
    rows = rows.reset_index(drop=True).assign(**{exposure: requests.mean(axis=(0, 1))})
    return FutureDraws(rows, bad, requests, time)


@dataclass(frozen=True)
class TimeSums:
    """Predictive draws of bad and total events summed over the rows of each window start.

    Attributes
    ----------
    times : pandas.DatetimeIndex
        Window starts, sorted.
    bad, total : numpy.ndarray
        ``(chain, draw, time)`` sums (``total`` is a read-only broadcast view: a scenario's
        totals are the same in every draw).
    n_rows : int
        Future rows summed.
    n_before : int
        Rows before ``since`` that were left out.
    """

    times: pd.DatetimeIndex
    bad: np.ndarray
    total: np.ndarray
    n_rows: int
    n_before: int


def future_time_sums(
    model: Fit,
    future: pd.DataFrame,
    *,
    time: str | None = None,
    since: pd.Timestamp | None = None,
    random_seed: int | None = DEFAULT_SEED,
    chunk_cells: int = CHUNK_CELLS,
) -> TimeSums:
    """Draw bad events of ``future``'s rows and sum them per window start, in chunks of draws.

    The scenario path of :func:`future_draws` (totals = the error model's exposure
    column) without holding ``draws x rows`` arrays: posterior draws are taken
    ``chunk_cells / rows`` at a time (each chunk's parameters, counts and sums are
    freed before the next), so memory is ``O(draws x windows + chunk_cells)``, in
    proportion to the horizon. New labels and latent paths are drawn per posterior
    draw, as in :func:`future_draws`.

    Parameters
    ----------
    model : Fit
        Fitted error-count model whose exposure is requests (or a fitted model).
    future : pandas.DataFrame
        Future rows: time, groups and the exposure column (>= 0).
    time : str, optional
        Time column; default the model's.
    since : pandas.Timestamp, optional
        Rows starting before it are left out (counted in ``n_before``).
    random_seed : int or None
        Seed of the draws (default 0).
    chunk_cells : int
        Counts drawn at once.

    Returns
    -------
    TimeSums
        Window starts and ``(chain, draw, time)`` sums of bad and total events.

    Raises
    ------
    ColumnNotFoundError
        No time column.
    SpecError
        The model has no exposure.
    """
    model = as_fit(model)
    time = time or model.schema.time
    if time is None or time not in future:
        raise ColumnNotFoundError(
            f"The future table needs a time column (window starts); got time={time!r} and "
            f"columns {list(future.columns)}. Pass time= or fit the model with a time column."
        )
    exposure = model.schema.exposure
    if exposure is None:
        raise SpecError("The error model has no exposure: fit it with requests as exposure.")
    clean = validate_frame(future, model.schema, for_prediction=True)
    stamps = pd.DatetimeIndex(clean[time])
    n_before = 0
    if since is not None:
        keep = np.asarray(stamps >= pd.Timestamp(since))
        n_before = int((~keep).sum())
        clean, stamps = clean[keep], stamps[keep]
    if len(clean) == 0:
        return TimeSums(pd.DatetimeIndex([]), np.zeros((1, 1, 0)), np.zeros((1, 1, 0)), 0,
                        n_before)
    prepared = model.design.transform(clean, for_prediction=True)
    times = stamps.unique().sort_values()
    codes = times.get_indexer(stamps)
    totals = sum_by_codes(prepared.exposure[None, :], codes, len(times))[0]
    posterior = model.posterior
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    bad = np.empty((chains, draws, len(times)))
    rng = np.random.default_rng(random_seed)
    per_chunk = max(1, int(chunk_cells) // max(len(clean), 1))
    for c in range(chains):
        for start in range(0, draws, per_chunk):
            part = posterior.isel(chain=[c], draw=slice(start, start + per_chunk))
            params = model.predictive_parameters(prepared, rng=rng, posterior=part)
            counts = sample_counts(params, rng).values.reshape(-1, len(clean))
            bad[c, start:start + counts.shape[0]] = sum_by_codes(counts, codes, len(times))
            del params, counts
    total = np.broadcast_to(totals, bad.shape)  # the same in every draw: a view
    return TimeSums(times, bad, total, len(clean), n_before)
