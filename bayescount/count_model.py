"""``CountModel``: the notebook-facing façade (specify → fit → check → predict → save)."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import arviz_stats as azs
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayescount.exceptions import NotFittedError, SpecError
from bayescount.inference.convergence import (
    ConvergenceThresholds,
    check_convergence,
)
from bayescount.inference.predict import Prediction, predictive_parameters, sample_counts
from bayescount.inference.sampling import SampleFn, SamplerConfig, run_sampler
from bayescount.models.builder import build_model
from bayescount.models.parameterization import choose_parameterization
from bayescount.models.priors import Priors
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.schema import CountSchema
from bayescount.prep.seasonality import Seasonality, parse_seasonality
from bayescount.prep.validate import validate_frame

__all__ = ["CountModel"]

_VERSIONED = ("bayescount", "pymc", "pytensor", "nutpie", "arviz-base", "arviz-stats", "xarray",
              "numpy", "pandas")


def package_versions() -> dict[str, str]:
    """Versions of the packages a fit depends on."""
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _store_time(tree: xr.DataTree, time: pd.Series) -> None:
    """Keep the fitted rows' timestamps (naive UTC) beside the model's constant data."""
    values = time.dt.tz_convert("UTC").dt.tz_localize(None) if time.dt.tz else time
    const = tree["constant_data"].to_dataset()
    tree["constant_data"] = xr.DataTree(const.assign(time=("obs", values.to_numpy())))


#: Posterior variables left out of the default summary (one value per state or path step).
_STATES = ("inv_sqrt_alpha", "latent", "latent_state", "latent_shock")


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
    **options
        ``dispersion_by``, ``dispersion_scales_with_exposure``, ``parameterization``,
        ``centered_threshold``, ``latent_by`` and ``exposure_unit``: see
        :class:`~bayescount.models.ModelSpec`.

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
        self.spec = ModelSpec(
            schema=schema,
            family=family,  # type: ignore[arg-type]
            seasonality=components,
            dispersion_by=dispersion_by,
            dispersion_scales_with_exposure=dispersion_scales_with_exposure,
            parameterization=parameterization or {},
            centered_threshold=centered_threshold,
            priors=priors or Priors(),
            latent=latent,
            latent_by=latent_by,
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
        return hasattr(self, "idata_")

    def _require_fit(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("The model hasn't been fit yet; call .fit(data) first.")

    @property
    def schema(self) -> CountSchema:
        """The data schema of the spec."""
        return self.spec.schema

    # --------------------------------------------------------------- building
    def prepare(self, data: pd.DataFrame) -> tuple[Design, PreparedData]:
        """Validate ``data`` and encode it, fitting a new :class:`Design`."""
        frame = validate_frame(data, self.schema)
        design = self.spec.fit_design(frame)
        return design, design.transform(frame)

    def build(self, data: pd.DataFrame) -> pm.Model:
        """Build the (unfitted) PyMC model for ``data``."""
        design, prepared = self.prepare(data)
        return build_model(self.spec, design, prepared)

    def prior_predictive(
        self, data: pd.DataFrame, draws: int = 500, random_seed: int | None = None
    ) -> xr.DataTree:
        """Draw from the prior and prior predictive distributions for ``data``'s rows.

        The one-off sampling function is compiled without numba (``FAST_COMPILE``):
        for a single call compiling dominates, and the latent level's numpy path
        generator would otherwise run in numba's object mode, with a warning.
        """
        with self.build(data):
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

        Returns ``self``. Fitted state: ``idata_`` (the :class:`xarray.DataTree`),
        ``design_``, ``parameterization_``, ``sampler_config_``, ``convergence_``,
        ``versions_``. See :class:`~bayescount.inference.SamplerConfig` for the sampler
        options (``mass_matrix="low_rank"`` helps when covariates are constant within
        groups). A failing gate warns with
        :class:`~bayescount.exceptions.ConvergenceWarning`.
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
        frame = validate_frame(data, self.schema)
        design = self.spec.fit_design(frame)
        prepared = design.transform(frame)
        how = choose_parameterization(self.spec, design, prepared)
        model = build_model(self.spec, design, prepared, how)
        tree = sample_fn(model, config)
        if self.schema.time is not None:
            _store_time(tree, frame[self.schema.time])
        self.design_ = design
        self.parameterization_ = how
        self.sampler_config_ = config
        self.versions_ = package_versions()
        self.idata_ = tree
        self.convergence_ = check_convergence(tree, thresholds, how)
        return self

    # ------------------------------------------------------------- prediction
    def predict(
        self,
        data: pd.DataFrame | None = None,
        *,
        scale: Literal["counts", "rate"] = "counts",
        unseen: Literal["population", "error"] = "population",
        random_seed: int | None = None,
    ) -> Prediction:
        """Posterior predictive counts (or rates) for new rows, or the fitted rows.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Rows to predict, with the exposure column (required, > 0), the group and
            covariate columns, and the time column when the model uses time
            (seasonality or a latent level; otherwise it is optional). The counts
            column is optional. Default: the rows the model was fitted on.
        scale : {"counts", "rate"}
            ``"counts"``: predicted counts for each row's exposure. ``"rate"``: the same
            draws divided by the exposure (events per exposure unit).
        unseen : {"population", "error"}
            Group labels not seen when fitting: drawn from their level's population
            distribution (default) or refused. A label seen under another parent is
            always an error (nesting is strict).
        random_seed : int, optional
            Seed of the predictive draws; the same seed gives identical numbers.
        """
        self._require_fit()
        if scale not in ("counts", "rate"):
            raise SpecError(f"scale must be 'counts' or 'rate', got {scale!r}.")
        if data is None:
            prepared, rows = self.training_rows()
        else:
            frame = validate_frame(data, self._prediction_schema(data), for_prediction=True)
            prepared = self.design_.transform(frame, for_prediction=True)
            rows = data.copy()  # prediction never drops rows
        rng = np.random.default_rng(random_seed)
        params = predictive_parameters(
            self.idata_["posterior"].to_dataset(),
            self.spec,
            self.design_,
            prepared,
            unseen=unseen,
            rng=rng,
        )
        draws = sample_counts(params, rng)
        if scale == "rate":
            draws = (draws / prepared.exposure).rename("rate")
        return Prediction(draws=draws, rows=rows, scale=scale)

    def _prediction_schema(self, data: pd.DataFrame) -> CountSchema:
        """Return the schema of new rows: the time column only when the model uses it."""
        schema = self.schema
        if (
            schema.time is not None
            and schema.time not in data.columns
            and not self.design_.uses_time
        ):
            return dataclasses.replace(schema, time=None)
        return schema

    def training_rows(self) -> tuple[PreparedData, pd.DataFrame]:
        """Return the encoded training rows and a table of them, from the stored fit.

        The table has the group labels, the time (when the model has a time
        column), the exposure and the counts of each fitted row, in fitted order.
        """
        self._require_fit()
        const = self.idata_["constant_data"].to_dataset()
        counts = self.idata_["observed_data"]["y"].values.astype(np.int64)
        n = len(counts)
        codes = {lv.name: const[f"{lv.name}_idx"].values for lv in self.design_.levels}
        prepared = PreparedData(
            index=pd.RangeIndex(n),
            counts=counts,
            exposure=const["exposure"].values,
            covariates=const["X"].values if "X" in const else np.zeros((n, 0)),
            fourier=const["F"].values if "F" in const else np.zeros((n, 0)),
            group_codes=codes,
            time_steps=const["time_idx"].values if "time_idx" in const else None,
        )
        rows = pd.DataFrame(
            {lv.name: np.asarray(lv.labels, dtype=object)[codes[lv.name]]
             for lv in self.design_.levels}
        )
        if self.schema.time is not None and "time" in const:
            rows[self.schema.time] = const["time"].values
        rows[self.schema.exposure or "exposure"] = prepared.exposure
        rows[self.schema.counts] = counts
        return prepared, rows


    # -------------------------------------------------------------- reporting
    def summary(
        self, var_names: Sequence[str] | None = None, ci_prob: float = 0.94
    ) -> pd.DataFrame:
        """Posterior mean, sd, HDI, R-hat and ESS of the model's parameters.

        By default: the intercept, group standard deviations, covariate and Fourier
        coefficients, dispersion, zero-inflation and the latent level's ``latent_sd``,
        ``latent_rho`` and ``latent_skew`` (not the per-group effects or latent states).
        """
        self._require_fit()
        posterior = self.idata_["posterior"]
        if var_names is None:
            var_names = [
                v
                for v in posterior.data_vars
                if not (v.endswith("_effect") or v.endswith("_free") or v in _STATES)
            ]
        return azs.summary(
            self.idata_, var_names=list(var_names), ci_prob=ci_prob, ci_kind="hdi", round_to="none"
        )

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
            out += self.summary().to_html() + self.convergence_._repr_html_()
        return out

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fit to one NetCDF file, atomically; see :func:`bayescount.io.save_fit`."""
        from bayescount.io.fitfile import save_fit

        self._require_fit()
        return save_fit(self, path)

    @classmethod
    def load(cls, path: str | Path) -> CountModel:
        """Load a fit saved by :meth:`save`; see :func:`bayescount.io.load_fit`."""
        from bayescount.io.fitfile import load_fit

        return load_fit(path)

    def _restore(self, **state: Any) -> CountModel:
        for key, value in state.items():
            setattr(self, key, value)
        return self
