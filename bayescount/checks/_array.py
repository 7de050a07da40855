"""Array math of the checks, written once on numpy arrays with an ``axis``.

Functions implemented in this module only depend on NumPy and SciPy; the modules
around it wrap them for fitted models and named xarray dimensions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = [
    "COUNT_STATISTICS",
    "count_statistics",
    "crps_from_samples",
    "interval_score",
    "lag1_autocorrelation",
    "mid_p_value",
    "wilson_interval",
]


def _share_zeros(y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(y == 0, axis=axis)


def _dispersion(y: np.ndarray, axis: int) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    n = y.shape[axis]
    mean = np.mean(y, axis=axis)
    var = np.var(y, axis=axis, ddof=1 if n > 1 else 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), 0.0)


def _maximum(y: np.ndarray, axis: int) -> np.ndarray:
    return np.max(y, axis=axis).astype(float)


def _q99(y: np.ndarray, axis: int) -> np.ndarray:
    return np.quantile(y, 0.99, axis=axis, method="inverted_cdf").astype(float)


def _total(y: np.ndarray, axis: int) -> np.ndarray:
    return np.sum(y, axis=axis).astype(float)


#: The PPC statistics ``T(y)`` by name: share of zeros, dispersion index
#: ``var / mean`` (sample variance, ``ddof=1``; 0 for an all-zero group), maximum,
#: 99th percentile (``inverted_cdf``: an observed count, not an interpolation) and total.
COUNT_STATISTICS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "share_zeros": _share_zeros,
    "dispersion": _dispersion,
    "max": _maximum,
    "q99": _q99,
    "total": _total,
}


def count_statistics(y: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """Compute every statistic of :data:`COUNT_STATISTICS` along ``axis``.

    Parameters
    ----------
    y : array of int
        Counts; ``axis`` runs over the rows of one group.
    axis : int
        Axis of the rows.

    Returns
    -------
    dict of str to ndarray
        One array per statistic with ``axis`` removed.
    """
    y = np.asarray(y)
    return {name: fn(y, axis) for name, fn in COUNT_STATISTICS.items()}


def mid_p_value(t_rep: np.ndarray, t_obs: np.ndarray | float, axis: int = 0) -> np.ndarray:
    """Posterior predictive p-value ``P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)``.

    The mid-p form splits ties, which discrete statistics (zeros, maxima) have
    often, so a statistic the model reproduces exactly gets 0.5, not 1.
    """
    t_rep = np.asarray(t_rep, dtype=float)
    t_obs = np.expand_dims(np.asarray(t_obs, dtype=float), axis)
    return np.mean(t_rep > t_obs, axis=axis) + 0.5 * np.mean(t_rep == t_obs, axis=axis)


def wilson_interval(
    k: np.ndarray | int, n: np.ndarray | int, prob: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n``.

    Returns ``(lower, upper)``; NaN where ``n == 0``. The interval always holds ``k / n``
    (exactly 1 at ``k == n`` and 0 at ``k == 0``, where rounding alone would leave it
    a hair short).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + prob / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lower = np.clip(np.minimum(centre - half, p), 0.0, 1.0)
        upper = np.clip(np.maximum(centre + half, p), 0.0, 1.0)
    return lower, upper


def interval_score(
    y: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: np.ndarray | float
) -> np.ndarray:
    """Interval score of a central ``level`` interval (Gneiting & Raftery 2007, eq. 43).

    ``(upper - lower) + 2/a (lower - y) 1{y < lower} + 2/a (y - upper) 1{y > upper}``
    with ``a = 1 - level``; lower is better, and it rewards both coverage and sharpness.
    """
    y = np.asarray(y, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    a = 1.0 - np.asarray(level, dtype=float)
    below = np.maximum(lower - y, 0.0)
    above = np.maximum(y - upper, 0.0)
    return (upper - lower) + 2.0 / a * (below + above)


def crps_from_samples(samples: np.ndarray, y: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sample estimate of the continuous ranked probability score, along ``axis``.

    ``CRPS = E|X - y| - 0.5 E|X - X'|`` (Gneiting & Raftery 2007, eq. 21) with
    ``E|X - X'|`` from the sorted samples in its unbiased form
    ``2 / (m (m - 1)) sum_i (2 i - m - 1) x_(i)`` (Zamo & Naveau 2018). It applies to
    count forecasts unchanged; lower is better, in units of counts.
    """
    x = np.moveaxis(np.asarray(samples, dtype=float), axis, -1)
    y = np.asarray(y, dtype=float)
    m = x.shape[-1]
    first = np.mean(np.abs(x - y[..., None]), axis=-1)
    if m < 2:
        return first
    x = np.sort(x, axis=-1)
    weights = 2.0 * np.arange(1, m + 1) - m - 1
    spread = 2.0 * (x @ weights) / (m * (m - 1))
    return first - 0.5 * spread


def lag1_autocorrelation(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Lag-1 autocorrelation ``sum (x_t - m)(x_t+1 - m) / sum (x_t - m)^2`` along ``axis``.

    The usual (biased, ``acf``) estimator; NaN for fewer than 3 values or a constant series.
    """
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    if x.shape[-1] < 3:
        return np.full(x.shape[:-1], np.nan)
    d = x - x.mean(axis=-1, keepdims=True)
    num = np.sum(d[..., 1:] * d[..., :-1], axis=-1)
    den = np.sum(d * d, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
