"""One count distribution per draw: the (zero-inflated) Poisson and NB2 CDF, pmf and moments.

The per-draw kernels behind :mod:`bayescount.inference.predictive_cdf`'s mixtures. The
CDFs are the regularised incomplete gamma and beta functions of ``scipy.special``
(``gammaincc`` / ``betainc``, the functions behind ``scipy.stats.poisson.cdf`` and
``nbinom.cdf``); NB2 has ``n = alpha``, ``p = alpha / (alpha + mu)``, and a zero-inflated
family puts mass ``1 - psi`` on 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["count_cdf", "family_moments"]


def family_moments(
    mu: np.ndarray, alpha: np.ndarray | None = None, psi: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the (zero-inflated) Poisson / NB2 distribution, elementwise.

    NB2 (Cameron & Trivedi 2013): ``var = mu + mu^2 / alpha``. Zero inflation with count
    probability ``psi``: ``mean = psi mu`` and ``var = psi var_c + psi (1 - psi) mu^2``.

    Parameters
    ----------
    mu, alpha, psi : ndarray
        Per-draw mean count per window, NB2 shape, count-part probability (or ``None``).
    """
    mu = np.asarray(mu, dtype=float)
    var = mu if alpha is None else mu + mu**2 / np.asarray(alpha, dtype=float)
    if psi is None:
        return mu, var
    psi = np.asarray(psi, dtype=float)
    return psi * mu, psi * var + psi * (1.0 - psi) * mu**2


def _count_part_cdf(k: np.ndarray, mu: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """CDF of the count part at integer ``k`` (0 for ``k < 0``)."""
    kk = np.maximum(k, 0).astype(float)
    if alpha is None:
        f = special.gammaincc(kk + 1.0, mu)
    else:
        f = special.betainc(alpha, kk + 1.0, alpha / (alpha + mu))
    return np.where(k < 0, 0.0, f)


def _count_part_sf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """``P(Y > y)`` of the count part at integer ``y >= 0``, without ``1 - CDF``."""
    if alpha is None:
        return special.gammainc(y + 1.0, mu)
    return special.betainc(y + 1.0, alpha, mu / (alpha + mu))


def _count_part_pmf(k: np.ndarray, mu: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Pmf of the count part at integer ``k >= 0``."""
    k = np.asarray(k, dtype=float)
    if alpha is None:
        logp = special.xlogy(k, mu) - mu - special.gammaln(k + 1.0)
    else:
        logp = (
            special.gammaln(k + alpha)
            - special.gammaln(alpha)
            - special.gammaln(k + 1.0)
            + alpha * np.log(alpha / (alpha + mu))
            + special.xlogy(k, mu / (alpha + mu))
        )
    return np.exp(logp)


def count_cdf(
    k: np.ndarray | int,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
) -> np.ndarray:
    """``P(Y <= k)`` of the (zero-inflated) Poisson / NB2 distribution, elementwise.

    Agrees with ``scipy.stats.poisson.cdf(k, mu)`` and
    ``scipy.stats.nbinom.cdf(k, alpha, alpha / (alpha + mu))`` (0 for ``k < 0``).

    Parameters
    ----------
    k : ndarray or int
        Counts, broadcastable to ``mu``.
    mu, alpha, psi : ndarray
        Per-draw mean count per window, NB2 shape, count-part probability (or ``None``).
    """
    k = np.asarray(k)
    mu = np.asarray(mu, dtype=float)
    f = _count_part_cdf(k, mu, None if alpha is None else np.asarray(alpha, dtype=float))
    if psi is not None:
        psi = np.asarray(psi, dtype=float)
        f = np.where(k < 0, 0.0, (1.0 - psi) + psi * f)
    return f
