"""Anomaly flags for observed windows from the posterior predictive distribution.

For each observed window the predictive distribution of its count (given its exposure,
group and time) is the mixture over posterior draws of the model's family. From it:

* the mid-p upper tail probability ``P(Y > y) + 0.5 P(Y = y)`` (computed analytically,
  averaging the per-draw Poisson / NB / zero-inflated CDFs in chunks of draws); its
  complement is the lower tail;
* the central predictive interval at ``level``;
* ``direction``: +1 above the interval, -1 below, 0 inside;
* a **flag** once a series has been beyond the interval on the same side for
  ``consecutive`` windows in a row (the alert is causal: it is raised at the k-th
  window), with severity ``-log10`` of the smaller tail probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescount._warnings import renamed_keywords
from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.forecast._results import (
    DEFAULT_SEED,
    binomial_mc_se,
    html_block,
    json_safe,
    resolve_seed,
)
from bayescount.forecast.predictive import row_parameters
from bayescount.forecast.rollup import GLOBAL, group_paths
from bayescount.inference.predict import PredictiveParameters
from bayescount.inference.predictive_cdf import (
    mixture_mean,
    mixture_quantile,
    mixture_sf_pmf,
    thin,
)

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["AnomalyReport", "anomaly_table", "detect_anomalies", "run_lengths"]


def run_lengths(direction: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Length of the run of equal non-zero ``direction`` ending at each row, per series.

    Rows must be ordered by series, then time. Rows with ``direction == 0`` have 0.
    """
    direction = np.asarray(direction)
    series = np.asarray(series)
    out = np.zeros(len(direction), dtype=np.int64)
    for i in range(len(direction)):
        if direction[i] == 0:
            continue
        same = i > 0 and series[i] == series[i - 1] and direction[i] == direction[i - 1]
        out[i] = out[i - 1] + 1 if same else 1
    return out


def anomaly_table(
    params: PredictiveParameters,
    rows: pd.DataFrame,
    counts: np.ndarray,
    *,
    series: np.ndarray,
    time: str | None = None,
    level: float = 0.99,
    consecutive: int = 2,
) -> pd.DataFrame:
    """Tail probabilities, intervals and flags for observed ``counts`` of ``rows``.

    ``series`` labels each row's series (e.g. its group path); ``time`` orders rows
    within a series (row order when ``None``). ``p_upper_mc_se`` bounds the Monte
    Carlo error of ``p_upper`` (and of ``tail_prob``): the binomial
    ``sqrt(p (1 - p) / S)`` over the ``S`` posterior draws averaged, an upper bound for
    an average of per-draw probabilities.
    """
    if not 0 < level < 1:
        raise SpecError(f"level must be in (0, 1), got {level}.")
    if int(consecutive) != consecutive or consecutive < 1:
        raise SpecError(f"consecutive must be a positive integer, got {consecutive!r}.")
    y = np.asarray(counts, dtype=float)
    sf, pmf = mixture_sf_pmf(params, y)
    p_upper = np.clip(sf + 0.5 * pmf, 0.0, 1.0)
    lower = mixture_quantile(params, (1 - level) / 2)
    upper = mixture_quantile(params, (1 + level) / 2)
    direction = np.where(y > upper, 1, np.where(y < lower, -1, 0))
    tail = np.minimum(p_upper, 1.0 - p_upper)
    n_draws = int(params.mu.shape[0] * params.mu.shape[1])
    out = rows.reset_index(drop=True).assign(
        series=np.asarray(series, dtype=object),
        observed=y,
        expected=mixture_mean(params),
        lower=lower,
        upper=upper,
        p_upper=p_upper,
        p_upper_mc_se=binomial_mc_se(p_upper, n_draws),
        tail_prob=tail,
        severity=-np.log10(np.maximum(tail, 1e-300)),
        direction=direction,
    )
    order = ["series", time] if time else ["series"]
    out = out.sort_values(order, kind="stable")
    run = run_lengths(out["direction"].to_numpy(), out["series"].to_numpy())
    out = out.assign(run_length=run, flag=run >= consecutive)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class AnomalyReport:
    """Per-window predictive checks of observed counts and the alerts they raise.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per window: the input columns, ``series`` (group path), ``observed``,
        ``expected``, ``lower``/``upper`` (predictive interval at ``level``),
        ``p_upper`` (mid-p ``P(Y > y) + 0.5 P(Y = y)``) and its Monte Carlo error
        bound ``p_upper_mc_se`` (also that of ``tail_prob``), ``tail_prob``, ``severity``
        (``-log10 tail_prob``), ``direction``, ``run_length`` and ``flag``.
    level : float
        Level of the predictive interval.
    consecutive : int
        Windows in a row beyond the interval before a flag.
    time : str or None
        Time column.
    random_seed : int or None
        Seed used for effects of group labels not seen when fitting.
    n_draws : int
        Posterior draws averaged in the predictive tails.
    """

    table: pd.DataFrame
    level: float
    consecutive: int
    time: str | None
    random_seed: int | None = None
    n_draws: int = 0

    def flags(self) -> pd.DataFrame:
        """Return the flagged windows."""
        return self.table[self.table["flag"]]

    def alerts(self) -> pd.DataFrame:
        """One row per alert: a run of at least ``consecutive`` windows beyond the interval."""
        t = self.table
        start_of_run = t["run_length"] == 1
        run_id = start_of_run.cumsum().where(t["run_length"] > 0)
        records = []
        for _, part in t[run_id.notna()].groupby(run_id[run_id.notna()]):
            if len(part) < self.consecutive:
                continue
            when = part[self.time] if self.time else pd.Series(part.index, index=part.index)
            records.append({
                "series": part["series"].iloc[0],
                "start": when.iloc[0],
                "alert_at": when.iloc[self.consecutive - 1],
                "end": when.iloc[-1],
                "windows": len(part),
                "direction": "high" if part["direction"].iloc[0] > 0 else "low",
                "max_severity": float(part["severity"].max()),
                "min_tail_prob": float(part["tail_prob"].min()),
                "min_tail_prob_mc_se": float(
                    part["p_upper_mc_se"].iloc[int(np.argmin(part["tail_prob"].to_numpy()))]),
                "observed": float(part["observed"].sum()),
                "expected": float(part["expected"].sum()),
            })
        cols = ["series", "start", "alert_at", "end", "windows", "direction", "max_severity",
                "min_tail_prob", "min_tail_prob_mc_se", "observed", "expected"]
        return pd.DataFrame(records, columns=cols)

    def to_frame(self) -> pd.DataFrame:
        """Return the per-window table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary: settings, counts and the alerts."""
        return json_safe({
            "level": self.level,
            "consecutive": self.consecutive,
            "random_seed": self.random_seed,
            "n_draws": self.n_draws,
            "n_windows": len(self.table),
            "n_beyond": int((self.table["direction"] != 0).sum()),
            "n_flagged": int(self.table["flag"].sum()),
            "alerts": self.alerts(),
        })

    def plot(self, series: str | None = None, ax=None) -> matplotlib.figure.Figure:
        """Timeline with predictive band; see :func:`bayescount.plots.anomaly_timeline`.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        from bayescount.plots.anomaly_timeline import plot_anomaly_timeline

        return plot_anomaly_timeline(self, series=series, ax=ax)

    def _repr_html_(self) -> str:
        alerts = self.alerts()
        lines = [f"{len(self.table)} windows, {int(self.table['flag'].sum())} flagged, "
                 f"{len(alerts)} alerts (interval {self.level:g}, {self.consecutive} in a row)"]
        return html_block("Anomaly report", alerts, lines)


@renamed_keywords(level="prob")
def detect_anomalies(
    model: Fit,
    data: pd.DataFrame,
    *,
    prob: float = 0.99,
    consecutive: int = 2,
    max_draws: int | None = 1000,
    random_seed: int | None = DEFAULT_SEED,
) -> AnomalyReport:
    """Flag observed windows whose counts fall outside the model's predictive interval.

    Parameters
    ----------
    model : Fit
        A fitted model (baseline; fit it on data before the period checked).
    data : pandas.DataFrame
        Observed windows with the model's columns, counts included.
    prob : float
        Probability of the central predictive interval (default 0.99; ``level=`` is
        the old name, deprecated).
    consecutive : int
        Windows in a row beyond the interval, on the same side, before a flag (default 2).
    max_draws : int, optional
        Posterior draws used for the analytic predictive CDFs (evenly thinned; default
        1000, ``None`` for all): the tail probabilities are averages over draws, so a
        thousand are plenty and the cost grows linearly with them.
    random_seed : int or None
        Seed for effects of group labels not seen when fitting (default 0:
        reproducible); ``None`` for a fresh one. Stored in the report.

    Returns
    -------
    AnomalyReport
        Per-window tails, intervals and flags, with Monte Carlo error bounds.

    Raises
    ------
    ColumnNotFoundError
        The data has no counts column.
    SpecError
        ``prob`` or ``consecutive`` out of range.
    """
    schema = model.schema
    if schema.counts not in data:
        raise ColumnNotFoundError(
            f"Counts column {schema.counts!r} is needed to check observed windows; "
            f"the data has {list(data.columns)}."
        )
    random_seed = resolve_seed(random_seed)
    rng = np.random.default_rng(random_seed)
    params, rows = row_parameters(model, data, rng=rng)
    params = thin(params, max_draws)
    level_name = schema.groups[-1] if schema.groups else GLOBAL
    series = group_paths(rows, schema.groups, level_name)
    table = anomaly_table(params, rows, rows[schema.counts].to_numpy(), series=series,
                          time=schema.time, level=prob, consecutive=consecutive)
    return AnomalyReport(table, prob, int(consecutive), schema.time, random_seed,
                         int(params.mu.shape[0] * params.mu.shape[1]))
