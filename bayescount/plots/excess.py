"""Interval bar charts: excess events of an incident, and capacity scenarios."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from bayescount.exceptions import SpecError

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.forecast.attribution import Attribution
    from bayescount.forecast.capacity import CapacityForecast

__all__ = ["plot_capacity", "plot_excess"]


def _axes(ax, n_rows: int):
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.4 * n_rows + 1.2))
        return fig, ax
    return ax.figure, ax


def plot_excess(
    attribution: Attribution, *, level: str | None = None, top: int = 10, ax=None
) -> matplotlib.figure.Figure:
    """Horizontal bars of the posterior mean excess events per group, with intervals.

    Groups are shown in rank order; those not significant (Benjamini–Hochberg
    adjusted, Benjamini & Hochberg 1995) are grey.

    Parameters
    ----------
    attribution : Attribution
        Its ``table`` has one row per level and group: ``excess`` (observed minus
        predicted events over the incident), its interval and ``p_rose``.
    level : str, optional
        The group level to show; default the innermost.
    top : int
        Most groups shown.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    SpecError
        No such level in the attribution.
    """
    import matplotlib.patches as mpatches
    from matplotlib.lines import Line2D

    table = attribution.table
    levels = [lv for lv in table["level"].unique() if lv != "global"]
    level = level or (levels[-1] if levels else "global")
    part = table[table["level"] == level].head(top)
    if part.empty:
        raise SpecError(f"No level {level!r}; levels are {list(table['level'].unique())}.")
    fig, ax = _axes(ax, len(part))
    y = np.arange(len(part))[::-1]
    colours = np.where(part["significant"], "C3", "0.6")
    err = np.vstack([part["excess"] - part["excess_lower"], part["excess_upper"] - part["excess"]])
    ax.barh(y, part["excess"], color=colours, xerr=np.maximum(err, 0), capsize=3)
    ax.set_yticks(y, [f"{g}  (p={p:.2f})" for g, p in zip(part["group"], part["p_rose"],
                                                          strict=True)])
    ax.axvline(0, color="k", linewidth=0.8)
    ax.set_xlabel(f"excess events over the incident (observed − predicted), "
                  f"{attribution.ci:.0%} interval")
    ax.set_ylabel(f"{level} (p: P(no rise))")
    ax.set_title(f"Excess events per {level}: incident {attribution.start:%Y-%m-%d %H:%M} to "
                 f"{attribution.end:%Y-%m-%d %H:%M}", fontsize="medium")
    ax.legend(handles=[
        mpatches.Patch(color="C3", label="significant rise (BH-adjusted)"),
        mpatches.Patch(color="0.6", label="not significant"),
        Line2D([], [], color="k", marker="|", markersize=10, linestyle="-",
               label=f"{attribution.ci:.0%} interval of the excess"),
    ], fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


def plot_capacity(
    forecast: CapacityForecast, *, level: str = "global", ax=None
) -> matplotlib.figure.Figure:
    """Predictive intervals of the count per scenario and group, with the threshold.

    Parameters
    ----------
    forecast : CapacityForecast
        Its ``table`` has one row per scenario, level and group, with integer count
        quantile columns ``q...`` (counts per ``forecast.per``).
    level : str
        The level to show (``"global"`` by default).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    SpecError
        No such level in the forecast.
    """
    table = forecast.table
    part = table[table["level"] == level]
    if part.empty:
        raise SpecError(f"No level {level!r}; levels are {list(table['level'].unique())}.")
    qcols = [c for c in part.columns if c.startswith("q")]
    lo, mid, hi = part[qcols[0]], part[qcols[len(qcols) // 2]], part[qcols[-1]]
    fig, ax = _axes(ax, len(part))
    y = np.arange(len(part))[::-1]
    ax.errorbar(mid, y, xerr=np.vstack([mid - lo, hi - mid]), fmt="o", capsize=3)
    ax.set_yticks(y, [f"{s} | {g}" for s, g in zip(part["scenario"], part["group"],
                                                   strict=True)])
    if forecast.threshold is not None:
        ax.axvline(forecast.threshold, color="C3", linestyle="--", label="threshold")
        ax.legend(loc="lower right", fontsize="small")
    ax.set_xlabel(f"{forecast.per} count ({qcols[0]} to {qcols[-1]})")
    ax.set_title(f"Capacity scenarios: {level}")
    fig.tight_layout()
    return fig
