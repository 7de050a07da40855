"""PIT ECDF of a fitted count model's posterior predictive distribution."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from arviz_plots import PlotCollection, plot_ppc_pit

from bayescount.inference.draws import predictive_tree

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["plot_pit"]


def plot_pit(
    model: Fit,
    *,
    by: str | None = None,
    max_draws: int = 500,
    random_seed: int | None = 0,
    coverage: bool = False,
    **kwargs: Any,
) -> PlotCollection:
    """Plot the PIT Δ-ECDF of the fitted rows (:func:`arviz_plots.plot_ppc_pit`).

    A calibrated model gives uniform PIT values; an S-shape means too wide or too
    narrow predictive distributions, a shift means bias. arviz-plots' default
    ``pot_c`` method breaks the ties of discrete counts at random. These are
    in-sample PIT values, so they are slightly too central; use
    :func:`bayescount.checks.coverage_report` on held-out data for calibration.

    Parameters
    ----------
    model : Fit
        A fitted (or loaded) model.
    by : str, optional
        A group level: one panel per label.
    max_draws : int
        Predictive replicates (posterior draws) used.
    random_seed : int, optional
        Seed of the replicates.
    coverage : bool
        Plot the coverage of central intervals instead of the PIT ECDF.
    **kwargs
        Passed to :func:`arviz_plots.plot_ppc_pit`.

    Returns
    -------
    arviz_plots.PlotCollection
        ``pc.viz["plot"]`` holds one Axes per panel.
    """
    tree = predictive_tree(model, by=by, max_draws=max_draws, random_seed=random_seed)
    # The Pareto tail fits inside arviz-stats divide by zero on tied (discrete) draws.
    with np.errstate(invalid="ignore", divide="ignore"):
        return plot_ppc_pit(tree, coverage=coverage, **kwargs)
