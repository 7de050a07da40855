"""Posterior predictive distributions of rows, analytically per draw.

The predictive distribution of a row is a mixture over posterior draws of Poisson,
negative binomial (NB2, shape ``alpha``) or their zero-inflated versions (count part
with probability ``psi``). Its CDF, survival function and pmf are the averages over
draws of the per-draw ones, computed here in chunks of draws so memory stays bounded;
quantiles invert the mixture CDF by integer bisection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from bayescount.exceptions import NotFittedError
from bayescount.inference.predict import PredictiveParameters, predictive_parameters
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    from bayescount.count_model import CountModel

__all__ = [
    "flat",
    "mixture_cdf",
    "mixture_mean",
    "mixture_quantile",
    "mixture_sf_pmf",
    "row_parameters",
]

_CHUNK_CELLS = 2_000_000


def row_parameters(
    model: CountModel,
    frame: pd.DataFrame,
    *,
    rng: np.random.Generator,
    unseen: Literal["population", "error"] = "population",
) -> tuple[PredictiveParameters, pd.DataFrame]:
    """Per-draw ``mu``/``alpha``/``psi`` of ``frame``'s rows under a fitted model.

    Returns the parameters and the rows they belong to (rows the validator keeps, in
    order).
    """
    if not getattr(model, "is_fitted", False):
        raise NotFittedError("The model hasn't been fit yet; call .fit(data) first.")
    clean = validate_frame(frame, model.schema, for_prediction=True)
    prepared = model.design_.transform(clean, for_prediction=True)
    params = predictive_parameters(
        model.idata_["posterior"].to_dataset(),
        model.spec,
        model.design_,
        prepared,
        unseen=unseen,
        rng=rng,
    )
    return params, frame.loc[clean.index]


def flat(values: np.ndarray | None) -> np.ndarray | None:
    """Reshape ``(chain, draw, obs)`` to ``(sample, obs)``."""
    if values is None:
        return None
    values = np.asarray(values)
    return values.reshape(-1, values.shape[-1])


def _arrays(params: PredictiveParameters):
    mu = flat(params.mu.values)
    alpha = flat(params.alpha.values) if params.alpha is not None else None
    psi = flat(params.psi.values) if params.psi is not None else None
    return mu, alpha, psi


def _dist(mu: np.ndarray, alpha: np.ndarray | None):
    if alpha is None:
        return stats.poisson(mu)
    return stats.nbinom(alpha, alpha / (alpha + mu))


def _chunks(n_samples: int, n_rows: int):
    size = max(1, _CHUNK_CELLS // max(n_rows, 1))
    for start in range(0, n_samples, size):
        yield slice(start, min(start + size, n_samples))


def mixture_sf_pmf(params: PredictiveParameters, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictive ``P(Y > y)`` and ``P(Y = y)`` per row, averaged over draws."""
    mu, alpha, psi = _arrays(params)
    y = np.asarray(y, dtype=float)
    sf = np.zeros(mu.shape[1])
    pmf = np.zeros(mu.shape[1])
    for sl in _chunks(*mu.shape):
        dist = _dist(mu[sl], None if alpha is None else alpha[sl])
        s, p = dist.sf(y), dist.pmf(y)
        if psi is not None:
            s = psi[sl] * s
            p = psi[sl] * p + (1.0 - psi[sl]) * (y == 0)
        sf += s.sum(axis=0)
        pmf += p.sum(axis=0)
    return sf / mu.shape[0], pmf / mu.shape[0]


def mixture_cdf(params: PredictiveParameters, y: np.ndarray) -> np.ndarray:
    """Predictive ``P(Y <= y)`` per row (``y`` may be negative: 0 there)."""
    sf, _ = mixture_sf_pmf(params, np.maximum(y, 0))
    return np.where(np.asarray(y) < 0, 0.0, 1.0 - sf)


def mixture_mean(params: PredictiveParameters) -> np.ndarray:
    """Predictive mean per row: the average over draws of ``psi * mu``."""
    mu, _, psi = _arrays(params)
    return (mu if psi is None else psi * mu).mean(axis=0)


def mixture_quantile(params: PredictiveParameters, q: float) -> np.ndarray:
    """Smallest integer ``y`` per row with predictive ``P(Y <= y) >= q``."""
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got {q}.")
    mu, alpha, _ = _arrays(params)
    var = mu if alpha is None else mu + mu**2 / alpha
    hi = np.ceil((mu + 10.0 * np.sqrt(var)).max(axis=0)) + 10.0
    for _ in range(64):
        short = mixture_cdf(params, hi) < q
        if not short.any():
            break
        hi = np.where(short, 2.0 * hi, hi)
    lo = np.full_like(hi, -1.0)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2.0)
        ok = mixture_cdf(params, mid) >= q
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi
