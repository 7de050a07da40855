"""PIT ECDF of a fitted count model: randomised PIT from the exact predictive CDF.

Why not ``arviz_plots.plot_ppc_pit`` on predictive replicates: with ``S`` replicates
a row's PIT can only take values on a grid of step ``1/S`` (and exactly 0 or 1 when
the count lies beyond every replicate), while the order-statistic uniformity test of
arviz-stats (``pot_c``, Tesso et al. 2026) resolves ``1/n`` for ``n`` rows. With
``n`` in the thousands and ``S`` in the hundreds a model simulated from itself then
gets ``p=0.00``: the test sees the grid, not the model. Here each row's PIT is the
randomised PIT ``F(y-1) + V (F(y) - F(y-1))`` of the *exact* posterior predictive
mixture CDF ``F`` (the mean over posterior draws of the family's CDF; Czado, Gneiting
& Held 2009), continuous and exactly uniform for a calibrated model. arviz-plots draws
its Δ-ECDF and test (:func:`arviz_plots.plot_ecdf_pit`); the simultaneous band of the
same probability comes from :func:`arviz_stats.ecdf_utils.ecdf_pit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from arviz_base import rcParams
from arviz_plots import PlotCollection, plot_ecdf_pit
from arviz_stats.ecdf_utils import ecdf_pit

from bayescount.exceptions import ColumnNotFoundError
from bayescount.inference.draws import CHUNK_ELEMENTS, chunked_parameters, draw_subset
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import SAMPLE_DIMS
from bayescount.inference.predictive_cdf import pit_bounds

if TYPE_CHECKING:
    from bayescount.inference.fit import Fit

__all__ = ["add_uniformity_band", "plot_pit", "randomised_pit"]


def randomised_pit(
    model: Fit,
    *,
    max_draws: int | None = 500,
    random_seed: int | None = 0,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Randomised PIT of every fitted row under the exact posterior predictive CDF.

    Rows are processed in chunks, so memory is O(``chunk_size`` x draws) whatever the
    number of rows; each row's value does not depend on the chunking.

    Parameters
    ----------
    model : Fit
        A fitted (or loaded) model.
    max_draws : int or None
        Posterior draws averaged in the mixture CDF (``None``: all).
    random_seed : int, optional
        Seed of the uniforms that break the ties of discrete counts.
    chunk_size : int, optional
        Rows processed at once (default: about
        :data:`~bayescount.inference.draws.CHUNK_ELEMENTS` draws x rows per chunk).

    Returns
    -------
    numpy.ndarray
        One value in [0, 1] per fitted row, in fitted order; uniform when the rows
        come from the model (Czado, Gneiting & Held 2009, *Biometrics* 65, 1254).

    Raises
    ------
    SpecError
        ``chunk_size`` is not a positive integer.
    """
    fit = as_fit(model)
    rng = np.random.default_rng(random_seed)
    prepared, _ = fit.training_rows()
    posterior = draw_subset(fit.posterior, max_draws)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ELEMENTS // n_draws)

    def values(da):
        return None if da is None else da.stack(s=SAMPLE_DIMS).transpose("s", ...).values

    y = np.asarray(fit.observed_counts(), dtype=np.int64)
    f_below = np.empty(y.size)
    f_at = np.empty(y.size)
    # The fitted rows have no unseen labels nor future latent steps: ``rng`` draws
    # nothing here, so the uniforms below are those of an unchunked run.
    for rows, params in chunked_parameters(
        fit, prepared, chunk_size=chunk_size, max_draws=max_draws, rng=rng
    ):
        f_below[rows], f_at[rows], _ = pit_bounds(
            y[rows], values(params.mu), values(params.alpha), values(params.psi))
        del params
    return np.clip(f_below + rng.random(y.size) * (f_at - f_below), 0.0, 1.0)


def plot_pit(
    model: Fit,
    *,
    by: str | None = None,
    max_draws: int = 500,
    random_seed: int | None = 0,
    coverage: bool = False,
    envelope_prob: float | None = None,
    **kwargs: Any,
) -> PlotCollection:
    """Plot the PIT Δ-ECDF of the fitted rows with its uniformity test and band.

    A calibrated model gives uniform PIT values: the Δ-ECDF stays inside the band
    and the p-value (arviz-stats' ``pot_c`` test, printed as ``p=``) is not small.
    An S-shape means too wide or too narrow predictive distributions, a shift means
    bias. These are in-sample PIT values, so slightly too central for a flexible
    model; use :func:`bayescount.checks.coverage_report` on held-out data for
    calibration.

    Parameters
    ----------
    model : Fit
        A fitted (or loaded) model.
    by : str, optional
        A group level: one panel per label.
    max_draws : int
        Posterior draws averaged in the predictive CDF.
    random_seed : int, optional
        Seed of the PIT randomisation.
    coverage : bool
        Plot the coverage of central intervals (``2 |PIT - 0.5|``) instead.
    envelope_prob : float, optional
        Probability of the simultaneous band and ``1 -`` the test's level
        (default ``rcParams["stats.envelope_prob"]``, 0.99).
    **kwargs
        Passed to :func:`arviz_plots.plot_ecdf_pit`.

    Returns
    -------
    arviz_plots.PlotCollection
        ``pc.viz["plot"]`` holds one Axes per panel, ``pc.viz["band"]`` the band of
        each and ``pc.viz["p_value_text"]`` the p-values.

    Raises
    ------
    ColumnNotFoundError
        ``by`` is not a group level of the model.
    """
    fit = as_fit(model)
    levels = list(fit.schema.groups)
    if by is not None and by not in levels:
        raise ColumnNotFoundError(
            f"by={by!r} is not a group level of the model; choose one of {levels}."
        )
    prob = rcParams["stats.envelope_prob"] if envelope_prob is None else envelope_prob
    pit = randomised_pit(fit, max_draws=max_draws, random_seed=random_seed)
    if by is None:
        data = {fit.schema.counts: xr.DataArray(pit, dims="obs")}
    else:
        _, rows = fit.training_rows()
        labels = rows[by].astype(str).to_numpy()
        data = {label: xr.DataArray(pit[labels == label], dims=f"obs_{label}")
                for label in sorted(set(labels))}
    dataset = xr.Dataset(data)
    tree = xr.DataTree.from_dict({"ecdf_pit": dataset})
    kwargs.setdefault("visuals", {}).setdefault(
        "xlabel", {"text": "central interval level" if coverage else "PIT (probability)"})
    with np.errstate(invalid="ignore", divide="ignore"):
        pc = plot_ecdf_pit(tree, group="ecdf_pit", sample_dims=list(dataset.dims),
                           method="pot_c", envelope_prob=prob, coverage=coverage, **kwargs)
    what = "Central interval coverage" if coverage else "Randomised PIT"
    add_uniformity_band(pc, dataset.sizes, prob,
                        f"{what} of the fitted rows: calibrated inside the band")
    return pc


def add_uniformity_band(
    pc: PlotCollection, sizes: Mapping[str, int], prob: float, title: str,
    *, what: str = "PIT values",
) -> None:
    """Add the simultaneous band of a uniform ECDF, labels and a legend to a PIT Δ-ECDF.

    The band holds the Δ-ECDF of ``n`` independent uniform values with probability
    ``prob`` over the whole curve (:func:`arviz_stats.ecdf_utils.ecdf_pit`, the band of
    arviz-plots' ``envelope`` method), drawn under each panel of an
    :func:`arviz_plots.plot_ecdf_pit` collection; ``pc.viz["band"]`` holds them.

    Parameters
    ----------
    pc : arviz_plots.PlotCollection
        A matplotlib ``plot_ecdf_pit`` collection, one panel per variable.
    sizes : mapping
        Variable name (or its dim) -> number of values in that panel.
    prob : float
        Probability of the band (``1 -`` the level of the test's p-value).
    title : str
        The figure's title.
    what : str
        What the ECDF is of, for the legend.
    """
    import matplotlib.patches as mpatches
    from matplotlib.lines import Line2D

    names = list(pc.viz["plot"].data_vars)
    bands = {}
    for name in names:
        ax = pc.viz["plot"][name].item()
        n = sizes.get(name, sizes.get(f"obs_{name}", max(sizes.values())))
        x, _, lower, upper = ecdf_pit(np.linspace(0, 1, n), prob, n_simulations=1000)
        bands[name] = ax.fill_between(x, lower - x, upper - x, color="C0", alpha=0.15,
                                      linewidth=0, zorder=0)
        ax.set_ylabel("Δ ECDF (observed − uniform)")
    pc.viz["band"] = xr.DataTree(xr.Dataset({k: xr.DataArray(v) for k, v in bands.items()}))
    first = pc.viz["plot"][names[0]].item()
    handles = [
        Line2D([], [], color="C0", label=f"Δ ECDF of the {what}"),
        mpatches.Patch(color="C0", alpha=0.15, label=f"{prob:.0%} simultaneous band"),
        Line2D([], [], color="grey", linestyle="--", label="uniform (calibrated)"),
        Line2D([], [], color="C1", marker="o", linestyle="", label="points driving p < α"),
    ]
    first.legend(handles=handles, fontsize="x-small", loc="upper right", framealpha=0.8)
    first.figure.suptitle(title, fontsize="medium", y=1.02)
