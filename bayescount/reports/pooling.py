"""Partial pooling, shown: each group's raw rate against its posterior rate and its parent's.

A hierarchical model pulls the rate of a group with little data toward its parent's
(a service toward its region). For each group of a level this module sets three
rates per exposure unit side by side:

* **raw**: ``sum(counts) / sum(exposure)`` of the group's training rows (no model);
* **posterior**: per posterior draw, ``sum(E[count]) / sum(exposure)`` over the same
  rows (``E[count] = psi * mu``; seasonality, covariates and the child effects are
  averaged over the group's own rows exactly as the raw rate averages them), with its
  mean and central interval;
* **parent**: the posterior rate of the parent group (the whole fleet for a top-level
  or crossed level).

``shrinkage = 1 - log(posterior / parent) / log(raw / parent)``: 0 when the model
kept the group's own rate, 1 when it replaced it by the parent's. It is left out
(NaN) for a group without events (its raw log rate is -inf) and where raw and parent
rates agree within 5 % (the ratio is then noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescount.inference.draws import draw_subset
from bayescount.inference.fit import as_fit
from bayescount.results import html_block, json_safe

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.inference.fit import Fit

__all__ = ["Pooling", "pooling_table", "rate_scale"]

#: Raw and parent rates closer than this log-ratio give no shrinkage value.
_MIN_LOG_GAP = np.log(1.05)


def rate_scale(rate: float) -> tuple[float, str]:
    """Return ``(multiplier, "per 10,000")``: a power of ten that brings ``rate`` to >= 1.

    Parameters
    ----------
    rate : float
        A typical rate per exposure unit (e.g. 5e-4 errors per request).

    Returns
    -------
    tuple of (float, str)
        The multiplier and its phrase (``"per 1"`` for rates of 1 or more).
    """
    if not np.isfinite(rate) or rate <= 0 or rate >= 1:
        return 1.0, "per 1"
    power = int(np.ceil(-np.log10(rate)))
    return 10.0**power, f"per {10**power:,}"


@dataclass(frozen=True)
class Pooling:
    """Raw, posterior and parent rates per group of one level (see the module docstring).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group: ``group``, ``parent``, ``rows``, ``events``, ``exposure``,
        ``raw_rate``, ``posterior_rate`` (mean), ``lower``, ``upper`` (central
        ``prob`` interval), ``parent_rate`` (posterior mean) and ``shrinkage``; rates
        per exposure unit.
    level, parent_level : str
        The level shown and its parent (``"all"`` for the whole fleet).
    prob : float
        Probability of the posterior interval.
    unit : str
        Exposure unit (``"requests"``), for labels.
    n_draws : int
        Posterior draws behind the posterior rates.
    """

    table: pd.DataFrame
    level: str
    parent_level: str
    prob: float
    unit: str
    n_draws: int

    def to_frame(self) -> pd.DataFrame:
        """Return the table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return json_safe({"level": self.level, "parent_level": self.parent_level,
                          "prob": self.prob, "unit": self.unit, "n_draws": self.n_draws,
                          "groups": self.table})

    def _repr_html_(self) -> str:
        return html_block(f"Pooling of {self.level} toward {self.parent_level}", self.table,
                          [f"rates per {self.unit or 'exposure unit'}; {self.n_draws} draws"])

    def plot(self, top: int = 30) -> matplotlib.figure.Figure:
        """Dot plot: raw rate (hollow), posterior rate with interval (filled), parent (bar).

        Parameters
        ----------
        top : int
            Groups shown at most (those with the largest shift from raw to posterior).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        t = self.table
        if len(t) > top:
            shift = np.abs(np.log(t["posterior_rate"] / t["raw_rate"].clip(lower=1e-300)))
            t = t.loc[shift.sort_values(ascending=False).index[:top]]
        t = t.iloc[::-1]
        scale, per = rate_scale(float(np.median(self.table["posterior_rate"])))
        y = np.arange(len(t))
        fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.32 * len(t)))
        ax.hlines(y, t["lower"] * scale, t["upper"] * scale, color="C0", linewidth=2.5,
                  alpha=0.6, label=f"posterior {self.prob:.0%} interval")
        ax.plot(t["posterior_rate"] * scale, y, "o", color="C0", label="posterior mean")
        ax.plot(t["raw_rate"] * scale, y, "o", mfc="none", color="k", label="raw (data only)")
        ax.plot(t["parent_rate"] * scale, y, "|", color="C3", markersize=14,
                markeredgewidth=2, label=f"{self.parent_level} (posterior)")
        ax.set_yticks(y, [str(g) for g in t["group"]])
        ax.set_xlabel(f"events {per} {self.unit or 'exposure units'}")
        ax.set_ylabel(self.level)
        ax.set_title(f"Partial pooling: each {self.level}'s rate pulled toward its "
                     f"{self.parent_level}'s", fontsize="medium")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        return fig


def _sum_by(codes: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """Sum ``values (..., obs)`` by ``codes (obs,)`` into ``(..., n)``."""
    out = np.zeros((*values.shape[:-1], n))
    for j in range(n):
        out[..., j] = values[..., codes == j].sum(axis=-1)
    return out


def pooling_table(
    fit: Fit,
    level: str,
    *,
    prob: float = 0.9,
    max_draws: int = 500,
    random_seed: int | None = 0,
) -> Pooling:
    """Raw, posterior and parent rates of each group of ``level`` (no sampling).

    Parameters
    ----------
    fit : Fit
        A fit (or a fitted :class:`~bayescount.CountModel`).
    level : str
        A group level (``"service"``).
    prob : float
        Probability of the central interval of the posterior rate.
    max_draws : int
        Posterior draws used (evenly thinned).
    random_seed : int, optional
        Seed passed to the predictive parameters (used only by latent models).

    Returns
    -------
    Pooling

    Raises
    ------
    LevelNotFoundError
        ``level`` is not a group level of the model.
    """
    fit = as_fit(fit)
    lvl = fit.design.level(level)  # raises LevelNotFoundError with the levels
    prepared, _ = fit.training_rows()
    posterior = draw_subset(fit.posterior, max_draws)
    params = fit.predictive_parameters(prepared, rng=np.random.default_rng(random_seed),
                                       posterior=posterior)
    mean = params.mu.values if params.psi is None else params.mu.values * params.psi.values
    mean = mean.reshape(-1, mean.shape[-1])
    exposure = np.asarray(prepared.exposure, dtype=float)
    counts = np.asarray(prepared.counts, dtype=float)
    codes = np.asarray(prepared.group_codes[level])
    n = len(lvl.labels)
    if lvl.parent is not None:
        parent_level = lvl.parent
        parent_codes = np.asarray(prepared.group_codes[lvl.parent])
        parents = fit.design.level(lvl.parent).labels
        n_parent = len(parents)
        parent_of = np.asarray(lvl.parent_index, dtype=int)
    else:
        parent_level, parents, n_parent = "all", ("all",), 1
        parent_codes = np.zeros(len(codes), dtype=int)
        parent_of = np.zeros(n, dtype=int)
    expo = _sum_by(codes, n, exposure)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = _sum_by(codes, n, counts) / expo
        post = _sum_by(codes, n, mean) / expo
        parent = (_sum_by(parent_codes, n_parent, mean)
                  / _sum_by(parent_codes, n_parent, exposure)).mean(axis=0)[parent_of]
        lo, hi = np.quantile(post, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        post_mean = post.mean(axis=0)
        gap = np.log(raw) - np.log(parent)
        shrink = np.where((raw > 0) & (np.abs(gap) > _MIN_LOG_GAP),
                          1 - (np.log(post_mean) - np.log(parent)) / gap, np.nan)
    table = pd.DataFrame({
        "group": list(lvl.labels),
        "parent": [parents[i] for i in parent_of],
        "rows": np.bincount(codes, minlength=n),
        "events": _sum_by(codes, n, counts).astype(np.int64),
        "exposure": expo,
        "raw_rate": raw,
        "posterior_rate": post_mean,
        "lower": lo,
        "upper": hi,
        "parent_rate": parent,
        "shrinkage": shrink,
    })
    return Pooling(table, level, parent_level, prob, fit.schema.exposure_unit,
                   int(post.shape[0]))
