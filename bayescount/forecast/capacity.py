"""Capacity scenarios: predictive counts under changed exposure, and headroom.

A scenario rewrites the table of future windows (more traffic, a new region sized like
an existing one, a different node count) and the fitted model predicts it. For each
posterior draw the rows' intensities ``lambda`` are drawn once (``mu`` for Poisson, a
gamma mixing draw for the negative binomial, times a structural-zero draw for
zero-inflated families) and summed per group (and per window for ``per="peak"``); the
count of a cell is then Poisson with that summed intensity, read off a fixed uniform
``U`` (common random numbers). Intensities roll up draw by draw, so a region's
distribution is that of the sum of its nodes.

Headroom: scaling exposure by ``m`` scales every intensity by ``m`` (the gamma mixing
draw is held fixed, even for ``dispersion_scales_with_exposure`` models). With the
uniforms fixed, a cell's count exceeds ``k`` exactly when ``m`` passes
``gammaincinv(k + 1, 1 - U) / Lambda`` (the Poisson CDF is a regularised gamma
function), so each draw has a critical multiplier ``m_s`` (the smallest over a group's
windows for the peak) and ``P(count > k | m) = P(m_s < m)``. The largest multiplier
with risk at most ``risk`` is the ``floor(risk * S)``-th order statistic of ``m_s``:
what bisection on ``m`` with common random numbers converges to, without iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.forecast._results import (
    DEFAULT_SEED,
    binomial_mc_se,
    html_block,
    json_safe,
    quantile_columns,
    resolve_seed,
)
from bayescount.forecast.predictive import row_parameters
from bayescount.forecast.rollup import GLOBAL, group_paths, sum_by_codes
from bayescount.forecast.scenarios import Scenario, Traffic
from bayescount.inference.predict import count_intensities
from bayescount.inference.predictive_cdf import flat

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit
    from bayescount.inference.predict import PredictiveParameters

__all__ = ["CapacityForecast", "capacity_table", "draw_intensities", "forecast_capacity"]

_Q = (0.05, 0.5, 0.95)


def draw_intensities(params: PredictiveParameters, rng: np.random.Generator) -> np.ndarray:
    """Per-draw Poisson intensities ``(sample, obs)`` of the rows (mixing drawn once)."""
    return count_intensities(
        flat(params.mu.values),
        None if params.alpha is None else flat(params.alpha.values),
        None if params.psi is None else flat(params.psi.values),
        rng,
    )


def _cells(rows: pd.DataFrame, levels: Sequence[str], level: str, time: str | None):
    groups = group_paths(rows, levels, level)
    keys = groups if time is None else np.array(
        [f"{g}\x00{t}" for g, t in zip(groups, rows[time].astype(str), strict=True)], dtype=object)
    codes, uniques = pd.factorize(keys, sort=True)
    cell_group = np.array([str(u).split("\x00")[0] for u in uniques], dtype=object)
    g_codes, g_labels = pd.factorize(cell_group, sort=True)
    return codes, len(uniques), g_codes, np.asarray(g_labels, dtype=object)


def _group_min_max(values: np.ndarray, g_codes: np.ndarray, n_groups: int, fn) -> np.ndarray:
    order = np.argsort(g_codes, kind="stable")
    starts = np.searchsorted(g_codes[order], np.arange(n_groups))
    return fn.reduceat(values[:, order], starts, axis=1)


def capacity_table(
    lam: np.ndarray,
    rows: pd.DataFrame,
    levels: Sequence[str],
    *,
    time: str | None = None,
    per: Literal["peak", "total"] = "peak",
    threshold: float | None = None,
    risk: float = 0.05,
    quantiles: Sequence[float] = _Q,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Per group of each level: count quantiles, ``P(count > threshold)``, max multiplier.

    ``lam`` holds the rows' intensities ``(sample, obs)``; ``per="peak"`` takes the
    largest window of the group (needs ``time``), ``per="total"`` the sum over windows.
    """
    if per not in ("peak", "total"):
        raise SpecError(f"per must be 'peak' or 'total', got {per!r}.")
    if per == "peak" and (time is None or time not in rows):
        raise ColumnNotFoundError(f"per='peak' needs the time column; got time={time!r}.")
    if not 0 < risk < 1:
        raise SpecError(f"risk must be in (0, 1), got {risk}.")
    n_samples = lam.shape[0]
    records = []
    for level in [*levels, GLOBAL]:
        codes, n_cells, g_codes, g_labels = _cells(rows, levels, level,
                                                   time if per == "peak" else None)
        big_lam = sum_by_codes(lam, codes, n_cells)
        u = rng.random(big_lam.shape)
        counts = np.where(big_lam > 0, stats.poisson.ppf(u, np.maximum(big_lam, 1e-300)), 0.0)
        fn = np.maximum if per == "peak" else np.add
        stat = _group_min_max(counts, g_codes, len(g_labels), fn)
        crit = None
        if threshold is not None:
            k = np.floor(threshold)
            with np.errstate(divide="ignore"):
                m_cell = np.where(big_lam > 0, special.gammaincinv(k + 1.0, 1.0 - u) / big_lam,
                                  np.inf)
            crit = np.sort(_group_min_max(m_cell, g_codes, len(g_labels), np.minimum), axis=0)
        qs = np.quantile(stat, list(quantiles), axis=0, method="inverted_cdf")  # counts
        for j, group in enumerate(g_labels):
            rec = {"level": level, "group": group, "mean": float(stat[:, j].mean())}
            rec.update({c: float(v) for c, v in zip(quantile_columns(quantiles), qs[:, j],
                                                     strict=True)})
            if crit is not None:
                idx = int(np.floor(risk * n_samples))
                rec["p_exceed"] = float(np.mean(crit[:, j] < 1.0))
                rec["p_exceed_mc_se"] = float(binomial_mc_se(rec["p_exceed"], n_samples))
                rec["max_multiplier"] = float(crit[idx, j]) if idx < n_samples else np.inf
            records.append(rec)
    return pd.DataFrame(records)


@dataclass(frozen=True)
class CapacityForecast:
    """Predictive counts per group under each exposure scenario.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (scenario, level, group): ``mean`` and quantiles of the count
        (peak window or total), and with a threshold ``p_exceed``, its binomial Monte
        Carlo error ``p_exceed_mc_se`` and ``max_multiplier`` (largest exposure
        multiplier keeping ``P(count > threshold)`` at most ``risk``; ``inf`` when no
        finite multiplier reaches it).
    threshold, risk : float
        The capacity limit and the accepted probability of passing it.
    per : {"peak", "total"}
        Statistic of a group: its busiest window or its total over the windows.
    random_seed : int or None
        Seed of the draws.
    n_draws : int
        Predictive draws per scenario.
    """

    table: pd.DataFrame
    threshold: float | None
    risk: float
    per: str
    random_seed: int | None = None
    n_draws: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return the table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return json_safe({"threshold": self.threshold, "risk": self.risk, "per": self.per,
                          "random_seed": self.random_seed, "n_draws": self.n_draws,
                          "groups": self.table})

    def plot(self, level: str = GLOBAL, ax=None) -> matplotlib.figure.Figure:
        """Plot interval bars per scenario; see :func:`bayescount.plots.excess.plot_capacity`.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        from bayescount.plots.excess import plot_capacity

        return plot_capacity(self, level=level, ax=ax)

    def _repr_html_(self) -> str:
        lines = [f"statistic: {self.per} count per group"]
        if self.threshold is not None:
            lines.append(f"threshold {self.threshold:g}, risk {self.risk:g}")
        return html_block("Capacity forecast", self.table, lines)


def forecast_capacity(
    model: Fit,
    base: pd.DataFrame,
    scenarios: Sequence[Scenario] = (),
    *,
    threshold: float | None = None,
    risk: float = 0.05,
    per: Literal["peak", "total"] | None = None,
    levels: Sequence[str] | None = None,
    quantiles: Sequence[float] = _Q,
    include_current: bool = True,
    random_seed: int | None = DEFAULT_SEED,
) -> CapacityForecast:
    """Forecast counts per group under exposure scenarios of ``base``.

    Parameters
    ----------
    model : Fit
        A fitted model.
    base : pandas.DataFrame
        Windows to forecast (the model's exposure, time and group columns), e.g. last
        week's traffic shifted forward.
    scenarios : sequence of Scenario
        :class:`~bayescount.forecast.scenarios.Traffic`, ``NewRegion``, ``NodeCount``.
    threshold : float, optional
        Capacity limit on the count; adds ``p_exceed`` and ``max_multiplier``.
    risk : float
        Accepted ``P(count > threshold)`` for ``max_multiplier`` (default 0.05).
    per : {"peak", "total"}, optional
        Default ``"peak"`` when the model has a time column, else ``"total"``.
    levels : sequence of str, optional
        Group levels to report; default all of the model's (plus global).
    include_current : bool
        Also report ``base`` unchanged (scenario ``"current"``).
    random_seed : int or None
        Seed of the draws; scenarios share it (default 0: reproducible; ``None`` for a
        fresh one). Stored in the result.

    Returns
    -------
    CapacityForecast
        Per scenario, level and group: count quantiles and, with a threshold,
        ``p_exceed`` (with its Monte Carlo error) and ``max_multiplier``.

    Raises
    ------
    SpecError
        No scenario to run, or ``per`` / ``risk`` invalid.
    """
    random_seed = resolve_seed(random_seed)
    schema = model.schema
    per = per or ("peak" if schema.time else "total")
    levels = list(schema.groups) if levels is None else list(levels)
    todo = ([Traffic(1.0, label="current")] if include_current else []) + list(scenarios)
    if not todo:
        raise SpecError("Give at least one scenario or include_current=True.")
    parts = []
    n_draws = 0
    for scenario in todo:
        frame = scenario.apply(base, schema)
        rng = np.random.default_rng(random_seed)
        params, rows = row_parameters(model, frame, rng=rng)
        lam = draw_intensities(params, rng)
        n_draws = lam.shape[0]
        table = capacity_table(lam, rows.reset_index(drop=True), levels, time=schema.time,
                               per=per, threshold=threshold, risk=risk, quantiles=quantiles,
                               rng=rng)
        parts.append(table.assign(scenario=scenario.label))
    out = pd.concat(parts, ignore_index=True)
    out = out[["scenario", *[c for c in out.columns if c != "scenario"]]]
    return CapacityForecast(out, threshold, risk, per, random_seed, n_draws)
