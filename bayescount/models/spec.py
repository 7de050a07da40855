"""The frozen specification of a count model: family, structure, priors, options."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import pandas as pd

from bayescount.constants import FAMILIES, LATENT_KINDS, PARAMETERIZATIONS
from bayescount.exceptions import SpecError
from bayescount.models.priors import Priors
from bayescount.prep.design import Design
from bayescount.prep.schema import CountSchema
from bayescount.prep.seasonality import Seasonality, parse_seasonality

__all__ = ["FAMILIES", "LATENT_KEY", "LATENT_KINDS", "PARAMETERIZATIONS", "ModelSpec", "as_spec"]

#: Key of the latent level in ``ModelSpec.parameterization``.
LATENT_KEY = "latent"

Family = Literal[
    "poisson", "negative_binomial", "zero_inflated_poisson", "zero_inflated_negative_binomial"
]


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a count model, independent of the data values.

    Parameters
    ----------
    schema : CountSchema
        Which columns hold counts, exposure, time, groups and covariates.
    family : str
        ``"poisson"``, ``"negative_binomial"`` (NB2: ``var = mu + mu^2 / alpha``),
        ``"zero_inflated_poisson"`` or ``"zero_inflated_negative_binomial"``. The
        zero-inflated families follow PyMC: ``psi`` is the probability of the *count*
        part, so a row is a structural zero with probability ``1 - psi``.
    seasonality : tuple of Seasonality
        Fourier components computed from the time column.
    dispersion_by : str, optional
        Negative binomial only: a group level whose labels each get their own
        dispersion. Default ``None``: one dispersion for the whole model.
    dispersion_scales_with_exposure : bool
        Negative binomial only: multiply the shape ``alpha`` by
        ``exposure / median(exposure)`` (brms ``rate()``), so a window twice as long
        behaves like the sum of two windows. Use it when exposure is a time length.
        Default ``False`` (constant shape, the usual NB2).
    parameterization : dict of str to str
        Per group level: ``"centered"``, ``"non_centered"`` or ``"auto"`` (default).
        ``"auto"`` picks centered when the level's signal-to-noise ratio (median over
        groups of information x between-group variance, see
        :func:`~bayescount.models.parameterization.signal_to_noise`) reaches
        ``centered_threshold`` (data-rich, distinct groups) and non-centered otherwise.
    centered_threshold : float
        Signal-to-noise ratio from which ``"auto"`` chooses centered (default 1: the
        group's own data pin its effect as tightly as the population prior does).
    priors : Priors
        Prior value objects.
    latent : {None, "ar1", "ar1_laplace", "ar1_skew_laplace"}
        A time-varying level: ``"ar1"`` adds a stationary AR(1) process on the log rate,
        one path per label of ``latent_by``, on the regular time grid of the time
        column (needs ``time``); ``"ar1_laplace"`` the same with Laplace innovations
        (bursty series: mostly calm steps, occasional large jumps);
        ``"ar1_skew_laplace"`` with asymmetric Laplace ones whose skew is estimated
        (bursts mostly upwards, as traffic spikes are). Bursts and drifts
        then become excursions of the latent path, autocorrelated over time, instead
        of widening the dispersion of every window. Default ``None``.
    latent_by : str, optional
        The group level whose labels each get their own latent path. Default: the
        finest nested level (one path per series); no groups: one path. Crossed
        groups must name the level.
    """

    schema: CountSchema
    family: Family = "poisson"
    seasonality: tuple[Seasonality, ...] = ()
    dispersion_by: str | None = None
    dispersion_scales_with_exposure: bool = False
    parameterization: dict[str, str] = field(default_factory=dict)
    centered_threshold: float = 1.0
    priors: Priors = field(default_factory=Priors)
    latent: Literal["ar1", "ar1_laplace", "ar1_skew_laplace"] | None = None
    latent_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seasonality", tuple(self.seasonality))
        object.__setattr__(self, "parameterization", dict(self.parameterization))
        if self.family not in FAMILIES:
            raise SpecError(f"Unknown family {self.family!r}; choose from {list(FAMILIES)}.")
        if not self.is_negative_binomial and (
            self.dispersion_by is not None or self.dispersion_scales_with_exposure
        ):
            raise SpecError(
                "dispersion_by / dispersion_scales_with_exposure apply to negative binomial "
                f"families only, not {self.family!r}."
            )
        if self.dispersion_by is not None and self.dispersion_by not in self.schema.groups:
            raise SpecError(
                f"dispersion_by={self.dispersion_by!r} is not a group; groups are "
                f"{list(self.schema.groups)}."
            )
        self._check_latent()
        for level, choice in self.parameterization.items():
            if level not in self.schema.groups and not (
                level == LATENT_KEY and self.latent is not None
            ):
                extra = f" (or {LATENT_KEY!r} with a latent level)"
                raise SpecError(
                    f"parameterization names {level!r}, not a group; groups are "
                    f"{list(self.schema.groups)}{extra}."
                )
            if choice not in PARAMETERIZATIONS:
                raise SpecError(
                    f"parameterization[{level!r}]={choice!r}; "
                    f"choose from {list(PARAMETERIZATIONS)}."
                )
        if self.dispersion_scales_with_exposure and self.schema.exposure is None:
            raise SpecError("dispersion_scales_with_exposure needs an exposure column.")
        if not (isinstance(self.centered_threshold, Real) and self.centered_threshold > 0):
            raise SpecError(f"centered_threshold must be > 0, got {self.centered_threshold!r}.")
        object.__setattr__(self, "centered_threshold", float(self.centered_threshold))
        names = [s.name for s in self.seasonality]
        if len(set(names)) != len(names):
            raise SpecError(f"Seasonality components repeat a name: {names}.")

    @classmethod
    def from_options(
        cls,
        counts: str,
        exposure: str | None,
        *,
        time: str | None = None,
        groups: Sequence[str] = (),
        nesting: Literal["nested", "crossed"] = "nested",
        covariates: Sequence[str] = (),
        family: str = "poisson",
        seasonality: str | Sequence[Seasonality] = (),
        priors: Priors | None = None,
        exposure_unit: str = "",
        dispersion_by: str | None = None,
        dispersion_scales_with_exposure: bool = False,
        parameterization: Mapping[str, str] | None = None,
        centered_threshold: float = 1.0,
        latent: Literal["ar1", "ar1_laplace", "ar1_skew_laplace"] | None = None,
        latent_by: str | None = None,
        timezone: str | None = None,
    ) -> ModelSpec:
        """Build a spec from the keyword arguments of :class:`~bayescount.CountModel`.

        The column options make the :class:`~bayescount.prep.schema.CountSchema`;
        ``seasonality`` may be a string such as ``"daily,weekly"`` (see
        :func:`~bayescount.prep.seasonality.parse_seasonality`). The other options are
        those of this class.

        Parameters
        ----------
        counts, exposure, time, groups, nesting, covariates, exposure_unit, timezone
            The columns and their meaning, as in
            :class:`~bayescount.prep.schema.CountSchema` (``exposure=None``: every
            window has exposure 1; ``nesting`` is ``"nested"`` or ``"crossed"``).
        family : str
            One of :data:`FAMILIES`.
        seasonality : str or sequence of Seasonality
            Fourier components, e.g. ``"daily,weekly"`` or ``"daily:3"``.
        priors : Priors, optional
            Prior value objects; default :class:`~bayescount.models.priors.Priors`.
        dispersion_by, dispersion_scales_with_exposure, parameterization
            As in this class (``parameterization=None`` means ``{}``: ``"auto"``
            everywhere).
        centered_threshold, latent, latent_by
            As in this class.

        Returns
        -------
        ModelSpec

        Raises
        ------
        SpecError
            An invalid option (the message names it and the valid choices).
        """
        schema = CountSchema(
            counts=counts,
            exposure=exposure,
            exposure_unit=exposure_unit,
            time=time,
            groups=tuple(groups),
            nesting=nesting,
            covariates=tuple(covariates),
            timezone=timezone,
        )
        components = (
            parse_seasonality(seasonality) if isinstance(seasonality, str) else tuple(seasonality)
        )
        return cls(
            schema=schema,
            family=family,  # type: ignore[arg-type]
            seasonality=components,
            dispersion_by=dispersion_by,
            dispersion_scales_with_exposure=dispersion_scales_with_exposure,
            parameterization=dict(parameterization or {}),
            centered_threshold=centered_threshold,
            priors=priors or Priors(),
            latent=latent,
            latent_by=latent_by,
        )

    def with_family(self, family: str) -> ModelSpec:
        """Return this spec with another observation family.

        Negative binomial options (``dispersion_by``,
        ``dispersion_scales_with_exposure``) are dropped for the other families.

        Parameters
        ----------
        family : str
            One of :data:`FAMILIES`.

        Returns
        -------
        ModelSpec
            A new spec; ``self`` is unchanged.

        Raises
        ------
        SpecError
            An unknown family.
        """
        nb_only: dict[str, Any] = {}
        if not family.endswith("negative_binomial"):
            nb_only = {"dispersion_by": None, "dispersion_scales_with_exposure": False}
        return dataclasses.replace(self, family=family, **nb_only)  # type: ignore[arg-type]

    def _check_latent(self) -> None:
        if self.latent is None:
            if self.latent_by is not None:
                raise SpecError("latent_by needs a latent level: set latent='ar1'.")
            return
        if self.latent not in LATENT_KINDS:
            raise SpecError(f"Unknown latent {self.latent!r}; choose from {list(LATENT_KINDS)}.")
        if self.schema.time is None:
            raise SpecError("A latent level needs a time column: set the schema's `time`.")
        groups = list(self.schema.groups)
        if self.latent_by is not None and self.latent_by not in groups:
            raise SpecError(f"latent_by={self.latent_by!r} is not a group; groups are {groups}.")
        if self.latent != "ar1" and self.parameterization.get(LATENT_KEY) == "non_centered":
            raise SpecError(
                f"latent={self.latent!r} is centered only; drop parameterization['latent'] or "
                "use latent='ar1'."
            )
        if self.latent_by is None and self.schema.nesting == "crossed" and len(groups) > 1:
            raise SpecError(
                f"Crossed groups {groups} have no finest level: name the level whose labels "
                "get their own latent path with latent_by."
            )

    @property
    def latent_level(self) -> str | None:
        """The group level with one latent path per label (``None``: one path or none)."""
        if self.latent is None:
            return None
        if self.latent_by is not None:
            return self.latent_by
        return self.schema.groups[-1] if self.schema.groups else None

    def fit_design(self, frame: pd.DataFrame) -> Design:
        """Fit the :class:`~bayescount.prep.design.Design` this spec needs on ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            Validated training rows (:func:`~bayescount.validate_frame`).

        Returns
        -------
        Design
            Labels per level, covariate encodings, Fourier terms and, with a latent
            level, the regular time grid.

        Raises
        ------
        DataError
            Columns missing, or a design the rows cannot identify
            (:class:`~bayescount.exceptions.DesignError`, e.g. a constant covariate).
        """
        return Design.fit(
            frame, self.schema, self.seasonality, time_grid=self.latent is not None
        )

    @property
    def is_negative_binomial(self) -> bool:
        """Whether the family has a dispersion parameter."""
        return self.family.endswith("negative_binomial")

    @property
    def is_zero_inflated(self) -> bool:
        """Whether the family has a zero-inflation parameter."""
        return self.family.startswith("zero_inflated")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "schema": self.schema.to_dict(),
            "family": self.family,
            "seasonality": [
                {"name": s.name, "period_days": s.period_days, "order": s.order}
                for s in self.seasonality
            ],
            "dispersion_by": self.dispersion_by,
            "dispersion_scales_with_exposure": self.dispersion_scales_with_exposure,
            "parameterization": dict(sorted(self.parameterization.items())),
            "centered_threshold": self.centered_threshold,
            "priors": self.priors.to_dict(),
            "latent": self.latent,
            "latent_by": self.latent_by,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        """Rebuild a spec from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            The output of :meth:`to_dict` (``latent`` keys optional, for older files).

        Returns
        -------
        ModelSpec

        Raises
        ------
        SpecError
            The stored options are invalid.
        KeyError
            A required key is missing (:func:`bayescount.io.load_fit` reports both
            as :class:`~bayescount.exceptions.CorruptFitFileError`).
        """
        return cls(
            schema=CountSchema.from_dict(d["schema"]),
            family=d["family"],
            seasonality=tuple(Seasonality(**s) for s in d["seasonality"]),
            dispersion_by=d["dispersion_by"],
            dispersion_scales_with_exposure=d["dispersion_scales_with_exposure"],
            parameterization=d["parameterization"],
            centered_threshold=d["centered_threshold"],
            priors=Priors.from_dict(d["priors"]),
            latent=d.get("latent"),
            latent_by=d.get("latent_by"),
        )

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the input of :meth:`hash`."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def hash(self) -> str:
        """SHA-256 of the canonical JSON."""
        return self.hash_of(self.to_dict())

    @staticmethod
    def hash_of(d: dict[str, Any]) -> str:
        """SHA-256 of a spec dict as stored (files written by older versions included).

        Parameters
        ----------
        d : dict
            A spec dict (:meth:`to_dict`, or as read from a fit file).

        Returns
        -------
        str
            Hex digest of its canonical JSON (sorted keys).
        """
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def as_spec(model: Any) -> ModelSpec:
    """Return the :class:`ModelSpec` of ``model``.

    Parameters
    ----------
    model : ModelSpec, object with a ``spec`` attribute, or mapping
        A spec; a :class:`~bayescount.CountModel` or :class:`~bayescount.Fit` (their
        ``spec``); or the keyword arguments of :class:`~bayescount.CountModel`
        (:meth:`ModelSpec.from_options`).

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        ``model`` is none of these, or the options are invalid.
    """
    if isinstance(model, ModelSpec):
        return model
    if isinstance(getattr(model, "spec", None), ModelSpec):
        return model.spec
    if isinstance(model, Mapping):
        options = dict(model)
        try:
            return ModelSpec.from_options(**options)
        except TypeError as err:
            raise SpecError(
                f"Invalid model options {sorted(options)}: {err}; pass the keyword "
                "arguments of CountModel (counts, exposure, time, groups, family, ...)."
            ) from None
    raise SpecError(
        f"model must be a CountModel, a Fit, a ModelSpec or a dict of CountModel arguments, "
        f"got {type(model).__name__}."
    )
