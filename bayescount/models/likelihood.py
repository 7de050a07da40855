"""The observation model: one fused log-density expression per family.

PyMC's ``Poisson`` and ``NegativeBinomial`` evaluate ``gammaln(y + 1)`` for every row at
every gradient when the counts are data containers (they cannot be constant-folded
because backtests swap them), and guard the support with per-row switches. Here the
counts' normalising constant ``log y!`` is computed once, in numpy, and enters the graph
as a data container, so the log density stays exact (it is the pmf, as
:func:`pymc.compute_log_likelihood` reports it) at the cost of one subtraction per row.
Random draws (prior predictive) come from the PyMC distribution itself.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.special import gammaln

__all__ = ["log_factorial", "observe"]


def log_factorial(counts: np.ndarray | None) -> np.ndarray | None:
    """Return ``log(y!)`` of each count (float64), or ``None`` for ``None``.

    Parameters
    ----------
    counts : numpy.ndarray or None
        Counts per window, dim ``obs``.

    Returns
    -------
    numpy.ndarray or None
        ``gammaln(counts + 1)``, dim ``obs``.
    """
    if counts is None:
        return None
    return gammaln(np.asarray(counts, dtype=np.float64) + 1.0)


def _poisson_logp(value, mu, log_fact):
    # log(mu) of mu = exp(eta) is rewritten to eta when compiled.
    return value * pt.log(mu) - mu - log_fact


def _poisson_dist(mu, log_fact, size):
    return pm.Poisson.dist(mu=mu, size=size)


def _nb_logp(value, mu, alpha, log_fact):
    # NB2 pmf: Gamma(y + a) / (Gamma(a) y!) (a / (a + mu))^a (mu / (a + mu))^y, with
    # a log(a / (a + mu)) = -a log1p(mu / a) for accuracy when a >> mu.
    log_a_mu = pt.log(alpha + mu)
    return (
        pt.gammaln(value + alpha) - pt.gammaln(alpha) - log_fact
        - alpha * pt.log1p(mu / alpha) + value * (pt.log(mu) - log_a_mu)
    )


def _nb_dist(mu, alpha, log_fact, size):
    return pm.NegativeBinomial.dist(mu=mu, alpha=alpha, size=size)


def observe(spec, mu, alpha, psi, counts, log_fact, dims: str) -> pt.TensorVariable:
    """Create the observed variable ``y`` of ``spec``'s family in the current model.

    Parameters
    ----------
    spec : ModelSpec
        The model (its family).
    mu : pytensor.tensor.TensorVariable
        Expected count of each row, dim ``dims``.
    alpha : pytensor.tensor.TensorVariable or None
        NB2 shape (scalar or per row); negative binomial families only.
    psi : pytensor.tensor.TensorVariable or None
        Probability of the count part; zero-inflated families only.
    counts : pytensor.tensor.TensorVariable
        The observed counts (a data container, float64).
    log_fact : pytensor.tensor.TensorVariable
        ``log(y!)`` of the counts (a data container, :func:`log_factorial`).
    dims : str
        The rows' dimension.

    Returns
    -------
    pytensor.tensor.TensorVariable
        The observed random variable ``y``.
    """
    if spec.family == "poisson":
        return pm.CustomDist("y", mu, log_fact, dist=_poisson_dist, logp=_poisson_logp,
                             observed=counts, dims=dims)
    if spec.family == "negative_binomial":
        return pm.CustomDist("y", mu, alpha, log_fact, dist=_nb_dist, logp=_nb_logp,
                             observed=counts, dims=dims)
    kwargs = {"mu": mu, "psi": psi, "observed": counts, "dims": dims}
    if spec.family == "zero_inflated_poisson":
        return pm.ZeroInflatedPoisson("y", **kwargs)
    return pm.ZeroInflatedNegativeBinomial("y", alpha=alpha, **kwargs)
