"""Budget burn-down fan chart of a :class:`~bayescount.forecast.BurnForecast`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import matplotlib.figure

    from bayescount.forecast.burn import BurnForecast

__all__ = ["plot_burn"]


def plot_burn(
    forecast: BurnForecast,
    *,
    bands: tuple[tuple[float, float], ...] = ((0.05, 0.95), (0.25, 0.75)),
    ax=None,
) -> matplotlib.figure.Figure:
    """Fan chart of the share of the window's error budget consumed over the future windows.

    Bands are predictive quantile ranges of the cumulative consumption (bad events so
    far plus future ones, over each draw's whole-window budget); the dashed line at 1 is
    exhaustion. Burn follows the error-budget accounting of the Google SRE Workbook,
    ch. 5 (Beyer et al. 2018).

    Parameters
    ----------
    forecast : BurnForecast
        Its ``draws`` hold ``cumulative_consumed`` (dims ``(chain, draw, time)``, share
        of the whole-window budget) and ``consumed_now`` (dims ``(chain, draw)``).
    bands : tuple of (float, float)
        Quantile ranges to shade, widest first.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    cum = forecast.draws["cumulative_consumed"]
    start = forecast.draws["consumed_now"].values.reshape(-1, 1)
    ends = pd.DatetimeIndex(forecast.draws["window_end_time"].values)
    x = pd.DatetimeIndex([forecast.now]).append(ends)
    values = np.hstack([start, cum.values.reshape(-1, cum.shape[-1])])
    for (lo, hi), alpha in zip(bands, np.linspace(0.25, 0.5, len(bands)), strict=True):
        q = np.quantile(values, [lo, hi], axis=0)
        ax.fill_between(x, q[0], q[1], color="C0", alpha=alpha, linewidth=0,
                        label=f"{int(round((hi - lo) * 100))}% band")
    ax.plot(x, np.median(values, axis=0), color="C0", label="median")
    ax.scatter(x[:1], [np.median(start)], color="k", s=14, label="so far", zorder=3)
    ax.axhline(1.0, color="C3", linestyle="--", label="budget exhausted")
    ax.set_ylabel("share of window error budget consumed")
    ax.set_xlabel("time")
    title = forecast.slo.name or f"SLO {forecast.slo.objective:g} over {forecast.slo.window}"
    ax.set_title(f"{title}: P(exhaust) = {forecast.p_exhaust:.2f} "
                 f"(±{forecast.p_exhaust_mc_se:.2f} MC s.e.)")
    ax.legend(loc="upper left", fontsize="small")
    fig.autofmt_xdate()
    return fig
