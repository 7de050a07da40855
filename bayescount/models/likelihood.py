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

__all__ = ["count_histogram", "log_factorial", "nb_histogram_loglik", "observe"]


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


def count_histogram(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Return the distinct counts, how often each occurs and ``sum log y!``.

    Parameters
    ----------
    counts : numpy.ndarray
        Counts per window, dim ``obs``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``count_values`` (dim ``count_value``: the distinct counts, float64),
        ``count_multiplicity`` (dim ``count_value``: rows with that count) and
        ``log_factorial_sum`` (0-d: ``sum_i log y_i!``): the ``pm.Data`` values of
        :func:`nb_histogram_loglik`.
    """
    values, multiplicity = np.unique(np.asarray(counts, dtype=np.float64), return_counts=True)
    return {
        "count_values": values,
        "count_multiplicity": multiplicity.astype(np.float64),
        "log_factorial_sum": np.asarray(np.sum(log_factorial(values) * multiplicity)),
    }


def nb_histogram_loglik(eta, alpha, counts, values, multiplicity, log_factorial_sum):
    """Return the summed NB2 log density of one shape, its gamma terms over distinct counts.

    With one shape ``a`` for every row, ``sum_i lgamma(y_i + a) = sum_k n_k lgamma(k + a)``
    over the distinct counts ``k`` (``n_k`` rows each), so the gamma functions (and
    their digamma gradients) are evaluated once per distinct count instead of once per
    row. The per-row part is written stably for ``a >> mu``:
    ``a log(a / (a + mu)) + y log(mu / (a + mu)) = y (eta - log a) - (a + y) log1p(mu / a)``
    with ``mu = exp(eta)``. The total equals the sum of the NB2 pmf over rows.

    Parameters
    ----------
    eta : pytensor.tensor.TensorVariable
        Log expected count of each row (log exposure included), dim ``obs``.
    alpha : pytensor.tensor.TensorVariable
        The NB2 shape (a scalar).
    counts : pytensor.tensor.TensorVariable
        The counts, dim ``obs`` (float64).
    values, multiplicity, log_factorial_sum : pytensor.tensor.TensorVariable
        :func:`count_histogram` of the counts.

    Returns
    -------
    pytensor.tensor.TensorVariable
        The 0-d log density.
    """
    n_rows = pt.sum(multiplicity)
    log_a = pt.log(alpha)
    gamma_part = pt.dot(multiplicity, pt.gammaln(values + alpha)) - n_rows * pt.gammaln(alpha)
    row_part = pt.sum(counts * (eta - log_a) - (alpha + counts) * pt.log1p(pt.exp(eta - log_a)))
    return gamma_part + row_part - log_factorial_sum


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
