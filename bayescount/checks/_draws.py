"""Posterior and predictive draws of a fitted model, in bounded memory."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from bayescount.exceptions import ColumnNotFoundError, NotFittedError, SpecError
from bayescount.inference.predict import (
    Prediction,
    PredictiveParameters,
    predictive_parameters,
)
from bayescount.prep.design import PreparedData
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    from bayescount.count_model import CountModel

__all__ = [
    "chunked_parameters",
    "draw_subset",
    "fitted_predictions",
    "observed_counts",
    "predictive_tree",
    "prepare_holdout",
    "require_fitted",
]

#: Elements (draws x rows) per block of predictive draws held at once.
BLOCK_ELEMENTS = 4_000_000


def require_fitted(model: CountModel) -> None:
    """Raise :class:`NotFittedError` unless ``model`` has been fitted or loaded."""
    if not getattr(model, "is_fitted", False):
        raise NotFittedError(
            "The model hasn't been fit yet; call .fit(data) first (or bayescount.load(path))."
        )


def draw_subset(posterior: xr.Dataset, max_draws: int | None) -> xr.Dataset:
    """Keep about ``max_draws`` draws (at least one per chain), evenly spaced in each chain."""
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if max_draws is None or n_chains * n_draws <= max_draws:
        return posterior
    if max_draws < 1:
        raise SpecError(f"max_draws must be a positive integer, got {max_draws!r}.")
    per_chain = max(1, max_draws // n_chains)
    keep = np.unique(np.linspace(0, n_draws - 1, per_chain).round().astype(int))
    return posterior.isel(draw=keep)


def _with_posterior(model: CountModel, posterior: xr.Dataset) -> CountModel:
    """Return a shallow copy of ``model`` whose fit holds only ``posterior``'s draws."""
    tree = model.idata_.copy()
    tree["posterior"] = xr.DataTree(posterior)
    clone = copy.copy(model)
    clone.idata_ = tree
    return clone


def fitted_predictions(
    model: CountModel, max_draws: int | None, random_seed: int | None
) -> Iterator[Prediction]:
    """Predictive draws for the fitted rows, in blocks of draws.

    Uses ``model.predict(None, random_seed=...)`` on at most ``max_draws`` posterior
    draws, split into blocks so that at most :data:`BLOCK_ELEMENTS` counts are held at
    once. Each block has its own seed spawned from ``random_seed``.
    """
    require_fitted(model)
    posterior = draw_subset(model.idata_["posterior"].to_dataset(), max_draws)
    n_rows = model.idata_["observed_data"]["y"].size
    per_block = max(1, BLOCK_ELEMENTS // max(n_rows, 1) // posterior.sizes["chain"])
    seeds = np.random.SeedSequence(random_seed)
    n_draws = posterior.sizes["draw"]
    for start in range(0, n_draws, per_block):
        block = posterior.isel(draw=slice(start, start + per_block))
        (seed,) = seeds.spawn(1)
        rng_seed = int(seed.generate_state(1)[0])
        yield _with_posterior(model, block).predict(None, random_seed=rng_seed)


def observed_counts(model: CountModel) -> np.ndarray:
    """Return the fitted rows' observed counts."""
    require_fitted(model)
    return model.idata_["observed_data"]["y"].values.astype(np.int64)


def prepare_holdout(model: CountModel, frame: pd.DataFrame) -> tuple[pd.DataFrame, PreparedData]:
    """Validate and encode held-out rows, which must carry the counts column."""
    require_fitted(model)
    counts = model.schema.counts
    if counts not in frame.columns:
        raise ColumnNotFoundError(
            f"The held-out data have no counts column {counts!r}; coverage compares "
            f"predictions with observed counts. Available columns: "
            f"{sorted(map(str, frame.columns))}."
        )
    clean = validate_frame(frame, model.schema, for_prediction=True)
    return clean, model.design_.transform(clean, for_prediction=True)


def chunked_parameters(
    model: CountModel,
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
    """
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise SpecError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    posterior = draw_subset(model.idata_["posterior"].to_dataset(), max_draws)
    for start in range(0, prepared.n, chunk_size):
        rows = slice(start, min(start + chunk_size, prepared.n))
        params = predictive_parameters(
            posterior, model.spec, model.design_, prepared.take(rows), rng=rng
        )
        yield rows, params


def predictive_tree(
    model: CountModel,
    *,
    by: str | None = None,
    max_draws: int | None = 500,
    random_seed: int | None = 0,
) -> xr.DataTree:
    """Build a DataTree with ``posterior_predictive`` and ``observed_data`` of the fitted rows.

    Without ``by`` both groups hold one variable named after the counts column over
    dim ``obs``. With ``by`` (a group level) they hold one variable per label of that
    level, each over its own ``obs_<label>`` dim, so arviz-plots draws one panel per
    label. At most ``max_draws`` draws are kept (held in memory at once).
    """
    require_fitted(model)
    levels = list(model.schema.groups)
    if by is not None and by not in levels:
        raise ColumnNotFoundError(
            f"by={by!r} is not a group level of the model; choose one of {levels}."
        )
    name = model.schema.counts
    blocks = list(fitted_predictions(model, max_draws, random_seed))
    draws = xr.concat([b.draws for b in blocks], dim="draw")
    draws = draws.assign_coords(draw=np.arange(draws.sizes["draw"]))
    y = observed_counts(model)
    if by is None:
        pp = xr.Dataset({name: draws.rename(None)})
        obs = xr.Dataset({name: xr.DataArray(y, dims="obs", coords={"obs": draws["obs"]})})
    else:
        labels = blocks[0].rows[by].astype(str).to_numpy()
        pp_vars, obs_vars = {}, {}
        for label in sorted(set(labels)):
            idx = np.flatnonzero(labels == label)
            dim = f"obs_{label}"
            pp_vars[label] = draws.isel(obs=idx).rename(obs=dim).drop_vars(dim)
            obs_vars[label] = xr.DataArray(y[idx], dims=dim)
        pp, obs = xr.Dataset(pp_vars), xr.Dataset(obs_vars)
    return xr.DataTree.from_dict({"posterior_predictive": pp, "observed_data": obs})
