"""``Fit``: the frozen result of fitting one model to one table.

Everything downstream — checks, forecasts, plots, reports, the fit file and the
command line — takes a :class:`Fit` (or anything with a ``fit_`` attribute holding
one, such as a fitted :class:`~bayescount.CountModel`, through :func:`as_fit`).
:func:`fit_table` is the one path "table → validated rows → design → model → NUTS →
convergence gate → Fit"; the fitting driver (:mod:`bayescount.inference.driver`) runs
it, or its compiled-model twin, for every fitting entry point.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescount.exceptions import ColumnNotFoundError, NotFittedError, SpecError
from bayescount.inference._tree_data import _finish_tree, _row_fourier
from bayescount.inference.convergence import (
    ConvergenceReport,
    ConvergenceThresholds,
    check_convergence,
)
from bayescount.inference.predict import (
    Prediction,
    PredictiveParameters,
    predictive_parameters,
    sample_counts,
)
from bayescount.inference.sampling import SampleFn, SamplerConfig, run_sampler
from bayescount.models.builder import compressed_data
from bayescount.models.compression import compressible
from bayescount.models.spec import ModelSpec
from bayescount.prep.design import Design, PreparedData
from bayescount.prep.schema import CountSchema
from bayescount.prep.validate import validate_frame

if TYPE_CHECKING:
    from bayescount.prep.timegrid import TimeGrid

__all__ = ["Fit", "as_fit", "fit_prepared", "fit_table", "package_versions", "prepare_training"]

_VERSIONED = ("bayescount", "pymc", "pytensor", "nutpie", "arviz-base", "arviz-stats", "xarray",
              "numpy", "pandas")

#: Posterior variables left out of the default summary (one value per state or path step).
_STATES = ("inv_sqrt_alpha", "latent", "latent_state", "latent_shock")


def package_versions() -> dict[str, str]:
    """Return the installed versions of the packages a fit depends on."""
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True, eq=False)
class Fit:
    """One fitted model: spec, design, posterior draws and the convergence gate.

    Frozen: methods return new objects and never change the fit. Build one with
    :func:`fit_table` (or :meth:`bayescount.CountModel.fit`), write it with
    :func:`bayescount.io.save_fit` and read it with :func:`bayescount.load`.

    Attributes
    ----------
    spec : ModelSpec
        The model specification.
    design : Design
        The encoding fitted on the training rows (levels and labels, covariate
        scaling, Fourier terms, time grid).
    parameterization : Mapping[str, str]
        ``"centered"`` or ``"non_centered"`` per group level, as sampled.
    tree : xarray.DataTree
        ``posterior`` (dims ``chain, draw, ...``), ``sample_stats``,
        ``observed_data`` (``y``, dim ``obs``: counts per window), ``constant_data``
        (``exposure`` in exposure units, group codes, design matrices, ``time``) and
        ``log_likelihood`` when requested.
    sampler_config : SamplerConfig
        How NUTS was run.
    convergence : ConvergenceReport
        The convergence gate (divergences, R-hat, ESS, tree depth, E-BFMI).
    versions : Mapping[str, str]
        Versions of the packages that produced the fit.
    """

    spec: ModelSpec
    design: Design
    parameterization: Mapping[str, str]
    tree: xr.DataTree
    sampler_config: SamplerConfig
    convergence: ConvergenceReport
    versions: Mapping[str, str] = field(default_factory=package_versions)

    # ------------------------------------------------------------------ views
    @property
    def schema(self) -> CountSchema:
        """The data schema of the spec."""
        return self.spec.schema

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior draws, dims ``(chain, draw, ...)``."""
        return self.tree["posterior"].to_dataset()

    @property
    def time_grid(self) -> TimeGrid | None:
        """The regular time grid of a latent model (``None`` without one)."""
        return self.design.time_grid

    @property
    def n_rows(self) -> int:
        """Number of training rows."""
        return int(self.tree["observed_data"]["y"].size)

    @property
    def row_cells(self) -> np.ndarray:
        """Dim ``obs`` (int64): the likelihood cell each training row was sampled in.

        A compressed Poisson likelihood (:mod:`bayescount.models.compression`) sums
        the rows of a cell; otherwise every row is its own cell (``arange(n_rows)``).
        Recomputed from the stored rows, so a loaded fit has it too.
        """
        if not compressible(self.spec):
            return np.arange(self.n_rows)
        prepared, _ = self.training_rows()
        return compressed_data(self.design, prepared)[0].row_cell

    def observed_counts(self) -> np.ndarray:
        """Return the training rows' observed counts, dim ``obs`` (int64)."""
        return self.tree["observed_data"]["y"].values.astype(np.int64)

    def with_posterior(self, posterior: xr.Dataset) -> Fit:
        """Return a copy whose posterior holds only ``posterior``'s draws.

        Parameters
        ----------
        posterior : xarray.Dataset
            Draws with dims ``(chain, draw, ...)`` and the stored variables (e.g. a
            thinned or sliced subset of :attr:`posterior`).

        Returns
        -------
        Fit
            A new fit; ``self`` is unchanged.
        """
        tree = self.tree.copy()
        tree["posterior"] = xr.DataTree(posterior)
        return dataclasses.replace(self, tree=tree)

    # ------------------------------------------------------------ rows in/out
    def training_rows(self) -> tuple[PreparedData, pd.DataFrame]:
        """Return the encoded training rows and a table of them, from the stored fit.

        The table has the group labels, the time (when the model has a time column),
        the exposure and the counts of each fitted row, in fitted order.
        """
        const = self.tree["constant_data"].to_dataset()
        counts = self.observed_counts()
        n = len(counts)
        codes = {lv.name: const[f"{lv.name}_idx"].values for lv in self.design.levels}
        prepared = PreparedData(
            index=pd.RangeIndex(n),
            counts=counts,
            exposure=const["exposure"].values,
            covariates=const["X"].values if "X" in const else np.zeros((n, 0)),
            fourier=_row_fourier(const, n),
            group_codes=codes,
            time_steps=const["time_idx"].values if "time_idx" in const else None,
        )
        rows = pd.DataFrame(
            {lv.name: np.asarray(lv.labels, dtype=object)[codes[lv.name]]
             for lv in self.design.levels}
        )
        if self.schema.time is not None and "time" in const:
            rows[self.schema.time] = const["time"].values
        rows[self.schema.exposure or "exposure"] = prepared.exposure
        rows[self.schema.counts] = counts
        return prepared, rows

    def prepare(
        self, frame: pd.DataFrame, *, require_counts: bool = False
    ) -> tuple[pd.DataFrame, PreparedData]:
        """Validate new rows and encode them with the fitted design.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with the exposure, group and covariate columns, and the time column
            when the model uses time (seasonality or a latent level).
        require_counts : bool
            Refuse a table without the counts column (held-out checks need it).

        Returns
        -------
        clean : pandas.DataFrame
            The validated rows (canonical dtypes), indexed like ``frame``.
        prepared : PreparedData
            Their encoding, row ``i`` = ``clean.iloc[i]``.

        Raises
        ------
        DataError
            When a column is missing or a value is invalid (the message names them).
        """
        counts = self.schema.counts
        if require_counts and counts not in frame.columns:
            raise ColumnNotFoundError(
                f"The held-out data have no counts column {counts!r}; checks compare "
                f"predictions with observed counts. Available columns: "
                f"{sorted(map(str, frame.columns))}."
            )
        schema = self.schema
        if schema.time is not None and schema.time not in frame.columns and (
            not self.design.uses_time
        ):  # the time column is needed only when the model uses time
            schema = dataclasses.replace(schema, time=None)
        clean = validate_frame(frame, schema, for_prediction=True)
        return clean, self.design.transform(clean, for_prediction=True)

    def predictive_parameters(
        self,
        prepared: PreparedData,
        *,
        rng: np.random.Generator,
        unseen: Literal["population", "error"] = "population",
        posterior: xr.Dataset | None = None,
    ) -> PredictiveParameters:
        """Per-draw ``mu``, ``alpha``, ``psi`` of encoded rows, dims ``(chain, draw, obs)``.

        ``mu`` is the expected count of each row for its exposure. See
        :func:`bayescount.inference.predictive_parameters` for unseen labels and the
        latent level.

        Parameters
        ----------
        prepared : PreparedData
            Rows encoded with this fit's design (:meth:`prepare`), dim ``obs``.
        rng : numpy.random.Generator
            Source of the draws of unseen group effects and future latent steps.
        unseen : {"population", "error"}
            Unseen group labels: drawn from their level's population or refused.
        posterior : xarray.Dataset, optional
            Replaces the stored draws (e.g. a subset), dims ``(chain, draw, ...)``.

        Returns
        -------
        PredictiveParameters
            ``mu`` (counts per window, for each row's exposure), ``alpha`` (NB2
            shape) and ``psi`` (probability of the count part, PyMC's zero-inflation
            convention), dims ``(chain, draw, obs)``.

        Raises
        ------
        UnknownGroupError
            An unseen label with ``unseen="error"``.
        SpecError
            ``unseen`` is neither ``"population"`` nor ``"error"``.
        """
        return predictive_parameters(
            self.posterior if posterior is None else posterior,
            self.spec,
            self.design,
            prepared,
            unseen=unseen,
            rng=rng,
        )

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
            Rows to predict, with the exposure column (required, ≥ 0: a row with zero
            exposure is predicted as exactly 0 events, and its rate is NaN), the group and
            covariate columns, and the time column when the model uses time. The
            counts column is optional. Default: the rows the model was fitted on.
        scale : {"counts", "rate"}
            ``"counts"``: predicted counts for each row's exposure. ``"rate"``: the
            same draws divided by the exposure (events per exposure unit).
        unseen : {"population", "error"}
            Group labels not seen when fitting: drawn from their level's population
            distribution (default) or refused. A label seen under another parent is
            always an error (nesting is strict).
        random_seed : int, optional
            Seed of the predictive draws; the same seed gives identical numbers.

        Returns
        -------
        Prediction
            Draws with dims ``(chain, draw, obs)`` and the rows they belong to.

        Raises
        ------
        DataError
            Invalid rows (the message names the column and rows).
        UnknownGroupError
            An unseen label with ``unseen="error"``.
        SpecError
            ``scale`` is neither ``"counts"`` nor ``"rate"``.
        """
        if scale not in ("counts", "rate"):
            raise SpecError(f"scale must be 'counts' or 'rate', got {scale!r}.")
        if data is None:
            prepared, rows = self.training_rows()
        else:
            _, prepared = self.prepare(data)
            rows = data.copy()  # prediction never drops rows
        rng = np.random.default_rng(random_seed)
        params = self.predictive_parameters(prepared, rng=rng, unseen=unseen)
        draws = sample_counts(params, rng)
        if scale == "rate":  # a window with zero exposure has no rate (NaN)
            exposure = np.asarray(prepared.exposure, dtype=float)
            rate = np.divide(draws.values, exposure, out=np.full(draws.shape, np.nan),
                             where=exposure > 0)
            draws = draws.copy(data=rate).rename("rate")
        return Prediction(draws=draws, rows=rows, scale=scale, params=params)

    # -------------------------------------------------------------- reporting
    def summary(
        self, var_names: Sequence[str] | None = None, ci_prob: float = 0.94
    ) -> pd.DataFrame:
        """Posterior mean, sd, HDI, R-hat and ESS of the model's parameters.

        By default: the intercept, group standard deviations, covariate and Fourier
        coefficients, dispersion, zero-inflation and the latent level's ``latent_sd``,
        ``latent_rho`` and ``latent_skew`` (not the per-group effects or latent
        states). Computed by :func:`arviz_stats.summary` (HDI, rank-normalised R-hat,
        bulk and tail ESS; Vehtari et al. 2021).

        Parameters
        ----------
        var_names : sequence of str, optional
            Posterior variables to summarise; default as above.
        ci_prob : float
            Probability mass of the highest-density interval, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            One row per scalar parameter (vector ones expanded per coordinate).
        """
        import arviz_stats as azs

        posterior = self.tree["posterior"]
        if var_names is None:
            var_names = [
                v
                for v in posterior.data_vars
                if not (v.endswith("_effect") or v.endswith("_free") or v in _STATES)
            ]
        return azs.summary(
            self.tree, var_names=list(var_names), ci_prob=ci_prob, ci_kind="hdi",
            round_to="none",
        )

    def __repr__(self) -> str:
        s = self.schema
        return (
            f"Fit({s.counts!r} / {s.exposure!r}, family={self.spec.family!r}, "
            f"groups={list(s.groups)} ({s.nesting}), covariates={list(s.covariates)}, "
            f"seasonality={[c.name for c in self.spec.seasonality]}, rows={self.n_rows}, "
            f"gate={'passed' if self.convergence.passed else 'FAILED'})"
        )

    def _repr_html_(self) -> str:
        """Compact summary for Jupyter: model, data, draws and the gate's colour."""
        from bayescount.inference.convergence import gate_html

        s, post = self.schema, self.posterior
        groups = ", ".join(f"{lv.name} ({len(lv.labels)})" for lv in self.design.levels)
        facts = {
            "family": self.spec.family, "counts / exposure": f"{s.counts} / {s.exposure}",
            "groups": f"{groups or 'none'} ({s.nesting})", "rows": f"{self.n_rows:,}",
            "draws": f"{post.sizes['chain']} chains x {post.sizes['draw']}",
        }
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
                       for k, v in facts.items())
        return (f"<div class='bayescount-fit'><strong>Fit</strong><table>{rows}</table>"
                f"{gate_html(self.convergence)}<details><summary>parameters</summary>"
                f"{self.summary().to_html()}</details></div>")


def as_fit(obj: Any) -> Fit:
    """Return the :class:`Fit` of ``obj``: a ``Fit``, or an object holding one in ``fit_``.

    Parameters
    ----------
    obj : Fit or CountModel
        A fit, or a fitted :class:`~bayescount.CountModel` (anything with ``spec``,
        ``is_fitted`` and ``fit_``).

    Returns
    -------
    Fit

    Raises
    ------
    NotFittedError
        ``obj`` is a model that has not been fitted.
    SpecError
        ``obj`` is neither.
    """
    if isinstance(obj, Fit):
        return obj
    if hasattr(obj, "spec") and hasattr(type(obj), "is_fitted"):
        if not obj.is_fitted:
            raise NotFittedError(
                "The model hasn't been fit yet; call .fit(data) first (or bayescount.load(path))."
            )
        return obj.fit_
    raise SpecError(
        f"Expected a bayescount Fit or a fitted CountModel, got {type(obj).__name__}."
    )


def prepare_training(
    spec: ModelSpec, frame: pd.DataFrame
) -> tuple[pd.DataFrame, Design, PreparedData]:
    """Validate training rows, fit the design on them and encode them.

    Parameters
    ----------
    spec : ModelSpec
        The model; its schema names the columns.
    frame : pandas.DataFrame
        Training rows (one per window and group).

    Returns
    -------
    clean : pandas.DataFrame
        The validated rows (canonical dtypes; invalid rows refused, see
        :func:`~bayescount.validate_frame`).
    design : Design
        The encoding fitted on ``clean``.
    prepared : PreparedData
        ``clean`` encoded, dim ``obs``.

    Raises
    ------
    DataError
        Invalid rows (the message names the column and rows), or a design the data
        cannot identify (:class:`~bayescount.exceptions.DesignError`).
    """
    clean = validate_frame(frame, spec.schema)
    design = spec.fit_design(clean)
    return clean, design, design.transform(clean)


def fit_table(
    spec: ModelSpec,
    frame: pd.DataFrame,
    config: SamplerConfig,
    *,
    thresholds: ConvergenceThresholds | None = None,
    sample_fn: SampleFn = run_sampler,
    emit_warning: bool = True,
) -> Fit:
    """Validate ``frame``, build the model, sample with NUTS and run the convergence gate.

    The single-job unit of the fitting driver (:func:`bayescount.inference.run_fits`),
    which runs it in this process, in worker processes or on Dask workers.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    frame : pandas.DataFrame
        Training rows (one per window and group).
    config : SamplerConfig
        How to run NUTS.
    thresholds : ConvergenceThresholds, optional
        Limits of the convergence gate (defaults documented there).
    sample_fn : callable
        The sampler seam, ``(pm.Model, SamplerConfig) -> DataTree``; tests pass a fake.
    emit_warning : bool
        Warn with :class:`~bayescount.exceptions.ConvergenceWarning` when the gate fails.

    Returns
    -------
    Fit

    Raises
    ------
    DataError
        Invalid rows.
    SamplerError
        The sampler failed or is not installed.
    FitInterrupted
        SIGINT or SIGTERM arrived while sampling (no partial fit is returned).
    """
    clean, design, prepared = prepare_training(spec, frame)
    times = clean[spec.schema.time] if spec.schema.time is not None else None
    return fit_prepared(
        spec, design, prepared, config, thresholds=thresholds, sample_fn=sample_fn,
        emit_warning=emit_warning, times=times,
    )


def fit_prepared(
    spec: ModelSpec,
    design: Design,
    prepared: PreparedData,
    config: SamplerConfig,
    *,
    parameterization: Mapping[str, str] | None = None,
    thresholds: ConvergenceThresholds | None = None,
    sample_fn: SampleFn = run_sampler,
    emit_warning: bool = True,
    times: pd.Series | None = None,
) -> Fit:
    """Build the model of encoded rows, sample it and run the convergence gate.

    :func:`fit_table` after validation and encoding; backtests call it with a design
    fitted elsewhere (the full table's labels).

    Parameters
    ----------
    spec : ModelSpec
        The model.
    design : Design
        The encoding of ``prepared``.
    prepared : PreparedData
        Encoded training rows, dim ``obs``.
    config : SamplerConfig
        How to run NUTS.
    parameterization : mapping, optional
        ``"centered"`` / ``"non_centered"`` per level; default
        :func:`~bayescount.models.choose_parameterization` on ``prepared``.
    thresholds : ConvergenceThresholds, optional
        Limits of the convergence gate.
    sample_fn : callable
        The sampler seam, ``(pm.Model, SamplerConfig) -> DataTree``.
    emit_warning : bool
        Warn with :class:`~bayescount.exceptions.ConvergenceWarning` when the gate fails.
    times : pandas.Series, optional
        The rows' timestamps, kept beside the constant data (dim ``obs``).

    Returns
    -------
    Fit

    Raises
    ------
    SamplerError
        The sampler failed or is not installed.
    """
    from bayescount.models.builder import build_model
    from bayescount.models.parameterization import choose_parameterization

    how = (
        dict(parameterization)
        if parameterization is not None
        else choose_parameterization(spec, design, prepared)
    )
    model = build_model(spec, design, prepared, how)
    tree = sample_fn(model, config)
    _finish_tree(tree, spec, design, prepared, log_likelihood=config.log_likelihood, times=times)
    convergence = check_convergence(tree, thresholds, how, emit_warning=emit_warning)
    return Fit(
        spec=spec,
        design=design,
        parameterization=dict(how),
        tree=tree,
        sampler_config=config,
        convergence=convergence,
    )
