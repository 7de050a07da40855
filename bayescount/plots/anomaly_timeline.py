"""Timeline of one series with its predictive band and the anomaly flags."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from bayescount.exceptions import SpecError

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.forecast.anomalies import AnomalyReport

__all__ = ["plot_anomaly_timeline"]


def plot_anomaly_timeline(
    report: AnomalyReport, *, series: str | None = None, ax=None
) -> matplotlib.figure.Figure:
    """Observed counts of one series, the predictive interval, and flagged windows.

    Parameters
    ----------
    report : AnomalyReport
        Its ``table`` has one row per series and window: ``observed``, ``expected``
        (counts per window), the interval ``lower`` / ``upper``, ``flag``.
    series : str, optional
        A group path (``"r0/r0-s1/r0-s1-n0"``); default the series with the most
        severe flag (or the most severe window when nothing is flagged).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    Raises
    ------
    SpecError
        No such series in the report.
    """
    table = report.table
    if series is None:
        flagged = table[table["flag"]]
        pool = flagged if len(flagged) else table
        series = pool.loc[pool["severity"].idxmax(), "series"]
    part = table[table["series"] == series]
    if part.empty:
        known = sorted(table["series"].unique())[:10]
        raise SpecError(f"No series {series!r}; series are {known}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 3.5))
    else:
        fig = ax.figure
    x = part[report.time].to_numpy() if report.time else np.arange(len(part))
    ax.fill_between(x, part["lower"], part["upper"], step="mid", color="C0", alpha=0.25,
                    label=f"{report.level:.0%} predictive interval")
    ax.plot(x, part["expected"], color="C0", linewidth=1, label="predictive mean")
    ax.plot(x, part["observed"], color="k", linewidth=0.8, marker=".", markersize=3,
            label="observed")
    beyond = part["direction"].to_numpy() != 0
    ax.scatter(x[beyond], part["observed"].to_numpy()[beyond], facecolors="none",
               edgecolors="C1", s=30, label="beyond interval")
    flag = part["flag"].to_numpy()
    ax.scatter(x[flag], part["observed"].to_numpy()[flag], color="C3", s=30, zorder=3,
               label=f"flag ({report.consecutive} in a row)")
    ax.set_title(f"{series}: {int(flag.sum())} flagged windows")
    ax.set_xlabel(f"window start ({report.time})" if report.time else "window (row order)")
    ax.set_ylabel("count per window")
    ax.legend(loc="upper left", fontsize="small")
    if report.time:
        fig.autofmt_xdate()
    return fig
