"""Posterior and predictive draws of a :class:`~bayescount.Fit`, in bounded memory.

Checks, forecasts and plots all draw through these functions, so every one bounds
memory the same way (blocks of at most :data:`BLOCK_ELEMENTS` counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import xarray as xr

from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.inference.fit import as_fit
from bayescount.inference.predict import Prediction, PredictiveParameters, sample_counts
from bayescount.prep.design import PreparedData

__all__ = [
    "BLOCK_ELEMENTS",
    "CHUNK_ELEMENTS",
    "chunked_parameters",
    "draw_subset",
    "fitted_predictions",
    "label_variable",
    "predictive_tree",
]

#: Elements (draws x rows) per block of predictive draws held at once.
BLOCK_ELEMENTS = 4_000_000
#: Draws x rows of per-draw parameters held at once by the row-chunked computations
#: (PIT, residual moments) when no chunk size is given.
CHUNK_ELEMENTS = 2_000_000


def label_variable(label: str) -> str:
    """Return the DataTree variable name of a group label in :func:`predictive_tree`.

    DataTree variable names cannot hold ``/``; it becomes the look-alike ``∕``
    (U+2215 DIVISION SLASH), so ``"a/b"`` still reads as such in plot titles.

    Parameters
    ----------
    label : str
        A group label.

    Returns
    -------
    str
    """
    return str(label).replace("/", "\u2215")


def draw_subset(posterior: xr.Dataset, max_draws: int | None) -> xr.Dataset:
    """Keep about ``max_draws`` draws (at least one per chain), evenly spaced in each chain.

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws, dims ``(chain, draw, ...)``.
    max_draws : int or None
        Total draws to keep over all chains; ``None`` keeps all.

    Returns
    -------
    xarray.Dataset
        ``posterior`` itself when it already has at most ``max_draws`` draws, else
        about ``max_draws // chain`` draws per chain, dims ``(chain, draw, ...)``.

    Raises
    ------
    SpecError
        ``max_draws`` below 1 (and fewer draws needed than held).
    """
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if max_draws is None or n_chains * n_draws <= max_draws:
        return posterior
    if max_draws < 1:
        raise SpecError(f"max_draws must be a positive integer, got {max_draws!r}.")
    per_chain = max(1, max_draws // n_chains)
    keep = np.unique(np.linspace(0, n_draws - 1, per_chain).round().astype(int))
    return posterior.isel(draw=keep)


def fitted_predictions(
    fit: Any, max_draws: int | None, random_seed: int | None
) -> Iterator[Prediction]:
    """Predictive draws for the fitted rows, in blocks of draws.

    Uses :meth:`Fit.predict` (no new rows) on at most ``max_draws`` posterior draws,
    split into blocks so that at most :data:`BLOCK_ELEMENTS` counts are held at once.
    Each block has its own seed spawned from ``random_seed``.

    Parameters
    ----------
    fit : Fit or CountModel
        A :class:`~bayescount.Fit` or a fitted model.
    max_draws : int or None
        Posterior draws to use (:func:`draw_subset`); ``None`` for all.
    random_seed : int or None
        Root of the per-block seeds (:class:`numpy.random.SeedSequence`).

    Yields
    ------
    Prediction
        Predicted counts per window of all fitted rows for one block of draws,
        dims ``(chain, draw, obs)``.

    Raises
    ------
    NotFittedError
        ``fit`` is a model that has not been fitted.
    """
    fit = as_fit(fit)
    posterior = draw_subset(fit.posterior, max_draws)
    n_rows = fit.n_rows
    per_block = max(1, BLOCK_ELEMENTS // max(n_rows, 1) // posterior.sizes["chain"])
    seeds = np.random.SeedSequence(random_seed)
    n_draws = posterior.sizes["draw"]
    # The rows are encoded once; each block is ``fit.predict(None, random_seed=...)``
    # on its draws, number for number (the fitted rows draw nothing before the counts).
    prepared, rows = fit.training_rows()
    for start in range(0, n_draws, per_block):
        block = posterior.isel(draw=slice(start, start + per_block))
        (seed,) = seeds.spawn(1)
        rng = np.random.default_rng(int(seed.generate_state(1)[0]))
        params = fit.predictive_parameters(prepared, rng=rng, posterior=block)
        yield Prediction(draws=sample_counts(params, rng), rows=rows, scale="counts",
                         params=params)


def chunked_parameters(
    fit: Any,
    prepared: PreparedData,
    *,
    chunk_size: int,
    max_draws: int | None,
    rng: np.random.Generator,
) -> Iterator[tuple[slice, PredictiveParameters]]:
    """Per-draw predictive parameters for ``chunk_size`` rows at a time.

    Peak memory is O(chunk_size x draws). A label not seen when fitting gets its
    effect, and a latent path past the fitted grid its continuation, drawn anew in
    each chunk; each row's *marginal* predictive distribution, all that coverage
    uses, is unchanged by that.

    Parameters
    ----------
    fit : Fit or CountModel
        A :class:`~bayescount.Fit` or a fitted model.
    prepared : PreparedData
        Rows encoded with the fit's design, dim ``obs``.
    chunk_size : int
        Rows per chunk (≥ 1).
    max_draws : int or None
        Posterior draws to use (:func:`draw_subset`); ``None`` for all.
    rng : numpy.random.Generator
        Source of unseen effects and latent continuations.

    Yields
    ------
    rows : slice
        The chunk's rows of ``prepared``.
    params : PredictiveParameters
        Their ``mu`` (counts per window), ``alpha``, ``psi``, dims
        ``(chain, draw, obs)`` with ``obs`` local to the chunk.

    Raises
    ------
    SpecError
        ``chunk_size`` is not a positive integer.
    """
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise SpecError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    fit = as_fit(fit)
    posterior = draw_subset(fit.posterior, max_draws)
    for start in range(0, prepared.n, chunk_size):
        rows = slice(start, min(start + chunk_size, prepared.n))
        params = fit.predictive_parameters(prepared.take(rows), rng=rng, posterior=posterior)
        yield rows, params


def predictive_tree(
    fit: Any,
    *,
    by: str | None = None,
    max_draws: int | None = 500,
    random_seed: int | None = 0,
) -> xr.DataTree:
    """Build a DataTree with ``posterior_predictive`` and ``observed_data`` of the fitted rows.

    Without ``by`` both groups hold one variable named after the counts column over
    dim ``obs``. With ``by`` (a group level) they hold one variable per label of that
    level (named by :func:`label_variable`), each over its own ``obs_<label>`` dim, so
    arviz-plots draws one panel per label. At most ``max_draws`` draws are kept (held in
    memory at once).

    Parameters
    ----------
    fit : Fit or CountModel
        A :class:`~bayescount.Fit` or a fitted model.
    by : str, optional
        A group level to split the rows by, one variable per label.
    max_draws : int or None
        Posterior draws to use (:func:`draw_subset`); ``None`` for all.
    random_seed : int or None
        Seed of the predictive draws.

    Returns
    -------
    xarray.DataTree
        ``posterior_predictive`` (dims ``(chain, draw, obs)`` or
        ``(chain, draw, obs_<label>)``) and ``observed_data`` (dim ``obs`` or
        ``obs_<label>``), counts per window.

    Raises
    ------
    ColumnNotFoundError
        ``by`` is not a group level of the model.
    """
    fit = as_fit(fit)
    levels = list(fit.schema.groups)
    if by is not None and by not in levels:
        raise ColumnNotFoundError(
            f"by={by!r} is not a group level of the model; choose one of {levels}."
        )
    name = fit.schema.counts
    blocks = list(fitted_predictions(fit, max_draws, random_seed))
    draws = xr.concat([b.draws for b in blocks], dim="draw")
    draws = draws.assign_coords(draw=np.arange(draws.sizes["draw"]))
    y = fit.observed_counts()
    if by is None:
        pp = xr.Dataset({name: draws.rename(None)})
        obs = xr.Dataset({name: xr.DataArray(y, dims="obs", coords={"obs": draws["obs"]})})
    else:
        labels = blocks[0].rows[by].astype(str).to_numpy()
        pp_vars, obs_vars = {}, {}
        for label in sorted(set(labels)):
            idx = np.flatnonzero(labels == label)
            name = label_variable(label)
            dim = f"obs_{name}"
            pp_vars[name] = draws.isel(obs=idx).rename(obs=dim).drop_vars(dim)
            obs_vars[name] = xr.DataArray(y[idx], dims=dim)
        pp, obs = xr.Dataset(pp_vars), xr.Dataset(obs_vars)
    return xr.DataTree.from_dict({"posterior_predictive": pp, "observed_data": obs})
