"""Plots of fitted models and check results (matplotlib / arviz-plots).

Each function returns the figure object it drew: an arviz-plots ``PlotCollection``
for the predictive plots, a matplotlib ``Figure`` for the reliability diagram.
"""

from bayescount.plots.pit import plot_pit
from bayescount.plots.reliability import plot_reliability
from bayescount.plots.rootogram import plot_rootogram

__all__ = ["plot_pit", "plot_reliability", "plot_rootogram"]
