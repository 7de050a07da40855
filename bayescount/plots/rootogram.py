"""Rootogram of a fitted count model: observed against predicted count frequencies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arviz_plots import PlotCollection, plot_ppc_rootogram

from bayescount.inference.draws import predictive_tree

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["plot_rootogram"]


def plot_rootogram(
    model: Fit,
    *,
    by: str | None = None,
    max_draws: int = 500,
    random_seed: int | None = 0,
    ci_prob: float = 0.9,
    **kwargs: Any,
) -> PlotCollection:
    """Rootogram of the fitted rows (:func:`arviz_plots.plot_ppc_rootogram`).

    For each count value, the observed frequency against the predictive mean
    frequency and its ``ci_prob`` interval, on a square-root scale (Kleiber & Zeileis
    2016): too few observed zeros or a long observed tail show at a glance.

    Parameters
    ----------
    model : Fit
        A fitted (or loaded) model.
    by : str, optional
        A group level (``"service"``, ``"region"``): one panel per label.
    max_draws : int
        Predictive replicates (posterior draws) used.
    random_seed : int, optional
        Seed of the replicates.
    ci_prob : float
        Probability of the interval of each predicted frequency.
    **kwargs
        Passed to :func:`arviz_plots.plot_ppc_rootogram` (e.g. ``backend``,
        ``figure_kwargs``, ``col_wrap``).

    Returns
    -------
    arviz_plots.PlotCollection
        One panel per variable: ``pc.viz["plot"]`` holds one Axes per label.
    """
    tree = predictive_tree(model, by=by, max_draws=max_draws, random_seed=random_seed)
    pc = plot_ppc_rootogram(tree, ci_prob=ci_prob, **kwargs)
    _decorate(pc, ci_prob)
    return pc


def _decorate(pc: PlotCollection, ci_prob: float) -> None:
    """Label the axes with units, add a legend and a figure title (matplotlib backend)."""
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    names = list(pc.viz["plot"].data_vars)
    axes = [pc.viz["plot"][name].item() for name in names]
    if not all(isinstance(ax, Axes) for ax in axes):  # another backend: leave it as drawn
        return
    for ax in axes:
        ax.set_xlabel("count per window")
        ax.set_ylabel("frequency (rows, square-root scale)")
    axes[0].legend(handles=[
        Line2D([], [], color="C0", marker="o", linestyle="", label="predicted mean frequency"),
        Line2D([], [], color="C0", label=f"{ci_prob:.0%} predictive interval"),
        Line2D([], [], color="k", marker="o", linestyle="", label="observed frequency"),
    ], fontsize="x-small", loc="upper right")
    axes[0].figure.suptitle("Rootogram: observed against predicted frequency of each count",
                            fontsize="medium", y=1.02)
