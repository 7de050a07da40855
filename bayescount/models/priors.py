"""Priors as small, validated, serialisable value objects.

Each prior knows how to create its PyMC random variable (:meth:`Prior.create`) and
round-trips through JSON (:meth:`Prior.to_dict` / :func:`prior_from_dict`).
:class:`Priors` gathers the defaults of a count model; every scale is on the
log-rate scale unless stated.
"""

from __future__ import annotations

import math
from dataclasses import InitVar, asdict, dataclass, field, fields
from numbers import Real
from typing import Any, ClassVar

import pymc as pm

from bayescount._warnings import warn_deprecated
from bayescount.exceptions import SpecError

__all__ = [
    "Beta",
    "Exponential",
    "HalfNormal",
    "HalfStudentT",
    "Normal",
    "Prior",
    "Priors",
    "StudentT",
    "prior_from_dict",
]


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, Real) and math.isfinite(value) and value > 0):
            raise SpecError(f"{owner}: {name} must be a positive finite number, got {value!r}.")


def _finite(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, Real) and math.isfinite(value)):
            raise SpecError(f"{owner}: {name} must be a finite number, got {value!r}.")


@dataclass(frozen=True)
class Prior:
    """Base class: a named PyMC distribution with fixed parameters.

    Subclasses are frozen dataclasses whose fields are the PyMC distribution's
    parameters (stored as floats, validated at construction).

    Raises
    ------
    SpecError
        A subclass is given a non-finite, or (for scales and shapes) non-positive,
        parameter.
    """

    dist: ClassVar[str] = ""
    positive: ClassVar[bool] = False

    def _as_floats(self) -> None:
        """Store parameters as floats so equal priors serialise (and hash) equally."""
        for f in fields(self):
            object.__setattr__(self, f.name, float(getattr(self, f.name)))

    def kwargs(self) -> dict[str, float]:
        """Parameters passed to the PyMC distribution."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def create(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable ``name`` inside the current model.

        Parameters
        ----------
        name : str
            Name of the random variable.
        **kwargs
            Passed on to the PyMC distribution (``dims``, ``shape``, ...).

        Returns
        -------
        pytensor.tensor.TensorVariable
            The random variable, registered in the model on the context stack.
        """
        return getattr(pm, self.dist)(name, **self.kwargs(), **kwargs)

    def shifted(self, by: float) -> Prior:
        """Return the prior with its location moved by ``by`` (location priors only).

        Parameters
        ----------
        by : float
            Shift of the location (e.g. the pooled log rate, for the intercept).

        Returns
        -------
        Prior
            A new prior of the same kind.

        Raises
        ------
        SpecError
            The prior has no location (the positive and Beta priors).
        """
        raise SpecError(f"{type(self).__name__} has no location to shift.")

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"dist": name, **parameters}``."""
        return {"dist": self.dist, **asdict(self)}


@dataclass(frozen=True)
class Normal(Prior):
    """Normal(mu, sigma).

    Parameters
    ----------
    mu : float
        Location (finite).
    sigma : float
        Standard deviation (> 0).
    """

    dist: ClassVar[str] = "Normal"
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _finite("Normal", mu=self.mu)
        _positive("Normal", sigma=self.sigma)
        self._as_floats()

    def shifted(self, by: float) -> Normal:
        """Return ``Normal(mu + by, sigma)``.

        Parameters
        ----------
        by : float
            Shift of the location.

        Returns
        -------
        Normal
        """
        return Normal(self.mu + by, self.sigma)


@dataclass(frozen=True)
class StudentT(Prior):
    """Student-t(nu, mu, sigma).

    Parameters
    ----------
    nu : float
        Degrees of freedom (> 0).
    mu : float
        Location (finite).
    sigma : float
        Scale (> 0).
    """

    dist: ClassVar[str] = "StudentT"
    nu: float = 3.0
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _finite("StudentT", mu=self.mu)
        _positive("StudentT", nu=self.nu, sigma=self.sigma)
        self._as_floats()

    def shifted(self, by: float) -> StudentT:
        """Return ``StudentT(nu, mu + by, sigma)``.

        Parameters
        ----------
        by : float
            Shift of the location.

        Returns
        -------
        StudentT
        """
        return StudentT(self.nu, self.mu + by, self.sigma)


@dataclass(frozen=True)
class HalfNormal(Prior):
    """Half-normal(sigma) on the positive reals.

    Parameters
    ----------
    sigma : float
        Scale (> 0).
    """

    dist: ClassVar[str] = "HalfNormal"
    positive: ClassVar[bool] = True
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _positive("HalfNormal", sigma=self.sigma)
        self._as_floats()


@dataclass(frozen=True)
class HalfStudentT(Prior):
    """Half-Student-t(nu, sigma) on the positive reals.

    Parameters
    ----------
    nu : float
        Degrees of freedom (> 0).
    sigma : float
        Scale (> 0).
    """

    dist: ClassVar[str] = "HalfStudentT"
    positive: ClassVar[bool] = True
    nu: float = 3.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _positive("HalfStudentT", nu=self.nu, sigma=self.sigma)
        self._as_floats()


@dataclass(frozen=True)
class Exponential(Prior):
    """Exponential(lam) on the positive reals.

    Parameters
    ----------
    lam : float
        Rate (> 0); the mean is ``1 / lam``.
    """

    dist: ClassVar[str] = "Exponential"
    positive: ClassVar[bool] = True
    lam: float = 1.0

    def __post_init__(self) -> None:
        _positive("Exponential", lam=self.lam)
        self._as_floats()


@dataclass(frozen=True)
class Beta(Prior):
    """Beta(alpha, beta) on (0, 1).

    Parameters
    ----------
    alpha, beta : float
        Shapes (> 0).
    """

    dist: ClassVar[str] = "Beta"
    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        _positive("Beta", alpha=self.alpha, beta=self.beta)
        self._as_floats()


_PRIORS: dict[str, type[Prior]] = {
    cls.dist: cls for cls in (Normal, StudentT, HalfNormal, HalfStudentT, Exponential, Beta)
}


def prior_from_dict(d: dict[str, Any]) -> Prior:
    """Rebuild a prior from :meth:`Prior.to_dict` output.

    Parameters
    ----------
    d : dict
        ``{"dist": name, **parameters}``, e.g. ``{"dist": "Normal", "mu": 0, "sigma": 2}``.

    Returns
    -------
    Prior

    Raises
    ------
    SpecError
        An unknown distribution name or an invalid parameter.
    """
    params = dict(d)
    name = params.pop("dist", None)
    if name not in _PRIORS:
        raise SpecError(f"Unknown prior {name!r}; choose from {sorted(_PRIORS)}.")
    return _PRIORS[name](**params)


def _require(owner: str, prior: Prior, *, positive: bool | None = None, unit: bool = False):
    if not isinstance(prior, Prior):
        raise SpecError(f"{owner} must be a bayescount prior, got {prior!r}.")
    if unit and not isinstance(prior, Beta):
        raise SpecError(f"{owner} must be a Beta prior (a probability), got {prior!r}.")
    if positive is True and not prior.positive:
        raise SpecError(f"{owner} needs a prior on the positive reals, got {prior!r}.")
    if positive is False and (prior.positive or isinstance(prior, Beta)):
        raise SpecError(f"{owner} needs a prior on the real line, got {prior!r}.")


@dataclass(frozen=True)
class Priors:
    """Priors of a count model (defaults are weakly informative on the log-rate scale).

    Parameters
    ----------
    intercept : Prior
        Prior of the log rate per exposure unit, *relative to the pooled log rate*
        ``log(sum(counts) / sum(exposure))``: the default ``Normal(0, 2)`` is centered
        on the pooled rate and allows it to be off by a factor of e^4 either way.
    group_sd : Prior
        Standard deviation of each level's group effects (log-rate scale).
        ``HalfNormal(1)``: a group's rate typically within ×/÷ e^2 of its parent's.
    coefficients : Prior
        Covariate coefficients per standard deviation of a numeric covariate, or per
        level-vs-reference of a categorical one.
    seasonality : Prior
        Fourier coefficients.
    inv_sqrt_alpha : Prior
        ``1 / sqrt(alpha)`` of the negative binomial (NB2, ``var = mu + mu^2 / alpha``;
        the posterior variable has the same name); ``HalfNormal(1)`` shrinks towards
        the Poisson (Stan prior recommendations). The old name ``inv_sqrt_dispersion``
        still works for one release, with a :class:`FutureWarning`.
    zero_inflation : Beta
        ``psi``, PyMC's probability of the *count* part: P(structural zero) = 1 - psi.
    latent_sd : Prior
        Stationary standard deviation of the AR(1) latent level on the log rate
        (``ModelSpec(latent=...)``); innovations have sd ``latent_sd sqrt(1 - rho^2)``.
        ``HalfNormal(0.5)``: excursions typically within ×/÷ e^1 of the seasonal mean.
    latent_rho : Beta
        Lag-one autocorrelation of the latent level per time step, on (0, 1).
        ``Beta(2, 1)``: persistence favoured, white noise (which the dispersion
        already describes) has zero density.
    latent_skew : Prior
        ``-log(kappa)`` of asymmetric Laplace innovations (``"ar1_skew_laplace"``);
        ``Normal(0, 0.5)``: symmetric a priori, up to about 3:1 tail-length ratios.

    Raises
    ------
    SpecError
        A prior on the wrong support (e.g. a Normal for ``group_sd``, or anything but
        a Beta for a probability) or not a bayescount prior.
    """

    intercept: Prior = field(default_factory=lambda: Normal(0.0, 2.0))
    group_sd: Prior = field(default_factory=lambda: HalfNormal(1.0))
    coefficients: Prior = field(default_factory=lambda: Normal(0.0, 1.0))
    seasonality: Prior = field(default_factory=lambda: Normal(0.0, 1.0))
    inv_sqrt_alpha: Prior = field(default_factory=lambda: HalfNormal(1.0))
    zero_inflation: Prior = field(default_factory=lambda: Beta(1.0, 1.0))
    latent_sd: Prior = field(default_factory=lambda: HalfNormal(0.5))
    latent_rho: Prior = field(default_factory=lambda: Beta(2.0, 1.0))
    latent_skew: Prior = field(default_factory=lambda: Normal(0.0, 0.5))
    inv_sqrt_dispersion: InitVar[Prior | None] = None

    def __post_init__(self, inv_sqrt_dispersion: Prior | None) -> None:
        if inv_sqrt_dispersion is not None:
            warn_deprecated(
                "Priors(inv_sqrt_dispersion=...) is now Priors(inv_sqrt_alpha=...), named "
                "after the posterior variable it sets; the old name goes in the next release."
            )
            object.__setattr__(self, "inv_sqrt_alpha", inv_sqrt_dispersion)
        _require("Priors.intercept", self.intercept, positive=False)
        _require("Priors.group_sd", self.group_sd, positive=True)
        _require("Priors.coefficients", self.coefficients, positive=False)
        _require("Priors.seasonality", self.seasonality, positive=False)
        _require("Priors.inv_sqrt_alpha", self.inv_sqrt_alpha, positive=True)
        _require("Priors.zero_inflation", self.zero_inflation, unit=True)
        _require("Priors.latent_sd", self.latent_sd, positive=True)
        _require("Priors.latent_rho", self.latent_rho, unit=True)
        _require("Priors.latent_skew", self.latent_skew, positive=False)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return a JSON-serialisable dict."""
        return {f.name: getattr(self, f.name).to_dict() for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, dict[str, Any]]) -> Priors:
        """Rebuild priors from :meth:`to_dict` output (missing entries keep defaults).

        Parameters
        ----------
        d : dict
            Prior name to :meth:`Prior.to_dict` output.

        Returns
        -------
        Priors

        Raises
        ------
        SpecError
            An unknown prior name or an invalid prior.
        """
        d = dict(d)
        if "inv_sqrt_dispersion" in d:  # fit files written before the rename
            d["inv_sqrt_alpha"] = d.pop("inv_sqrt_dispersion")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SpecError(f"Unknown prior name(s) {unknown}; valid names: {sorted(names)}.")
        return cls(**{k: prior_from_dict(v) for k, v in d.items()})
