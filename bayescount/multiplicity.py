"""Multiple testing in the checks: one Benjamini–Hochberg family per check.

A check with ``--by service`` computes dozens of p-values (5 statistics x every group,
a calibration z per group, a residual autocorrelation per series). Flagged one by one
at 5-10 %, a model that is exactly right is flagged somewhere almost every time. The
checks therefore control the **false discovery rate** (Benjamini & Hochberg 1995,
``statsmodels.stats.multitest.multipletests(method="fdr_bh")``) over *every* p-value
of the check together, at level :data:`FDR_LEVEL`, and flag a test when its adjusted
p-value is at most that level. When the model is right (every null hypothesis true)
BH also bounds the chance of *any* flag by the level (Benjamini & Hochberg 1995,
Theorem 1, for independent or positively dependent tests), so ``check --strict`` fails
a correct model at about that rate or less.

Only NumPy, SciPy and statsmodels are needed here.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from bayescount.constants import FDR_LEVEL

__all__ = ["FDR_LEVEL", "adjust_p_values", "normal_p_value", "two_sided_p_value"]



def two_sided_p_value(p_upper: np.ndarray | float, n_draws: int | None = None) -> np.ndarray:
    """Two-sided p-value ``min(1, 2 min(p, 1 - p))`` from an upper-tail (mid-)p-value.

    Parameters
    ----------
    p_upper : float or array
        ``P(T_rep > T_obs) + 0.5 P(T_rep = T_obs)`` over ``n_draws`` replicates (NaN
        stays NaN).
    n_draws : int, optional
        Number of replicates behind a Monte Carlo ``p_upper``. The observed statistic
        then counts as one more exchangeable draw (mid-rank among ``n + 1``), so
        ``p = (n p_upper + 0.5) / (n + 1)`` and the two-sided value is never below
        ``1 / (n + 1)``: a Monte Carlo p-value of exactly 0 would be flagged whatever
        the number of tests (Phipson & Smyth 2010, "Permutation p-values should never
        be zero").

    Returns
    -------
    numpy.ndarray
        Two-sided p-values in ``(0, 1]``.
    """
    p = np.asarray(p_upper, dtype=float)
    if n_draws is not None:
        p = (n_draws * p + 0.5) / (n_draws + 1.0)
    return np.minimum(1.0, 2.0 * np.minimum(p, 1.0 - p))


def normal_p_value(z: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value ``2 (1 - Phi(|z|))`` of a standard normal statistic (NaN stays NaN).

    Parameters
    ----------
    z : float or numpy.ndarray
        Standard normal statistics.

    Returns
    -------
    numpy.ndarray
        Two-sided p-values in ``[0, 1]``, the shape of ``z`` (``scipy.stats.norm.sf``).
    """
    return 2.0 * stats.norm.sf(np.abs(np.asarray(z, dtype=float)))


def adjust_p_values(p: np.ndarray, method: str = "fdr_bh") -> np.ndarray:
    """Multiplicity-adjusted p-values of one family, ignoring NaN entries.

    Parameters
    ----------
    p : array of float
        Raw p-values; NaN (an undefined test) is left out of the family and stays NaN.
    method : str
        A ``statsmodels.stats.multitest.multipletests`` method: ``"fdr_bh"``
        (Benjamini–Hochberg, false discovery rate; the default) or ``"holm"``
        (family-wise error).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape as ``p``; a test is rejected at level ``q`` when
        its adjusted value is ``<= q``.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(np.clip(p[ok], 0.0, 1.0), method=method)[1]
    return out
