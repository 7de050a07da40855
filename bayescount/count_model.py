"""``CountModel``: the notebook-facing façade (specify → fit → check → predict → save)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd
import pymc as pm
import xarray as xr

from bayescount._warnings import warn
from bayescount.exceptions import ConvergenceWarning, NotFittedError
from bayescount.inference.convergence import ConvergenceReport, ConvergenceThresholds
from bayescount.inference.driver import FitJob, run_fits
from bayescount.inference.fit import Fit, package_versions, prepare_training
from bayescount.inference.predict import Prediction
from bayescount.inference.sampling import SampleFn, SamplerConfig, run_sampler
from bayescount.models.builder import build_model
from bayescount.models.priors import Priors
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.schema import CountSchema
from bayescount.prep.seasonality import Seasonality

__all__ = ["CountModel", "package_versions"]


class CountModel:
    """A hierarchical count model of telemetry.

    Parameters
    ----------
    counts : str
        Column of counts.
    exposure : str or None
        Column of exposure (requests, node-seconds, window length). Required; pass
        ``None`` explicitly for a model without exposure.
    time : str, optional
        Timestamp column (needed for seasonality).
    groups : sequence of str
        Grouping columns, outer to inner (``["region", "service", "node"]``).
    nesting : {"nested", "crossed"}
        How ``groups`` relate; see :class:`~bayescount.prep.schema.CountSchema`.
    covariates : sequence of str
        Covariate columns (``"a:b"`` for an interaction).
    family : str
        ``"poisson"``, ``"negative_binomial"``, ``"zero_inflated_poisson"`` or
        ``"zero_inflated_negative_binomial"``.
    seasonality : str or sequence of Seasonality
        ``"daily,weekly"`` (optionally ``"daily:4"``) or explicit components.
    priors : Priors, optional
        Prior value objects; defaults documented on :class:`~bayescount.models.Priors`.
    latent : {None, "ar1", "ar1_laplace", "ar1_skew_laplace"}
        A time-varying level: a stationary AR(1) path on the log rate per series
        (per label of ``latent_by``) with normal, Laplace or skewed Laplace
        innovations, for bursty or drifting series. Needs ``time``.
    timezone : str, optional
        IANA zone (``"Europe/Paris"``) of naive local timestamps in ``time``; see
        :class:`~bayescount.prep.schema.CountSchema`. Stored with the fit, so new rows
        are read in the same zone.
    exposure_unit : str, optional
        Human-readable unit of the exposure (``"requests"``, ``"node-hours"``); used in
        reports and to label rates. Default ``""`` (unnamed).
    dispersion_by : str, optional
        Negative binomial only: a group level whose labels each get their own
        dispersion; see :class:`~bayescount.models.ModelSpec`.
    dispersion_scales_with_exposure : bool
        Negative binomial only: the shape grows with ``exposure / median(exposure)``
        (brms ``rate()``); see :class:`~bayescount.models.ModelSpec`.
    parameterization : dict of str to str, optional
        Per group level (or ``"latent"``): ``"centered"``, ``"non_centered"`` or
        ``"auto"`` (the default, chosen from the data).
    centered_threshold : float
        Signal-to-noise ratio from which ``"auto"`` chooses centered (default 1).
    latent_by : str, optional
        The group level whose labels each get their own latent path (default: the
        finest nested level).

    Examples
    --------
    >>> model = CountModel("errors", "requests", time="timestamp",
    ...                    groups=["region", "service", "node"],
    ...                    family="negative_binomial", seasonality="daily,weekly")
    >>> model.fit(frame, random_seed=1).predict(future).to_frame()  # doctest: +SKIP
    """

    def __init__(
        self,
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
        parameterization: dict[str, str] | None = None,
        centered_threshold: float = 1.0,
        latent: Literal["ar1", "ar1_laplace", "ar1_skew_laplace"] | None = None,
        latent_by: str | None = None,
        timezone: str | None = None,
    ) -> None:
        self.spec = ModelSpec.from_options(
            counts,
            exposure,
            time=time,
            groups=groups,
            nesting=nesting,
            covariates=covariates,
            family=family,
            seasonality=seasonality,
            priors=priors,
            exposure_unit=exposure_unit,
            dispersion_by=dispersion_by,
            dispersion_scales_with_exposure=dispersion_scales_with_exposure,
            parameterization=parameterization,
            centered_threshold=centered_threshold,
            latent=latent,
            latent_by=latent_by,
            timezone=timezone,
        )

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> CountModel:
        """Create an unfitted model from a :class:`~bayescount.models.ModelSpec`."""
        model = cls.__new__(cls)
        model.spec = spec
        return model

    # ------------------------------------------------------------------ state
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :func:`bayescount.load`) has run."""
        return "fit_" in self.__dict__

    def _fitted(self) -> Fit:
        if not self.is_fitted:
            raise NotFittedError("The model hasn't been fit yet; call .fit(data) first.")
        return self.fit_

    @property
    def schema(self) -> CountSchema:
        """The data schema of the spec."""
        return self.spec.schema

    # --------------------------------------------------------------- building
    def prepare(self, data: pd.DataFrame) -> tuple[Design, PreparedData]:
        """Validate ``data`` and encode it, fitting a new :class:`Design`."""
        _, design, prepared = prepare_training(self.spec, data)
        return design, prepared

    def build(self, data: pd.DataFrame, *, compress: bool = True) -> pm.Model:
        """Build the (unfitted) PyMC model for ``data``, as :meth:`fit` samples it.

        ``compress=False`` keeps one observed term per row even where the likelihood
        is exactly compressible (see :func:`bayescount.models.build_model`).
        """
        _, design, prepared = prepare_training(self.spec, data)
        return build_model(self.spec, design, prepared, compress=compress)

    def prior_predictive(
        self, data: pd.DataFrame, draws: int = 500, random_seed: int | None = None
    ) -> xr.DataTree:
        """Draw from the prior and prior predictive distributions for ``data``'s rows.

        The one-off sampling function is compiled without numba (``FAST_COMPILE``):
        for a single call compiling dominates, and the latent level's numpy path
        generator would otherwise run in numba's object mode, with a warning.
        """
        with self.build(data, compress=False):
            return pm.sample_prior_predictive(
                draws=draws, random_seed=random_seed, compile_kwargs={"mode": "FAST_COMPILE"}
            )

    # ---------------------------------------------------------------- fitting
    def fit(
        self,
        data: pd.DataFrame,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        cores: int | None = None,
        random_seed: int | None = None,
        sampler: str = "nutpie",
        target_accept: float = 0.8,
        progressbar: bool | None = None,
        log_likelihood: bool = False,
        mass_matrix: str = "diag",
        thresholds: ConvergenceThresholds | None = None,
        sample_fn: SampleFn = run_sampler,
    ) -> CountModel:
        """Validate and encode ``data``, sample with NUTS and run the convergence gate.

        The fit runs in this process through the fitting driver
        (:func:`bayescount.inference.run_fits`), as every fit of bayescount does.

        Returns ``self``; the result is ``fit_``, a frozen :class:`~bayescount.Fit`
        (``idata_``, ``design_``, ``parameterization_``, ``sampler_config_``,
        ``convergence_`` and ``versions_`` are views of it). See
        :class:`~bayescount.inference.SamplerConfig` for the sampler options
        (``mass_matrix="low_rank"`` helps when covariates are constant within groups).

        Raises
        ------
        DataError
            Invalid rows (the message names the column and rows).
        SamplerError
            The sampler failed or is not installed.
        FitInterrupted
            SIGINT or SIGTERM while sampling; the model stays as it was.

        Warns
        -----
        ConvergenceWarning
            The convergence gate failed (divergences, R-hat, ESS, tree depth, E-BFMI).
        """
        config = SamplerConfig(
            sampler=sampler,  # type: ignore[arg-type]
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            progressbar=progressbar,
            log_likelihood=log_likelihood,
            mass_matrix=mass_matrix,  # type: ignore[arg-type]
        )
        (result,) = run_fits(
            [FitJob(self.spec, data, config)],
            executor="serial",
            sample_fn=sample_fn,
            thresholds=thresholds,
        )
        fit: Fit = result.value
        if not fit.convergence.passed:
            warn(str(fit.convergence), ConvergenceWarning)
        self.fit_ = fit
        return self

    # ------------------------------------------------------------- fitted views
    @property
    def idata_(self) -> xr.DataTree:
        """The fit's :class:`xarray.DataTree` (``fit_.tree``)."""
        return self._fitted().tree

    @property
    def design_(self) -> Design:
        """The fitted design (``fit_.design``)."""
        return self._fitted().design

    @property
    def parameterization_(self) -> Mapping[str, str]:
        """Centered / non-centered per level, as sampled (``fit_.parameterization``)."""
        return self._fitted().parameterization

    @property
    def sampler_config_(self) -> SamplerConfig:
        """How NUTS was run (``fit_.sampler_config``)."""
        return self._fitted().sampler_config

    @property
    def convergence_(self) -> ConvergenceReport:
        """The convergence gate (``fit_.convergence``)."""
        return self._fitted().convergence

    @property
    def versions_(self) -> Mapping[str, str]:
        """Package versions that produced the fit (``fit_.versions``)."""
        return self._fitted().versions

    # ------------------------------------------------------------- prediction
    def predict(
        self,
        data: pd.DataFrame | None = None,
        *,
        scale: Literal["counts", "rate"] = "counts",
        unseen: Literal["population", "error"] = "population",
        random_seed: int | None = None,
    ) -> Prediction:
        """Posterior predictive counts (or rates); see :meth:`bayescount.Fit.predict`."""
        return self._fitted().predict(data, scale=scale, unseen=unseen, random_seed=random_seed)

    def training_rows(self) -> tuple[PreparedData, pd.DataFrame]:
        """Return the encoded training rows and a table of them (see ``Fit.training_rows``)."""
        return self._fitted().training_rows()

    # -------------------------------------------------------------- reporting
    def summary(
        self, var_names: Sequence[str] | None = None, ci_prob: float = 0.94
    ) -> pd.DataFrame:
        """Posterior summary of the parameters; see :meth:`bayescount.Fit.summary`."""
        return self._fitted().summary(var_names, ci_prob)

    def __repr__(self) -> str:
        s = self.spec.schema
        state = "fitted" if self.is_fitted else "not fitted"
        return (
            f"CountModel({s.counts!r} / {s.exposure!r}, family={self.spec.family!r}, "
            f"groups={list(s.groups)} ({s.nesting}), covariates={list(s.covariates)}, "
            f"seasonality={[c.name for c in self.spec.seasonality]}; {state})"
        )

    def _repr_html_(self) -> str:
        out = f"<p>{html.escape(repr(self))}</p>"
        if self.is_fitted:
            out += self.fit_._repr_html_()  # the fit's summary with the gate's colour
        return out

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fit to one NetCDF file, atomically; see :func:`bayescount.io.save_fit`."""
        from bayescount.io.fitfile import save_fit

        return save_fit(self._fitted(), path)

    @classmethod
    def load(cls, path: str | Path) -> CountModel:
        """Load a fit saved by :meth:`save` into a fitted model; see :func:`bayescount.load`."""
        from bayescount.io.fitfile import load_fit

        return cls.from_fit(load_fit(path))

    @classmethod
    def from_fit(cls, fit: Fit) -> CountModel:
        """Wrap a :class:`~bayescount.Fit` in a fitted model."""
        model = cls.from_spec(fit.spec)
        model.fit_ = fit
        return model
