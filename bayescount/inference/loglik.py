"""Pointwise log-likelihood of the training rows, computed from posterior draws.

The sampled graph may evaluate the likelihood on sufficient statistics
(:mod:`bayescount.models.compression`), which has no per-row terms. LOO and WAIC need
``log p(y_i | theta_s)`` per row and draw, so it is computed after sampling, in numpy,
from each row's predictive parameters (:func:`~bayescount.inference.predict.predictive_parameters`,
the builder's own link) and the family's pmf, for every family alike.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from bayescount.inference.predict import SAMPLE_DIMS, predictive_parameters
from bayescount.models.builder import OBS_DIM
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData

__all__ = ["count_logpmf", "pointwise_log_likelihood"]


def count_logpmf(
    y: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray | None = None,
    psi: np.ndarray | None = None,
) -> np.ndarray:
    """Log pmf of counts under Poisson, NB2 and their zero-inflated forms.

    Poisson ``log p = y log mu - mu - log y!``; NB2 with mean ``mu`` and shape
    ``alpha`` (``var = mu + mu**2 / alpha``; Cameron & Trivedi 2013, §3.3) is
    :data:`scipy.stats.nbinom` with ``n = alpha``, ``p = alpha / (alpha + mu)``. Zero
    inflation follows PyMC's convention (``psi`` = probability of the count part):
    ``p(0) = (1 - psi) + psi f(0)``, ``p(y) = psi f(y)`` for ``y > 0``.

    Parameters
    ----------
    y : numpy.ndarray
        Counts, broadcastable against ``mu``.
    mu : numpy.ndarray
        Expected counts per window.
    alpha : numpy.ndarray, optional
        NB2 shape (``None``: Poisson).
    psi : numpy.ndarray, optional
        Probability of the count part (``None``: no zero inflation).

    Returns
    -------
    numpy.ndarray
        ``log p(y)``, the broadcast shape.
    """
    if alpha is None:
        logp = stats.poisson.logpmf(y, mu)
    else:
        logp = stats.nbinom.logpmf(y, alpha, alpha / (alpha + mu))
    if psi is None:
        return logp
    with np.errstate(divide="ignore"):
        at_zero = np.logaddexp(np.log1p(-psi), np.log(psi) + logp)
        return np.where(y == 0, at_zero, np.log(psi) + logp)


def pointwise_log_likelihood(
    posterior: xr.Dataset, spec: ModelSpec, design: Design, data: PreparedData
) -> xr.Dataset:
    """Return ``log p(y_i | theta)`` of every training row and posterior draw.

    Parameters
    ----------
    posterior : xarray.Dataset
        Posterior draws, dims ``(chain, draw, ...)``.
    spec : ModelSpec
        The fitted model.
    design : Design
        The fitted encoding.
    data : PreparedData
        The training rows (with counts), encoded with ``design``, dim ``obs``.

    Returns
    -------
    xarray.Dataset
        Variable ``y``, dims ``(chain, draw, obs)``: the ``log_likelihood`` group
        ArviZ's ``loo`` reads.
    """
    params = predictive_parameters(
        posterior, spec, design, data, unseen="error", rng=np.random.default_rng(0)
    )
    alpha = None if params.alpha is None else params.alpha.values
    psi = None if params.psi is None else params.psi.values
    logp = count_logpmf(np.asarray(data.counts), params.mu.values, alpha, psi)
    return xr.Dataset(
        {"y": ((*SAMPLE_DIMS, OBS_DIM), logp)},
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values,
                OBS_DIM: np.arange(data.n)},
    )
