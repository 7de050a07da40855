"""Postmortem attribution: which groups produced the excess events of an incident.

Fit a baseline on data without the incident (:func:`mask_incident`), then for the
incident rows draw predictive counts, sum them per group draw by draw and compare with
what was observed:

* ``excess`` = observed - predicted, with a central interval;
* ``p_rose`` = mid-p ``P(predicted < observed) + 0.5 P(predicted = observed)``, the
  posterior predictive probability that the group's rate rose;
* ``p_value = 1 - p_rose`` (one-sided: no rise) and ``p_adjusted``, its
  Benjamini–Hochberg adjustment over every (level, group) row of the incident
  (:mod:`bayescount.multiplicity`): with 44 nodes, two or three would pass
  ``p_rose >= 0.95`` by chance alone in an incident where nothing happened. A group
  is **significant** when ``p_adjusted <= 1 - min_probability`` (false discovery rate
  5 % at the default 0.95);
* ranking by the posterior mean excess among the significant groups (the rest
  follow). Excess is in events, so a node with 3 errors over an expected 0.02 (a 150x
  rate ratio) ranks below a service with 3,000 over 2,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bayescount._warnings import renamed_keywords
from bayescount.exceptions import ColumnNotFoundError, DataError, SpecError
from bayescount.forecast._results import (
    DEFAULT_SEED,
    binomial_mc_se,
    html_block,
    json_safe,
    resolve_seed,
)
from bayescount.forecast.predictive import row_parameters
from bayescount.forecast.rollup import GLOBAL, rollup_draws
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import sample_counts
from bayescount.multiplicity import adjust_p_values

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["Attribution", "attribute_incident", "excess_table", "indicator_effect",
           "mask_incident"]


def _in_window(frame: pd.DataFrame, time_col: str, start, end) -> np.ndarray:
    if time_col not in frame:
        raise ColumnNotFoundError(f"Time column {time_col!r} not in {list(frame.columns)}.")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if not start < end:
        raise DataError(f"The incident must start before it ends, got {start} / {end}.")
    stamps = pd.to_datetime(frame[time_col])
    return ((stamps >= start) & (stamps < end)).to_numpy()


def mask_incident(
    frame: pd.DataFrame,
    time_col: str,
    start,
    end,
    *,
    how: Literal["drop", "flag"] = "drop",
    flag_column: str = "in_incident",
) -> pd.DataFrame:
    """Rows of ``frame`` outside ``[start, end)`` (``how="drop"``) or all rows with a flag.

    Fit the baseline on the dropped version so the incident does not inflate it.
    """
    inside = _in_window(frame, time_col, start, end)
    if how == "drop":
        return frame.loc[~inside].copy()
    if how == "flag":
        return frame.assign(**{flag_column: inside})
    raise SpecError(f"how must be 'drop' or 'flag', got {how!r}.")


def excess_table(
    observed: np.ndarray,
    predicted: np.ndarray,
    rows: pd.DataFrame,
    levels: Sequence[str],
    *,
    ci: float = 0.9,
    min_probability: float = 0.95,
) -> pd.DataFrame:
    """Per group of every level: observed, expected, excess interval, ``p_rose`` and rank.

    Parameters
    ----------
    observed : array
        Observed counts of the rows.
    predicted : array
        ``(..., obs)`` predictive draws of the rows' counts.
    rows : pandas.DataFrame
        The rows (group columns).
    levels : sequence of str
        Group levels, outer to inner.
    ci : float
        Level of the excess interval.
    min_probability : float
        A group is significant when its BH-adjusted ``1 - p_rose`` is at most
        ``1 - min_probability`` (the false discovery rate).

    Returns
    -------
    pandas.DataFrame
        One row per (level, group) with ``p_rose`` and its Monte Carlo error
        ``p_rose_mc_se`` (binomial, :func:`~bayescount.forecast._results.binomial_mc_se`),
        ``p_value`` (``1 - p_rose``), ``p_adjusted`` (Benjamini–Hochberg over all rows),
        ``significant`` and ``rank``.
    """
    if not 0 < ci < 1 or not 0 < min_probability < 1:
        raise SpecError(f"ci and min_probability must lie in (0, 1), got {ci}, {min_probability}.")
    obs = rollup_draws(np.asarray(observed, dtype=float)[None, :], rows, levels)
    pred = rollup_draws(predicted, rows, levels)
    lo_q, hi_q = (1 - ci) / 2, (1 + ci) / 2
    records = []
    for level, draws in pred.items():
        for j, group in enumerate(draws["group"].values):
            y = float(obs[level].values[0, j])
            p = draws.values[:, j]
            excess = y - p
            records.append({
                "level": level, "group": group, "observed": y, "expected": float(p.mean()),
                "excess": float(excess.mean()),
                "excess_lower": float(np.quantile(excess, lo_q, method="inverted_cdf")),
                "excess_upper": float(np.quantile(excess, hi_q, method="inverted_cdf")),
                "p_rose": float(np.mean(p < y) + 0.5 * np.mean(p == y)),
                "rate_ratio": y / float(p.mean()) if p.mean() > 0 else np.inf,
            })
    table = pd.DataFrame(records)
    n_draws = int(np.prod(np.shape(predicted)[:-1]))
    table.insert(table.columns.get_loc("p_rose") + 1, "p_rose_mc_se",
                 binomial_mc_se(table["p_rose"].to_numpy(), n_draws))
    table["p_value"] = 1.0 - table["p_rose"]
    table["p_adjusted"] = adjust_p_values(table["p_value"].to_numpy())
    table["significant"] = table["p_adjusted"] <= 1.0 - min_probability + 1e-12
    table["depth"] = table["level"].map({name: i for i, name in enumerate([GLOBAL, *levels])})
    table = table.sort_values(["depth", "significant", "excess"], ascending=[True, False, False])
    table["rank"] = table.groupby("level").cumcount() + 1
    return table.drop(columns="depth").reset_index(drop=True)


@dataclass(frozen=True)
class Attribution:
    """Excess events of an incident per group, ranked.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (level, group): ``observed``, ``expected``, ``excess`` (mean) and
        its ``ci`` interval, ``p_rose``, ``rate_ratio``, ``p_value`` (``1 - p_rose``),
        ``p_adjusted`` (Benjamini–Hochberg over all rows), ``significant``, ``rank``.
    start, end : pandas.Timestamp
        The incident window.
    ci, min_probability : float
        Interval level; a group is significant when ``p_adjusted <= 1 - min_probability``.
    random_seed : int or None
        Seed of the predictive draws.
    n_draws : int
        Predictive draws behind ``p_rose``.
    effects : pandas.DataFrame, optional
        Multiplicative effects of covariates (see :func:`indicator_effect`).
    """

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    ci: float
    min_probability: float
    effects: pd.DataFrame | None = None
    random_seed: int | None = None
    n_draws: int = 0

    def top(self, level: str, n: int = 10) -> pd.DataFrame:
        """Return the ``n`` highest-ranked groups of ``level``."""
        part = self.table[self.table["level"] == level]
        if part.empty:
            raise SpecError(f"No level {level!r}; levels are {self.table['level'].unique()}.")
        return part.head(n)

    def to_frame(self) -> pd.DataFrame:
        """Return the full table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return json_safe({
            "start": self.start, "end": self.end, "ci": self.ci,
            "min_probability": self.min_probability,
            "random_seed": self.random_seed, "n_draws": self.n_draws,
            "groups": self.table,
            "effects": self.effects if self.effects is not None else [],
        })

    def plot(self, level: str | None = None, top: int = 10, ax=None) -> matplotlib.figure.Figure:
        """Excess-events bar chart; see :func:`bayescount.plots.excess.plot_excess`.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax``'s, or a new one).
        """
        from bayescount.plots.excess import plot_excess

        return plot_excess(self, level=level, top=top, ax=ax)

    def _repr_html_(self) -> str:
        lines = [f"incident {self.start} to {self.end}; interval {self.ci:g}; significant "
                 f"when the Benjamini-Hochberg adjusted P(no rise) <= "
                 f"{1 - self.min_probability:g}"]
        return html_block("Incident attribution", self.table, lines)


def indicator_effect(model: Fit, term: str, ci: float = 0.9) -> dict[str, float]:
    """Multiplicative effect ``exp(beta)`` of a covariate term on the rate, with interval.

    Numeric covariates are standardised when fitting; the effect is returned per one
    unit of the original column (``exp(beta / scale)``), so a 0/1 indicator gives the
    rate ratio of 1 versus 0. Categorical terms (``"deploy[yes]"``) are indicators of
    one level against the reference already.
    """
    model = as_fit(model)
    terms = list(model.design.covariate_terms)
    if term not in terms:
        raise SpecError(f"No covariate term {term!r}; the model's terms are {terms}.")
    beta = model.posterior["beta"].sel(covariate=term).values.ravel()
    by_name = {e.name: e for e in model.design.encodings}
    scale = by_name[term].scale if term in by_name and by_name[term].kind == "numeric" else 1.0
    effect = np.exp(beta / scale)
    lo, hi = np.quantile(effect, [(1 - ci) / 2, (1 + ci) / 2])
    return {"term": term, "per_unit_of": term if scale != 1.0 else "indicator",
            "mean": float(effect.mean()), "median": float(np.median(effect)),
            "lower": float(lo), "upper": float(hi), "ci": ci,
            "p_increase": float(np.mean(beta > 0))}


@renamed_keywords(ci="prob")
def attribute_incident(
    model: Fit,
    data: pd.DataFrame,
    start,
    end,
    *,
    levels: Sequence[str] | None = None,
    prob: float = 0.9,
    min_probability: float = 0.95,
    covariates: Sequence[str] = (),
    random_seed: int | None = DEFAULT_SEED,
) -> Attribution:
    """Attribute the events of ``[start, end)`` to groups against a baseline fit.

    Parameters
    ----------
    model : Fit
        Baseline fitted without the incident (see :func:`mask_incident`).
    data : pandas.DataFrame
        Observed rows with the model's columns and counts; rows outside the incident
        are ignored.
    start, end : timestamp-like
        The incident window, ``[start, end)``.
    levels : sequence of str, optional
        Group levels to attribute to; default all of the model's (plus global).
    prob : float
        Probability of the central interval of the excess (``ci=`` is the old name,
        deprecated).
    min_probability : float
        Significant groups have a Benjamini–Hochberg adjusted ``1 - p_rose`` of at most
        ``1 - min_probability`` (default 0.95: false discovery rate 5 %).
    covariates : sequence of str
        Covariate terms whose multiplicative effect to report.
    random_seed : int or None
        Seed of the predictive draws (default 0: reproducible); ``None`` for a fresh one.
        The seed used is stored in the result.

    Returns
    -------
    Attribution
        The ranked table per level and group, with Monte Carlo errors of ``p_rose``.

    Raises
    ------
    SpecError
        The model has no time column.
    ColumnNotFoundError
        The data has no counts column.
    DataError
        No row falls in the incident.
    """
    schema = model.schema
    if schema.time is None:
        raise SpecError("Attribution needs a model with a time column.")
    if schema.counts not in data:
        raise ColumnNotFoundError(f"Counts column {schema.counts!r} not in {list(data.columns)}.")
    inside = _in_window(data, schema.time, start, end)
    if not inside.any():
        raise DataError(f"No rows of the data fall in the incident [{start}, {end}).")
    random_seed = resolve_seed(random_seed)
    rng = np.random.default_rng(random_seed)
    params, rows = row_parameters(model, data.loc[inside], rng=rng)
    predicted = sample_counts(params, rng).values
    levels = list(schema.groups) if levels is None else list(levels)
    table = excess_table(rows[schema.counts].to_numpy(), predicted, rows.reset_index(drop=True),
                         levels, ci=prob, min_probability=min_probability)
    effects = (pd.DataFrame([indicator_effect(model, c, prob) for c in covariates])
               if covariates else None)
    return Attribution(table, pd.Timestamp(start), pd.Timestamp(end), prob, min_probability,
                       effects, random_seed, int(predicted.shape[0] * predicted.shape[1]))
