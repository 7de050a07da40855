"""Error-budget burn forecasts from posterior predictive draws.

For each draw, with ``B0``/``T0`` the bad/total events so far and ``Fb``/``Ft`` the
future ones up to the window end::

    consumed = (B0 + Fb) / ((1 - objective) * (T0 + Ft))

``P(exhaust) = P(consumed > 1)``. The time to exhaustion ``tau`` of a draw is the end
of the first future window at which its cumulative bad events pass that draw's
whole-window budget ``(1 - objective) * (T0 + Ft)``, so ``tau <= window end`` exactly
when the budget is exhausted. The burn rate over a horizon ``h`` is the error ratio of
the windows starting in ``[now, now + h)`` divided by ``1 - objective``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescount.exceptions import DataError
from bayescount.forecast._results import (
    DEFAULT_SEED,
    html_block,
    json_safe,
    mc_se,
    quantile_columns,
    quantiles_of,
    resolve_seed,
    summarise,
)
from bayescount.forecast.burn_rules import (
    DEFAULT_MIN_BAD_EVENTS,
    BurnRule,
    Decision,
    check_forecast,
    check_observed,
    decide,
    default_rules,
    usable_rules,
    window_shares,
)
from bayescount.forecast.future import FutureDraws, future_draws
from bayescount.forecast.rollup import rollup_draws, sum_by_codes, summarise_draws
from bayescount.forecast.slo import ObservedSoFar, SLOSpec, format_duration, parse_duration
from bayescount.inference.predict import PredictiveParameters, sample_counts

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["HORIZONS", "BurnForecast", "budget_consumed", "burn_rate", "forecast_burn"]

#: Horizons reported by default.
HORIZONS = ("1h", "6h", "1d", "3d")
_Q = (0.05, 0.5, 0.95)


def burn_rate(bad: np.ndarray, total: np.ndarray, error_budget: float, axis: int = -1):
    """``(sum bad / sum total) / error_budget`` along ``axis``; 0 where there is no traffic."""
    b = np.sum(bad, axis=axis, dtype=float)
    t = np.sum(total, axis=axis, dtype=float)
    ratio = np.divide(b, t, out=np.zeros_like(b), where=t > 0)
    return ratio / error_budget


def budget_consumed(bad_so_far, total_so_far, future_bad, future_total, error_budget):
    """Share of the window's error budget consumed at its end (1 = exactly exhausted)."""
    bad = np.asarray(bad_so_far + np.asarray(future_bad), dtype=float)
    budget = error_budget * (total_so_far + np.asarray(future_total, dtype=float))
    bad, budget = np.broadcast_arrays(bad, budget)
    return np.divide(bad, budget, out=np.where(bad > 0, np.inf, 0.0), where=budget > 0)


@dataclass(frozen=True)
class BurnForecast:
    """Posterior predictive forecast of an SLO's error-budget burn.

    Attributes
    ----------
    slo, observed : SLOSpec, ObservedSoFar
        The objective and the events so far.
    now, window_end, horizon_end : pandas.Timestamp
        Start of the forecast, end of the SLO window, end of the future table.
    draws : xarray.Dataset
        Per draw (``chain``, ``draw``): ``consumed``, ``consumed_now`` (the bad events
        so far over the whole-window budget), ``tau_hours`` (inf: never) and,
        per ``horizon``, ``burn_rate`` and ``bad_events``; per ``time``,
        ``cumulative_consumed`` (for the fan chart).
    future : FutureDraws
        The row-level draws (for :meth:`rollup`).
    rules : tuple of RuleResult
        Every rule evaluated; ``decision`` is the most severe that fired.
    notes : tuple of str
        Caveats (future shorter than the window, horizons not covered, ...).
    random_seed : int or None
        Seed of the predictive draws (``None`` when the draws were given).
    """

    slo: SLOSpec
    observed: ObservedSoFar
    now: pd.Timestamp
    window_end: pd.Timestamp
    horizon_end: pd.Timestamp
    draws: xr.Dataset
    future: FutureDraws
    rules: tuple
    decision: Decision
    notes: tuple[str, ...] = ()
    random_seed: int | None = None

    # ---------------------------------------------------------------- numbers
    @property
    def p_exhaust(self) -> float:
        """``P(consumed > 1)``: the budget runs out by the window (or horizon) end."""
        return float((self.draws["consumed"].values > 1).mean())

    @property
    def p_exhaust_mc_se(self) -> float:
        """Monte Carlo standard error of :attr:`p_exhaust` (ESS-based, arviz-stats)."""
        return mc_se(self.draws["consumed"].values > 1)

    @property
    def n_draws(self) -> int:
        """Predictive draws behind every probability."""
        return int(self.draws["consumed"].size)

    def time_to_exhaustion(self) -> pd.DataFrame:
        """``P(tau <= h)`` and its Monte Carlo error for each horizon and the window end.

        NaN past the future table, and for horizons shorter than a future row (the
        exhaustion time is only known to the end of a row).
        """
        tau = self.draws["tau_hours"].values
        known = (self.horizon_end - self.now) / pd.Timedelta(hours=1)
        step = float(self.draws.attrs.get("step_hours", 0.0))
        rows = [(h, parse_duration(h) / pd.Timedelta(hours=1))
                for h in self.draws.attrs.get("horizons", HORIZONS)]
        rows.append(("window_end", known))
        records = []
        for name, hours in rows:
            ok = hours <= known + 1e-9 and (hours >= step - 1e-9 or name == "window_end")
            hit = tau <= hours + 1e-9
            records.append({"horizon": name, "hours": hours,
                            "p_exhausted_by": float(hit.mean()) if ok else np.nan,
                            "p_exhausted_by_mc_se": mc_se(hit) if ok else np.nan})
        return pd.DataFrame(records)

    def burn_rates(self) -> pd.DataFrame:
        """Forward burn rate per horizon: mean, 5/50/95 % quantiles, ``P(burn > 1)`` (MC s.e.)."""
        records = []
        for h in self.draws["horizon"].values:
            b = self.draws["burn_rate"].sel(horizon=h).values
            records.append({"horizon": h, **summarise(b, _Q), "p_over_1": float(np.mean(b > 1)),
                            "p_over_1_mc_se": mc_se(b > 1)})
        cols = ["horizon", "mean", *quantile_columns(_Q), "p_over_1", "p_over_1_mc_se"]
        return pd.DataFrame(records, columns=cols)

    def budget_remaining(self) -> dict[str, float]:
        """Distribution of ``1 - consumed`` at the window end (negative: overspent)."""
        return summarise(1.0 - self.draws["consumed"].values, _Q)

    def rollup(self, levels: Sequence[str], quantiles: Sequence[float] = _Q) -> pd.DataFrame:
        """Future bad events and burn rate per group, summed draw by draw."""
        bad = rollup_draws(self.future.bad, self.future.rows, levels)
        total = rollup_draws(self.future.total, self.future.rows, levels)
        out = summarise_draws(bad, quantiles).rename(columns={"mean": "bad_mean"})
        burns = []
        for level in bad:
            b = burn_rate(bad[level].values[..., None], total[level].values[..., None],
                          self.slo.error_budget)
            burns += [float(np.median(b[:, j])) for j in range(b.shape[1])]
        return out.assign(burn_rate_median=burns)

    # ----------------------------------------------------------- presentation
    def to_frame(self) -> pd.DataFrame:
        """One row per horizon: ``P(exhausted by)`` and the burn-rate summary.

        ``p_exhausted_by`` is NaN past the end of the future table; burn-rate columns
        are NaN for horizons the future table does not cover back to back.
        """
        tte = self.time_to_exhaustion().set_index("horizon")
        burns = self.burn_rates().set_index("horizon")
        return tte.join(burns, how="left").reset_index()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (the ``bayescount slo --json`` output)."""
        tau = self.draws["tau_hours"].values.ravel()
        return json_safe({
            "slo": self.slo.to_dict(),
            "observed": {"bad": self.observed.bad, "total": self.observed.total,
                         "elapsed_hours": self.observed.elapsed},
            "now": self.now, "window_end": self.window_end, "horizon_end": self.horizon_end,
            "n_draws": int(tau.size),
            "random_seed": self.random_seed,
            "mc_se_method": "arviz_stats.mcse (ESS-based) on the (chain, draw) indicator; "
                            "binomial sqrt(p(1-p)/n) where that is undefined",
            "p_exhaust": self.p_exhaust,
            "p_exhaust_mc_se": self.p_exhaust_mc_se,
            "time_to_exhaustion": {
                "p_by": {r.horizon: r.p_exhausted_by
                         for r in self.time_to_exhaustion().itertuples()},
                "hours_quantiles": dict(zip(quantile_columns(_Q), quantiles_of(tau, _Q),
                                            strict=True)),
            },
            "burn_rate": self.burn_rates(),
            "budget_remaining": self.budget_remaining(),
            "decision": self.decision.to_dict(),
            "rules": [r.to_dict() for r in self.rules],
            "notes": list(self.notes),
        })

    def plot(self, ax=None) -> matplotlib.figure.Figure:
        """Budget burn-down fan chart; see :func:`bayescount.plots.burn.plot_burn`."""
        from bayescount.plots.burn import plot_burn

        return plot_burn(self, ax=ax)

    def _repr_html_(self) -> str:
        lines = [
            f"P(exhaust by {self.window_end}) = {self.p_exhaust:.3f} "
            f"(MC s.e. {self.p_exhaust_mc_se:.3f})",
            f"decision: {self.decision.level} ({self.decision.reason})",
            *self.notes,
        ]
        return html_block(f"Burn forecast {self.slo.name or ''}".strip(), self.to_frame(), lines)


# ------------------------------------------------------------------------ building
def _as_future(model, future, traffic_model, time, rng, seed) -> FutureDraws:
    """Return the future's draws: given, from hand-built parameters or from the fit(s)."""
    if isinstance(model, FutureDraws):
        return model
    if isinstance(model, PredictiveParameters):
        if future is None or time is None:
            raise ValueError("With PredictiveParameters pass the future rows and time=.")
        bad = sample_counts(model, rng).values
        total = np.array(np.broadcast_to(model.exposure, bad.shape), dtype=float)
        return FutureDraws(future.reset_index(drop=True), bad, total, time)
    return future_draws(model, future, traffic_model=traffic_model, time=time, random_seed=seed)


def _per_time(fd: FutureDraws):
    """Sum the draws of rows sharing a window start: ``(times, bad, total)``."""
    stamps = pd.DatetimeIndex(pd.to_datetime(fd.rows[fd.time]))
    times = stamps.unique().sort_values()
    codes = times.get_indexer(stamps)
    shape = fd.bad.shape[:2]
    bad = sum_by_codes(fd.bad.reshape(-1, len(stamps)), codes, len(times))
    total = sum_by_codes(fd.total.reshape(-1, len(stamps)), codes, len(times))
    return times, bad.reshape(*shape, -1), total.reshape(*shape, -1)


def _budget_draws(observed: ObservedSoFar, bad_t, total_t, ends_hours, eb: float) -> dict:
    """Consumption, time to exhaustion and the burn-down path, per draw."""
    cum_bad, cum_total = np.cumsum(bad_t, axis=-1), np.cumsum(total_t, axis=-1)
    budget = eb * (observed.total + cum_total[..., -1])
    over = (observed.bad + cum_bad) > budget[..., None]
    tau = np.where(over.any(-1), np.asarray(ends_hours)[over.argmax(-1)], np.inf)
    tau = np.where(observed.bad > budget, 0.0, tau)
    path = np.divide(observed.bad + cum_bad, budget[..., None], out=np.zeros_like(cum_bad),
                     where=budget[..., None] > 0)
    return {
        "consumed": budget_consumed(observed.bad, observed.total, cum_bad[..., -1],
                                    cum_total[..., -1], eb),
        "consumed_now": budget_consumed(observed.bad, observed.total, 0.0,
                                        cum_total[..., -1], eb),
        "tau_hours": tau,
        "cumulative_consumed": path,
    }


def _covered_until(times: pd.DatetimeIndex, now: pd.Timestamp, width: pd.Timedelta):
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


def _horizon_draws(bad_t, total_t, times, now, covered_end, wanted, eb, width):
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


def forecast_burn(
    model: Fit | PredictiveParameters | FutureDraws,
    slo: SLOSpec,
    observed: ObservedSoFar,
    future: pd.DataFrame | None = None,
    *,
    traffic_model: Fit | None = None,
    time: str | None = None,
    horizons: Sequence[str] = HORIZONS,
    rules: Sequence[BurnRule] | None = None,
    min_probability: float = 0.5,
    min_bad_events: float = DEFAULT_MIN_BAD_EVENTS,
    step: str | None = None,
    random_seed: int | None = DEFAULT_SEED,
) -> BurnForecast:
    """Forecast the error-budget burn of ``slo`` to the end of its window.

    Parameters
    ----------
    model : Fit, PredictiveParameters or FutureDraws
        A fitted error-count model (exposure = requests); or hand-built predictive
        parameters of the future rows (their exposure is the total events); or
        ready-made draws.
    slo : SLOSpec
        The objective and window.
    observed : ObservedSoFar
        Bad and total events so far in the window (and optionally the per-window series
        the observed multiwindow rules read).
    future : pandas.DataFrame
        Future windows: time, groups and the error model's exposure (a scenario, see
        :func:`~bayescount.forecast.future.scale_traffic`) or the traffic model's exposure.
    traffic_model : Fit, optional
        A fitted request-count model whose predictive draws become the future totals.
    time : str, optional
        Time column of ``future``; default the model's.
    horizons : sequence of str
        Horizons of the forward burn rates and ``P(tau <= h)``.
    rules : sequence of BurnRule, optional
        Default: the SRE Workbook rules scaled to the window, then the seed rules.
    min_probability : float
        A forecast rule fires when its probability reaches this (default 0.5).
    min_bad_events : float
        Bad events a rule's long window must hold (see :mod:`.burn_rules`).
    step : str, optional
        Length of a future window; default the spacing of the future times.
    random_seed : int or None
        Seed of the predictive draws (default 0, so the same call gives the same
        numbers); ``None`` draws a fresh seed. Either way it is stored in the result.

    Returns
    -------
    BurnForecast
        Draws, rules, decision and notes; every probability comes with its Monte Carlo
        standard error.

    Raises
    ------
    DataError
        No future window starts inside the SLO window.
    """
    random_seed = resolve_seed(random_seed)
    rng = np.random.default_rng(random_seed)
    fd = _as_future(model, future, traffic_model, time, rng, random_seed)
    stamps = pd.DatetimeIndex(pd.to_datetime(fd.rows[fd.time]))
    now = pd.Timestamp(observed.now) if observed.now is not None else stamps.min()
    if slo.is_calendar:
        window_end = slo.window_bounds(now)[1]
    else:
        window_end = now + (slo.window_length() - observed.elapsed)
    notes = []
    keep = np.asarray(stamps >= now)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} future rows before {now} were ignored.")
    fd = FutureDraws(fd.rows[keep].reset_index(drop=True), fd.bad[..., keep],
                     fd.total[..., keep], fd.time)
    n_in = int((stamps[keep] < window_end).sum())
    if n_in == 0:
        raise DataError(
            f"No future window starts in [{now}, {window_end}); the future table covers "
            f"{stamps.min()} to {stamps.max()}. Check its times against the window."
        )
    times, bad_t, total_t = _per_time(fd)
    n_in = int(times.searchsorted(window_end, side="left"))
    if step is not None:
        width = parse_duration(step)
    else:
        width = pd.Series(times).diff().median() if len(times) > 1 else window_end - now
    future_end = times[-1] + width
    horizon_end = min(future_end, window_end)
    if future_end < window_end:
        notes.append(f"The future table ends at {future_end}, before the window end "
                     f"{window_end}: 'exhaust' means by {future_end}.")
    covered_end, gap_note = _covered_until(times, now, width)
    notes += gap_note
    eb = slo.error_budget
    ends = np.asarray(((times[:n_in] + width) - now) / pd.Timedelta(hours=1))
    budget = _budget_draws(observed, bad_t[..., :n_in], total_t[..., :n_in], ends, eb)
    rules = tuple(rules) if rules is not None else default_rules(slo, now)
    wanted = list(dict.fromkeys([*horizons, *(r.long_window for r in rules)]))
    burn, bad_h, more, unresolved = _horizon_draws(bad_t, total_t, times, now, covered_end,
                                                   wanted, eb, width)
    notes += more
    able = usable_rules(slo, rules)
    results = check_forecast(burn, bad_h, slo, rules, min_probability=min_probability,
                             min_bad_events=min_bad_events, able=able, unresolved=unresolved)
    if observed.series is not None and len(observed.series):
        results = check_observed(observed.series, slo, rules, now=now, step=observed.step,
                                 min_bad_events=min_bad_events, able=able) + results
    dims = ("chain", "draw")
    covered = list(burn)
    empty = np.zeros((*budget["consumed"].shape, 0))
    draws = xr.Dataset(
        {
            **{k: ((*dims, "time") if v.ndim == 3 else dims, v) for k, v in budget.items()},
            "burn_rate": ((*dims, "horizon"),
                          np.stack([burn[h] for h in covered], -1) if covered else empty),
            "bad_events": ((*dims, "horizon"),
                           np.stack([bad_h[h] for h in covered], -1) if covered else empty),
        },
        coords={"time": times[:n_in], "horizon": covered,
                "window_end_time": ("time", times[:n_in] + width)},
        attrs={"horizons": list(horizons), "step_hours": width / pd.Timedelta(hours=1)},
    )
    given = isinstance(model, FutureDraws)
    return BurnForecast(slo, observed, now, window_end, horizon_end, draws, fd,
                        tuple(results), decide(results), tuple(notes),
                        None if given else random_seed)
