"""Helpers shared by the forecast results: seeds, Monte Carlo errors, draw summaries.

``json_safe``, ``html_block`` and ``DEFAULT_SEED`` come from :mod:`bayescount.results`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import arviz_stats as azs
import numpy as np

from bayescount.results import DEFAULT_SEED, html_block, json_safe

__all__ = [
    "DEFAULT_SEED",
    "binomial_mc_se",
    "html_block",
    "json_safe",
    "mc_se",
    "quantile_columns",
    "quantiles_of",
    "resolve_seed",
    "summarise",
]



def resolve_seed(seed: int | None) -> int:
    """Return ``seed``, or a fresh one from the operating system when it is ``None``.

    The decision functions store the seed they used in their result, so a run with
    ``random_seed=None`` can still be repeated exactly.

    Parameters
    ----------
    seed : int or None
        A non-negative integer seed, or ``None`` for a fresh one.

    Returns
    -------
    int
        The seed to pass to ``numpy.random.default_rng``.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    return int(seed)


def mc_se(indicator: np.ndarray) -> float:
    """Monte Carlo standard error of a probability estimated from per-draw indicators.

    With ``(chain, draw)`` indicators: ``arviz_stats.mcse`` (ESS-based, so it accounts
    for the autocorrelation of NUTS draws); otherwise, or when that is undefined (one
    chain, ``p`` in {0, 1}, fewer than 4 draws), the binomial
    ``sqrt(p (1 - p) / n)`` (:func:`binomial_mc_se`).
    """
    indicator = np.asarray(indicator)
    p = float(indicator.mean()) if indicator.size else float("nan")
    if indicator.ndim == 2 and indicator.shape[0] > 1 and indicator.shape[1] >= 4 and 0 < p < 1:
        value = float(azs.mcse(indicator.astype(float), chain_axis=0, draw_axis=1))
        if np.isfinite(value):
            return value
    return float(binomial_mc_se(p, indicator.size))


def binomial_mc_se(p: np.ndarray | float, n: int) -> np.ndarray:
    """Binomial Monte Carlo standard error ``sqrt(p (1 - p) / n)`` of a probability.

    ``p`` estimated as the share of ``n`` independent draws. Posterior draws from NUTS
    are autocorrelated, so with ``n`` the number of draws this can understate the error
    by ``sqrt(n / ESS)``; for an average of per-draw probabilities in ``[0, 1]`` (the
    analytic tails of the anomaly flags) it is an upper bound, since such a variable's
    variance is at most ``p (1 - p)``.
    """
    p = np.asarray(p, dtype=float)
    return np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / max(int(n), 1))


def quantile_columns(quantiles: Sequence[float]) -> list[str]:
    """Column names ``q0.05`` ... for ``quantiles``."""
    return [f"q{q:g}" for q in quantiles]


def quantiles_of(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of draws: the smallest draw ``v`` with ``P(V <= v) >= q`` (``inverted_cdf``).

    No interpolation, so a quantile of counts (or sums of counts) is a count, by the
    same rule as :meth:`bayescount.inference.Prediction.quantiles`, and draws holding
    infinities are handled too.
    """
    values = np.asarray(values, dtype=float).ravel()
    if not values.size:
        return np.full(len(quantiles), math.nan)
    return np.quantile(values, list(quantiles), method="inverted_cdf")


def summarise(values: np.ndarray, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> dict:
    """Mean (of the finite draws) and quantiles of draws, flattened."""
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    out: dict[str, float] = {"mean": float(finite.mean()) if finite.size else math.nan}
    qs = quantiles_of(values, quantiles)
    out.update({name: float(v) for name, v in zip(quantile_columns(quantiles), qs, strict=True)})
    return out
