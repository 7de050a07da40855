"""Exact sufficient statistics of a Poisson likelihood: rows collapsed into cells.

Rows that share a linear predictor ``eta`` contribute to the Poisson log density only
through their summed counts and summed exposure::

    sum_i [y_i (log E_i + eta) - E_i exp(eta) - log y_i!]
        = y_c eta - E_c exp(eta) + sum_i [y_i log E_i - log y_i!]

with ``y_c = sum_i y_i`` and ``E_c = sum_i E_i`` (the last sum does not depend on the
parameters). The builder's linear predictor is a group part ``a[g]`` (intercept plus
group effects), a time part ``f[t]`` (seasonality on the distinct timestamps) and
``X @ beta``. Two exact forms follow:

* ``"dense"`` (no covariates): with ``Y_g``, ``Y_t`` the counts per group combination
  and per distinct timestamp and ``E[g, t]`` the exposure per group and timestamp,

  ``sum_i y_i eta_i = Y_g . a + Y_t . f`` and ``sum_i E_i exp(eta_i) = exp(a) . (E @ exp(f))``

  (a dense groups x times product: no per-row gather or scatter at all);
* ``"cells"`` (covariates, or a groups x times grid much larger than the rows): one
  term per distinct (group combination, timestamp, covariate row).

Both add the parameter-free constant, so the log density equals the per-row one
(up to rounding). Only the plain Poisson family is compressed this way; the
zero-inflated and negative binomial densities are not functions of cell sums, nor is a
latent level's (its states differ per row). A negative binomial with one dispersion
takes its gamma terms over the distinct counts instead
(:func:`~bayescount.models.likelihood.nb_histogram_loglik`). See
``docs/performance.md`` for measurements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from bayescount.models.likelihood import log_factorial
from bayescount.prep.design import Design, PreparedData

__all__ = [
    "DENSE_MAX_FILL",
    "PoissonCells",
    "compressible",
    "distinct_rows",
    "histogram_applies",
    "poisson_cells",
]

#: The dense form is used when the groups x times grid has at most this many entries
#: per occupied (group, time) cell; sparser grids use the cell form.
DENSE_MAX_FILL = 4.0

#: "dense" and "cells": a compressed Poisson likelihood; "histogram": the NB gamma terms
#: over distinct counts (:func:`~bayescount.models.likelihood.nb_histogram_loglik`).
CompressionForm = Literal["dense", "cells", "histogram"]


@dataclass(frozen=True)
class PoissonCells:
    """Sufficient statistics of a Poisson likelihood over encoded rows.

    Attributes
    ----------
    form : {"dense", "cells"}
        Which exact form (module docstring).
    group_codes : dict of str to numpy.ndarray
        Per level, dim ``group``: the label codes of each distinct group combination.
    row_cell : numpy.ndarray
        Dim ``obs`` (int64): the cell of each row (``group * n_times + time`` in the
        dense form).
    constant : float
        ``sum_i [y_i log E_i - log y_i!]``: the parameter-free part of the log density.
    group_counts : numpy.ndarray or None
        Dense form, dim ``group``: summed counts per group combination.
    time_counts : numpy.ndarray or None
        Dense form, dim ``fourier_time``: summed counts per distinct timestamp
        (``None`` without seasonality).
    exposure_grid : numpy.ndarray or None
        Dense form, shape ``(group, fourier_time)`` (one column without seasonality):
        summed exposure, in exposure units.
    cell_group : numpy.ndarray or None
        Cell form, dim ``cell``: the cell's group combination.
    cell_time : numpy.ndarray or None
        Cell form, dim ``cell``: the cell's distinct timestamp (``None`` without
        seasonality).
    cell_covariates : numpy.ndarray or None
        Cell form, shape ``(cell, covariate)`` (``None`` without covariates).
    cell_counts : numpy.ndarray or None
        Cell form, dim ``cell``: summed counts.
    cell_log_exposure : numpy.ndarray or None
        Cell form, dim ``cell``: log of the summed exposure.
    """

    form: CompressionForm
    group_codes: dict[str, np.ndarray]
    row_cell: np.ndarray
    constant: float
    group_counts: np.ndarray | None = None
    time_counts: np.ndarray | None = None
    exposure_grid: np.ndarray | None = None
    cell_group: np.ndarray | None = None
    cell_time: np.ndarray | None = None
    cell_covariates: np.ndarray | None = None
    cell_counts: np.ndarray | None = None
    cell_log_exposure: np.ndarray | None = None

    @property
    def n_cells(self) -> int:
        """Number of likelihood terms evaluated per gradient."""
        if self.form == "dense":
            return int(self.exposure_grid.size)
        return int(self.cell_counts.size)


def compressible(spec) -> bool:
    """Whether ``spec``'s likelihood is exactly compressible (plain Poisson, no latent level).

    Parameters
    ----------
    spec : ModelSpec
        The model.

    Returns
    -------
    bool
    """
    return spec.family == "poisson" and spec.latent is None


def histogram_applies(spec) -> bool:
    """Whether the sampled NB likelihood takes its gamma terms over distinct counts.

    True for the negative binomial family with one shape for every row (no
    ``dispersion_by``, not scaled with exposure;
    :func:`~bayescount.models.likelihood.nb_histogram_loglik`).

    Parameters
    ----------
    spec : ModelSpec
        The model.

    Returns
    -------
    bool
    """
    return (
        spec.family == "negative_binomial"
        and spec.dispersion_by is None
        and not spec.dispersion_scales_with_exposure
    )


def distinct_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the distinct rows of a 2-D array, the first row of each, and each row's position.

    What ``np.unique(a, axis=0, return_index=True, return_inverse=True)`` returns, in
    numeric lexicographic order (column 0 first), computed with one ``np.lexsort``
    instead of sorting the rows as opaque byte strings (which is ~20x slower on
    806,400 rows of ten float columns).

    Parameters
    ----------
    a : numpy.ndarray
        Shape ``(n, k)``, no NaN.

    Returns
    -------
    rows : numpy.ndarray
        Shape ``(n_distinct, k)``: the distinct rows, sorted.
    first : numpy.ndarray
        Dim ``n_distinct`` (int64): the first position of each distinct row in ``a``.
    index : numpy.ndarray
        Dim ``n`` (int64): ``a[i] == rows[index[i]]``.
    """
    a = np.asarray(a)
    n = a.shape[0]
    if n == 0:
        return a, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort(a.T[::-1]) if a.shape[1] else np.arange(n)
    ordered = a[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    index = np.empty(n, dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    # lexsort is stable: the first of each run of equal rows is its first occurrence.
    return ordered[new], order[new].astype(np.int64), index


def _groups(design: Design, data: PreparedData) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct group combinations (codes per level) and each row's combination."""
    n = data.n
    if not design.levels:
        return {}, np.zeros(n, dtype=np.int64)
    codes = np.column_stack([data.group_codes[lvl.name] for lvl in design.levels])
    combos, _, key = distinct_rows(codes)
    per_level = {lvl.name: combos[:, j].astype(np.int64) for j, lvl in enumerate(design.levels)}
    return per_level, key


def poisson_cells(
    design: Design,
    data: PreparedData,
    time_index: np.ndarray | None,
    n_times: int,
    form: CompressionForm | None = None,
) -> PoissonCells:
    """Collapse encoded rows into the sufficient statistics of a Poisson likelihood.

    Parameters
    ----------
    design : Design
        The encoding (levels, covariate terms).
    data : PreparedData
        Encoded training rows with counts, dim ``obs``; every exposure > 0.
    time_index : numpy.ndarray or None
        Dim ``obs``: each row's distinct Fourier row
        (:func:`~bayescount.models.seasonal.fourier_times`); ``None`` without seasonality.
    n_times : int
        Number of distinct Fourier rows (1 without seasonality).
    form : {"dense", "cells"}, optional
        Force a form (a compiled model re-used on other rows keeps its form);
        default: dense without covariates when the grid is at most
        :data:`DENSE_MAX_FILL` times the occupied cells, else cells.

    Returns
    -------
    PoissonCells
    """
    counts = np.asarray(data.counts, dtype=np.float64)
    exposure = np.asarray(data.exposure, dtype=np.float64)
    log_e = np.log(exposure)
    constant = float(np.sum(np.where(counts > 0, counts * log_e, 0.0))
                     - np.sum(log_factorial(counts)))
    group_codes, g = _groups(design, data)
    n_groups = max(len(next(iter(group_codes.values()))) if group_codes else 1, 1)
    t = np.zeros(data.n, dtype=np.int64) if time_index is None else np.asarray(time_index)
    n_times = max(int(n_times), 1)
    gt = g * n_times + t
    occupied = len(np.unique(gt))
    if form is None:
        dense_ok = not design.covariate_terms and n_groups * n_times <= DENSE_MAX_FILL * occupied
        form = "dense" if dense_ok else "cells"
    if form == "dense":
        grid = np.bincount(gt, weights=exposure, minlength=n_groups * n_times)
        return PoissonCells(
            form="dense",
            group_codes=group_codes,
            row_cell=gt,
            constant=constant,
            group_counts=np.bincount(g, weights=counts, minlength=n_groups),
            time_counts=(None if time_index is None
                         else np.bincount(t, weights=counts, minlength=n_times)),
            exposure_grid=grid.reshape(n_groups, n_times),
        )
    key = gt[:, None].astype(np.float64)
    if design.covariate_terms:
        key = np.column_stack([key, data.covariates])
    _, first, cell = distinct_rows(key)
    n_cells = len(first)
    return PoissonCells(
        form="cells",
        group_codes=group_codes,
        row_cell=cell,
        constant=constant,
        cell_group=g[first],
        cell_time=None if time_index is None else t[first],
        cell_covariates=data.covariates[first] if design.covariate_terms else None,
        cell_counts=np.bincount(cell, weights=counts, minlength=n_cells),
        cell_log_exposure=np.log(np.bincount(cell, weights=exposure, minlength=n_cells)),
    )

