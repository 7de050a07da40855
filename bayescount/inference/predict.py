"""Posterior predictive draws for fitted or new rows.

The linear predictor is evaluated from posterior draws with numpy (the same formula
as :mod:`bayescount.models.builder`; a test pins them together), which lets new
group labels be drawn from their level's population distribution per draw.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayescount.exceptions import SpecError, UnknownGroupError
from bayescount.inference.latent import latent_values
from bayescount.models.builder import OBS_DIM
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData

__all__ = [
    "Prediction",
    "PredictiveParameters",
    "count_intensities",
    "draw_counts",
    "predictive_parameters",
    "sample_counts",
]

SAMPLE_DIMS = ("chain", "draw")


@dataclass(frozen=True)
class PredictiveParameters:
    """Per-draw parameters of each row's count distribution, dims ``(chain, draw, obs)``.

    ``alpha`` (negative binomial shape) and ``psi`` (probability of the count part)
    are ``None`` when the family has no such parameter.

    Attributes
    ----------
    mu : xarray.DataArray
        Expected count of each row for its exposure (counts per window), dims
        ``(chain, draw, obs)``; exactly 0 where the exposure is 0.
    alpha : xarray.DataArray or None
        NB2 shape, ``var = mu + mu**2 / alpha`` (Cameron & Trivedi 2013), dims
        ``(chain, draw, obs)``; ``None`` for Poisson families.
    psi : xarray.DataArray or None
        Probability of the count part (PyMC's zero-inflation convention), dims
        ``(chain, draw, obs)``; ``None`` without zero inflation.
    exposure : numpy.ndarray
        Dim ``obs``: each row's exposure, in exposure units.
    """

    mu: xr.DataArray
    alpha: xr.DataArray | None
    psi: xr.DataArray | None
    exposure: np.ndarray


def _draw_shape(posterior: xr.Dataset) -> tuple[int, int]:
    return posterior.sizes["chain"], posterior.sizes["draw"]


def _level_values(
    values: np.ndarray,
    codes: np.ndarray,
    n_new: int,
    new_draw,
) -> np.ndarray:
    """Index per-label draws ``values (chain, draw, label)`` by ``codes``; new labels drawn."""
    if n_new:
        values = np.concatenate([values, new_draw(n_new)], axis=-1)
    return values[..., codes]


def predictive_parameters(
    posterior: xr.Dataset,
    spec: ModelSpec,
    design: Design,
    data: PreparedData,
    *,
    unseen: Literal["population", "error"] = "population",
    rng: np.random.Generator,
) -> PredictiveParameters:
    """Evaluate ``mu`` (and ``alpha``, ``psi``) for every posterior draw and row.

    Labels not seen when fitting get, per draw, an effect from their level's
    population distribution ``Normal(0, level_sd)`` (``unseen="population"``), or are
    refused with :class:`~bayescount.exceptions.UnknownGroupError` (``"error"``).
    A row with zero exposure has ``mu = 0`` exactly: zero expected events.
    A latent level is continued past the fitted time grid per draw
    (:func:`~bayescount.inference.latent.latent_values`).

    The log link is ``log mu = intercept + log(exposure) + sum of group effects +
    X @ beta + F @ fourier (+ latent)``, the formula of
    :func:`bayescount.models.build_model`.

    Parameters
    ----------
    posterior : xarray.Dataset
        Posterior draws, dims ``(chain, draw, ...)``.
    spec : ModelSpec
        The fitted model's specification.
    design : Design
        The fitted encoding (levels, covariate and Fourier terms, time grid).
    data : PreparedData
        The rows, encoded with ``design``, dim ``obs``.
    unseen : {"population", "error"}
        What to do with group labels not seen when fitting.
    rng : numpy.random.Generator
        Source of the draws of unseen effects, unseen dispersions and future
        latent steps.

    Returns
    -------
    PredictiveParameters
        ``mu``, ``alpha``, ``psi``, dims ``(chain, draw, obs)``.

    Raises
    ------
    UnknownGroupError
        Unseen labels with ``unseen="error"`` (the message lists them).
    SpecError
        ``unseen`` is neither ``"population"`` nor ``"error"``.
    """
    if unseen not in ("population", "error"):
        raise SpecError(f"unseen must be 'population' or 'error', got {unseen!r}.")
    if data.new_labels and unseen == "error":
        shown = "; ".join(f"{k}: {list(v)[:5]}" for k, v in data.new_labels.items())
        raise UnknownGroupError(
            f"Labels not seen when fitting: {shown}. Pass unseen='population' to draw "
            "their effects from the population distribution, or drop these rows."
        )
    chains, draws = _draw_shape(posterior)
    with np.errstate(divide="ignore"):  # zero exposure: log 0 = -inf, so mu = 0 exactly
        log_exposure = data.log_exposure
    eta = posterior["intercept"].values[..., None] + log_exposure
    for lvl in design.levels:
        new = data.new_labels.get(lvl.name, ())
        sd = posterior[f"{lvl.name}_sd"].values[..., None]

        def draw_effects(n: int, sd=sd) -> np.ndarray:
            return rng.normal(size=(chains, draws, n)) * sd

        eta = eta + _level_values(
            posterior[f"{lvl.name}_effect"].values,
            data.group_codes[lvl.name],
            len(new),
            draw_effects,
        )
    if design.covariate_terms:
        eta = eta + np.einsum("cdk,nk->cdn", posterior["beta"].values, data.covariates)
    if design.fourier_terms:
        eta = eta + np.einsum("cdk,nk->cdn", posterior["fourier"].values, data.fourier)
    if spec.latent is not None:
        eta = eta + latent_values(posterior, spec, design, data, rng)
    dims = (*SAMPLE_DIMS, OBS_DIM)
    coords = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
        OBS_DIM: np.arange(data.n),
    }
    mu = xr.DataArray(np.exp(eta), dims=dims, coords=coords, name="mu")
    alpha = psi = None
    if spec.is_negative_binomial:
        alpha_values = _alpha(posterior, spec, design, data, rng, chains, draws)
        alpha = xr.DataArray(alpha_values, dims=dims, coords=coords, name="alpha")
    if spec.is_zero_inflated:
        psi_values = np.broadcast_to(posterior["psi"].values[..., None], eta.shape)
        psi = xr.DataArray(psi_values, dims=dims, coords=coords, name="psi")
    return PredictiveParameters(mu, alpha, psi, data.exposure)


def _alpha(posterior, spec, design, data, rng, chains, draws) -> np.ndarray:
    by = spec.dispersion_by
    alpha = posterior["alpha"].values
    if by is None:
        alpha = np.broadcast_to(alpha[..., None], (chains, draws, data.n))
    else:
        prior = spec.priors.inv_sqrt_alpha

        def draw_prior(n: int) -> np.ndarray:
            # A label without its own dispersion: its shape comes from the prior.
            dist = getattr(pm, prior.dist).dist(**prior.kwargs())
            inv_sqrt = pm.draw(dist, draws=chains * draws * n, random_seed=rng)
            return 1.0 / np.square(np.reshape(inv_sqrt, (chains, draws, n)))

        alpha = _level_values(
            alpha, data.group_codes[by], len(data.new_labels.get(by, ())), draw_prior
        )
    if spec.dispersion_scales_with_exposure:
        # A zero-exposure row (mu = 0, a point mass at 0 whatever alpha) keeps alpha > 0.
        exposure = np.where(data.exposure > 0, data.exposure, design.reference_exposure)
        alpha = alpha * exposure / design.reference_exposure
    return alpha


def count_intensities(
    mu: np.ndarray,
    alpha: np.ndarray | None,
    psi: np.ndarray | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw each count's Poisson intensity: the family's mixing drawn once.

    Negative binomial (NB2, ``var = mu + mu**2 / alpha``) is the gamma–Poisson
    mixture ``lambda ~ Gamma(alpha, scale=mu / alpha)``; zero inflation (PyMC's
    convention, ``psi`` = probability of the count part) zeroes the intensity with
    probability ``1 - psi``. Source: Cameron & Trivedi (2013), *Regression Analysis of
    Count Data*, §4.2; PyMC's ``ZeroInflatedPoisson``.

    Parameters
    ----------
    mu : numpy.ndarray
        Expected counts per window (any shape).
    alpha, psi : numpy.ndarray or None
        NB2 shape and count-part probability, broadcastable to ``mu`` (``None``
        when the family has none).
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray
        Intensities, the shape of ``mu``: ``rng.poisson`` of them are the counts.
    """
    lam = _gamma_mixed(mu, alpha, rng)
    if psi is not None:
        lam = lam * (rng.random(np.shape(lam)) < psi)
    return lam


def _gamma_mixed(mu, alpha, rng: np.random.Generator) -> np.ndarray:
    mu = np.asarray(mu, dtype=float)
    return mu if alpha is None else rng.gamma(alpha, mu / alpha)


def draw_counts(
    mu: np.ndarray,
    alpha: np.ndarray | None,
    psi: np.ndarray | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw counts (int64) of the family given by ``alpha`` and ``psi``.

    The one count sampler of the four families (see :func:`count_intensities` for the
    parameters and the source): gamma mixing, Poisson counts, then the structural
    zeros — in that order, so a seed gives the same counts as in earlier releases.

    Returns
    -------
    numpy.ndarray
        Counts, int64, the shape of ``mu``.
    """
    counts = rng.poisson(_gamma_mixed(mu, alpha, rng))
    if psi is not None:
        counts = counts * (rng.random(np.shape(counts)) < psi)
    return counts.astype(np.int64)


def sample_counts(params: PredictiveParameters, rng: np.random.Generator) -> xr.DataArray:
    """Draw one count per posterior draw and row, dims ``(chain, draw, obs)``.

    Parameters
    ----------
    params : PredictiveParameters
        Per-draw ``mu``, ``alpha``, ``psi``, dims ``(chain, draw, obs)``.
    rng : numpy.random.Generator
        Source of the draws (:func:`draw_counts`).

    Returns
    -------
    xarray.DataArray
        ``counts`` (counts per window, int64), dims ``(chain, draw, obs)``.
    """
    counts = draw_counts(
        params.mu.values,
        None if params.alpha is None else params.alpha.values,
        None if params.psi is None else params.psi.values,
        rng,
    )
    return params.mu.copy(data=counts).rename("counts")


@dataclass(frozen=True)
class Prediction:
    """Posterior predictive draws for a table of rows.

    Attributes
    ----------
    draws : xarray.DataArray
        Dims ``(chain, draw, obs)``; counts, or counts per exposure unit when
        ``scale == "rate"``.
    rows : pandas.DataFrame
        The input rows, in order (``obs`` i is ``rows.iloc[i]``).
    scale : {"counts", "rate"}
        What ``draws`` hold.
    params : PredictiveParameters, optional
        The per-draw parameters the draws came from; with them, quantiles are the
        exact integer quantiles of the predictive mixture.
    """

    draws: xr.DataArray
    rows: pd.DataFrame
    scale: Literal["counts", "rate"]
    params: PredictiveParameters | None = None

    def mean(self) -> np.ndarray:
        """Posterior predictive mean per row (NaN for the rate of a zero-exposure row)."""
        return self.draws.mean(SAMPLE_DIMS, skipna=False).values

    def quantiles(self, q: Sequence[float]) -> np.ndarray:
        """``(len(q), n_rows)`` posterior predictive quantiles, in the units of :attr:`draws`.

        A count quantile is a count, computed one way everywhere: the smallest integer
        ``y`` with ``P(Y <= y) >= q`` under the predictive mixture over posterior
        draws (:func:`~bayescount.inference.predictive_cdf.mixture_quantile`, as the
        anomaly bounds and coverage use). ``q`` of 0 or 1, or a prediction without
        its parameters, takes the same rule on the draws (``inverted_cdf``). On the
        rate scale the count quantile is divided by the row's exposure (NaN where it
        is zero).

        Parameters
        ----------
        q : sequence of float
            Probabilities in [0, 1].

        Returns
        -------
        numpy.ndarray
            Shape ``(len(q), n_rows)``.
        """
        from bayescount.inference.predictive_cdf import mixture_quantile

        values = self.draws.values.reshape(-1, self.draws.shape[-1])
        rate = self.scale == "rate" and self.params is not None
        if rate:
            exposure = np.asarray(self.params.exposure, dtype=float)
            values = np.rint(values * exposure)  # back to counts
        out = np.empty((len(q), values.shape[1]))
        for i, p in enumerate(q):
            if self.params is not None and 0 < p < 1:
                out[i] = mixture_quantile(self.params, float(p))
            else:
                out[i] = np.quantile(values, p, axis=0, method="inverted_cdf")
        if rate:
            out = np.divide(out, exposure, out=np.full(out.shape, np.nan), where=exposure > 0)
        return out

    def to_frame(self, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Return the input rows plus ``mean`` and one ``q<level>`` column per quantile.

        Parameters
        ----------
        quantiles : sequence of float
            Probabilities in [0, 1]; each adds a column ``q{p:g}`` (e.g. ``q0.05``).

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`rows` with the new columns (counts, or counts per
            exposure unit when ``scale == "rate"``).

        Raises
        ------
        SpecError
            A quantile outside [0, 1].
        """
        bad = [q for q in quantiles if not 0 <= q <= 1]
        if bad:
            raise SpecError(f"Quantiles must lie in [0, 1], got {bad}.")
        out = self.rows.copy()
        out["mean"] = self.mean()
        for q, values in zip(quantiles, self.quantiles(quantiles), strict=True):
            out[f"q{q:g}"] = values
        return out

    def _repr_html_(self) -> str:
        head = html.escape(f"Prediction of {len(self.rows)} rows ({self.scale})")
        return f"<strong>{head}</strong>{self.to_frame().head(20).to_html()}"
