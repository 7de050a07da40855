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
from scipy import special, stats

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
    "thin",
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
    order, with the schema's columns in canonical dtypes: parsed times, string labels).
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
    rows = frame.loc[clean.index].copy()
    for col in clean.columns:
        rows[col] = clean[col]
    return params, rows


def thin(params: PredictiveParameters, max_draws: int | None) -> PredictiveParameters:
    """Keep at most about ``max_draws`` posterior draws, evenly spaced within each chain."""
    if max_draws is None:
        return params
    chains, draws = params.mu.shape[:2]
    stride = int(np.ceil(chains * draws / max_draws))
    if stride <= 1:
        return params
    pick = slice(None, None, stride)

    def cut(da):
        return None if da is None else da.isel(draw=pick)

    return PredictiveParameters(cut(params.mu), cut(params.alpha), cut(params.psi),
                                params.exposure)


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


def _sf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Per-draw ``P(Y > y)`` of the count part (regularised gamma / beta functions)."""
    if alpha is None:
        return special.gammainc(y + 1.0, mu)
    return special.betainc(y + 1.0, alpha, mu / (alpha + mu))


def _pmf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Per-draw ``P(Y = y)`` of the count part."""
    if alpha is None:
        return np.exp(special.xlogy(y, mu) - mu - special.gammaln(y + 1.0))
    log_p = np.log(alpha) - np.log(alpha + mu)
    log_q = special.xlogy(y, mu) - special.xlogy(y, alpha + mu)
    return np.exp(special.gammaln(y + alpha) - special.gammaln(alpha) - special.gammaln(y + 1.0)
                  + alpha * log_p + log_q)


def _chunks(n_samples: int, n_rows: int):
    size = max(1, _CHUNK_CELLS // max(n_rows, 1))
    for start in range(0, n_samples, size):
        yield slice(start, min(start + size, n_samples))


def _mixture(params: PredictiveParameters, y: np.ndarray, with_pmf: bool):
    mu, alpha, psi = _arrays(params)
    y = np.asarray(y, dtype=float)
    sf = np.zeros(mu.shape[1])
    pmf = np.zeros(mu.shape[1])
    for sl in _chunks(*mu.shape):
        a = None if alpha is None else alpha[sl]
        s = _sf(y, mu[sl], a)
        if psi is not None:
            s = psi[sl] * s
        sf += s.sum(axis=0)
        if with_pmf:
            p = _pmf(y, mu[sl], a)
            if psi is not None:
                p = psi[sl] * p + (1.0 - psi[sl]) * (y == 0)
            pmf += p.sum(axis=0)
    return sf / mu.shape[0], pmf / mu.shape[0]


def mixture_sf_pmf(params: PredictiveParameters, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictive ``P(Y > y)`` and ``P(Y = y)`` per row, averaged over draws."""
    return _mixture(params, y, with_pmf=True)


def mixture_cdf(params: PredictiveParameters, y: np.ndarray) -> np.ndarray:
    """Predictive ``P(Y <= y)`` per row (``y`` may be negative: 0 there)."""
    sf, _ = _mixture(params, np.maximum(y, 0), with_pmf=False)
    return np.where(np.asarray(y) < 0, 0.0, 1.0 - sf)


def mixture_mean(params: PredictiveParameters) -> np.ndarray:
    """Predictive mean per row: the average over draws of ``psi * mu``."""
    mu, _, psi = _arrays(params)
    return (mu if psi is None else psi * mu).mean(axis=0)


def _moments(params: PredictiveParameters) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the mixture per row (law of total variance)."""
    mu, alpha, psi = _arrays(params)
    psi = np.ones_like(mu) if psi is None else psi
    var_count = mu if alpha is None else mu + mu**2 / alpha
    mean_d = psi * mu
    var_d = psi * var_count + psi * (1 - psi) * mu**2
    mean = mean_d.mean(axis=0)
    return mean, var_d.mean(axis=0) + mean_d.var(axis=0)


def mixture_quantile(params: PredictiveParameters, q: float) -> np.ndarray:
    """Smallest integer ``y`` per row with predictive ``P(Y <= y) >= q``.

    A normal approximation gives a first guess; a bracket around it is widened until
    it holds the quantile, then halved to one count.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got {q}.")
    mean, var = _moments(params)
    sd = np.sqrt(var)
    guess = np.floor(mean + stats.norm.ppf(q) * sd)
    step = np.maximum(np.ceil(0.5 * sd), 2.0)
    hi = np.maximum(guess + step, 0.0)
    for _ in range(64):
        short = mixture_cdf(params, hi) < q
        if not short.any():
            break
        step = np.where(short, 2.0 * step, step)
        hi = np.where(short, hi + step, hi)
    lo = np.maximum(guess - step, -1.0)
    for _ in range(64):
        high = mixture_cdf(params, lo) >= q
        if not high.any():
            break
        step = np.where(high, 2.0 * step, step)
        lo = np.where(high, np.maximum(lo - step, -1.0), lo)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2.0)
        ok = mixture_cdf(params, mid) >= q
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi
