"""The seasonal (Fourier) coefficients, sampled in the axes of the data's information.

Over a training span shorter than a period, a Fourier block is nearly collinear: on
four hours, a daily sine is almost a straight line in time and a weekly cosine almost
a constant, so the likelihood pins down a few combinations of the coefficients tightly
and leaves the others to the prior. Sampled as they are, the coefficients form a thin,
tilted ellipsoid that a diagonal mass matrix cannot adapt to: NUTS then takes hundreds
of leapfrog steps per draw and mixes badly.

The fix is a fixed rotation. With ``M = F^T W F`` the information-weighted cross-product
of the (centred) Fourier rows (``W = diag(w)``,
:func:`~bayescount.prep.seasonality.information_weights`) and ``M = V S V^T`` its
eigendecomposition, the model samples ``fourier_free = V^T fourier`` and derives
``fourier = V @ fourier_free`` (a deterministic, stored in the posterior as before).
In those axes the Poisson log-likelihood's curvature is about ``diag(S)`` plus the
prior's, which a diagonal mass matrix matches: the same idea as the QR
reparameterisation of regression coefficients (Stan User's Guide §1.2, "The QR
reparameterization"), with the weights of the count model's Fisher information.

The rotation is exact, not an approximation: ``V`` is orthogonal, so under the
isotropic prior ``fourier ~ Normal(0, sigma)`` (the default ``Normal(0, 1)``) the
rotated coefficients have the same prior, and the posterior of ``fourier`` is
unchanged. Other seasonality priors (a Student-t, a non-zero location) are not
rotation invariant; their coefficients are sampled unrotated.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescount.models.compression import distinct_rows
from bayescount.models.priors import Normal, Prior
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.seasonality import information_weights

__all__ = [
    "FOURIER_FREE",
    "fourier_coefficients",
    "fourier_rotation",
    "fourier_times",
    "rotatable",
]

#: Name (and ``<name>_dim`` dim) of the sampled, rotated Fourier coefficients.
FOURIER_FREE = "fourier_free"


def fourier_times(fourier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct rows of a Fourier design and each row's position among them.

    Rows at the same timestamp have identical features, so the seasonal term is
    computed once per distinct timestamp and gathered per row.

    Parameters
    ----------
    fourier : numpy.ndarray
        Shape ``(obs, fourier_term)``: the rows' Fourier features.

    Returns
    -------
    times : numpy.ndarray
        Shape ``(fourier_time, fourier_term)``: the distinct rows, sorted.
    index : numpy.ndarray
        Dim ``obs`` (int64): ``fourier[i] == times[index[i]]``.
    """
    fourier = np.asarray(fourier, dtype=np.float64)
    if fourier.shape[0] == 0:
        return fourier, np.zeros(0, dtype=np.int64)
    times, _, index = distinct_rows(fourier)
    return times, index


def rotatable(prior: Prior) -> bool:
    """Whether a seasonality prior is invariant under rotations (``Normal(0, sigma)``).

    Parameters
    ----------
    prior : Prior
        ``Priors.seasonality``.

    Returns
    -------
    bool
    """
    return isinstance(prior, Normal) and prior.mu == 0.0


def fourier_rotation(data: PreparedData) -> np.ndarray:
    """Return the orthogonal ``V`` whose columns are the information axes of the Fourier rows.

    Parameters
    ----------
    data : PreparedData
        The training rows (counts, exposure and centred Fourier features, dims ``obs``
        and ``(obs, fourier_term)``).

    Returns
    -------
    numpy.ndarray
        Shape ``(fourier_term, fourier_free_dim)``, orthogonal: the eigenvectors of
        ``F^T diag(w) F`` by decreasing eigenvalue, each signed so that its largest
        entry is positive (the same data give the same ``V``).
    """
    F = np.asarray(data.fourier, dtype=np.float64)
    k = F.shape[1]
    if data.counts is None or F.shape[0] == 0:
        return np.eye(k)
    w = information_weights(data.counts, data.exposure)
    # Rows share a timestamp's features: sum the weights per distinct row first.
    times, index = fourier_times(F)
    w_t = np.bincount(index, weights=w, minlength=len(times))
    information = (times * w_t[:, None]).T @ times
    _, vectors = np.linalg.eigh(information)
    vectors = vectors[:, ::-1]
    largest = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[largest, np.arange(k)])
    return vectors * np.where(signs == 0, 1.0, signs)


def fourier_coefficients(prior: Prior, design: Design, data: PreparedData):
    """Create the model's ``fourier`` coefficients (inside a ``pm.Model`` context).

    Parameters
    ----------
    prior : Prior
        ``Priors.seasonality``.
    design : Design
        The encoding (its Fourier terms).
    data : PreparedData
        The training rows, for the rotation (:func:`fourier_rotation`).

    Returns
    -------
    TensorVariable or None
        Dim ``fourier_term``: the deterministic ``fourier = V @ fourier_free`` when the
        prior is :func:`rotatable`, else the free variable ``fourier``; ``None``
        without seasonality.
    """
    if not design.fourier_terms:
        return None
    if not rotatable(prior):
        return prior.create("fourier", dims="fourier_term")
    rotation = fourier_rotation(data)
    free = prior.create(FOURIER_FREE, dims=f"{FOURIER_FREE}_dim")
    return pm.Deterministic(
        "fourier", pt.dot(pt.as_tensor(rotation), free), dims="fourier_term"
    )
