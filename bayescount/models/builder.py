"""Pure model builder: (spec, design, prepared data) -> ``pm.Model``.

The linear predictor on the log scale is::

    log mu = log(exposure) + intercept + sum_levels effect_level[group]
             + X @ beta + F @ fourier [+ latent[path, time_step]]

Each level's effects sum to zero within their parent (:mod:`bayescount.models.zerosum`),
so the intercept is identified. The optional latent level is a stationary AR(1)
process per path (label of ``spec.latent_level``) on the design's time grid, with
marginal sd ``latent_sd`` and autocorrelation ``latent_rho``. Data enter through
``pm.Data`` containers so a compiled model can be re-used on other data of the same
shape.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescount.exceptions import CountValueError, DataError
from bayescount.models.compression import (
    CompressionForm,
    PoissonCells,
    compressible,
    histogram_applies,
    poisson_cells,
)
from bayescount.models.latent import (
    LATENT_TIME_DIM,
    latent_deviations,
    latent_states,
    path_levels,
)
from bayescount.models.likelihood import (
    count_histogram,
    log_factorial,
    nb_histogram_loglik,
    observe,
)
from bayescount.models.parameterization import choose_parameterization
from bayescount.models.seasonal import FOURIER_FREE, fourier_coefficients, fourier_times
from bayescount.models.spec import LATENT_KEY, ModelSpec
from bayescount.models.zerosum import ZeroSumLayout
from bayescount.prep.design import Design, GroupLevel, PreparedData
from bayescount.prep.schema import MAX_COUNT

__all__ = [
    "FOURIER_TIME_DIM",
    "OBS_DIM",
    "build_model",
    "compressed_data",
    "compression_form",
    "counts_as_data",
    "fourier_times",
    "free_dim",
    "variable_names",
]

OBS_DIM = "obs"
#: Dimension of the distinct rows of Fourier features (one per distinct timestamp).
FOURIER_TIME_DIM = "fourier_time"


def free_dim(level: str) -> str:
    """Name of the dimension of a level's free (unconstrained) effects.

    Parameters
    ----------
    level : str
        A group level.

    Returns
    -------
    str
        ``"<level>_free_dim"``: one entry per label less one per parent (the
        zero-sum constraint, :class:`~bayescount.models.zerosum.ZeroSumLayout`).
    """
    return f"{level}_free_dim"


def variable_names(spec: ModelSpec, design: Design) -> dict[str, str]:
    """Names of the model's parameters, keyed by role (used by summaries and prediction).

    Parameters
    ----------
    spec : ModelSpec
        The model (family, latent level).
    design : Design
        The fitted encoding (levels, covariate and Fourier terms).

    Returns
    -------
    dict of str to str
        Role to posterior variable name: ``intercept``, ``<level>_sd``,
        ``<level>_effect``, and when present ``beta``, ``fourier``, ``alpha``,
        ``psi``, ``latent``, ``latent_sd``, ``latent_rho``, ``latent_skew``.
    """
    names = {"intercept": "intercept"}
    for lvl in design.levels:
        names[f"{lvl.name}_sd"] = f"{lvl.name}_sd"
        names[f"{lvl.name}_effect"] = f"{lvl.name}_effect"
    if design.covariate_terms:
        names["beta"] = "beta"
    if design.fourier_terms:
        names["fourier"] = "fourier"
    if spec.is_negative_binomial:
        names["alpha"] = "alpha"
    if spec.is_zero_inflated:
        names["psi"] = "psi"
    if spec.latent is not None:
        names.update(latent="latent", latent_sd="latent_sd", latent_rho="latent_rho")
        if spec.latent == "ar1_skew_laplace":
            names["latent_skew"] = "latent_skew"
    return names


def _coords(design: Design, data: PreparedData) -> dict[str, list]:
    coords: dict[str, list] = {OBS_DIM: list(range(data.n))}
    for lvl in design.levels:
        coords[lvl.name] = list(lvl.labels)
        layout = ZeroSumLayout(np.asarray(lvl.parent_index, dtype=np.int64))
        coords[free_dim(lvl.name)] = [lvl.labels[i] for i in layout.free_positions]
    if design.covariate_terms:
        coords["covariate"] = design.covariate_terms
    if design.fourier_terms:
        coords["fourier_term"] = design.fourier_terms
        coords[f"{FOURIER_FREE}_dim"] = list(range(len(design.fourier_terms)))
        coords[FOURIER_TIME_DIM] = list(range(len(fourier_times(data.fourier)[0])))
    if design.time_grid is not None:
        coords[LATENT_TIME_DIM] = list(range(design.time_grid.length))
    return coords


def _group_effect(spec: ModelSpec, lvl: GroupLevel, how: str):
    layout = ZeroSumLayout(np.asarray(lvl.parent_index, dtype=np.int64))
    sd = spec.priors.group_sd.create(f"{lvl.name}_sd")
    if how == "centered":
        free = pm.Normal(f"{lvl.name}_free", 0.0, sd, dims=free_dim(lvl.name))
    else:
        raw = pm.Normal(f"{lvl.name}_free", 0.0, 1.0, dims=free_dim(lvl.name))
        free = sd * raw
    return pm.Deterministic(f"{lvl.name}_effect", layout.to_children(free), dims=lvl.name)


def _group_terms(design: Design, effects: dict, codes: dict, intercept):
    """Row terms of the group effects plus the intercept, with one gather per row.

    Nested levels: the effects are summed along each deepest label's path of parents
    first (a vector over the deepest labels) and gathered once by the rows' deepest
    codes, instead of one gather (and one scatter in the gradient) per level and row.
    Crossed levels are gathered level by level.
    """
    levels = design.levels
    if not levels:
        return intercept
    nested = len(levels) > 1 and all(
        lvl.parent == levels[i - 1].name for i, lvl in enumerate(levels) if i > 0
    )
    if not nested:
        return intercept + sum(
            (effects[lvl.name][codes[lvl.name]] for lvl in levels), pt.zeros(())
        )
    deepest = levels[-1]
    path = intercept + effects[deepest.name]
    ancestor = np.arange(len(deepest.labels))
    for child, parent in zip(levels[:0:-1], levels[-2::-1], strict=True):
        ancestor = np.asarray(child.parent_index, dtype=np.int64)[ancestor]
        path = path + effects[parent.name][ancestor]
    return path[codes[deepest.name]]


def _dispersion(spec: ModelSpec, design: Design, codes: dict, log_exposure):
    by = spec.dispersion_by
    inv_sqrt = spec.priors.inv_sqrt_alpha.create(
        "inv_sqrt_alpha", **({"dims": by} if by else {})
    )
    alpha = pm.Deterministic("alpha", 1.0 / pt.square(inv_sqrt), dims=by)
    alpha_obs = alpha[codes[by]] if by else alpha
    if spec.dispersion_scales_with_exposure:
        alpha_obs = alpha_obs * pt.exp(log_exposure) / design.reference_exposure
    return alpha_obs


def _centered_latent(spec, design, data, codes, intercept, effects, fourier):
    """Row terms of a centered latent level: its states plus the effects off the paths.

    The states' mean path is the intercept, the effects constant along each path
    and the seasonality on the time grid, so the counts inform the states directly.
    """
    along = path_levels(spec, design)
    mean = intercept + sum(
        (effects[name][path_codes] for name, path_codes in along.items()), pt.zeros(())
    )
    if fourier is not None:
        grid_fourier = design.fourier(design.time_grid.times())
        mean = mean[..., None] + pt.dot(pt.as_tensor(grid_fourier), fourier)
    else:
        mean = mean[..., None] + pt.zeros(design.time_grid.length)
    states = latent_states(spec, mean)
    t = pm.Data("time_idx", data.time_steps, dims=OBS_DIM)
    level = spec.latent_level
    out = states[codes[level], t] if level else states[t]
    for lvl in design.levels:
        if lvl.name not in along:
            out = out + effects[lvl.name][codes[lvl.name]]
    return out


def counts_as_data(counts: np.ndarray | None) -> np.ndarray | None:
    """Return counts as the model's observed data: float64, exact up to ``MAX_COUNT``.

    Parameters
    ----------
    counts : numpy.ndarray or None
        Counts per window, dim ``obs``.

    Returns
    -------
    numpy.ndarray or None
        The counts as float64 (``None`` passes through).

    Raises
    ------
    CountValueError
        A count above :data:`~bayescount.prep.schema.MAX_COUNT` (2**53).
    """
    if counts is None:
        return None
    counts = np.asarray(counts)
    if counts.size and int(counts.max()) > MAX_COUNT:
        raise CountValueError(
            f"Counts up to {int(counts.max()):,} exceed the largest supported count 2**53 = "
            f"{MAX_COUNT:,}; aggregate less or fix the data."
        )
    return counts.astype(np.float64)


def compressed_data(
    design: Design, data: PreparedData, form: CompressionForm | None = None
) -> tuple[PoissonCells, dict[str, np.ndarray]]:
    """Return the sufficient statistics of ``data`` and the compressed model's data values.

    Parameters
    ----------
    design : Design
        The encoding.
    data : PreparedData
        Encoded rows with counts, dim ``obs``.
    form : {"dense", "cells"}, optional
        Force a form (:func:`~bayescount.models.compression.poisson_cells`).

    Returns
    -------
    cells : PoissonCells
        The statistics (and each row's cell).
    values : dict of str to numpy.ndarray
        The ``pm.Data`` containers of a compressed model: ``loglik_constant``,
        ``<level>_group_idx`` and ``F_times``, plus ``group_counts``, ``time_counts``
        and ``exposure_grid`` (dense form) or ``cell_counts``, ``cell_log_exposure``,
        ``cell_group``, ``cell_time`` and ``cell_X`` (cell form).
    """
    times, time_of_row = fourier_times(data.fourier) if design.fourier_terms else (None, None)
    n_times = 1 if times is None else len(times)
    cells = poisson_cells(design, data, time_of_row, n_times, form)
    values: dict[str, np.ndarray] = {"loglik_constant": np.asarray(cells.constant)}
    for lvl in design.levels:
        values[f"{lvl.name}_group_idx"] = cells.group_codes[lvl.name]
    if times is not None:
        values["F_times"] = times
    if cells.form == "dense":
        values["group_counts"] = cells.group_counts
        values["exposure_grid"] = cells.exposure_grid
        if times is not None:
            values["time_counts"] = cells.time_counts
    else:
        values["cell_counts"] = cells.cell_counts
        values["cell_log_exposure"] = cells.cell_log_exposure
        values["cell_group"] = cells.cell_group
        if times is not None:
            values["cell_time"] = cells.cell_time
        if design.covariate_terms:
            values["cell_X"] = cells.cell_covariates
    return cells, values


def compression_form(data_names) -> CompressionForm | None:
    """Return the compressed form of a model with these ``pm.Data`` names (``None``: per row).

    Parameters
    ----------
    data_names : iterable of str
        The model's data container names.

    Returns
    -------
    {"dense", "cells", "histogram"} or None
        A compressed Poisson likelihood's form, the NB count histogram, or one
        likelihood term per row.
    """
    names = set(data_names)
    if "exposure_grid" in names:
        return "dense"
    if "cell_counts" in names:
        return "cells"
    if "count_values" in names:
        return "histogram"
    return None


def _compressed_poisson(design: Design, data: PreparedData, effects, intercept, beta, fourier):
    """Add the exactly compressed Poisson log density (the potential ``y_loglik``)."""
    _, values = compressed_data(design, data)
    box = {name: pm.Data(name, value) for name, value in values.items()}
    group_idx = {lvl.name: box[f"{lvl.name}_group_idx"] for lvl in design.levels}
    a = _group_terms(design, effects, group_idx, intercept)
    if not design.levels:
        a = pt.shape_padleft(a)
    f = None if fourier is None else pt.dot(box["F_times"], fourier)
    if "exposure_grid" in box:
        # sum_i y_i eta_i = Y_g . a + Y_t . f;  sum_i E_i exp(eta_i) = exp(a) . (E @ exp(f))
        grid = box["exposure_grid"]
        rate = grid[:, 0] if f is None else pt.dot(grid, pt.exp(f))
        total = pt.dot(box["group_counts"], a) - pt.dot(pt.exp(a), rate)
        if f is not None:
            total = total + pt.dot(box["time_counts"], f)
    else:
        eta = a[box["cell_group"]]
        if f is not None:
            eta = eta + f[box["cell_time"]]
        if beta is not None:
            eta = eta + pt.dot(box["cell_X"], beta)
        total = pt.dot(box["cell_counts"], eta) - pt.sum(pt.exp(box["cell_log_exposure"] + eta))
    pm.Potential("y_loglik", total + box["loglik_constant"])


def _build_compressed(spec, design, data, how) -> pm.Model:
    counts_as_data(data.counts)  # refuses counts above 2**53
    priors = spec.priors
    coords = {k: v for k, v in _coords(design, data).items() if k != OBS_DIM}
    with pm.Model(coords=coords, check_bounds=False) as model:
        intercept = priors.intercept.shifted(design.pooled_log_rate).create("intercept")
        effects = {lvl.name: _group_effect(spec, lvl, how[lvl.name]) for lvl in design.levels}
        beta = (priors.coefficients.create("beta", dims="covariate")
                if design.covariate_terms else None)
        fourier = fourier_coefficients(priors.seasonality, design, data)
        _compressed_poisson(design, data, effects, intercept, beta, fourier)
    return model


def build_model(
    spec: ModelSpec,
    design: Design,
    data: PreparedData,
    parameterization: dict[str, str] | None = None,
    *,
    compress: bool = True,
) -> pm.Model:
    """Build the PyMC model of ``spec`` for ``data``.

    Parameters
    ----------
    spec : ModelSpec
        The model specification.
    design : Design
        Encoding fitted on the training data.
    data : PreparedData
        Training data encoded by ``design`` (no unseen labels).
    parameterization : dict, optional
        ``{level: "centered" | "non_centered"}``; chosen from the data by
        :func:`~bayescount.models.parameterization.choose_parameterization` when omitted.
    compress : bool
        Evaluate an exactly compressible likelihood (plain Poisson without a latent
        level, :func:`~bayescount.models.compression.compressible`) on its sufficient
        statistics (:mod:`bayescount.models.compression`): the model then holds the
        potential ``y_loglik`` and no per-row data or observed ``y``, so it samples the
        same posterior but cannot draw predictive counts. ``False`` keeps one observed
        term per row (prior predictive draws, simulation-based calibration).

    Returns
    -------
    pymc.Model
        With dims ``obs``, one per group level, ``covariate`` and ``fourier_term``.

    Raises
    ------
    DataError
        ``data`` has no counts.
    CountValueError
        A count above 2**53.
    """
    if data.counts is None:
        raise DataError("build_model needs counts; encode the training data.")
    how = parameterization or choose_parameterization(spec, design, data)
    if compress and compressible(spec):
        return _build_compressed(spec, design, data, how)
    priors = spec.priors
    # Every parameter is valid by construction (rates are exp(.), shapes 1 / x**2), so
    # the bound checks would only cost a reduction over the rows per gradient.
    with pm.Model(coords=_coords(design, data), check_bounds=False) as model:
        pm.Data("exposure", data.exposure, dims=OBS_DIM)
        log_exposure = pm.Data("log_exposure", data.log_exposure, dims=OBS_DIM)
        codes = {}
        for lvl in design.levels:
            codes[lvl.name] = pm.Data(f"{lvl.name}_idx", data.group_codes[lvl.name], dims=OBS_DIM)
        intercept = priors.intercept.shifted(design.pooled_log_rate).create("intercept")
        effects = {lvl.name: _group_effect(spec, lvl, how[lvl.name]) for lvl in design.levels}
        eta = log_exposure
        if design.covariate_terms:
            X = pm.Data("X", data.covariates, dims=(OBS_DIM, "covariate"))
            beta = priors.coefficients.create("beta", dims="covariate")
            eta = eta + pt.dot(X, beta)
        fourier = None
        if design.fourier_terms:
            times, time_of_row = fourier_times(data.fourier)
            F = pm.Data("F_times", times, dims=(FOURIER_TIME_DIM, "fourier_term"))
            f_idx = pm.Data("fourier_idx", time_of_row, dims=OBS_DIM)
            fourier = fourier_coefficients(priors.seasonality, design, data)
        if spec.latent is not None and how[LATENT_KEY] == "centered":
            eta = eta + _centered_latent(spec, design, data, codes, intercept, effects, fourier)
        else:
            eta = eta + _group_terms(design, effects, codes, intercept)
            if fourier is not None:
                # Seasonality on the distinct timestamps, gathered per row: no dot
                # product over the rows (nor a transposed one in the gradient).
                eta = eta + pt.dot(F, fourier)[f_idx]
            if spec.latent is not None:
                t = pm.Data("time_idx", data.time_steps, dims=OBS_DIM)
                latent = latent_deviations(spec, design)
                level = spec.latent_level
                eta = eta + (latent[codes[level], t] if level else latent[t])
        # float64, not pm.Data's default int32 (which wraps counts >= 2**31 silently):
        # exact for every count up to MAX_COUNT = 2**53, which validation enforces.
        y = pm.Data("y_obs", counts_as_data(data.counts), dims=OBS_DIM)
        nb = spec.is_negative_binomial
        alpha = _dispersion(spec, design, codes, log_exposure) if nb else None
        psi = priors.zero_inflation.create("psi") if spec.is_zero_inflated else None
        if compress and histogram_applies(spec):
            hist = {k: pm.Data(k, v) for k, v in count_histogram(data.counts).items()}
            pm.Potential("y_loglik", nb_histogram_loglik(eta, alpha, y, **{
                "values": hist["count_values"], "multiplicity": hist["count_multiplicity"],
                "log_factorial_sum": hist["log_factorial_sum"]}))
            return model
        log_fact = pm.Data("y_logfact", log_factorial(data.counts), dims=OBS_DIM)
        observe(spec, pt.exp(eta), alpha, psi, y, log_fact, OBS_DIM)
    return model
