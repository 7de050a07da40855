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

from bayescount.exceptions import DataError, SpecError
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
from bayescount.forecast.burn_draws import (
    budget_consumed,
    budget_draws,
    burn_rate,
    by_time,
    covered_until,
    horizon_draws,
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
)
from bayescount.forecast.future import FutureDraws
from bayescount.forecast.rollup import rollup_draws, summarise_draws
from bayescount.forecast.slo import ObservedSoFar, SLOSpec, format_duration, parse_duration
from bayescount.inference.predict import PredictiveParameters

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["HORIZONS", "BurnForecast", "budget_consumed", "burn_rate", "forecast_burn"]

#: Horizons reported by default.
HORIZONS = ("1h", "6h", "1d", "3d")
_Q = (0.05, 0.5, 0.95)


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
    future : FutureDraws or None
        The row-level draws (for :meth:`rollup`); ``None`` when they were summed per
        window on the fly (``forecast_burn(..., keep_rows=False)``, the default for a
        fitted model with a scenario table).
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
    future: FutureDraws | None
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

    def exhaustion_time(
        self, quantiles: Sequence[float] = _Q
    ) -> dict[str, pd.Timestamp | None]:
        """Quantiles of when the budget runs out, as timestamps (``None``: not by ``horizon_end``).

        ``tau`` is the end of the first future window at which a draw's cumulative bad
        events pass its whole-window budget (0: already spent), so the times are known
        to the end of a window. Default: median and 90 % interval (``q0.05``, ``q0.5``,
        ``q0.95``).
        """
        tau = quantiles_of(self.draws["tau_hours"].values, quantiles)
        return {name: (self.now + pd.Timedelta(hours=float(h)) if np.isfinite(h) else None)
                for name, h in zip(quantile_columns(quantiles), tau, strict=True)}

    def describe(self) -> list[str]:
        """Plain sentences: the horizon of ``P(exhaust)``, and when (median, 90 % interval)."""
        naive = self.now.tzinfo is None
        eb, slo = self.horizon_end, self.slo
        lines = [
            f"SLO {slo.objective:g} over {slo.window}; now {_when(self.now)}, window ends "
            f"{_when(self.window_end)}" + (" (times as in the data, no time zone)" if naive
                                           else ""),
            f"P(budget exhausted by {_when(eb)}) = {self.p_exhaust:.4f} "
            f"(MC s.e. {self.p_exhaust_mc_se:.4f}, {self.n_draws} draws, seed "
            f"{self.random_seed})"
            + (" - the future table ends before the window end" if eb < self.window_end
               else ""),
        ]
        q = self.exhaustion_time()
        lo, mid, hi = q["q0.05"], q["q0.5"], q["q0.95"]
        step = float(self.draws.attrs.get("step_hours", 0.0))
        grain = f" (to the end of a {format_duration(pd.Timedelta(hours=step))} window)" \
            if step > 0 else ""
        if self.p_exhaust == 0:
            lines.append(f"time to exhaustion: not exhausted by {_when(eb)} in any draw")
        elif mid is not None and mid <= self.now:
            lines.append(f"time to exhaustion: already; the {self.observed.bad:g} bad events "
                         f"so far exceed {100 * slo.error_budget:g}% of all events up to "
                         f"{_when(eb)}")
        else:
            median = (f"median {_when(mid)} (in {_hours(mid - self.now)})" if mid is not None
                      else f"median: not exhausted by {_when(eb)}")
            low = "now" if lo is None or lo <= self.now else _when(lo)
            high = _when(hi) if hi is not None else f"after {_when(eb)}"
            lines.append(f"time to exhaustion: {median}; 90% interval {low} to {high}{grain}")
        return lines

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
        """Future bad events and burn rate per group, summed draw by draw.

        Raises
        ------
        SpecError
            The per-row draws were not kept (``forecast_burn(..., keep_rows=True)``).
        """
        if self.future is None:
            raise SpecError(
                "This forecast summed its draws per window to save memory; roll up by group "
                "with forecast_burn(..., keep_rows=True)."
            )
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
            "p_exhaust_by": self.horizon_end,
            "exhaustion_time": self.exhaustion_time(),
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
        """Budget burn-down fan chart; see :func:`bayescount.plots.burn.plot_burn`.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        from bayescount.plots.burn import plot_burn

        return plot_burn(self, ax=ax)

    def _repr_html_(self) -> str:
        lines = [
            *self.describe(),
            f"decision: {self.decision.level} ({self.decision.reason})",
            *self.notes,
        ]
        return html_block(f"Burn forecast {self.slo.name or ''}".strip(), self.to_frame(), lines)


def _when(stamp: pd.Timestamp) -> str:
    """``2026-01-07 14:00 UTC`` (the zone only when the times have one)."""
    text = stamp.strftime("%Y-%m-%d %H:%M")
    if stamp.tzinfo is not None:
        text += f" {stamp.tzname() or stamp.tzinfo}"
    return text


def _hours(delta: pd.Timedelta) -> str:
    hours = delta / pd.Timedelta(hours=1)
    return f"{hours:.3g} h" if hours < 48 else f"{hours / 24:.3g} d"


# ------------------------------------------------------------------------ building
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
    keep_rows: bool = False,
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
    keep_rows : bool
        Keep the per-row draws (``BurnForecast.future``, needed by
        :meth:`BurnForecast.rollup`). By default a fitted model's scenario is drawn in
        chunks of posterior draws and summed per window at once, so memory grows with
        ``draws x windows`` (the horizon), not ``draws x rows``; ``future`` is then
        ``None``. Per-row draws are always kept for a traffic model or given draws.

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
    times, bad_t, total_t, fd, now, notes = by_time(
        model, future, observed, traffic_model, time, random_seed, keep_rows)
    window_end = slo.window_end(now, observed.elapsed)
    if not len(times) or times[0] >= window_end:
        shown = f"{times[0]} to {times[-1]}" if len(times) else "nothing after now"
        raise DataError(
            f"No future window starts in [{now}, {window_end}); the future table covers "
            f"{shown}. Check its times against the window."
        )
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
    covered_end, gap_note = covered_until(times, now, width)
    notes += gap_note
    eb = slo.error_budget
    ends = np.asarray(((times[:n_in] + width) - now) / pd.Timedelta(hours=1))
    budget = budget_draws(observed, bad_t[..., :n_in], total_t[..., :n_in], ends, eb)
    rules = tuple(rules) if rules is not None else default_rules(slo, now)
    wanted = list(dict.fromkeys([*horizons, *(r.long_window for r in rules)]))
    burn, bad_h, more, unresolved = horizon_draws(bad_t, total_t, times, now, covered_end,
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
