"""The array work of a burn forecast: per-window sums, budget arithmetic, horizons.

Everything here is NumPy/pandas on ``(chain, draw, time)`` arrays (and the predictive
draws they come from); :func:`~bayescount.forecast.burn.forecast_burn` puts it
together. See :mod:`bayescount.forecast.burn` for the formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescount.exceptions import SpecError
from bayescount.forecast.burn_rules import window_shares
from bayescount.forecast.future import FutureDraws, future_draws, future_time_sums
from bayescount.forecast.rollup import sum_by_codes
from bayescount.forecast.slo import ObservedSoFar, burn_rate, format_duration, parse_duration
from bayescount.inference.predict import PredictiveParameters, sample_counts

__all__ = ["budget_consumed", "budget_draws", "burn_rate", "by_time", "covered_until",
           "horizon_draws"]


def budget_consumed(bad_so_far, total_so_far, future_bad, future_total, error_budget):
    """Share of the window's error budget consumed at its end (1 = exactly exhausted)."""
    bad = np.asarray(bad_so_far + np.asarray(future_bad), dtype=float)
    budget = error_budget * (total_so_far + np.asarray(future_total, dtype=float))
    bad, budget = np.broadcast_arrays(bad, budget)
    return np.divide(bad, budget, out=np.where(bad > 0, np.inf, 0.0), where=budget > 0)


def _as_future(model, future, traffic_model, time, rng, seed) -> FutureDraws:
    """Return the future's draws: given, from hand-built parameters or from the fit(s)."""
    if isinstance(model, FutureDraws):
        return model
    if isinstance(model, PredictiveParameters):
        if future is None or time is None:
            raise SpecError("With PredictiveParameters pass the future rows and time=.")
        bad = sample_counts(model, rng).values
        total = np.array(np.broadcast_to(model.exposure, bad.shape), dtype=float)
        return FutureDraws(future.reset_index(drop=True), bad, total, time)
    return future_draws(model, future, traffic_model=traffic_model, time=time, random_seed=seed)


def by_time(model, future, observed, traffic_model, time, seed, keep_rows):
    """Return ``(times, bad_t, total_t, future draws or None, now, notes)`` of any input.

    A fitted model with a scenario table (no traffic model, ``keep_rows`` false) is
    drawn in chunks of draws and summed per window start at once
    (:func:`~bayescount.forecast.future.future_time_sums`); per-row draws are kept
    otherwise.
    """
    notes = []
    streamed = (not isinstance(model, FutureDraws | PredictiveParameters)
                and traffic_model is None and not keep_rows)
    if streamed:
        if future is None:
            raise SpecError("Pass the future table: forecast_burn(model, slo, observed, future).")
        since = pd.Timestamp(observed.now) if observed.now is not None else None
        sums = future_time_sums(model, future, time=time, since=since, random_seed=seed)
        if sums.n_before:
            notes.append(f"{sums.n_before} future rows before {since} were ignored.")
        now = since if since is not None else (sums.times[0] if len(sums.times) else None)
        return sums.times, sums.bad, sums.total, None, now, notes
    rng = np.random.default_rng(seed)
    fd = _as_future(model, future, traffic_model, time, rng, seed)
    stamps = pd.DatetimeIndex(pd.to_datetime(fd.rows[fd.time]))
    now = pd.Timestamp(observed.now) if observed.now is not None else stamps.min()
    keep = np.asarray(stamps >= now)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} future rows before {now} were ignored.")
        fd = FutureDraws(fd.rows[keep].reset_index(drop=True), fd.bad[..., keep],
                         fd.total[..., keep], fd.time)
    if not len(fd.rows):
        return pd.DatetimeIndex([]), None, None, fd, now, notes
    times, bad_t, total_t = _per_time(fd)
    return times, bad_t, total_t, fd, now, notes


def _per_time(fd: FutureDraws):
    """Sum the draws of rows sharing a window start: ``(times, bad, total)``."""
    stamps = pd.DatetimeIndex(pd.to_datetime(fd.rows[fd.time]))
    times = stamps.unique().sort_values()
    codes = times.get_indexer(stamps)
    shape = fd.bad.shape[:2]
    bad = sum_by_codes(fd.bad.reshape(-1, len(stamps)), codes, len(times))
    total = sum_by_codes(fd.total.reshape(-1, len(stamps)), codes, len(times))
    return times, bad.reshape(*shape, -1), total.reshape(*shape, -1)


def budget_draws(observed: ObservedSoFar, bad_t, total_t, ends_hours, eb: float) -> dict:
    """Consumption, time to exhaustion and the burn-down path, per draw.

    One ``(chain, draw, time)`` array is allocated (the cumulative bad events, turned
    into the burn-down path in place); ``total_t`` may be a broadcast view.
    """
    future_total = np.sum(total_t, axis=-1, dtype=float)
    shape = np.broadcast_shapes(bad_t.shape[:-1], future_total.shape)
    future_total = np.broadcast_to(future_total, shape)
    budget = eb * (observed.total + future_total)
    cum = np.cumsum(bad_t, axis=-1, dtype=float)
    future_bad = cum[..., -1].copy()
    cum += observed.bad
    over = cum > budget[..., None]
    tau = np.where(over.any(-1), np.asarray(ends_hours)[over.argmax(-1)], np.inf)
    del over
    tau = np.where(observed.bad > budget, 0.0, tau)
    np.divide(cum, budget[..., None], out=cum, where=budget[..., None] > 0)
    cum[budget <= 0] = 0.0
    return {
        "consumed": budget_consumed(observed.bad, observed.total, future_bad, future_total, eb),
        "consumed_now": budget_consumed(observed.bad, observed.total, 0.0, future_total, eb),
        "tau_hours": tau,
        "cumulative_consumed": cum,
    }


def covered_until(times: pd.DatetimeIndex, now: pd.Timestamp, width: pd.Timedelta):
    """End of the run of back-to-back future windows that starts at ``now``."""
    if times[0] - now > width / 2:
        return now, [f"The future table starts at {times[0]}, after now ({now}): the windows "
                     "in between count as having no events and no burn rate is forecast."]
    steps = np.diff(times.as_unit("ns").asi8) / 1e9
    gaps = np.flatnonzero(steps > 1.5 * width.total_seconds())
    if gaps.size:
        end = times[gaps[0]] + width
        return end, [f"The future table has a gap after {times[gaps[0]]}: burn rates are "
                     f"forecast only up to {end}."]
    return times[-1] + width, []


def horizon_draws(bad_t, total_t, times, now, covered_end, wanted, eb, width):
    """Burn rate and bad events over ``[now, now + h)`` for each resolvable horizon.

    Rows enter pro rata to the share of ``[t, t + width)`` inside the horizon
    (:func:`~bayescount.forecast.burn_rules.window_shares`). A horizon shorter than
    ``width`` or past ``covered_end`` is left out, with its reason in ``unresolved``.
    """
    burn, bad_h, notes, unresolved = {}, {}, [], {}
    for h in wanted:
        length = parse_duration(h)
        stop = now + length
        if length < width - pd.Timedelta(seconds=1):
            unresolved[h] = (f"the {h} horizon is shorter than the future rows "
                             f"({format_duration(width)}); give rows of {h} or less")
            notes.append(f"Horizon {h} is shorter than the future rows "
                         f"({format_duration(width)}); not forecast.")
            continue
        if stop > covered_end + pd.Timedelta(seconds=1):
            notes.append(f"Horizon {h} goes past the future table ({covered_end}); "
                         "not forecast.")
            continue
        share = window_shares(times, width, now, stop)
        b = bad_t @ share
        t = total_t @ share
        burn[h] = np.divide(b, t, out=np.zeros_like(b), where=t > 0) / eb
        bad_h[h] = b
    return burn, bad_h, notes, unresolved
